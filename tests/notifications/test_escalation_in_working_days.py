"""Escalations count working days of the owing side's calendar, as the reminders do.

A partner in Germany owes its endpoints by Monday 21 December 2026. Christmas Day (Friday 25) and
New Year's Day (Friday 1 January) are holidays there: the step is 7 working days overdue on Thursday
31 December (22, 23, 24, 28, 29, 30, 31), not on Monday 28 December, 7 calendar days after the
deadline. TradingView's own late task is escalated to the PM's lead on the same policy, in
TradingView's calendar (England here): due Thursday 24 December, 7 working days late on Thursday
7 January, not on Thursday 31 December.
"""

from datetime import date, timedelta

import pytest

from integrations import plan
from notifications import reminders
from notifications.models import OutboxMessage
from roadmap.calendars import WorkingCalendar
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import at, ctx, on, step

pytestmark = pytest.mark.django_db
K = OutboxMessage.Kind
CHANNEL = "C0BERLIN2"
INTERNAL = "C0INTERNAL"
LEAD = "U0LEAD"


def sweep(first: date, last: date):
    day = first
    while day <= last:
        with on(day, 6):
            reminders.plan_reminders(day)
        day += timedelta(days=1)


@pytest.fixture
def german_late(settings, pm):
    settings.SLACK_INTERNAL_CHANNEL = INTERNAL
    kickoff = date(2026, 11, 23)
    partner = PartnerFactory(name="Weihnachts Broker", time_zone="Europe/Berlin", country="DE")
    integration = IntegrationFactory(partner=partner, tv_pm=pm, slack_channel_id=CHANNEL)
    with on(kickoff, 9):
        plan.start_integration(integration, kickoff, ctx(pm, at(kickoff, 9)))
    endpoints = step(integration, "endpoints-implementation")
    assert endpoints.due_date == date(2026, 12, 21)
    return endpoints


def escalation_days(kind, step_) -> list[date]:
    return [m.created_at.date() for m in OutboxMessage.objects.filter(step=step_, kind=kind).order_by("created_at")]


def test_a_german_partners_late_step_is_escalated_after_7_working_days_across_christmas(german_late):
    sweep(date(2026, 12, 21), date(2027, 1, 8))
    assert escalation_days(K.ESCALATION, german_late) == [date(2026, 12, 31)]
    row = OutboxMessage.objects.get(step=german_late, kind=K.ESCALATION)
    assert row.reason_key == f"escalation:{german_late.pk}:2026-12-21"
    assert row.text.startswith("Escalation: 7 working days overdue")
    # The partner's own overdue reminders keep their cadence in the same calendar: 1, 4, 7 and 10 working days.
    overdue = OutboxMessage.objects.filter(step=german_late, kind=K.OVERDUE, channel=CHANNEL)
    assert sorted(m.created_at.date() for m in overdue) == [
        date(2026, 12, 22),
        date(2026, 12, 28),
        date(2026, 12, 31),
        date(2027, 1, 6),
    ]


def test_a_late_tradingview_task_reaches_the_lead_after_7_working_days_of_tradingviews_calendar(
    settings, onboarding_due_on_christmas_eve
):
    settings.TRADINGVIEW_LEAD_SLACK_ID = LEAD
    onboarding = onboarding_due_on_christmas_eve
    sweep(date(2026, 12, 24), date(2027, 1, 12))
    # Late on 29, 30, 31 December, 4, 5, 6 and 7 January: Christmas, Boxing Day (on Monday 28) and New
    # Year's Day are not worked in England.
    assert escalation_days(K.LEAD_ESCALATION, onboarding) == [date(2027, 1, 7)]
    row = OutboxMessage.objects.get(step=onboarding, kind=K.LEAD_ESCALATION)
    assert row.text.startswith("Escalation: 7 working days overdue")


def test_the_cadence_is_one_count_of_the_owing_sides_working_days():
    germany = WorkingCalendar("DE")
    deadline = date(2026, 12, 21)
    cadence, Cadence = reminders.cadence, reminders.Cadence
    assert cadence(deadline, date(2026, 12, 28), germany) == Cadence(worked=True, left=0, overdue=4)
    assert cadence(deadline, date(2026, 12, 31), germany) == Cadence(worked=True, left=0, overdue=7)
    assert cadence(deadline, date(2026, 12, 25), germany).worked is False
    assert cadence(date(2027, 1, 4), date(2026, 12, 30), germany) == Cadence(worked=True, left=2, overdue=0)
    policy = reminders.policy_for_value(None)
    assert not cadence(deadline, date(2026, 12, 30), germany).escalates(policy)
    assert cadence(deadline, date(2026, 12, 31), germany).escalates(policy)
