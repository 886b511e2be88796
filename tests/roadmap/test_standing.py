"""Who holds the ball, what is late, when it will launch, and whose days were lost (``assess``)."""

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from roadmap.default_template import STEPS
from roadmap.standing import (
    BallInCourt,
    Clock,
    DelaySplit,
    Reopen,
    actionable_steps,
    ball_in_court,
    current_step,
    steps_standing,
    waiting_on,
    working_days_late,
)
from tests.default_plan import KICKOFF, PLANNED_DUE, STEP_CODES

NS, IP, BL, DONE, NA = "not_started", "in_progress", "blocked", "done", "not_applicable"
TV, PARTNER = "tradingview", "partner"
PLANNED_LAUNCH = PLANNED_DUE["open-to-all-users"]  # Monday 2026-05-25, week 12
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
TOKYO = ZoneInfo("Asia/Tokyo")


@dataclass
class Step:
    code: str
    side: str
    position: int
    status: str = NS
    depends_on: list = field(default_factory=list)
    planned_due_date: date | None = None
    completed_at: datetime | None = None
    reopens: tuple = ()
    turnaround_days: int = 0


def done_at(day: date, hour: int = 12, zone=UTC) -> datetime:
    return datetime.combine(day, time(hour), zone)


def finished(day: date) -> dict:
    """Field updates of a step done at noon UTC on ``day``."""
    return {"status": DONE, "completed_at": done_at(day)}


def roadmap(**changes):
    """The default roadmap planned from KICKOFF; ``changes`` maps code (with _ for -) to field updates."""
    steps = [
        Step(
            row["code"],
            row["side"],
            position,
            depends_on=list(row["depends_on"]),
            planned_due_date=PLANNED_DUE[row["code"]],
            turnaround_days=3 if row["due_week"] is None else 0,
        )
        for position, row in enumerate(STEPS, start=1)
    ]
    by_code = {s.code: s for s in steps}
    for name, updates in changes.items():
        code = name.replace("_", "-")
        by_code[code].__dict__.update(updates)
    return steps


def reopened(day: date, undid: date | None) -> dict:
    """Field updates of a step done on ``undid`` (None: not applicable) and reopened at noon UTC on ``day``."""
    return {
        "status": IP if undid else NS,
        "completed_at": None,
        "reopens": (Reopen(done_at(day), done_at(undid) if undid else None),),
    }


def on_time_until(last_code: str, **changes):
    """The default roadmap with every step up to ``last_code`` done on its planned date."""
    done = STEP_CODES[: STEP_CODES.index(last_code) + 1]
    updates = {code.replace("-", "_"): finished(PLANNED_DUE[code]) for code in done}
    return roadmap(**{**updates, **changes})


def codes(steps):
    return [s.code for s in steps]


def by_code(steps):
    return {s.code: s for s in steps}


def slip(step_standing, paused=()) -> int:
    """Working days the forecast launch lies after the planned one: the unit of the split."""
    return working_days_late(step_standing.planned_launch, step_standing.forecast_launch, paused)


# --- actionable steps, waiting on --------------------------------------------------------------


def test_at_kickoff_the_steps_without_prerequisites_are_actionable():
    assert codes(actionable_steps(roadmap())) == [
        "slack-jira-onboarding",
        "autotests-configuration",
        "endpoints-implementation",
    ]


def test_actionable_steps_are_in_position_order_whatever_the_input_order():
    assert codes(actionable_steps(list(reversed(roadmap())))) == [
        "slack-jira-onboarding",
        "autotests-configuration",
        "endpoints-implementation",
    ]


def test_a_step_is_actionable_once_all_its_prerequisites_are_settled():
    steps = roadmap(autotests_configuration=finished(date(2026, 3, 5)), endpoints_implementation={"status": IP})
    assert "passing-autotests" not in codes(actionable_steps(steps))
    steps = roadmap(
        autotests_configuration=finished(date(2026, 3, 5)), endpoints_implementation=finished(date(2026, 3, 27))
    )
    assert codes(actionable_steps(steps)) == ["slack-jira-onboarding", "passing-autotests"]


def test_not_applicable_prerequisites_count_as_settled():
    steps = roadmap(
        slack_jira_onboarding=finished(date(2026, 3, 5)),
        autotests_configuration={"status": NA},
        endpoints_implementation=finished(date(2026, 3, 27)),
        passing_autotests={"status": NA},
    )
    assert codes(actionable_steps(steps)) == ["sandbox-access"]


