"""A row left "sending" by a worker process that is gone is taken back by the next run at once.

Each claim names its process (``claimed_by``); a row of a process of this host that no longer runs
is read back in Slack and settled by the next run, not 10 minutes later. A row of a process that
runs, or of another host, waits for ``STUCK_AFTER`` as before.
"""

import os
import subprocess
from datetime import timedelta

import pytest

from notifications import delivery
from notifications.models import OutboxMessage
from tests.integrations.helpers import at
from tests.notifications.conftest import PARTNER_CHANNEL
from tests.notifications.rows import queued

S = OutboxMessage.State
DAY = "2026-03-03"
pytestmark = pytest.mark.django_db


def claimed_by(claimant: str) -> OutboxMessage:
    """A row a worker claimed at 11:00 and posted to Slack, before it died without a word."""
    message = queued(
        "reclaim:1", OutboxMessage.Kind.REPLANNED, text="Hello", channel=PARTNER_CHANNEL, not_before=at(DAY, 9)
    )
    row = delivery.claim(message.pk, at(DAY, 11))
    OutboxMessage.objects.filter(pk=message.pk).update(claimed_by=claimant)
    return row


def a_process_gone() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def host() -> str:
    return delivery.this_process().rsplit("|", 2)[0]


def test_a_row_of_a_killed_process_is_read_back_and_settled_by_the_next_run(fake_slack):
    row = claimed_by(f"{host()}|{a_process_gone()}|12345")
    delivery.slack_client().chat_postMessage(channel=PARTNER_CHANNEL, text=row.text, metadata=delivery._metadata(row))

    counts = delivery.deliver_due(now=at(DAY, 11) + timedelta(seconds=20))

    assert counts == {"reclaimed": 1, "sent": 1}
    assert len(fake_slack.posts()) == 1  # found in the channel, not posted again
    row.refresh_from_db()
    assert row.state == S.SENT and row.claimed_by == "" and row.unknown_since is None


def test_a_row_of_a_running_process_or_of_another_host_waits_for_the_long_reclaim(fake_slack):
    for claimant in (delivery.this_process(), f"elsewhere|pid:[1]|{a_process_gone()}|1"):
        OutboxMessage.objects.all().delete()
        row = claimed_by(claimant)
        assert delivery.deliver_due(now=at(DAY, 11) + timedelta(minutes=9)) == {}
        row.refresh_from_db()
        assert row.state == S.SENDING
        assert delivery.deliver_due(now=at(DAY, 11) + timedelta(minutes=11)) == {"reclaimed": 1, "sent": 1}


def test_a_process_id_used_again_is_not_the_process_that_claimed():
    pid = os.getpid()
    assert not delivery.process_gone(delivery.this_process())
    assert delivery.process_gone(f"{host()}|{pid}|1")  # same id, another start: the claimant is gone
    assert delivery.process_gone(f"{host()}|{a_process_gone()}|")
    assert not delivery.process_gone("")
    assert not delivery.process_gone(f"elsewhere|pid:[1]|{a_process_gone()}|1")
