"""Days in one unit: every count of days late, overdue, slipped or charged is in working days, and says so.

The scenarios of the issue, on the default plan: "12 days late" beside "Partner 14 d" of slip;
"Done, 4 days late" beside "TradingView charged 6 d"; "5 days overdue" for 3 working days. A step
N working days late is charged N working days and moves the launch N working days, and every
surface names the unit.
"""

from datetime import date

import pytest
import time_machine

from integrations import plan
from integrations.standing import refresh_running, standing
from integrations.steps import complete_step
from tests.integrations.helpers import at, ctx, on, step

pytestmark = pytest.mark.django_db


def tradingview_tasks_done(integration, pm, day):
    with on(day):
        for code in ("slack-jira-onboarding", "autotests-configuration"):
            complete_step(step(integration, code), ctx(pm, day))


@pytest.mark.parametrize(
    "day",
    [date(2026, 4, 9), date(2026, 4, 11), date(2026, 4, 13)],  # a Thursday, the Saturday after, the Monday
)
def test_days_late_and_the_partners_charge_are_one_number_on_every_page(started_integration, pm, client, day):
    """The partner's endpoints, due Monday 03-30, still open: on Saturday 04-11 it was "12 days late" beside
    "Partner 14 d". Now both are the working days the launch moved (10), labelled so."""
    tradingview_tasks_done(started_integration, pm, "2026-03-04")
    with time_machine.travel(at(day), tick=False):
        refresh_running()
        now = standing(started_integration)
        late = now.days_late
        assert late > 0
        assert (now.split.tradingview, now.split.partner, now.split.both) == (0, late, 0)
        assert now.slip_days == late
        started_integration.refresh_from_db()
        assert started_integration.days_overdue() == late == started_integration.delay_partner_days

        client.force_login(pm)
        page = client.get(f"/integrations/{started_integration.pk}/").content.decode()
        assert f"{late} working days late" in page
        assert f"partner {late} working days" in page
        portfolio = client.get("/").content.decode()
        assert f"{late} working days late" in portfolio
        assert f"Partner {late} working days" in portfolio
        stage = client.get(f"/partner/integrations/{started_integration.pk}/").content.decode()
        assert f"{late} working days overdue" in stage
        assert f"{late} working days after plan" in stage
    assert {date(2026, 4, 9): 8, date(2026, 4, 11): 10, date(2026, 4, 13): 10}[day] == late


def test_a_step_done_late_says_the_working_days_it_was_charged(started_integration, pm, client):
    """TradingView's onboarding, due Thursday 03-05, done Monday 03-09: "Done, 4 days late" beside a charge
    in other days. It was 2 working days late, and TradingView is charged 2 working days."""
    with on("2026-03-09"):
        complete_step(step(started_integration, "slack-jira-onboarding"), ctx(pm, "2026-03-09"))
        complete_step(step(started_integration, "autotests-configuration"), ctx(pm, "2026-03-09"))
    with time_machine.travel(at("2026-03-10"), tick=False):
        now = standing(started_integration)
        onboarding = now.of(step(started_integration, "slack-jira-onboarding"))
        assert onboarding.days_late == 2
        assert (now.split.tradingview, now.split.partner, now.split.both) == (2, 0, 0)
        client.force_login(pm)
        page = client.get(f"/integrations/{started_integration.pk}/").content.decode()
        assert "Done 9 Mar 2026, 2 working days late" in page  # the timeline
        assert "2 working days late" in page and "TradingView 2 working days" in page
        assert "4 days late" not in page


def test_overdue_days_on_the_stage_page_are_working_days(integration, pm, client):
    """Kicked off on Friday 03-06, the partner's endpoints are due Friday 04-03; on Wednesday 04-08 they
    were "5 days overdue" for 3 working days."""
    kickoff = date(2026, 3, 6)
    with time_machine.travel(at(kickoff, 9), tick=False):
        plan.start_integration(integration, kickoff, ctx(pm, at(kickoff, 9)))
    tradingview_tasks_done(integration, pm, "2026-03-10")
    endpoints = step(integration, "endpoints-implementation")
    assert endpoints.due_date == date(2026, 4, 3)
    with time_machine.travel(at("2026-04-08"), tick=False):
        assert standing(integration).days_overdue(endpoints) == 3
        client.force_login(pm)
        stage = client.get(f"/partner/integrations/{integration.pk}/").content.decode()
        assert "3 working days overdue" in stage
        assert "5 days overdue" not in stage and "5 day" not in stage