@pytest.mark.parametrize("status", [NS, IP, BL])
def test_open_prerequisites_hold_a_step_back(status):
    steps = roadmap(
        slack_jira_onboarding=finished(date(2026, 3, 5)),
        autotests_configuration={"status": NA},
        endpoints_implementation=finished(date(2026, 3, 27)),
        passing_autotests={"status": status},
    )
    assert codes(actionable_steps(steps)) == ["passing-autotests"]


@pytest.mark.parametrize("status", [NS, IP, BL])
def test_open_steps_of_any_status_are_actionable(status):
    assert codes(actionable_steps(roadmap(autotests_configuration={"status": status}))) == [
        "slack-jira-onboarding",
        "autotests-configuration",
        "endpoints-implementation",
    ]


def test_settled_steps_are_not_actionable():
    steps = roadmap(slack_jira_onboarding=finished(date(2026, 3, 5)), autotests_configuration={"status": NA})
    assert codes(actionable_steps(steps)) == ["endpoints-implementation"]


def test_waiting_on_lists_the_unsettled_prerequisites_in_dependency_order():
    steps = roadmap()
    assert codes(waiting_on(by_code(steps)["passing-autotests"], steps)) == [
        "autotests-configuration",
        "endpoints-implementation",
    ]
    steps = roadmap(autotests_configuration=finished(date(2026, 3, 5)))
    assert codes(waiting_on(by_code(steps)["passing-autotests"], steps)) == ["endpoints-implementation"]
    steps = roadmap(autotests_configuration={"status": NA}, endpoints_implementation={"status": BL})
    assert codes(waiting_on(by_code(steps)["passing-autotests"], steps)) == ["endpoints-implementation"]
    steps = roadmap(autotests_configuration={"status": NA}, endpoints_implementation=finished(date(2026, 3, 30)))
    assert waiting_on(by_code(steps)["passing-autotests"], steps) == []
    assert waiting_on(by_code(steps)["slack-jira-onboarding"], steps) == []


# --- ball in court, current step ------------------------------------------------------------------


def test_ball_in_court_at_kickoff_is_with_both_sides():
    ball = ball_in_court(roadmap())
    assert codes(ball.tradingview) == ["slack-jira-onboarding", "autotests-configuration"]
    assert codes(ball.partner) == ["endpoints-implementation"]
    assert ball.side == "both"
    assert codes(ball.for_side("tradingview")) == ["slack-jira-onboarding", "autotests-configuration"]
    assert codes(ball.for_side("partner")) == ["endpoints-implementation"]


def test_ball_in_court_with_the_partner():
    steps = roadmap(
        slack_jira_onboarding=finished(date(2026, 3, 5)), autotests_configuration=finished(date(2026, 3, 5))
    )
    ball = ball_in_court(steps)
    assert ball.tradingview == []
    assert codes(ball.partner) == ["endpoints-implementation"]
    assert ball.side == "partner"


def test_ball_in_court_with_tradingview():
    steps = roadmap(
        slack_jira_onboarding=finished(date(2026, 3, 5)),
        autotests_configuration={"status": NA},
        endpoints_implementation=finished(date(2026, 3, 27)),
        passing_autotests={"status": NA},
    )
    ball = ball_in_court(steps)
    assert codes(ball.tradingview) == ["sandbox-access"]
    assert ball.partner == []
    assert ball.side == "tradingview"
    assert current_step(steps).code == "sandbox-access"


def test_nobody_holds_the_ball_when_everything_is_settled():
    steps = on_time_until("open-to-all-users")
    ball = ball_in_court(steps)
    assert ball == BallInCourt(tradingview=[], partner=[])
    assert ball.side is None
    assert current_step(steps) is None
    assert BallInCourt().side is None


def test_current_step_is_the_earliest_actionable_step():
    assert current_step(roadmap()).code == "slack-jira-onboarding"
    steps = roadmap(slack_jira_onboarding=finished(date(2026, 3, 5)))
    assert current_step(steps).code == "autotests-configuration"
    steps = roadmap(slack_jira_onboarding=finished(date(2026, 3, 5)), autotests_configuration={"status": BL})
    assert current_step(steps).code == "autotests-configuration"


# --- clock ---------------------------------------------------------------------------------------------


def test_clock_on_a_day_is_noon_on_that_day_for_both_sides():
    clock = Clock.on(date(2026, 3, 30))
    assert clock.now == datetime(2026, 3, 30, 12, tzinfo=UTC)
    assert clock.today(TV) == clock.today(PARTNER) == date(2026, 3, 30)


