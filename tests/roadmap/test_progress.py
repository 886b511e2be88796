"""Who holds the ball, what is late, when it will launch, and whose days were lost."""

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import pytest

from roadmap.default_template import STEPS
from roadmap.progress import (
    BallInCourt,
    DelaySplit,
    StepChangeOnDay,
    StepTimeline,
    actionable_steps,
    ball_in_court,
    current_step,
    days_late,
    days_overdue,
    delay_split,
    forecast_finishes,
    forecast_launch,
    waiting_on,
)
from tests.default_plan import KICKOFF, PLANNED_DUE

NS, IP, BL, DONE, NA = "not_started", "in_progress", "blocked", "done", "not_applicable"
TV, PARTNER = "tradingview", "partner"
PLANNED_LAUNCH = PLANNED_DUE["open-to-all-users"]  # week 12
DUE = PLANNED_DUE  # the default roadmap planned from KICKOFF


@dataclass
class Step:
    code: str
    side: str
    position: int
    status: str = NS
    due_date: date | None = None
    depends_on: list = field(default_factory=list)
    completed_on: date | None = None


def roadmap(**changes):
    """The default roadmap planned from KICKOFF; ``changes`` maps code (with _ for -) to field updates."""
    steps = [
        Step(row["code"], row["side"], position, due_date=DUE[row["code"]], depends_on=list(row["depends_on"]))
        for position, row in enumerate(STEPS, start=1)
    ]
    by_code = {s.code: s for s in steps}
    for name, updates in changes.items():
        code = name.replace("_", "-")
        by_code[code].__dict__.update(updates)
    return steps


def codes(steps):
    return [s.code for s in steps]


def by_code(steps):
    return {s.code: s for s in steps}


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
    steps = roadmap(
        autotests_configuration={"status": DONE, "completed_on": date(2026, 3, 20)},
        endpoints_implementation={"status": IP},
    )
    assert "passing-autotests" not in codes(actionable_steps(steps))
    steps = roadmap(
        autotests_configuration={"status": DONE, "completed_on": date(2026, 3, 20)},
        endpoints_implementation={"status": DONE, "completed_on": date(2026, 3, 27)},
    )
    assert codes(actionable_steps(steps)) == ["slack-jira-onboarding", "passing-autotests"]


def test_not_applicable_prerequisites_count_as_settled():
    steps = roadmap(
        slack_jira_onboarding={"status": DONE, "completed_on": date(2026, 3, 10)},
        autotests_configuration={"status": NA},
        endpoints_implementation={"status": DONE, "completed_on": date(2026, 3, 27)},
        passing_autotests={"status": NA},
    )
    assert codes(actionable_steps(steps)) == ["sandbox-access"]


@pytest.mark.parametrize("status", [NS, IP, BL])
def test_open_prerequisites_hold_a_step_back(status):
    steps = roadmap(
        slack_jira_onboarding={"status": DONE, "completed_on": date(2026, 3, 10)},
        autotests_configuration={"status": NA},
        endpoints_implementation={"status": DONE, "completed_on": date(2026, 3, 27)},
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
    steps = roadmap(
        slack_jira_onboarding={"status": DONE, "completed_on": date(2026, 3, 10)},
        autotests_configuration={"status": NA},
    )
    assert codes(actionable_steps(steps)) == ["endpoints-implementation"]


def test_waiting_on_lists_the_unsettled_prerequisites_in_dependency_order():
    steps = roadmap()
    passing = by_code(steps)["passing-autotests"]
    assert codes(waiting_on(passing, steps)) == ["autotests-configuration", "endpoints-implementation"]
    steps = roadmap(autotests_configuration={"status": DONE, "completed_on": date(2026, 3, 20)})
    assert codes(waiting_on(by_code(steps)["passing-autotests"], steps)) == ["endpoints-implementation"]
    steps = roadmap(autotests_configuration={"status": NA}, endpoints_implementation={"status": BL})
    assert codes(waiting_on(by_code(steps)["passing-autotests"], steps)) == ["endpoints-implementation"]
    steps = roadmap(autotests_configuration={"status": NA}, endpoints_implementation={"status": DONE})
    assert waiting_on(by_code(steps)["passing-autotests"], steps) == []
    assert waiting_on(by_code(steps)["slack-jira-onboarding"], steps) == []


# --- overdue and late ----------------------------------------------------------------------------

DUE_DAY = date(2026, 3, 30)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 3, 2), 0),
        (date(2026, 3, 29), 0),
        (DUE_DAY, 0),
        (date(2026, 3, 31), 1),
        (date(2026, 4, 9), 10),
    ],
)
@pytest.mark.parametrize("status", [NS, IP, BL])
def test_days_overdue_of_an_open_step(status, today, expected):
    assert days_overdue(Step("s", PARTNER, 1, status=status, due_date=DUE_DAY), today) == expected


