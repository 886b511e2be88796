"""A reminder sweep run again on the same day words nothing: what was written is not built only to be dropped.

Beat's hourly run and ``send_reminders`` may plan a day any number of times; each reason is written once.
At 10,000 integrations the second run still worded every reminder, escalation and weekly digest before the
outbox dropped them as written. The plan, kicked off on Monday 2026-03-02: on Monday 13 April the partner's
first step is 10 working days overdue (its reminder, and its escalation once), TradingView's first tasks are
weeks late (the lead's escalation), and the PM's weekly digest is due.
"""

from datetime import date

import pytest

import notifications.digest as digest
import notifications.reminders as reminders
from notifications.models import OutboxMessage, SlackUser
from notifications.reminders import plan_reminders
from tests.integrations.helpers import on

K = OutboxMessage.Kind
MONDAY = date(2026, 4, 13)


@pytest.fixture
def everything_due(settings, started_integration, pm):
    settings.SLACK_INTERNAL_CHANNEL = "C0INTERNAL"
    settings.TRADINGVIEW_LEAD_SLACK_ID = "U0LEAD"
    SlackUser.objects.create(user=pm, slack_user_id="U0ALICE")  # the PM gets the weekly digest
    started_integration.slack_channel_id = "C0PARTNER"
    started_integration.save(update_fields=["slack_channel_id"])
    return started_integration


def worded(monkeypatch) -> list[str]:
    """The names of the messages worded from now on (a step's message, a digest's integration)."""
    calls = []
    step_blocks, summary = reminders.step_blocks, digest.integration_summary
    monkeypatch.setattr(
        reminders, "step_blocks", lambda step, *a, **k: calls.append(str(step)) or step_blocks(step, *a, **k)
    )
    monkeypatch.setattr(
        digest, "integration_summary", lambda i, *a, **k: calls.append(f"digest: {i}") or summary(i, *a, **k)
    )
    return calls


@pytest.mark.usefixtures("everything_due")
def test_a_sweep_run_again_words_no_message(monkeypatch):
    with on(MONDAY, 6):
        first = plan_reminders(MONDAY)
    kinds = set(OutboxMessage.objects.values_list("kind", flat=True))
    assert {K.OVERDUE, K.ESCALATION, K.LEAD_ESCALATION, K.DIGEST} <= kinds
    rows = OutboxMessage.objects.count()
    assert first > 0

    calls = worded(monkeypatch)
    with on(MONDAY, 7):
        again = plan_reminders(MONDAY)
    assert again == 0
    assert calls == []
    assert OutboxMessage.objects.count() == rows
