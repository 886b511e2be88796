"""The weekly digest: on Monday each PM linked to Slack gets a direct message about their integrations."""

from datetime import date

import pytest

from integrations import plan, steps
from notifications.digest import plan_weekly_digest
from notifications.models import OutboxMessage, SlackUser
from notifications.reminders import plan_reminders
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on, step

K = OutboxMessage.Kind
MONDAY = date(2026, 3, 30)  # ISO week 2026-W14


def kicked_off(name, pm, kickoff=KICKOFF):
    integration = IntegrationFactory(partner=PartnerFactory(name=name), tv_pm=pm)
    with on(kickoff, 9):
        return plan.start_integration(integration, kickoff, ctx(pm, at(kickoff, 9)))


@pytest.fixture
def portfolio(started_integration, pm):
    """Alice runs Acme (TradingView's first tasks late, the endpoints due on Monday 30 March) and Beta
    (only the endpoints owed, due that Monday); her cancelled Gamma is not in the digest. Bob runs
    Delta; Carol, who has no Slack account, runs Epsilon."""
    SlackUser.objects.create(user=pm, slack_user_id="U0ALICE")
    beta = kicked_off("Beta Broker", pm)
    with on(date(2026, 3, 4)):
        for code in ("slack-jira-onboarding", "autotests-configuration"):
            steps.complete_step(step(beta, code), ctx(pm, date(2026, 3, 4)))
    gamma = kicked_off("Gamma Cancelled", pm)
    with on(date(2026, 3, 10)):
        plan.cancel(gamma, ctx(pm, date(2026, 3, 10), note="Stopped."))
    bob = UserFactory(username="bob.pm", first_name="Bob", staff=True)
    SlackUser.objects.create(user=bob, slack_user_id="U0BOB")
    kicked_off("Delta Exchange", bob, date(2026, 3, 16))
    carol = UserFactory(username="carol", staff=True)
    kicked_off("Epsilon Markets", carol)
    return {"alice": pm, "bob": bob, "carol": carol, "acme": started_integration, "beta": beta}


def digest_on(day, hour=6):
    with on(day, hour):
        return plan_weekly_digest(day)


def test_one_direct_message_per_pm_linked_to_slack(portfolio):
    assert digest_on(MONDAY) == 2
    alice, bob = portfolio["alice"], portfolio["bob"]
    rows = {row.recipient: row for row in OutboxMessage.objects.filter(kind=K.DIGEST)}
    assert set(rows) == {alice, bob}
    mine = rows[alice]
    assert mine.reason_key == f"digest:{alice.pk}:2026-W14"
    assert mine.channel == "U0ALICE"  # a user id: Slack opens the direct message
    assert mine.integration is None and mine.step is None and mine.thread is None
    assert mine.not_before == at(MONDAY, 9)
    assert rows[bob].channel == "U0BOB"
    assert "Delta Exchange" in rows[bob].text and "Acme" not in rows[bob].text


def test_the_digest_says_who_owes_what_what_is_late_and_what_is_due_this_week(portfolio):
    digest_on(MONDAY)
    text = OutboxMessage.objects.get(recipient=portfolio["alice"]).text
    assert text.startswith("Your week 2026-W14: 2 integrations, 1 with late steps, 2 with steps due this week")
    acme, beta = text.index("Acme Crypto Exchange"), text.index("Beta Broker")
    assert acme < beta  # late ones first
    assert "Gamma Cancelled" not in text and "Epsilon" not in text
    acme_part, beta_part = text[acme:beta], text[beta:]
    assert "Ball in court: both sides" in acme_part
    assert "TradingView owes: 1 · TradingView · Slack/Jira onboarding; 2 · TradingView · REST API" in acme_part
    assert "• Late: 1 · TradingView · Slack/Jira onboarding — 17 working days overdue (due Thu 5 Mar 2026)" in acme_part
    assert "• Due this week: 1 · Partner · Data / trading endpoints implementation — Mon 30 Mar 2026" in acme_part
    assert "Ball in court: the partner" in beta_part
    assert "The partner owes: 1 · Partner · Data / trading endpoints implementation" in beta_part
    assert "Late" not in beta_part


def test_the_blocks_carry_a_header_and_a_section_per_integration(portfolio):
    digest_on(MONDAY)
    blocks = OutboxMessage.objects.get(recipient=portfolio["alice"]).blocks
    assert blocks[0]["type"] == "header"
    assert [b["type"] for b in blocks[1:]] == ["section", "section"]
    assert f"/integrations/{portfolio['acme'].pk}/|Acme Crypto Exchange>*" in blocks[1]["text"]["text"]
    assert "/admin/" not in blocks[1]["text"]["text"]  # the PM's dashboard, not the admin


def test_a_paused_integration_is_listed_as_paused(portfolio):
    with on(date(2026, 3, 20)):
        plan.pause(portfolio["beta"], ctx(portfolio["alice"], date(2026, 3, 20)))
    digest_on(MONDAY)
    assert "Beta Broker>* (paused)" in OutboxMessage.objects.get(recipient=portfolio["alice"]).text


def test_only_on_mondays_and_once_a_week(portfolio):
    for day in (date(2026, 3, 31), date(2026, 4, 1), date(2026, 4, 3), date(2026, 4, 4), date(2026, 4, 5)):
        assert digest_on(day) == 0
    assert digest_on(MONDAY) == 2
    assert digest_on(MONDAY, 15) == 0  # a doubled beat
    assert OutboxMessage.objects.filter(kind=K.DIGEST).count() == 2
    assert digest_on(date(2026, 4, 6)) == 2  # next week: W15
    assert OutboxMessage.objects.filter(reason_key__endswith=":2026-W15").count() == 2


def test_the_daily_reminder_sweep_writes_the_digest_on_monday(portfolio):
    with on(MONDAY, 6):
        plan_reminders(MONDAY)
    assert OutboxMessage.objects.filter(kind=K.DIGEST).count() == 2
    with on(date(2026, 3, 31), 6):
        plan_reminders(date(2026, 3, 31))
    assert OutboxMessage.objects.filter(kind=K.DIGEST).count() == 2


def test_no_pm_linked_to_slack_no_digest(started_integration):
    assert digest_on(MONDAY) == 0
    assert not OutboxMessage.objects.exists()
