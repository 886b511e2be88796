"""An integration's standing, scenario by scenario: what a PM and a partner should read on a given day.

Kick-off is Monday 2026-03-02 (``tests/default_plan.py``). TradingView's first tasks are planned for
Thursday 03-05, the partner's endpoints and autotests for Monday 03-30, sandbox access (TradingView)
for Thursday 04-02, sandbox development (partner) for Monday 04-06, the launch window 05-18..05-25.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations import plan
from integrations.models import Integration, IntegrationEvent
from integrations.standing import refresh_running, standing
from integrations.steps import complete_step, start_step
from roadmap import standing as rules
from roadmap.refusals import NotRunning, ReasonRequired, StaleChange
from roadmap.standing import DelaySplit
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.handovers.helpers import hand_over_everything
from tests.integrations.helpers import KICKOFF, LAUNCH_WINDOW, STEP_CODES, at, ctx, step, stored_and_live

pytestmark = pytest.mark.django_db

PLANNED_LAUNCH = LAUNCH_WINDOW[1]


def codes(steps) -> list[str]:
    return [s.code for s in steps]


def done(integration, code, when, by=None):
    return complete_step(step(integration, code), ctx(by, when))


def tradingview_onboards(integration, by, day="2026-03-04"):
    for code in ("slack-jira-onboarding", "autotests-configuration"):
        done(integration, code, day, by)


def partner_passes_autotests(integration, by, day="2026-03-27"):
    for code in ("endpoints-implementation", "passing-autotests"):
        done(integration, code, day, by)


def overdue(result) -> dict[str, int]:
    return {s.code: result.days_overdue(s) for s in result.overdue_steps()}


def test_on_time_at_kickoff(started_integration):
    result = standing(started_integration, at(KICKOFF))

    assert result.overdue_steps() == []
    assert result.forecast_launch == result.planned_launch == result.baseline_launch == PLANNED_LAUNCH
    assert result.split == DelaySplit() and result.slip_days == 0
    assert result.ball.side == "both"
    assert codes(result.ball.tradingview) == ["slack-jira-onboarding", "autotests-configuration"]
    assert codes(result.ball.partner) == ["endpoints-implementation"]
    assert result.current_step.code == "slack-jira-onboarding"
    assert codes(result.steps) == STEP_CODES


def test_onboarding_is_due_in_the_first_week(started_integration):
    onboarding = step(started_integration, "slack-jira-onboarding")
    assert onboarding.due_date == date(2026, 3, 5)

    assert overdue(standing(started_integration, at("2026-03-05"))) == {}
    assert overdue(standing(started_integration, at("2026-03-06"))) == {
        "slack-jira-onboarding": 1,
        "autotests-configuration": 1,
    }


# 1. A partner gets its time after a hand-over -------------------------------------------------


def test_partner_keeps_its_time_after_a_late_sandbox_handover(started_integration, pm):
    tradingview_onboards(started_integration, pm)
    partner_passes_autotests(started_integration, pm)
    # Sandbox access was planned for Monday 03-30, with the partner's week 4; TradingView hands it
    # over on Wednesday 04-01: 2 working days late (Tue, Wed).
    done(started_integration, "sandbox-access", "2026-04-01", pm)

    development = step(started_integration, "sandbox-development")
    assert development.planned_due_date == date(2026, 4, 6)
    assert development.due_date == date(2026, 4, 8)  # the partner keeps its week: 5 working days
    assert "Deadline moved from 6 Apr 2026 to 8 Apr 2026" in development.history.last().note
    assert "Sandbox access configuration" in development.history.last().note

    for day in ("2026-04-07", "2026-04-08"):
        assert overdue(standing(started_integration, at(day))) == {}
    result = standing(started_integration, at("2026-04-08"))
    assert result.split == DelaySplit(tradingview=2)
    assert result.forecast_launch == date(2026, 5, 27)
    assert overdue(standing(started_integration, at("2026-04-09"))) == {"sandbox-development": 1}


def test_a_late_partner_handover_moves_tradingviews_deadline(started_integration, pm):
    tradingview_onboards(started_integration, pm)
    partner_passes_autotests(started_integration, pm, day="2026-04-03")  # Friday: 4 working days late

    access = step(started_integration, "sandbox-access")
    # Prepared during the partner's week: due the day of the hand-over, as planned (no working day after it).
    assert access.due_date == date(2026, 4, 3)
    result = standing(started_integration, at("2026-04-03"))
    assert overdue(result) == {}
    assert result.split == DelaySplit(partner=4)
    assert result.forecast_launch == date(2026, 5, 29)


# 2. The side shown overdue is the side charged ------------------------------------------------


def test_the_side_shown_overdue_is_the_side_charged(started_integration, pm):
    tradingview_onboards(started_integration, pm)
    partner_passes_autotests(started_integration, pm)

    result = standing(started_integration, at("2026-04-12"))  # a Sunday

    # Sandbox access (due Monday 03-30) cannot be handed over before Monday 04-13: 10 working days
    # late (14 calendar days), and the launch moves 10 working days, from Monday 05-25 to Monday
    # 06-08, charged so.
    assert overdue(result) == {"sandbox-access": 10}
    assert result.forecast_launch == date(2026, 6, 8)
    assert result.split == DelaySplit(tradingview=10)
    assert result.slip_days == rules.working_days_late(result.planned_launch, result.forecast_launch) == 10


def test_both_sides_late_at_once(started_integration):
    result = standing(started_integration, at("2026-04-01"))

    assert overdue(result) == {
        "slack-jira-onboarding": 19,  # working days (27 calendar days)
        "autotests-configuration": 19,
        "endpoints-implementation": 2,
    }
    assert result.split.tradingview > 0 and result.split.both == 2 and result.split.partner == 0
    assert result.slip_days == rules.working_days_late(PLANNED_LAUNCH, result.forecast_launch)


# 3. Nothing changes while paused ----------------------------------------------------------------


def test_steps_do_not_change_while_paused_and_the_pause_is_nobodys_delay(started_integration, pm):
    tradingview_onboards(started_integration, pm)
    plan.pause(started_integration, ctx(pm, "2026-03-10", "Partner re-prioritising."))

    with pytest.raises(NotRunning, match="resume it first"):
        done(started_integration, "endpoints-implementation", "2026-03-12", pm)
    assert step(started_integration, "endpoints-implementation").status == "not_started"

    paused = standing(started_integration, at("2026-03-14"))
    assert paused.ball.side is None and overdue(paused) == {}
    assert paused.forecast_launch == date(2026, 5, 29)  # shown as if resumed today: 4 days later
    assert paused.split == DelaySplit()

    plan.resume(started_integration, ctx(pm, "2026-03-17"))
    assert step(started_integration, "endpoints-implementation").due_date == date(2026, 4, 6)
    assert step(started_integration, "endpoints-implementation").planned_due_date == date(2026, 3, 30)
    result = standing(started_integration, at("2026-04-08"))
    assert overdue(result) == {"endpoints-implementation": 2}
    assert result.planned_launch == date(2026, 6, 1)
    assert result.split == DelaySplit(partner=2)
    assert result.forecast_launch == date(2026, 6, 3)
    assert result.moved_by_plan_days == 5  # working days
    assert result.slip_vs_baseline_days == 7


# 4. Back-dated changes keep the history in order -----------------------------------------------


def test_a_step_done_before_kickoff_counts_as_done_on_time(started_integration, pm):
    tradingview_onboards(started_integration, pm)
    done(started_integration, "endpoints-implementation", "2026-02-20", pm)
    done(started_integration, "passing-autotests", "2026-03-27", pm)

    result = standing(started_integration, at("2026-03-30"))

    assert result.of(step(started_integration, "endpoints-implementation")).days_late == 0
    assert result.split == DelaySplit()
    assert result.forecast_launch == PLANNED_LAUNCH
    statuses = [row.to_status for row in step(started_integration, "endpoints-implementation").history.order_by("id")]
    assert statuses == ["not_started", "done"]


def test_a_change_dated_before_the_steps_last_change_is_refused(started_integration, pm):
    start_step(step(started_integration, "endpoints-implementation"), ctx(pm, "2026-03-10"))

    with pytest.raises(StaleChange, match="9 Mar 2026"):
        done(started_integration, "endpoints-implementation", "2026-03-09", pm)
    assert step(started_integration, "endpoints-implementation").status == "in_progress"
    assert step(started_integration, "endpoints-implementation").history.count() == 2


# 5. Re-planning keeps the baseline -------------------------------------------------------------


def test_replanning_keeps_the_baseline_and_the_split_adds_up(started_integration, pm):
    tradingview_onboards(started_integration, pm)
    partner_passes_autotests(started_integration, pm, day="2026-04-16")
    before = standing(started_integration, at("2026-04-16"))
    assert before.split == DelaySplit(partner=13) and before.slip_days == 13

    with pytest.raises(ReasonRequired):
        plan.replan(started_integration, "2026-03-16", ctx(pm, "2026-04-16"))
    plan.replan(started_integration, "2026-03-16", ctx(pm, "2026-04-16", "Partner re-staffed its team."))

    after = standing(started_integration, at("2026-04-16"))  # sandbox access is due today
    assert after.baseline_launch == PLANNED_LAUNCH
    assert after.planned_launch == date(2026, 6, 8)
    assert after.split == DelaySplit(partner=3) and after.slip_days == 3
    assert after.forecast_launch == date(2026, 6, 11)
    assert after.moved_by_plan_days == 10 and after.slip_vs_baseline_days == 13
    event = started_integration.events.get(kind=IntegrationEvent.Kind.REPLANNED)
    assert event.note == "Partner re-staffed its team."


# 8. Time zones ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "finished", "late", "charged"),
    [
        # 01:00 UTC on 03-31: still its due day, on time; the day it took to reach TradingView is the hand-over's
        ("America/Los_Angeles", datetime(2026, 3, 30, 18, 0), 0, 1),
        ("Asia/Tokyo", datetime(2026, 3, 31, 9, 0), 1, 1),  # 00:00 UTC on 03-31: the morning after, locally
    ],
)
def test_a_partner_deadline_is_a_day_in_the_partners_time_zone(pm, zone, finished, late, charged):
    integration = IntegrationFactory(partner=PartnerFactory(name=f"Partner in {zone}", time_zone=zone), tv_pm=pm)
    plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    tradingview_onboards(integration, pm)
    when = finished.replace(tzinfo=ZoneInfo(zone))
    for code in ("endpoints-implementation", "passing-autotests"):
        complete_step(step(integration, code), ctx(pm, when))

    result = standing(integration, at("2026-04-01"))

    assert result.of(step(integration, "endpoints-implementation")).days_late == late
    # Sandbox access, due with the partner's week 4, is due the day the hand-over reached TradingView (03-31)
    # and TradingView's 1 day overdue on 04-01; that day before it is the hand-over's.
    assert result.of(step(integration, "sandbox-access")).deadline == date(2026, 3, 31)
    assert result.split.partner == charged
    assert result.split.tradingview == 1


def test_today_is_the_partners_day_for_its_steps(pm):
    los_angeles = IntegrationFactory(partner=PartnerFactory(name="LA", time_zone="America/Los_Angeles"), tv_pm=pm)
    tokyo = IntegrationFactory(partner=PartnerFactory(name="Tokyo", time_zone="Asia/Tokyo"), tv_pm=pm)
    moment = datetime(2026, 3, 31, 3, 0, tzinfo=ZoneInfo("UTC"))  # LA: 03-30 20:00; Tokyo: 03-31 12:00
    for integration in (los_angeles, tokyo):
        plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
        tradingview_onboards(integration, pm)

    assert overdue(standing(los_angeles, moment)) == {}
    assert overdue(standing(tokyo, moment)) == {"endpoints-implementation": 1}


# 9. The stored standing is the live one ----------------------------------------------------------


def portfolio(pm):
    """Integrations in different states, with history up to 2026-04-10."""
    made = []
    for n, story in enumerate(["on time", "partner late", "tradingview late", "paused", "cancelled"]):
        integration = IntegrationFactory(partner=PartnerFactory(name=f"Story {n}"), tv_pm=pm)
        plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
        tradingview_onboards(integration, pm)
        if story != "partner late":
            partner_passes_autotests(integration, pm)
        if story == "on time":
            done(integration, "sandbox-access", "2026-04-01", pm)
        if story == "paused":
            plan.pause(integration, ctx(pm, "2026-04-08", "Waiting for the partner's budget."))
        if story == "cancelled":
            plan.cancel(integration, ctx(pm, "2026-04-09", "Partner withdrew."))
        made.append(integration)
    return made


@pytest.mark.parametrize("travel_days", [1, 7, 30])
def test_the_daily_refresh_keeps_the_stored_standing_live(pm, travel_days):
    with time_machine.travel(at("2026-04-10"), tick=False) as traveller:
        integrations = portfolio(pm)
        traveller.shift(travel_days * 24 * 3600)
        # Without the refresh the stored delay of the late ones lags behind the live one.
        lagging = [i for i in integrations if i.delay_partner_days != standing(i).stored_fields()["delay_partner_days"]]
        assert lagging

        refresh_running()

        for integration in integrations:
            stored, live = stored_and_live(integration)
            if not integration.is_running:
                # A cancelled integration is not refreshed: its standing stopped on the day it ended.
                del stored["standing_as_of"], live["standing_as_of"]
            assert stored == live, integration


def test_the_daily_refresh_costs_queries_per_batch_not_per_integration(pm):
    with time_machine.travel(at("2026-04-10"), tick=False):
        portfolio(pm)
        counts = []
        for batch_size in (2, 5):
            Integration.objects.update(standing_as_of=None)  # every row has a column to write
            with CaptureQueriesContext(connection) as queries:
                refreshed = refresh_running(batch_size=batch_size)
            counts.append(len(queries))
    assert refreshed == 4  # the cancelled one is not running
    # 4 integrations: 2 batches of 2, then 1 batch of 5; each batch costs the same few queries.
    per_batch = counts[1] - 1  # one query lists the running integrations
    assert counts[0] == 1 + 2 * per_batch


def test_a_second_refresh_the_same_day_writes_nothing(pm):
    # At 10,000 integrations the refresh wrote every column of every row every day; most do not move.
    with time_machine.travel(at("2026-04-10"), tick=False):
        portfolio(pm)
        refresh_running()
        with CaptureQueriesContext(connection) as queries:
            assert refresh_running() == 4
    assert not [q["sql"] for q in queries if q["sql"].startswith("UPDATE")]


def test_the_refresh_writes_only_the_columns_that_moved(pm):
    with time_machine.travel(at("2026-04-10"), tick=False):
        integrations = portfolio(pm)
        refresh_running()
    running = [i for i in integrations if i.is_running]
    with time_machine.travel(at("2026-04-13"), tick=False):
        with CaptureQueriesContext(connection) as queries:
            refresh_running()
        for integration in running:
            stored, live = stored_and_live(integration)
            assert stored == live, integration
    [update] = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "integrations_integration"')]
    assert "standing_as_of" in update and "current_step_id" not in update  # no step changed


def test_a_cancelled_integrations_split_stops_growing(started_integration, pm):
    plan.cancel(started_integration, ctx(pm, "2026-04-09", "Partner withdrew."))

    on_the_day = standing(started_integration, at("2026-04-09"))
    much_later = standing(started_integration, at("2027-04-09"))

    assert much_later.split == on_the_day.split
    assert much_later.forecast_launch is None


def test_a_launched_integration_is_measured_at_its_launch(started_integration, pm):
    hand_over_everything(started_integration)
    tradingview_onboards(started_integration, pm)
    partner_passes_autotests(started_integration, pm)
    day = date(2026, 4, 1)
    for code in STEP_CODES[4:]:
        done(started_integration, code, day, pm)
    started_integration.refresh_from_db()

    assert started_integration.state == Integration.State.LAUNCHED
    result = standing(started_integration, at("2026-09-01"))
    assert result.forecast_launch == date(2026, 4, 1)
    assert result.split == DelaySplit() and result.ball.side is None