def test_each_side_has_its_own_today():
    clock = Clock(datetime(2026, 3, 30, 20, tzinfo=UTC), {TV: UTC, PARTNER: TOKYO})
    assert clock.today(TV) == date(2026, 3, 30)
    assert clock.today(PARTNER) == date(2026, 3, 31)  # 05:00 in Tokyo
    assert clock.day(datetime(2026, 3, 30, 23, tzinfo=UTC), PARTNER) == date(2026, 3, 31)
    assert clock.day(datetime(2026, 3, 30, 23, tzinfo=UTC), TV) == date(2026, 3, 30)


def test_a_frozen_clock_stops_on_its_day_for_both_sides():
    clock = Clock(datetime(2026, 4, 20, 12, tzinfo=UTC), {TV: UTC, PARTNER: TOKYO}, frozen_on=date(2026, 4, 2))
    assert clock.today(TV) == clock.today(PARTNER) == date(2026, 4, 2)
    step_standing = steps_standing(on_time_until("autotests-configuration"), KICKOFF, clock)
    assert step_standing.steps["endpoints-implementation"].days_overdue == 3


# --- assess: on time ----------------------------------------------------------------------------------


def test_at_kickoff_every_deadline_and_forecast_is_the_plan():
    step_standing = steps_standing(roadmap(), KICKOFF, Clock.on(KICKOFF))
    assert list(step_standing.steps) == STEP_CODES
    assert {code: o.deadline for code, o in step_standing.steps.items()} == PLANNED_DUE
    assert {code: o.forecast for code, o in step_standing.steps.items()} == PLANNED_DUE
    assert step_standing.overdue() == []
    assert step_standing.overdue_sides() == set()
    assert step_standing.planned_launch == step_standing.forecast_launch == PLANNED_LAUNCH
    assert step_standing.split == DelaySplit()
    assert step_standing.slip_days == 0


def test_steps_open_on_their_due_day_are_not_overdue():
    step_standing = steps_standing(on_time_until("autotests-configuration"), KICKOFF, Clock.on(date(2026, 3, 30)))
    assert step_standing.steps["endpoints-implementation"].days_overdue == 0
    assert step_standing.steps["endpoints-implementation"].forecast == date(2026, 3, 30)
    assert step_standing.forecast_launch == PLANNED_LAUNCH
    assert step_standing.split == DelaySplit()


def test_every_step_done_on_its_planned_date_launches_on_plan():
    step_standing = steps_standing(on_time_until("open-to-all-users"), KICKOFF, Clock.on(date(2026, 6, 1)))
    assert {code: o.forecast for code, o in step_standing.steps.items()} == PLANNED_DUE
    assert all(o.fixed and o.days_late == 0 for o in step_standing.steps.values())
    assert step_standing.forecast_launch == PLANNED_LAUNCH
    assert step_standing.split == DelaySplit()


def test_a_completion_before_kickoff_counts_as_finished_on_the_kickoff_day():
    steps = roadmap(
        slack_jira_onboarding=finished(date(2026, 2, 20)),
        endpoints_implementation=finished(date(2026, 2, 27)),
    )
    step_standing = steps_standing(steps, KICKOFF, Clock.on(date(2026, 3, 3)))
    for code in ("slack-jira-onboarding", "endpoints-implementation"):
        assert step_standing.steps[code].forecast == KICKOFF, code
        assert step_standing.steps[code].days_late == 0, code
    assert step_standing.forecast_launch == PLANNED_LAUNCH
    assert step_standing.split == DelaySplit()


