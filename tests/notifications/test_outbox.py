"""The outbox's one writer: each reason once, a step's messages in its thread, a few queries whatever the number."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import OutboxMessage, SlackThread
from notifications.outbox import Message, write

K = OutboxMessage.Kind
CHANNEL = "C0PARTNER"


@pytest.fixture
def steps(started_integration):
    return list(started_integration.steps.order_by("position"))


def test_a_reason_is_written_once(started_integration):
    message = Message("replanned:1:C0PARTNER:x", K.REPLANNED, text="The plan moved", channel=CHANNEL)

    assert write([message]) == 1
    assert write([message]) == 0
    assert write([Message(message.reason_key, K.REPLANNED, text="Another text", channel=CHANNEL)]) == 0
    assert OutboxMessage.objects.get().text == "The plan moved"


def test_a_reason_given_twice_at_once_keeps_the_first(db):
    written = write(
        [Message("digest:1:2026-W14", K.DIGEST, text="first"), Message("digest:1:2026-W14", K.DIGEST, text="second")]
    )

    assert written == 1
    assert OutboxMessage.objects.get().text == "first"


def test_a_long_reason_is_cut_to_the_column_and_still_written_once(db):
    reason = "partner_handover:" + "x" * 300

    assert write([Message(reason, K.PARTNER_HANDOVER, text="handed over")]) == 1
    assert write([Message(reason, K.PARTNER_HANDOVER, text="handed over")]) == 0
    assert OutboxMessage.objects.get().reason_key == reason[:200]


def test_a_steps_messages_share_its_thread_in_each_channel(started_integration, steps):
    step = steps[0]
    write([Message("blocked:a", K.BLOCKED, text="Blocked", step=step, channel=CHANNEL)])
    write(
        [
            Message("unblocked:b", K.UNBLOCKED, text="Unblocked", step=step, channel=CHANNEL),
            Message("blocked:c", K.BLOCKED, text="Blocked", step=step, channel="C0INTERNAL"),
        ]
    )

    rows = {row.reason_key: row for row in OutboxMessage.objects.all()}
    assert SlackThread.objects.count() == 2
    assert rows["blocked:a"].thread == rows["unblocked:b"].thread
    assert rows["blocked:a"].thread.channel == CHANNEL
    assert rows["blocked:c"].thread.channel == "C0INTERNAL"


def test_what_is_not_in_a_thread_has_none(started_integration, steps):
    write(
        [
            Message("thread_status:1", K.THREAD_STATUS, text="Done", step=steps[0], channel=CHANNEL, in_thread=False),
            Message("launch_email:1", K.LAUNCH_EMAIL, text="Live", emails=["ops@acme.example"]),
            Message("replanned:1", K.REPLANNED, text="Moved", integration=started_integration, channel=CHANNEL),
        ]
    )

    assert not SlackThread.objects.exists()
    assert set(OutboxMessage.objects.values_list("thread", flat=True)) == {None}
    assert OutboxMessage.objects.get(kind=K.LAUNCH_EMAIL).emails == ["ops@acme.example"]


def test_a_message_is_due_when_written_unless_told_otherwise(db):
    later = timezone.now() + timedelta(days=2)
    before = timezone.now()
    write([Message("a", K.REPLANNED, text="now"), Message("b", K.REPLANNED, text="later", not_before=later)])

    assert OutboxMessage.objects.get(reason_key="a").not_before >= before
    assert OutboxMessage.objects.get(reason_key="b").not_before == later


def test_the_queries_do_not_grow_with_the_messages(started_integration, steps):
    def messages(prefix, count):
        return [
            Message(f"{prefix}:{n}", K.REMINDER, text=f"Reminder {n}", step=steps[n % len(steps)], channel=f"C{n:03d}")
            for n in range(count)
        ]

    counts = []
    for prefix, count in (("small", 3), ("large", 30)):
        with CaptureQueriesContext(connection) as queries:
            assert write(messages(prefix, count)) == count
        counts.append(len(queries))

    assert counts[0] == counts[1]
    assert OutboxMessage.objects.filter(thread__isnull=False).count() == 33


def test_nothing_to_write_asks_nothing(db):
    with CaptureQueriesContext(connection) as queries:
        assert write([]) == 0
    assert len(queries) == 0