@pytest.mark.parametrize("status", [DONE, NA])
def test_settled_steps_are_never_overdue(status):
    step = Step("s", PARTNER, 1, status=status, due_date=DUE_DAY, completed_on=date(2026, 4, 20))
    assert days_overdue(step, date(2026, 4, 9)) == 0


def test_undated_steps_are_never_overdue():
    assert days_overdue(Step("s", TV, 1, status=IP), date(2026, 4, 9)) == 0


@pytest.mark.parametrize(
    ("completed_on", "expected"),
    [(date(2026, 3, 20), 0), (DUE_DAY, 0), (date(2026, 3, 31), 1), (date(2026, 4, 4), 5)],
)
def test_days_late_of_a_done_step(completed_on, expected):
    assert days_late(Step("s", PARTNER, 1, status=DONE, due_date=DUE_DAY, completed_on=completed_on)) == expected


def test_days_late_is_zero_unless_done_with_dates():
    assert days_late(Step("s", PARTNER, 1, status=IP, due_date=DUE_DAY, completed_on=date(2026, 4, 4))) == 0
    assert days_late(Step("s", PARTNER, 1, status=NA, due_date=DUE_DAY, completed_on=date(2026, 4, 4))) == 0
    assert days_late(Step("s", PARTNER, 1, status=DONE, due_date=DUE_DAY)) == 0
    assert days_late(Step("s", PARTNER, 1, status=DONE, completed_on=date(2026, 4, 4))) == 0


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
        slack_jira_onboarding={"status": DONE, "completed_on": date(2026, 3, 10)},
        autotests_configuration={"status": DONE, "completed_on": date(2026, 3, 12)},
    )
    ball = ball_in_court(steps)
    assert ball.tradingview == []
    assert codes(ball.partner) == ["endpoints-implementation"]
    assert ball.side == "partner"


def test_ball_in_court_with_tradingview():
    steps = roadmap(
        slack_jira_onboarding={"status": DONE, "completed_on": date(2026, 3, 10)},
        autotests_configuration={"status": NA},
        endpoints_implementation={"status": DONE, "completed_on": date(2026, 3, 27)},
        passing_autotests={"status": NA},
    )
    ball = ball_in_court(steps)
    assert codes(ball.tradingview) == ["sandbox-access"]
    assert ball.partner == []
    assert ball.side == "tradingview"
    assert current_step(steps).code == "sandbox-access"


def test_nobody_holds_the_ball_when_everything_is_settled():
    steps = [replace(s, status=DONE, completed_on=s.due_date) for s in roadmap()]
    ball = ball_in_court(steps)
    assert ball == BallInCourt(tradingview=[], partner=[])
    assert ball.side is None
    assert current_step(steps) is None
    assert BallInCourt().side is None


def test_current_step_is_the_earliest_actionable_step():
    assert current_step(roadmap()).code == "slack-jira-onboarding"
    steps = roadmap(slack_jira_onboarding={"status": DONE, "completed_on": date(2026, 3, 10)})
    assert current_step(steps).code == "autotests-configuration"
    steps = roadmap(
        slack_jira_onboarding={"status": DONE, "completed_on": date(2026, 3, 10)},
        autotests_configuration={"status": BL},
    )
    assert current_step(steps).code == "autotests-configuration"