# --- assess: a side late ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "overdue", "forecast", "launch", "charged"),
    [
        (date(2026, 3, 31), 1, date(2026, 3, 31), date(2026, 5, 26), 1),
        (date(2026, 4, 2), 3, date(2026, 4, 2), date(2026, 5, 28), 3),
        (date(2026, 4, 6), 5, date(2026, 4, 6), date(2026, 6, 1), 5),
        (date(2026, 4, 9), 8, date(2026, 4, 9), date(2026, 6, 4), 8),
        # Overdue on a Saturday: it is finished on Monday at the earliest, so it is 5 working days
        # late, the launch moves a whole week, and the partner is charged those 5 working days.
        (date(2026, 4, 4), 5, date(2026, 4, 6), date(2026, 6, 1), 5),
    ],
    ids=["1-day", "3-days", "7-days", "10-days", "on-a-saturday"],
)
def test_a_partner_step_overdue_charges_the_partner_and_moves_the_launch(today, overdue, forecast, launch, charged):
    # TradingView's first tasks done on time (Thursday 5 Mar); the partner's endpoints, due Monday 30 Mar, open.
    steps = on_time_until("autotests-configuration", endpoints_implementation={"status": IP})
    step_standing = steps_standing(steps, KICKOFF, Clock.on(today))
    endpoints = step_standing.steps["endpoints-implementation"]
    assert endpoints.deadline == date(2026, 3, 30)
    assert endpoints.days_overdue == overdue
    assert endpoints.forecast == forecast
    assert [o.step.code for o in step_standing.overdue()] == ["endpoints-implementation"]
    assert step_standing.overdue_sides() == {PARTNER}
    assert step_standing.forecast_launch == launch
    assert step_standing.split == DelaySplit(partner=charged)
    assert step_standing.slip_days == charged == slip(step_standing)
    # The partner is behind on its own deadline: the steps after it keep theirs.
    assert step_standing.steps["passing-autotests"].deadline == date(2026, 3, 30)
    assert step_standing.steps["passing-autotests"].days_overdue == 0


@pytest.mark.parametrize(
    ("handed_over", "partner_deadline", "launch", "charged"),
    [
        (date(2026, 3, 30), date(2026, 4, 6), PLANNED_LAUNCH, 0),  # on time
        (date(2026, 3, 31), date(2026, 4, 7), date(2026, 5, 26), 1),  # 1 working day late
        (date(2026, 4, 2), date(2026, 4, 9), date(2026, 5, 28), 3),  # 3 working days late
        (date(2026, 4, 6), date(2026, 4, 13), date(2026, 6, 1), 5),  # 5 working days late: a week
    ],
    ids=["on-time", "1-day", "3-days", "5-days"],
)
def test_a_late_hand_over_moves_the_partners_deadline_and_is_charged_to_tradingview(
    handed_over, partner_deadline, launch, charged
):
    # Sandbox access (TradingView) is due Monday 30 Mar, with the partner's week 4; the partner's
    # sandbox development, Monday 6 Apr: its week. A late hand-over leaves the partner those 5 working days.
    steps = on_time_until("passing-autotests", sandbox_access=finished(handed_over))
    step_standing = steps_standing(steps, KICKOFF, Clock.on(partner_deadline))
    development = step_standing.steps["sandbox-development"]
    assert development.step.planned_due_date == date(2026, 4, 6)
    assert development.deadline == partner_deadline
    assert development.days_overdue == 0
    assert step_standing.overdue() == []
    assert step_standing.forecast_launch == launch
    assert step_standing.split == DelaySplit(tradingview=charged)
    assert step_standing.split.total == slip(step_standing)

    # A day past its moved deadline the partner is charged that one day, TradingView the rest.
    late = steps_standing(steps, KICKOFF, Clock.on(partner_deadline + timedelta(days=1)))
    assert late.steps["sandbox-development"].days_overdue == 1
    assert late.overdue_sides() == {PARTNER}
    assert late.split == DelaySplit(tradingview=charged, partner=1)
    assert late.split.total == slip(late)


def test_a_partner_finishing_in_its_time_after_a_late_hand_over_is_not_late():
    steps = on_time_until(
        "passing-autotests",
        sandbox_access=finished(date(2026, 4, 2)),
        sandbox_development=finished(date(2026, 4, 9)),
    )
    step_standing = steps_standing(steps, KICKOFF, Clock.on(date(2026, 4, 9)))
    assert step_standing.steps["sandbox-access"].days_late == 3  # working days
    assert step_standing.steps["sandbox-development"].days_late == 0
    # TradingView prepared the production URLs during the partner's week: due the day it hands over.
    assert step_standing.steps["request-production-urls"].deadline == date(2026, 4, 9)
    assert step_standing.split == DelaySplit(tradingview=3)
    assert step_standing.forecast_launch == date(2026, 5, 28)


def test_both_sides_late_in_parallel_lose_the_days_together():
    # TradingView's task 3 days late and the partner's 4, on the two paths into the launch.
    steps = [
        Step("configure", TV, 1, DONE, planned_due_date=date(2026, 3, 30), completed_at=done_at(date(2026, 4, 2))),
        Step("build", PARTNER, 2, DONE, planned_due_date=date(2026, 3, 30), completed_at=done_at(date(2026, 4, 3))),
        Step("launch", TV, 3, depends_on=["configure", "build"], planned_due_date=date(2026, 4, 6)),
    ]
    step_standing = steps_standing(steps, KICKOFF, Clock.on(date(2026, 4, 6)))
    assert step_standing.steps["launch"].deadline == date(2026, 4, 10)  # 5 working days after the later one
    assert step_standing.forecast_launch == date(2026, 4, 10)
    assert step_standing.split == DelaySplit(both=3, partner=1)
    assert step_standing.split.charges(TV) == 3
    assert step_standing.split.charges(PARTNER) == 4
    assert step_standing.split.total == slip(step_standing) == 4


