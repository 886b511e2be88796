"""A hand-over reaches TradingView on TradingView's working day.

A partner in Los Angeles, kicked off on Friday 13 March 2026, owes its endpoints and autotests by Friday
10 April (week 4); TradingView prepares sandbox access during that week and is due with it. The partner
passes its autotests at 18:00 on its due Friday, in Los Angeles: 01:00 on Saturday in UTC (TradingView's
``TIME_ZONE``). The partner is on time by its own date, and sandbox access is not overdue the moment it
arrives: it is due TradingView's next working day, Monday 13 April.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from integrations import plan
from integrations.standing import standing
from integrations.steps import complete_step
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import at, ctx, step

pytestmark = pytest.mark.django_db
KICKOFF = date(2026, 3, 13)
DUE_FRIDAY = date(2026, 4, 10)
MONDAY = date(2026, 4, 13)
LOS_ANGELES = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def handed_over_in_the_la_evening(pm):
    integration = IntegrationFactory(partner=PartnerFactory(name="Pacific Broker", time_zone=LOS_ANGELES.key), tv_pm=pm)
    with time_machine.travel(at(KICKOFF, 9), tick=False):
        plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    for code in ("slack-jira-onboarding", "autotests-configuration"):
        complete_step(step(integration, code), ctx(pm, at(date(2026, 3, 17), 9)))
    complete_step(step(integration, "endpoints-implementation"), ctx(pm, at(date(2026, 4, 8), 17)))
    evening = datetime(2026, 4, 10, 18, 0, tzinfo=LOS_ANGELES)  # 01:00 UTC on Saturday 11 April
    with time_machine.travel(evening, tick=False):
        complete_step(step(integration, "passing-autotests"), ctx(pm, evening))
    assert step(integration, "sandbox-access").planned_due_date == DUE_FRIDAY
    return integration


def test_a_task_prepared_during_the_partners_week_is_due_tradingviews_next_working_day_after_a_late_evening_handover(
    handed_over_in_the_la_evening,
):
    integration = handed_over_in_the_la_evening
    sandbox = step(integration, "sandbox-access")
    saturday = standing(integration, at(date(2026, 4, 11), 12))
    assert saturday.of(sandbox).deadline == MONDAY
    assert saturday.days_overdue(sandbox) == 0 and saturday.days_late == 0
    assert saturday.overdue_steps() == []
    # The partner's step is on time by its own date.
    autotests = step(integration, "passing-autotests")
    assert saturday.of(autotests).days_late == 0 and saturday.of(autotests).forecast == DUE_FRIDAY
    # The stored deadline is the one shown, from the refresh of the completion itself, and the history says why.
    assert sandbox.due_date == MONDAY
    moved = sandbox.history.get(to_due=MONDAY)
    assert moved.note == (
        "Deadline moved from 10 Apr 2026 to 13 Apr 2026: 2 · Partner · Passing REST API autotests was done on "
        "10 Apr 2026 in the partner's time zone, 11 Apr 2026 in TradingView's; this step is not due before the "
        "working day it arrived."
    )
    # TradingView has its Monday; late on Tuesday.
    assert standing(integration, at(MONDAY, 17)).days_overdue(sandbox) == 0
    tuesday = standing(integration, at(date(2026, 4, 14), 12))
    assert tuesday.days_overdue(sandbox) == 1
    # TradingView is charged its own day late only; the working day the hand-over took to reach it is the
    # hand-over's, as any hand-over's that reaches the other side after the plan's day.
    assert (tuesday.split.tradingview, tuesday.split.partner) == (1, 1)


def test_sandbox_access_done_on_that_monday_is_on_time(handed_over_in_the_la_evening, pm):
    integration = handed_over_in_the_la_evening
    complete_step(step(integration, "sandbox-access"), ctx(pm, at(MONDAY, 15)))
    now = standing(integration, at(MONDAY, 16))
    assert now.of(step(integration, "sandbox-access")).days_late == 0
    assert (now.split.tradingview, now.split.partner) == (0, 1)