# --- forecast ----------------------------------------------------------------------------------------


def test_forecast_when_all_is_on_time_is_the_plan():
    steps = roadmap()
    assert forecast_finishes(steps, date(2026, 3, 10)) == DUE
    assert forecast_launch(steps, date(2026, 3, 10)) == PLANNED_LAUNCH


def test_forecast_with_steps_done_early_is_still_the_plan():
    steps = roadmap(
        slack_jira_onboarding={"status": DONE, "completed_on": date(2026, 3, 10)},
        autotests_configuration={"status": DONE, "completed_on": date(2026, 3, 20)},
    )
    finish = forecast_finishes(steps, date(2026, 3, 20))
    assert finish == {**DUE, "slack-jira-onboarding": date(2026, 3, 10), "autotests-configuration": date(2026, 3, 20)}
    assert forecast_launch(steps, date(2026, 3, 20)) == PLANNED_LAUNCH


def test_a_current_step_ten_days_late_moves_the_launch_by_ten_days():
    steps = roadmap(
        slack_jira_onboarding={"status": DONE, "completed_on": date(2026, 3, 20)},
        autotests_configuration={"status": DONE, "completed_on": date(2026, 3, 20)},
        endpoints_implementation={"status": IP},
    )
    today = date(2026, 4, 9)
    assert days_overdue(by_code(steps)["endpoints-implementation"], today) == 10
    finish = forecast_finishes(steps, today)
    assert finish["slack-jira-onboarding"] == date(2026, 3, 20)
    assert finish["autotests-configuration"] == date(2026, 3, 20)
    for code in codes(steps)[2:]:
        assert finish[code] == DUE[code] + timedelta(days=10), code
    assert forecast_launch(steps, today) == date(2026, 6, 4)


def test_a_step_completed_five_days_late_moves_its_successors():
    steps = roadmap(
        slack_jira_onboarding={"status": DONE, "completed_on": date(2026, 3, 20)},
        autotests_configuration={"status": DONE, "completed_on": date(2026, 3, 20)},
        endpoints_implementation={"status": DONE, "completed_on": date(2026, 4, 4)},
        passing_autotests={"status": DONE, "completed_on": date(2026, 4, 4)},
    )
    finish = forecast_finishes(steps, date(2026, 4, 5))
    assert finish["endpoints-implementation"] == date(2026, 4, 4)
    for code in codes(steps)[4:]:
        assert finish[code] == DUE[code] + timedelta(days=5), code
    assert forecast_launch(steps, date(2026, 4, 5)) == date(2026, 5, 30)


def test_not_applicable_steps_pass_the_forecast_through():
    # A stocks data-only integration: no autotests.
    on_time = roadmap(
        slack_jira_onboarding={"status": DONE, "completed_on": date(2026, 3, 20)},
        autotests_configuration={"status": NA},
        endpoints_implementation={"status": DONE, "completed_on": date(2026, 3, 30)},
        passing_autotests={"status": NA},
    )
    finish = forecast_finishes(on_time, date(2026, 3, 31))
    assert finish["autotests-configuration"] == date(2026, 3, 30)  # no prerequisites: its own due date
    assert finish["passing-autotests"] == date(2026, 3, 30)
    assert forecast_launch(on_time, date(2026, 3, 31)) == PLANNED_LAUNCH

    late = roadmap(
        slack_jira_onboarding={"status": DONE, "completed_on": date(2026, 3, 20)},
        autotests_configuration={"status": NA},
        endpoints_implementation={"status": DONE, "completed_on": date(2026, 4, 4)},
        passing_autotests={"status": NA},
    )
    finish = forecast_finishes(late, date(2026, 4, 5))
    assert finish["passing-autotests"] == date(2026, 4, 4)
    assert finish["sandbox-access"] == date(2026, 4, 11)
    assert forecast_launch(late, date(2026, 4, 5)) == date(2026, 5, 30)


