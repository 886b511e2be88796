"""An integration's standing: ball in court, overdue days, forecast launch and the delay split."""

from datetime import date

import pytest

from integrations import plan
from integrations.models import ChangeSource, Integration
from integrations.standing import paused_dates, standing
from integrations.steps import block_step, complete_step
from roadmap.progress import DelaySplit
from tests.integrations.helpers import KICKOFF, LAUNCH_WINDOW, STEP_CODES, at, days, step

pytestmark = pytest.mark.django_db

WEB = ChangeSource.WEB
PLANNED_LAUNCH = LAUNCH_WINDOW[1]


def codes(steps) -> list[str]:
    return [s.code for s in steps]


def overdue(result) -> dict[str, int]:
    return {s.code: s.days_overdue(result.today) for s in result.overdue_steps()}


def finish_tradingview_onboarding(integration, by, day="2026-03-05"):
    """TradingView's first two tasks done in good time, so only the partner can be late."""
    for code in ("slack-jira-onboarding", "autotests-configuration"):
        complete_step(step(integration, code), source=WEB, by=by, at=at(day))


def test_on_time_at_kickoff(started_integration):
    result = standing(started_integration, KICKOFF)

    assert result.overdue_steps() == []
    assert result.forecast_launch == result.planned_launch == PLANNED_LAUNCH
    assert result.slip_days == 0
    assert result.delay == DelaySplit()
    assert result.delay.total == 0
    assert result.ball.side == "both"
    assert codes(result.ball.tradingview) == ["slack-jira-onboarding", "autotests-configuration"]
    assert codes(result.ball.partner) == ["endpoints-implementation"]
    assert result.current_step.code == "slack-jira-onboarding"
    assert codes(result.steps) == STEP_CODES


def test_on_time_on_the_due_date(started_integration, pm):
    finish_tradingview_onboarding(started_integration, pm)

    result = standing(started_integration, date(2026, 3, 30))

    assert result.overdue_steps() == []
    assert result.ball.side == "partner"
    assert result.forecast_launch == PLANNED_LAUNCH
    assert result.delay == DelaySplit()


def test_partner_ten_days_late(started_integration, pm):
    finish_tradingview_onboarding(started_integration, pm)

    result = standing(started_integration, date(2026, 4, 9))

    assert step(started_integration, "endpoints-implementation").days_overdue(result.today) == 10
    # Only what a side owes now: later steps past their date wait on this one.
    assert overdue(result) == {"endpoints-implementation": 10}
    assert step(started_integration, "sandbox-access").days_overdue(result.today) == 3
    assert result.forecast_launch == PLANNED_LAUNCH + days(10)
    assert result.slip_days == 10
    assert result.delay == DelaySplit(tradingview=0, partner=10, both=0, paused=0)
    assert result.ball.side == "partner"
    assert codes(result.ball.partner) == ["endpoints-implementation"]


def test_both_sides_late(started_integration):
    result = standing(started_integration, date(2026, 4, 9))

    assert overdue(result) == {
        "slack-jira-onboarding": 10,
        "autotests-configuration": 10,
        "endpoints-implementation": 10,
    }
    assert result.delay == DelaySplit(both=10)
    assert result.delay.total == 10
    assert result.ball.side == "both"


def test_late_step_finished_stops_the_count(started_integration, pm):
    finish_tradingview_onboarding(started_integration, pm)
    complete_step(step(started_integration, "endpoints-implementation"), source=WEB, by=pm, at=at("2026-04-03"))
    complete_step(step(started_integration, "passing-autotests"), source=WEB, by=pm, at=at("2026-04-03"))

    result = standing(started_integration, date(2026, 4, 6))

    # Late from 03-31 up to the start of 04-03; then TradingView's sandbox access is due 04-06.
    assert result.delay == DelaySplit(partner=4)
    assert result.overdue_steps() == []
    assert result.ball.side == "tradingview"
    assert result.forecast_launch == PLANNED_LAUNCH + days(4)


def test_blocked_step_stays_in_its_sides_court_and_counts_late(started_integration, pm, partner_dev):
    finish_tradingview_onboarding(started_integration, pm)
    block_step(
        step(started_integration, "endpoints-implementation"),
        "Waiting for exchange approval.",
        source=ChangeSource.API,
        by=partner_dev,
        at=at("2026-03-20"),
    )

    result = standing(started_integration, date(2026, 4, 9))

    assert codes(result.ball.partner) == ["endpoints-implementation"]
    assert result.ball.side == "partner"
    assert result.current_step.code == "endpoints-implementation"
    assert overdue(result)["endpoints-implementation"] == 10
    assert result.delay == DelaySplit(partner=10)
    assert result.forecast_launch == PLANNED_LAUNCH + days(10)


def test_paused_nobody_holds_the_ball_and_forecast_moves(started_integration, pm):
    plan.pause(started_integration, source=WEB, by=pm, note="Partner re-org.", at=at("2026-03-09"))

    result = standing(started_integration, date(2026, 3, 19))

    assert result.ball.side is None
    assert result.ball.tradingview == result.ball.partner == []
    assert result.current_step.code == "slack-jira-onboarding"
    assert result.forecast_launch == PLANNED_LAUNCH + days(10)
    assert result.planned_launch == PLANNED_LAUNCH
    assert result.delay == DelaySplit(paused=10)
    assert result.delay.total == 0
    assert paused_dates(started_integration, date(2026, 3, 19)) >= {date(2026, 3, 10) + days(n) for n in range(10)}