def test_both_sides_overdue_at_once():
    steps = [
        Step("configure", TV, 1, IP, planned_due_date=date(2026, 3, 30)),
        Step("build", PARTNER, 2, IP, planned_due_date=date(2026, 3, 30)),
        Step("launch", TV, 3, depends_on=["configure", "build"], planned_due_date=date(2026, 4, 6)),
    ]
    step_standing = steps_standing(steps, KICKOFF, Clock.on(date(2026, 4, 2)))
    assert [o.step.code for o in step_standing.overdue()] == ["configure", "build"]
    assert step_standing.overdue_sides() == {TV, PARTNER}
    assert step_standing.forecast_launch == date(2026, 4, 9)
    assert step_standing.split == DelaySplit(both=3)


def test_finishing_early_wins_back_the_other_sides_days_when_it_has_none():
    # TradingView hands over 3 days late; the partner uses 3 of its 5 working days.
    steps = [
        Step("configure", TV, 1, DONE, planned_due_date=date(2026, 3, 30), completed_at=done_at(date(2026, 4, 2))),
        Step(
            "build",
            PARTNER,
            2,
            DONE,
            depends_on=["configure"],
            planned_due_date=date(2026, 4, 6),
            completed_at=done_at(date(2026, 4, 7)),
        ),
        Step("launch", TV, 3, depends_on=["build"], planned_due_date=date(2026, 4, 13)),
    ]
    step_standing = steps_standing(steps, KICKOFF, Clock.on(date(2026, 4, 8)))
    assert step_standing.steps["build"].deadline == date(2026, 4, 9)
    assert step_standing.steps["build"].days_late == 0
    assert step_standing.forecast_launch == date(2026, 4, 14)
    assert step_standing.split == DelaySplit(tradingview=1)


def test_finishing_early_wins_back_the_sides_own_days_first():
    # The partner is a day late (31 Mar), TradingView 4 more (7 Apr, due 3 Apr after the hand-over),
    # then the partner finishes a day early: it wins back its own day, not one of TradingView's.
    steps = [
        Step("build", PARTNER, 1, DONE, planned_due_date=date(2026, 3, 30), completed_at=done_at(date(2026, 3, 31))),
        Step(
            "review",
            TV,
            2,
            DONE,
            depends_on=["build"],
            planned_due_date=date(2026, 4, 2),
            completed_at=done_at(date(2026, 4, 7)),
        ),
        Step(
            "fix",
            PARTNER,
            3,
            DONE,
            depends_on=["review"],
            planned_due_date=date(2026, 4, 9),
            completed_at=done_at(date(2026, 4, 13)),
        ),
    ]
    step_standing = steps_standing(steps, KICKOFF, Clock.on(date(2026, 4, 20)))
    assert step_standing.steps["review"].deadline == date(2026, 4, 3)
    assert step_standing.steps["review"].days_late == 2  # working days
    assert step_standing.steps["fix"].deadline == date(2026, 4, 14)
    assert step_standing.steps["fix"].days_late == 0
    assert step_standing.forecast_launch == date(2026, 4, 13)
    assert step_standing.split == DelaySplit(tradingview=2)  # working days, Thursday to Monday
    assert step_standing.split.total == slip(step_standing)


def test_finishing_early_cannot_bring_the_launch_before_the_plan():
    steps = on_time_until(
        "passing-autotests",
        endpoints_implementation=finished(date(2026, 3, 25)),
        passing_autotests=finished(date(2026, 3, 25)),
        sandbox_access=finished(date(2026, 3, 26)),
    )
    step_standing = steps_standing(steps, KICKOFF, Clock.on(date(2026, 4, 1)))
    # The partner's week-4 steps done early make sandbox access actionable early; it stays due on
    # the partner's week-4 date, and the partner keeps its week-5 date.
    assert step_standing.steps["sandbox-access"].deadline == date(2026, 3, 30)
    assert step_standing.steps["sandbox-access"].forecast == date(2026, 3, 26)
    assert step_standing.steps["sandbox-development"].deadline == date(2026, 4, 6)
    assert step_standing.forecast_launch == PLANNED_LAUNCH
    assert step_standing.split == DelaySplit()