def test_not_applicable_steps_past_their_due_date_do_not_count_as_late():
    # Today is past the due date of the two steps that do not apply; that must not move anything.
    steps = roadmap(
        slack_jira_onboarding={"status": DONE, "completed_on": date(2026, 3, 20)},
        autotests_configuration={"status": NA},
        endpoints_implementation={"status": DONE, "completed_on": date(2026, 3, 30)},
        passing_autotests={"status": NA},
        sandbox_access={"status": IP},
    )
    finish = forecast_finishes(steps, date(2026, 4, 3))
    assert finish == {**DUE, "slack-jira-onboarding": date(2026, 3, 20)}
    assert forecast_launch(steps, date(2026, 4, 3)) == PLANNED_LAUNCH


def test_paused_days_shift_open_steps():
    steps = roadmap(slack_jira_onboarding={"status": DONE, "completed_on": date(2026, 3, 10)})
    finish = forecast_finishes(steps, date(2026, 3, 12), paused_days=7)
    assert finish["slack-jira-onboarding"] == date(2026, 3, 10)
    for code in codes(steps)[1:]:
        assert finish[code] == DUE[code] + timedelta(days=7), code
    assert forecast_launch(steps, date(2026, 3, 12), paused_days=7) == date(2026, 6, 1)


def test_paused_days_and_a_late_step_add_up():
    steps = roadmap(
        slack_jira_onboarding={"status": DONE, "completed_on": date(2026, 3, 20)},
        autotests_configuration={"status": DONE, "completed_on": date(2026, 3, 20)},
        endpoints_implementation={"status": IP},
    )
    # Due 2026-03-30, paused 3 days -> 2026-04-02; today 2026-04-09 is 7 days past that.
    finish = forecast_finishes(steps, date(2026, 4, 9), paused_days=3)
    assert finish["endpoints-implementation"] == date(2026, 4, 9)
    assert finish["open-to-all-users"] == PLANNED_LAUNCH + timedelta(days=10)


def test_an_open_step_is_not_forecast_before_today():
    steps = [Step("only", PARTNER, 1, status=IP, due_date=date(2026, 3, 30))]
    assert forecast_finishes(steps, date(2026, 4, 2)) == {"only": date(2026, 4, 2)}
    assert forecast_finishes(steps, date(2026, 3, 2)) == {"only": date(2026, 3, 30)}


def test_forecast_of_no_steps():
    assert forecast_finishes([], date(2026, 3, 2)) == {}
    assert forecast_launch([], date(2026, 3, 2)) is None


# --- delay split -------------------------------------------------------------------------------------


def timeline(code, side, changes, depends_on=()):
    return StepTimeline(code, side, list(depends_on), [StepChangeOnDay(*c) for c in changes])


def test_delay_split_on_time_is_zero():
    timelines = [
        timeline(
            "build", PARTNER, [(KICKOFF, NS, DUE_DAY), (date(2026, 3, 10), IP, DUE_DAY), (DUE_DAY, DONE, DUE_DAY)]
        ),
        timeline("check", TV, [(KICKOFF, NS, date(2026, 4, 6)), (date(2026, 4, 2), DONE, date(2026, 4, 6))], ["build"]),
    ]
    split = delay_split(timelines, KICKOFF, date(2026, 5, 1))
    assert split == DelaySplit(tradingview=0, partner=0, both=0, paused=0)
    assert split.total == 0


def test_delay_split_before_anything_is_due_is_zero():
    timelines = [timeline("build", PARTNER, [(KICKOFF, NS, DUE_DAY)])]
    assert delay_split(timelines, KICKOFF, date(2026, 3, 30)) == DelaySplit()


