"""Escalations and TradingView's reminders to one channel: one message per channel, kind and day,
listing the steps with links; partner channels keep their per-step reminders.

The default plan is kicked off on Monday 2026-03-02; the partner's first step is due on 30 March,
so on Monday 13 April it is 10 working days overdue (a reminder day) and past the escalation.
"""

from datetime import date

import pytest

from integrations import plan, steps
from integrations.models import Integration
from notifications import channel_digest, delivery
from notifications.models import OutboxMessage, SlackUser
from notifications.reminders import plan_reminders
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on, step
from tests.notifications.conftest import INTERNAL_CHANNEL, SITE_URL

K = OutboxMessage.Kind
S = OutboxMessage.State
ESCALATION_DAY = date(2026, 4, 13)  # a Monday, 10 working days overdue: a reminder day


@pytest.fixture
def internal(settings):
    settings.SLACK_INTERNAL_CHANNEL = INTERNAL_CHANNEL
    settings.SITE_URL = SITE_URL


def portfolio(count: int, pm, tradingview_done: bool = False) -> list:
    """``count`` integrations kicked off on KICKOFF; ``tradingview_done``: TradingView's first tasks done on time
    (4 March), so only the partners' steps are late (a late TradingView task is reminded every 3 days)."""
    made = []
    with on(KICKOFF, 9):
        for n in range(count):
            integration = IntegrationFactory(
                partner=PartnerFactory(name=f"Late <{n:02d}> & Co"), tv_pm=pm, slack_channel_id=f"C0PART{n:04d}"
            )
            made.append(plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9))))
    # Each kick-off welcomed its partner's channel weeks ago: not what these tests deliver.
    OutboxMessage.objects.filter(kind=K.WELCOME).delete()
    if tradingview_done:
        done_on = date(2026, 3, 4)
        with on(done_on, 9):
            for integration in made:
                for code in ("slack-jira-onboarding", "autotests-configuration"):
                    steps.complete_step(step(integration, code), ctx(pm, at(done_on, 9)))
    return made


def plan_on(day: date) -> int:
    with on(day, 6):
        return plan_reminders(day)


def test_fifty_late_integrations_make_one_escalation_message_listing_fifty_steps(internal, pm, fake_slack):
    SlackUser.objects.create(user=pm, slack_user_id="U0ALICE")
    late = portfolio(50, pm, tradingview_done=True)

    plan_on(ESCALATION_DAY)

    [digest] = OutboxMessage.objects.filter(channel=INTERNAL_CHANNEL, state=S.PENDING)
    assert digest.kind == K.CHANNEL_DIGEST
    assert digest.text.startswith("*Escalation: 50 partner steps are late; time to call the partners*\n<@U0ALICE>")
    listed = OutboxMessage.objects.filter(kind=K.ESCALATION)
    assert listed.count() == 50 and set(listed.values_list("state", "digest")) == {(S.DIGESTED, digest.pk)}
    body = "\n".join(block["text"]["text"] for block in digest.blocks)
    for integration in late:
        endpoints = step(integration, "endpoints-implementation")
        url = f"{SITE_URL}/integrations/{integration.pk}/#step-{endpoints.pk}"
        assert f"<{url}|Late &lt;{integration.partner.name[6:8]}&gt; &amp; Co" in body  # linked, escaped
    assert body.count("Escalation: 10 working days overdue") == 50  # 14 calendar days
    assert len(digest.blocks) <= 50 and all(len(b["text"]["text"]) <= 3000 for b in digest.blocks)
    # The partners' channels keep a reminder each, about their own step.
    overdue = OutboxMessage.objects.filter(kind=K.OVERDUE)
    assert overdue.count() == 50 and set(overdue.values_list("state", flat=True)) == {S.PENDING}
    assert len(set(overdue.values_list("channel", flat=True))) == 50

    delivery.deliver_due(now=at(ESCALATION_DAY, 10))
    assert len(fake_slack.posts(INTERNAL_CHANNEL)) == 1
    assert len(fake_slack.posts()) == 1 + 50 + 1  # and a reminder per partner channel, the PM's weekly digest

    assert plan_on(date(2026, 4, 14)) >= 0  # the next day: no escalation again, no new digest
    assert OutboxMessage.objects.filter(kind=K.CHANNEL_DIGEST).count() == 1
    assert OutboxMessage.objects.filter(kind=K.ESCALATION).count() == 50


def test_a_long_list_goes_in_parts(internal, pm, monkeypatch):
    monkeypatch.setattr(channel_digest, "STEPS_PER_MESSAGE", 20)
    portfolio(50, pm, tradingview_done=True)
    plan_on(ESCALATION_DAY)
    parts = OutboxMessage.objects.filter(kind=K.CHANNEL_DIGEST).order_by("reason_key")
    assert [p.text.split("\n")[0] for p in parts] == [
        f"*Escalation: 50 partner steps are late; time to call the partners (part {n} of 3)*" for n in (1, 2, 3)
    ]
    assert [p.listed.count() for p in parts] == [20, 20, 10]


def test_tradingview_tasks_due_the_same_day_are_listed_together(internal, pm):
    portfolio(3, pm)
    plan_on(date(2026, 3, 5))  # TradingView's first two tasks are due in every integration
    [digest] = OutboxMessage.objects.filter(kind=K.CHANNEL_DIGEST)
    assert digest.text.startswith("*TradingView: 6 tasks due today*")
    assert OutboxMessage.objects.filter(kind=K.TRADINGVIEW_DUE, state=S.DIGESTED, digest=digest).count() == 6


def test_a_step_alone_keeps_its_own_message(internal, pm):
    integration = portfolio(1, pm, tradingview_done=True)[0]
    integration.business_manager = UserFactory(username="boris", staff=True)
    integration.save(update_fields=["business_manager"])
    plan_on(ESCALATION_DAY)
    escalation = OutboxMessage.objects.get(kind=K.ESCALATION)
    assert escalation.state == S.PENDING and escalation.digest is None and escalation.thread is not None
    assert not OutboxMessage.objects.filter(kind=K.CHANNEL_DIGEST).exists()


def test_an_integration_without_a_name_is_listed_under_its_partners_name(internal, pm):
    late = portfolio(3, pm, tradingview_done=True)
    # A row written around ``save`` (a bulk update) can leave the name empty: the integration goes by its partner's.
    Integration.objects.filter(pk=late[0].pk).update(name="")
    plan_on(ESCALATION_DAY)
    [digest] = OutboxMessage.objects.filter(kind=K.CHANNEL_DIGEST)
    endpoints = step(late[0], "endpoints-implementation")
    url = f"{SITE_URL}/integrations/{late[0].pk}/#step-{endpoints.pk}"
    assert f"<{url}|Late &lt;00&gt; &amp; Co: " in digest.text