def test_a_not_applicable_step_passes_its_prerequisites_delay_on():
    # The partner hands over 3 days late; TradingView's review does not apply; the fix after it
    # keeps its 2 working days after where the review would have been.
    steps = [
        Step("build", PARTNER, 1, DONE, planned_due_date=date(2026, 3, 30), completed_at=done_at(date(2026, 4, 2))),
        Step("review", TV, 2, NA, depends_on=["build"], planned_due_date=date(2026, 4, 2)),
        Step("fix", PARTNER, 3, depends_on=["review"], planned_due_date=date(2026, 4, 6)),
    ]
    step_standing = steps_standing(steps, KICKOFF, Clock.on(date(2026, 4, 8)))
    review = step_standing.steps["review"]
    assert (review.forecast, review.days_overdue, review.days_late) == (date(2026, 4, 7), 0, 0)
    assert step_standing.steps["fix"].deadline == date(2026, 4, 9)
    assert step_standing.steps["fix"].days_overdue == 0
    assert step_standing.forecast_launch == date(2026, 4, 9)
    assert step_standing.split == DelaySplit(partner=3)


def test_not_applicable_steps_past_their_planned_date_are_not_late():
    # A stocks data-only integration: no autotests; today is past their planned dates.
    steps = roadmap(
        slack_jira_onboarding=finished(date(2026, 3, 5)),
        autotests_configuration={"status": NA},
        endpoints_implementation=finished(date(2026, 3, 30)),
        passing_autotests={"status": NA},
        sandbox_access={"status": IP},
    )
    step_standing = steps_standing(steps, KICKOFF, Clock.on(date(2026, 3, 30)))
    assert step_standing.overdue() == []
    assert {code: o.forecast for code, o in step_standing.steps.items()} == PLANNED_DUE
    assert step_standing.forecast_launch == PLANNED_LAUNCH
    assert step_standing.split == DelaySplit()


def test_paused_days_are_not_working_days_for_a_hand_over():
    # The partner hands over on Wednesday 1 Apr, 2 working days late; the integration was paused on
    # Thursday 2 Apr. TradingView's review (planned for Thursday 2) moves to Friday 3 with the pause,
    # and keeps its 3 working days after the hand-over: Friday, Monday, Tuesday.
    steps = [
        Step("build", PARTNER, 1, DONE, planned_due_date=date(2026, 3, 30), completed_at=done_at(date(2026, 4, 1))),
        Step("review", TV, 2, depends_on=["build"], planned_due_date=date(2026, 4, 2)),
    ]
    paused = steps_standing(steps, KICKOFF, Clock.on(date(2026, 4, 3)), paused={date(2026, 4, 2)})
    assert paused.steps["review"].planned == date(2026, 4, 3)
    assert paused.steps["review"].deadline == date(2026, 4, 7)
    assert paused.split == DelaySplit(partner=2)
    # Without the pause the hand-over's 3 working days end on Monday.
    assert steps_standing(steps, KICKOFF, Clock.on(date(2026, 4, 3))).steps["review"].deadline == date(2026, 4, 6)


def test_a_side_shown_overdue_behind_not_applicable_steps_is_charged():
    # Sandbox access (TradingView, due 30 Mar) still open on 20 Apr; the PM marked sandbox development
    # and the production URL request not applicable, so the partner's production deployment (due
    # 13 Apr) is actionable: shown 7 days overdue.
    steps = on_time_until(
        "passing-autotests", sandbox_development={"status": NA}, request_production_urls={"status": NA}
    )
    step_standing = steps_standing(steps, KICKOFF, Clock.on(date(2026, 4, 20)))
    assert step_standing.steps["sandbox-access"].days_overdue == 15  # working days
    # The deployment waits for sandbox access behind the steps that do not apply: not owed yet.
    assert step_standing.steps["production-deployment"].days_overdue == 0
    assert step_standing.overdue_sides() == {"tradingview"}
    assert step_standing.split.total == slip(step_standing)
    for side in step_standing.overdue_sides():
        assert step_standing.split.charges(side) >= 1, (side, step_standing.split)


# --- history: reopens and re-plans ---------------------------------------------------------------------------

# Sandbox development (partner, week 5, 04-06) is planned 5 working days after sandbox access
# (TradingView, 03-30, with the partner's week 4); the production URLs (TradingView) on 04-06 with it.