def test_a_partner_step_six_days_late_loses_six_partner_days():
    timelines = [timeline("build", PARTNER, [(KICKOFF, NS, DUE_DAY), (date(2026, 4, 5), DONE, DUE_DAY)])]
    split = delay_split(timelines, KICKOFF, date(2026, 4, 30))
    assert split == DelaySplit(partner=6)
    assert split.total == 6


def test_a_step_still_open_counts_up_to_today_like_days_overdue():
    timelines = [timeline("build", PARTNER, [(KICKOFF, IP, DUE_DAY)])]
    today = date(2026, 4, 5)
    assert delay_split(timelines, KICKOFF, today) == DelaySplit(partner=6)
    assert days_overdue(Step("build", PARTNER, 1, status=IP, due_date=DUE_DAY), today) == 6


def test_both_sides_late_on_the_same_days():
    timelines = [
        timeline("configure", TV, [(KICKOFF, NS, DUE_DAY), (date(2026, 4, 3), DONE, DUE_DAY)]),
        timeline("build", PARTNER, [(KICKOFF, NS, DUE_DAY), (date(2026, 4, 3), DONE, DUE_DAY)]),
    ]
    assert delay_split(timelines, KICKOFF, date(2026, 4, 30)) == DelaySplit(both=4)


def test_overlapping_lateness_splits_into_both_and_each_side():
    timelines = [
        timeline("configure", TV, [(KICKOFF, NS, DUE_DAY), (date(2026, 4, 2), DONE, DUE_DAY)]),
        timeline("build", PARTNER, [(KICKOFF, NS, DUE_DAY), (date(2026, 4, 5), DONE, DUE_DAY)]),
    ]
    # 31 Mar - 2 Apr both late; 3-5 Apr only the partner.
    assert delay_split(timelines, KICKOFF, date(2026, 4, 30)) == DelaySplit(both=3, partner=3)


def test_a_late_tradingview_step_then_a_late_partner_step():
    # The partner step waits on TradingView's: while TradingView is late, the partner owes nothing.
    timelines = [
        timeline("sandbox-access", TV, [(KICKOFF, NS, DUE_DAY), (date(2026, 4, 2), DONE, DUE_DAY)]),
        timeline(
            "sandbox-development",
            PARTNER,
            [(KICKOFF, NS, DUE_DAY), (date(2026, 4, 3), IP, DUE_DAY), (date(2026, 4, 7), DONE, DUE_DAY)],
            ["sandbox-access"],
        ),
    ]
    split = delay_split(timelines, KICKOFF, date(2026, 4, 30))
    assert split == DelaySplit(tradingview=3, partner=5)
    assert split.total == 8


@pytest.mark.parametrize(
    ("handed_over", "partner_done", "expected"),
    [
        # TradingView hands over 3 days late; the partner keeps its planned week of work (due
        # 6 Apr becomes 9 Apr), so only the day it needs beyond that counts against it.
        (date(2026, 4, 2), date(2026, 4, 10), DelaySplit(tradingview=3, partner=1)),
        # Using no more than its planned time after a late hand-over, the partner loses no day.
        (date(2026, 4, 2), date(2026, 4, 9), DelaySplit(tradingview=3)),
        # An early hand-over does not move the partner's due date earlier.
        (date(2026, 3, 20), date(2026, 4, 8), DelaySplit(partner=2)),
    ],
)
def test_a_hand_over_moves_the_receiving_sides_due_date_only_later(handed_over, partner_done, expected):
    timelines = [
        timeline("sandbox-access", TV, [(KICKOFF, NS, DUE_DAY), (handed_over, DONE, DUE_DAY)]),
        timeline(
            "sandbox-development",
            PARTNER,
            [(KICKOFF, NS, date(2026, 4, 6)), (partner_done, DONE, date(2026, 4, 6))],
            ["sandbox-access"],
        ),
    ]
    split = delay_split(timelines, KICKOFF, date(2026, 4, 30))
    assert split == expected
    # The split adds up to how late the partner finished against the original plan.
    assert split.total == max(0, (partner_done - date(2026, 4, 6)).days)


