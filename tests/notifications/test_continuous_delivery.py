"""Delivery at Slack's pace, not beat's: after a run the task queues itself for when there is work again.

Time is travelled with ``time_machine``; the task's follow-ups are recorded (not sent to a broker) and
each is run at the moment it asked for, as the worker would.
"""

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache

from notifications import delivery, tasks
from notifications.models import OutboxMessage
from tests.integrations.helpers import at
from tests.notifications.conftest import INTERNAL_CHANNEL, PARTNER_CHANNEL
from tests.notifications.rows import queued

K = OutboxMessage.Kind
S = OutboxMessage.State
DAY = "2026-03-03"
pytestmark = pytest.mark.django_db


@pytest.fixture
def follow_ups(monkeypatch):
    """The countdowns the task asked for, in order."""
    cache.delete(tasks.FOLLOW_UP_KEY)
    asked = []
    monkeypatch.setattr(
        tasks.deliver_outbox, "apply_async", lambda kwargs=None, countdown=0: asked.append((kwargs, countdown))
    )
    yield asked
    cache.delete(tasks.FOLLOW_UP_KEY)


def rows(n: int, channel: str, start: int = 0):
    return [
        queued(f"burst:{channel}:{i}", K.REPLANNED, text=f"{channel} {i}", channel=channel, not_before=at(DAY, 9))
        for i in range(start, start + n)
    ]


def run_chain(follow_ups, start, limit_runs=500) -> tuple[int, timedelta]:
    """Beat's one tick at ``start``, then every follow-up at its countdown; returns (runs, time taken)."""
    moment, token = start, ""
    for runs in range(1, limit_runs):
        follow_ups.clear()
        with time_machine.travel(moment, tick=False):  # the cache's expiry reads the travelled clock too
            tasks.deliver_outbox(follow_up=token)
            waiting = cache.get(tasks.FOLLOW_UP_KEY)
        if not follow_ups:
            assert waiting is None  # the chain ended: beat's tick may start the next
            return runs, moment - start
        [(kwargs, countdown)] = follow_ups
        token = kwargs["follow_up"]
        assert token == waiting
        moment += timedelta(seconds=countdown)
    raise AssertionError("the chain never ended")


def test_sixty_rows_in_one_channel_go_one_per_second_from_one_tick(fake_slack, follow_ups):
    """Under beat alone (every 30 s) 60 rows in one channel took 30 minutes; now about a minute."""
    backlog = rows(60, PARTNER_CHANNEL)
    runs, took = run_chain(follow_ups, at(DAY, 11))
    posts = fake_slack.posts(PARTNER_CHANNEL)
    assert [p["text"] for p in posts] == [f"{PARTNER_CHANNEL} {i}" for i in range(60)]  # in order, each once
    assert took == timedelta(seconds=59) and runs == 60
    sent = sorted(OutboxMessage.objects.filter(pk__in=[r.pk for r in backlog]).values_list("sent_at", flat=True))
    assert all(b - a >= timedelta(seconds=1) for a, b in zip(sent, sent[1:], strict=False))  # Slack's pace
    assert not OutboxMessage.objects.exclude(state=S.SENT).exists()


def test_many_channels_move_together_and_a_full_run_follows_at_once(fake_slack, follow_ups, monkeypatch):
    monkeypatch.setattr(delivery, "BATCH", 50)
    monkeypatch.setattr(delivery.deliver_due, "__defaults__", (None, 50))
    for n in range(120):
        rows(1, f"C{n:03d}")
    rows(3, INTERNAL_CHANNEL)
    runs, took = run_chain(follow_ups, at(DAY, 11))
    assert len(fake_slack.posts()) == 123 and len({p["text"] for p in fake_slack.posts()}) == 123
    assert took == timedelta(seconds=2)  # three full runs at once, then the internal channel's pace
    assert not OutboxMessage.objects.exclude(state=S.SENT).exists()


def test_no_follow_up_when_nothing_is_due_soon(fake_slack, follow_ups):
    rows(1, PARTNER_CHANNEL)
    later = queued("later", K.REPLANNED, text="later", channel=INTERNAL_CHANNEL, not_before=at(DAY, 12))
    runs, _ = run_chain(follow_ups, at(DAY, 11))
    assert runs == 1  # the row due in an hour is beat's
    assert OutboxMessage.objects.get(pk=later.pk).state == S.PENDING


def test_a_backed_off_row_is_followed_up_at_its_retry(fake_slack, follow_ups):
    [row] = rows(1, PARTNER_CHANNEL)
    fake_slack.fail_next(status=429, retry_after=5)
    with time_machine.travel(at(DAY, 11), tick=False):
        tasks.deliver_outbox()
        waiting = cache.get(tasks.FOLLOW_UP_KEY)
    [(kwargs, countdown)] = follow_ups
    assert countdown == 5.0 and kwargs["follow_up"] == waiting
    assert OutboxMessage.objects.get(pk=row.pk).state == S.WAITING


def test_one_follow_up_waits_at_a_time(fake_slack, follow_ups):
    rows(3, PARTNER_CHANNEL)
    with time_machine.travel(at(DAY, 11), tick=False):
        tasks.deliver_outbox()  # beat's tick: asks for a follow-up in a second
        tasks.deliver_outbox()  # beat's next tick, while that follow-up waits: asks for none
    assert [countdown for _, countdown in follow_ups] == [1.0]


def test_a_follow_up_lost_with_the_broker_is_replaced_by_beats_tick(fake_slack, follow_ups):
    rows(3, PARTNER_CHANNEL)
    with time_machine.travel(at(DAY, 11), tick=False):
        tasks.deliver_outbox()  # its follow-up is lost with the broker
    lost = follow_ups[0][0]["follow_up"]
    with time_machine.travel(at(DAY, 11) + timedelta(seconds=30), tick=False):
        assert cache.get(tasks.FOLLOW_UP_KEY) is None  # its token expired after the grace
        tasks.deliver_outbox()  # beat's next tick starts a chain again
    assert len(follow_ups) == 2 and follow_ups[1][0]["follow_up"] != lost
    with time_machine.travel(at(DAY, 11) + timedelta(seconds=31), tick=False):
        tasks.deliver_outbox(follow_up=lost)  # a late copy of the lost one: delivers, but starts no second chain
    assert len(follow_ups) == 2