def test_a_reopened_step_is_due_the_plans_turnaround_counted_from_the_reopen():
    steps = on_time_until("request-production-urls", sandbox_development=reopened(date(2026, 4, 10), date(2026, 4, 6)))

    result = steps_standing(steps, KICKOFF, Clock.on(date(2026, 4, 13)))

    development = result.steps["sandbox-development"]
    assert (development.restart, development.deadline, development.days_overdue) == (
        date(2026, 4, 17),
        date(2026, 4, 17),
        0,
    )
    assert development.charges == [PARTNER] * 9  # 04-07 .. 04-17: the redo's
    assert result.split == DelaySplit(partner=9)  # the split is those working days


def test_what_was_done_after_a_reopened_step_waits_for_it_again():
    steps = on_time_until("request-production-urls", sandbox_development=reopened(date(2026, 4, 10), date(2026, 4, 6)))

    # The production URLs stay done, but the partner's production deployment waits again for sandbox development.
    assert codes(actionable_steps(steps)) == ["sandbox-development"]
    deployment = by_code(steps)["production-deployment"]
    assert codes(waiting_on(deployment, steps)) == ["sandbox-development"]
    result = steps_standing(steps, KICKOFF, Clock.on(date(2026, 4, 13)))
    urls = result.steps["request-production-urls"]
    assert (urls.forecast, urls.hands_over, urls.fixed) == (date(2026, 4, 6), date(2026, 4, 17), False)


def test_days_charged_before_a_reopen_stay_with_whoever_lost_them():
    # Sandbox access 7 working days late (TradingView's), then the partner's autotests reopened.
    steps = on_time_until(
        "passing-autotests",
        sandbox_access=finished(date(2026, 4, 8)),
        passing_autotests=reopened(date(2026, 4, 14), date(2026, 3, 30)),
    )

    result = steps_standing(steps, KICKOFF, Clock.on(date(2026, 4, 14)))

    assert result.steps["sandbox-access"].charges == [TV] * 7 + [PARTNER] * 4
    assert result.split == DelaySplit(tradingview=7, partner=4)  # the charges, in working days


def test_a_step_brought_back_after_not_applying_owes_its_work_from_then():
    steps = on_time_until("passing-autotests", sandbox_access=reopened(date(2026, 4, 20), None))

    result = steps_standing(steps, KICKOFF, Clock.on(date(2026, 4, 21)))

    access = result.steps["sandbox-access"]
    # Its 3 working days' turnaround, although the plan had it prepared during the partner's week 4.
    assert access.deadline == date(2026, 4, 23)
    assert access.days_overdue == 0
    assert result.split == DelaySplit(tradingview=result.slip_days)


def test_a_step_done_again_late_is_late_against_its_new_deadline():
    steps = on_time_until(
        "request-production-urls",
        sandbox_development={**reopened(date(2026, 4, 10), date(2026, 4, 6)), **finished(date(2026, 4, 21))},
    )

    development = steps_standing(steps, KICKOFF, Clock.on(date(2026, 4, 22))).steps["sandbox-development"]

    assert (development.forecast, development.deadline, development.days_late) == (
        date(2026, 4, 21),
        date(2026, 4, 17),
        2,
    )


def test_a_replan_to_a_later_kickoff_keeps_the_day_a_step_was_done():
    later = date(2026, 3, 16)
    steps = roadmap(slack_jira_onboarding=finished(date(2026, 3, 4)))
    replanned = {s.code: s for s in steps}
    for code, day in PLANNED_DUE.items():
        replanned[code].planned_due_date = day + timedelta(weeks=2)

    result = steps_standing(steps, later, Clock.on(date(2026, 3, 17)), started_on=KICKOFF)

    assert result.steps["slack-jira-onboarding"].forecast == date(2026, 3, 4)
    assert result.split == DelaySplit()


# --- time zones --------------------------------------------------------------------------------------------


def two_steps(completed_at):
    return [
        Step("build", PARTNER, 1, DONE, planned_due_date=date(2026, 3, 30), completed_at=completed_at),
        Step("launch", TV, 2, depends_on=["build"], planned_due_date=date(2026, 4, 6)),
    ]


def zoned_clock(partner_zone, now=datetime(2026, 4, 1, 12, tzinfo=UTC)):
    return Clock(now, {TV: UTC, PARTNER: partner_zone})