def test_paused_days_count_as_paused_not_late():
    timelines = [timeline("build", PARTNER, [(KICKOFF, NS, DUE_DAY), (date(2026, 4, 5), DONE, DUE_DAY)])]
    split = delay_split(timelines, KICKOFF, date(2026, 4, 30), paused_on={date(2026, 4, 1), date(2026, 4, 2)})
    assert split == DelaySplit(partner=4, paused=2)
    assert split.total == 4


def test_paused_days_are_counted_even_when_nothing_is_late():
    timelines = [timeline("build", PARTNER, [(KICKOFF, NS, DUE_DAY)])]
    split = delay_split(timelines, KICKOFF, date(2026, 3, 20), paused_on={date(2026, 3, 10), date(2026, 3, 11)})
    assert split == DelaySplit(paused=2)
    assert split.total == 0


def test_paused_days_outside_the_period_are_ignored():
    timelines = [timeline("build", PARTNER, [(KICKOFF, NS, DUE_DAY)])]
    paused = {KICKOFF, date(2026, 3, 21)}
    assert delay_split(timelines, KICKOFF, date(2026, 3, 20), paused_on=paused) == DelaySplit()


def test_a_step_completed_on_its_due_date_loses_no_day():
    timelines = [timeline("build", PARTNER, [(KICKOFF, NS, DUE_DAY), (DUE_DAY, DONE, DUE_DAY)])]
    assert delay_split(timelines, KICKOFF, date(2026, 4, 30)) == DelaySplit()


def test_a_step_completed_the_day_after_its_due_date_loses_one_day():
    timelines = [timeline("build", PARTNER, [(KICKOFF, NS, DUE_DAY), (date(2026, 3, 31), DONE, DUE_DAY)])]
    assert delay_split(timelines, KICKOFF, date(2026, 4, 30)) == DelaySplit(partner=1)


def test_a_new_due_date_counts_from_the_day_after_it_is_set():
    timelines = [
        timeline(
            "build",
            PARTNER,
            [
                (KICKOFF, NS, DUE_DAY),
                (date(2026, 4, 2), IP, date(2026, 4, 10)),
                (date(2026, 4, 8), DONE, date(2026, 4, 10)),
            ],
        )
    ]
    # Late on 31 Mar, 1 Apr and 2 Apr (the new date applies from 3 Apr).
    assert delay_split(timelines, KICKOFF, date(2026, 4, 30)) == DelaySplit(partner=3)


def test_a_not_applicable_step_loses_no_day():
    timelines = [
        timeline("autotests", TV, [(KICKOFF, NS, DUE_DAY), (date(2026, 3, 3), NA, DUE_DAY)]),
        timeline("passing", PARTNER, [(KICKOFF, NS, DUE_DAY), (date(2026, 3, 3), NA, DUE_DAY)], ["autotests"]),
    ]
    assert delay_split(timelines, KICKOFF, date(2026, 4, 30)) == DelaySplit()


def test_the_kickoff_day_itself_is_not_counted():
    # A step due before kick-off (a bad plan) is late from the day after kick-off only.
    timelines = [timeline("build", PARTNER, [(date(2026, 2, 20), NS, date(2026, 2, 25))])]
    assert delay_split(timelines, KICKOFF, date(2026, 3, 4)) == DelaySplit(partner=2)


def test_forecast_passes_a_delay_on_through_a_step_that_does_not_apply():
    """A late, B (a week later) does not apply, C depends on B: C moves by A's full delay."""
    a = Step("a", PARTNER, 1, due_date=date(2026, 3, 30))
    b = Step("b", TV, 2, status=NA, due_date=date(2026, 4, 6), depends_on=["a"])
    c = Step("c", PARTNER, 3, due_date=date(2026, 4, 13), depends_on=["b"])
    finishes = forecast_finishes([a, b, c], today=date(2026, 4, 9))  # A is 10 days late
    assert finishes == {"a": date(2026, 4, 9), "b": date(2026, 4, 16), "c": date(2026, 4, 23)}
