"""A step overdue before a pause: the reminders and escalations count its days as the page does.

The default plan (kicked off Monday 2 March 2026) has the partner's endpoints due Monday 30 March and
TradingView's autotests configuration due Thursday 5 March. The endpoints are 2 working days overdue when the integration
is paused; it is resumed 5 working days later. Paused days are not working days: nobody is late on them.
So after the resume the step is 3 working days overdue, not 8, and every message the sweep writes day
by day says the day number the integration page says, and comes on the cadence's days of that count
(overdue 4, 7, 10 and 13 after the resume; the escalation at 7).
"""

import re
from datetime import date, timedelta

import pytest
from django.urls import reverse

from integrations import plan
from integrations.standing import standing
from notifications import reminders
from notifications.models import OutboxMessage
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on, step

pytestmark = pytest.mark.django_db
K = OutboxMessage.Kind
CHANNEL = "C0PAUSED"
INTERNAL = "C0INTERNAL"
LEAD = "U0LEAD"
PAUSED_ON = date(2026, 4, 2)  # a Thursday: endpoints 2 working days overdue (31 March, 1 April)
RESUMED_ON = date(2026, 4, 9)  # a Thursday: 2, 3, 6, 7 and 8 April paused, 5 working days
LAST = date(2026, 4, 24)
DAY_NUMBER = re.compile(r"(\d+) working days? (?:overdue|late)")


@pytest.fixture
def paused_while_late(settings, pm):
    settings.SLACK_INTERNAL_CHANNEL = INTERNAL
    settings.TRADINGVIEW_LEAD_SLACK_ID = LEAD
    partner = PartnerFactory(name="Pausing Broker", time_zone="UTC")
    integration = IntegrationFactory(partner=partner, tv_pm=pm, slack_channel_id=CHANNEL)
    with on(KICKOFF, 9):
        plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    with on(PAUSED_ON, 6):
        plan.pause(integration, ctx(pm, at(PAUSED_ON, 6)))
    with on(RESUMED_ON, 5):
        plan.resume(integration, ctx(pm, at(RESUMED_ON, 5)))
    integration.refresh_from_db()
    return integration


def overdue_on_the_page(client, integration, code: str, day: date) -> int:
    """The step's days overdue as the integration page shows them on ``day``."""
    with on(day, 12):
        days = standing(integration).days_overdue(step(integration, code))
        page = client.get(reverse("integration-page", args=[integration.pk])).content.decode()
    if days:
        assert f"{days} working day{'s' if days > 1 else ''} overdue" in page
    return days


def swept_day_by_day(client, integration, code: str) -> dict:
    """Each working day from the resume to ``LAST``: the morning's reminder sweep, then the page's count of
    ``code``'s working days overdue that day."""
    page = {}
    day = RESUMED_ON
    while day <= LAST:
        if day.weekday() < 5:
            with on(day, 6):
                reminders.plan_reminders(day)
            page[day] = overdue_on_the_page(client, integration, code, day)
        day += timedelta(days=1)
    return page


def test_an_overdue_step_paused_and_resumed_is_reminded_and_escalated_on_the_days_the_page_counts(
    paused_while_late, client, pm
):
    integration = paused_while_late
    client.force_login(pm)
    endpoints = step(integration, "endpoints-implementation")
    page = swept_day_by_day(client, integration, "endpoints-implementation")
    assert page[RESUMED_ON] == 3  # 2 before the pause, the day of the resume: the paused days not counted

    sent = OutboxMessage.objects.filter(step=endpoints, created_at__date__gte=RESUMED_ON)
    overdue = {m.created_at.date(): m for m in sent.filter(kind=K.OVERDUE, channel=CHANNEL)}
    # Each overdue reminder says the page's count of its day, on the cadence's days of that count.
    for day, message in overdue.items():
        assert int(DAY_NUMBER.search(message.text).group(1)) == page[day]
    assert sorted(page[d] for d in overdue) == [4, 7, 10, 13]
    [escalation] = sent.filter(kind=K.ESCALATION)
    day = escalation.created_at.date()
    assert page[day] == 7
    assert escalation.text.startswith("Escalation: 7 working days overdue")


def test_a_late_tradingview_task_paused_and_resumed_says_the_pages_count_on_the_cadences_days(
    paused_while_late, client, pm
):
    """TradingView's autotests configuration, due Thursday 5 March, still open: its late reminders after the
    resume say the page's count, every 3 working days of that count (paused days not counted)."""
    integration = paused_while_late
    client.force_login(pm)
    autotests = step(integration, "autotests-configuration")
    page = swept_day_by_day(client, integration, "autotests-configuration")
    late = OutboxMessage.objects.filter(step=autotests, kind=K.TRADINGVIEW_LATE)
    days = sorted(m.created_at.date() for m in late)
    assert len(days) == 4
    for message in late:
        counted = page[message.created_at.date()]
        assert int(DAY_NUMBER.search(message.text).group(1)) == counted
        assert (counted - 1) % 3 == 0