def test_a_partner_finishing_in_the_evening_of_its_due_day_in_los_angeles_is_on_time():
    completed_at = datetime(2026, 3, 30, 18, tzinfo=LOS_ANGELES)  # 01:00 UTC on 31 Mar
    step_standing = steps_standing(two_steps(completed_at), KICKOFF, zoned_clock(LOS_ANGELES))
    assert step_standing.steps["build"].forecast == date(2026, 3, 30)
    assert step_standing.steps["build"].days_late == 0
    assert step_standing.split == DelaySplit()
    # Seen in UTC the same moment is the next day: one day late.
    assert steps_standing(two_steps(completed_at), KICKOFF, zoned_clock(UTC)).steps["build"].days_late == 1


def test_a_partner_in_tokyo_finishing_the_morning_after_its_deadline_is_a_day_late():
    completed_at = datetime(2026, 3, 31, 8, tzinfo=TOKYO)  # 23:00 UTC on 30 Mar
    step_standing = steps_standing(two_steps(completed_at), KICKOFF, zoned_clock(TOKYO))
    assert step_standing.steps["build"].forecast == date(2026, 3, 31)
    assert step_standing.steps["build"].days_late == 1
    assert step_standing.forecast_launch == date(2026, 4, 7)
    assert step_standing.split == DelaySplit(partner=1)
    assert steps_standing(two_steps(completed_at), KICKOFF, zoned_clock(UTC)).steps["build"].days_late == 0


def test_a_partner_is_overdue_when_its_own_day_has_passed():
    steps = two_steps(None)
    steps[0].status = IP
    evening = datetime(2026, 3, 30, 20, tzinfo=UTC)  # 05:00 on 31 Mar in Tokyo, 13:00 on 30 Mar in Los Angeles
    assert steps_standing(steps, KICKOFF, zoned_clock(TOKYO, evening)).steps["build"].days_overdue == 1
    assert steps_standing(steps, KICKOFF, zoned_clock(LOS_ANGELES, evening)).steps["build"].days_overdue == 0
    assert steps_standing(steps, KICKOFF, zoned_clock(UTC, evening)).steps["build"].days_overdue == 0


# --- the split adds up to the slip ----------------------------------------------------------------------------


def scenario(seed: int):
    """The default roadmap worked through in order up to a random step, each step done (or not
    applicable) some days before or after its planned date, assessed on a random later day."""
    rng = random.Random(seed)
    steps = roadmap()
    last = KICKOFF
    for s in steps[: rng.randint(0, len(steps))]:
        if rng.random() < 0.15 and s.code != "open-to-all-users":
            s.status = NA
            continue
        day = max(last, s.planned_due_date + timedelta(days=rng.randint(-6, 9)))
        s.status, s.completed_at = DONE, done_at(day, rng.randint(0, 23))
        last = day
    for s in steps:
        if s.status == NS:
            s.status = rng.choice([NS, IP, BL])
    return steps, Clock.on(last + timedelta(days=rng.randint(0, 20)))


@pytest.mark.parametrize("seed", range(60))
def test_the_split_always_adds_up_to_the_slip(seed):
    steps, clock = scenario(seed)
    step_standing = steps_standing(steps, KICKOFF, clock)
    assert step_standing.planned_launch == PLANNED_LAUNCH
    assert step_standing.split.total == step_standing.slip_days == slip(step_standing)
    assert min(step_standing.split.tradingview, step_standing.split.partner, step_standing.split.both) >= 0
    for side in step_standing.overdue_sides():
        assert step_standing.split.charges(side) > 0, side


def test_the_scenarios_cover_slips_overdue_steps_and_both_sides():
    standings = []
    for seed in range(60):
        steps, clock = scenario(seed)
        standings.append(steps_standing(steps, KICKOFF, clock))
    assert any(o.split.total == 0 for o in standings)
    assert any(o.split.tradingview for o in standings)
    assert any(o.split.partner for o in standings)
    assert any(o.overdue() for o in standings)


# --- delay split -------------------------------------------------------------------------------------------------


def test_delay_split_of_charges_and_totals():
    split = DelaySplit.of([TV, PARTNER, "both", PARTNER, TV, TV])
    assert split == DelaySplit(tradingview=3, partner=2, both=1)
    assert split.total == 6
    assert split.charges(TV) == 4
    assert split.charges(PARTNER) == 3
    assert DelaySplit().total == 0


def test_no_steps_no_standing():
    step_standing = steps_standing([], KICKOFF, Clock.on(KICKOFF))
    assert step_standing.steps == {}
    assert step_standing.planned_launch is None
    assert step_standing.forecast_launch is None
    assert step_standing.split == DelaySplit()