def test_paused_integration_stores_no_ball_in_court(started_integration, pm):
    """While paused nobody holds the ball (plan.pause); the stored field lists filter on must agree."""
    plan.pause(started_integration, source=WEB, by=pm, at=at("2026-03-09"))

    started_integration.refresh_from_db()
    assert standing(started_integration, date(2026, 3, 9)).ball.side is None
    assert started_integration.ball_side == ""


def test_paused_while_late_counts_the_paused_days_as_paused(started_integration, pm):
    finish_tradingview_onboarding(started_integration, pm)
    plan.pause(started_integration, source=WEB, by=pm, at=at("2026-04-03"))

    result = standing(started_integration, date(2026, 4, 9))

    # Late 03-31..04-03 (the pause day began unpaused), paused 04-04..04-09.
    assert result.delay == DelaySplit(partner=4, paused=6)


def test_after_resume_deadlines_have_moved(started_integration, pm):
    plan.pause(started_integration, source=WEB, by=pm, at=at("2026-03-09"))
    plan.resume(started_integration, source=WEB, by=pm, at=at("2026-03-19"))
    finish_tradingview_onboarding(started_integration, pm, day="2026-03-20")

    on_new_deadline = standing(started_integration, date(2026, 4, 9))
    assert on_new_deadline.ball.side == "partner"
    assert on_new_deadline.overdue_steps() == []
    assert on_new_deadline.planned_launch == PLANNED_LAUNCH + days(10)
    assert on_new_deadline.forecast_launch == PLANNED_LAUNCH + days(10)
    assert on_new_deadline.delay == DelaySplit(paused=10)

    ten_days_later = standing(started_integration, date(2026, 4, 19))
    assert overdue(ten_days_later)["endpoints-implementation"] == 10
    assert ten_days_later.ball.side == "partner"
    assert ten_days_later.delay == DelaySplit(partner=10, paused=10)
    assert ten_days_later.forecast_launch == PLANNED_LAUNCH + days(20)


def complete_everything(integration, by, days_by_code):
    for code in STEP_CODES:
        complete_step(step(integration, code), source=WEB, by=by, at=at(days_by_code(code)))


def test_launched_forecast_is_the_launch_day(started_integration, pm):
    complete_everything(started_integration, pm, lambda code: KICKOFF + days(1 + STEP_CODES.index(code)))
    started_integration.refresh_from_db()
    assert started_integration.launched_on == date(2026, 3, 17)

    result = standing(started_integration, date(2026, 6, 1))

    assert result.forecast_launch == date(2026, 3, 17)
    assert result.planned_launch == PLANNED_LAUNCH
    assert result.slip_days == 0
    assert result.ball.side is None
    assert result.current_step is None
    assert result.overdue_steps() == []
    assert result.delay == DelaySplit()


def test_launched_late_counts_delay_up_to_the_launch_only(started_integration, pm):
    finish_tradingview_onboarding(started_integration, pm)
    complete_everything_late = [c for c in STEP_CODES if c not in ("slack-jira-onboarding", "autotests-configuration")]
    for code in complete_everything_late:
        complete_step(step(started_integration, code), source=WEB, by=pm, at=at("2026-04-09"))
    started_integration.refresh_from_db()
    assert started_integration.state == Integration.State.LAUNCHED

    result = standing(started_integration, date(2026, 12, 1))

    assert result.forecast_launch == date(2026, 4, 9)
    assert result.delay == DelaySplit(partner=10)


def test_cancelled_has_no_forecast_and_no_ball(started_integration, pm):
    plan.cancel(started_integration, source=WEB, by=pm, note="Partner withdrew.", at=at("2026-03-10"))

    result = standing(started_integration, date(2026, 3, 11))

    assert result.forecast_launch is None
    assert result.ball.side is None
    assert result.current_step is None
    started_integration.refresh_from_db()
    assert (started_integration.forecast_launch_on, started_integration.ball_side) == (None, "")
    assert started_integration.next_due_on is None


def test_not_kicked_off_has_no_delay(integration):
    result = standing(integration, date(2026, 3, 11))
    assert result.steps == []
    assert result.delay == DelaySplit()
    assert result.forecast_launch is None


@pytest.mark.parametrize("state", ["active", "paused", "launched"])
def test_standing_takes_three_queries(started_integration, pm, django_assert_num_queries, state):
    """Documented as three queries: the steps, their history, the integration's events."""
    finish_tradingview_onboarding(started_integration, pm)
    if state == "paused":
        plan.pause(started_integration, source=WEB, by=pm, at=at("2026-03-09"))
    elif state == "launched":
        for code in STEP_CODES[2:]:
            complete_step(step(started_integration, code), source=WEB, by=pm, at=at("2026-03-20"))
        assert started_integration.steps.filter(status="done").count() == 15
    started_integration.refresh_from_db()
    assert started_integration.state == state

    with django_assert_num_queries(3):
        standing(started_integration, date(2026, 4, 9))


def test_overdue_steps_are_only_those_a_side_owes_now(started_integration, pm):
    """Steps still waiting on late prerequisites are past their date, but nobody owes them yet."""
    result = standing(started_integration, date(2026, 4, 10))  # everything open, weeks 4 and 5 passed
    assert {s.code for s in result.overdue_steps()} == {
        "slack-jira-onboarding",
        "autotests-configuration",
        "endpoints-implementation",
    }
    plan.pause(started_integration, source=WEB, by=pm, at=at("2026-04-10"))
    assert standing(started_integration, date(2026, 4, 12)).overdue_steps() == []
