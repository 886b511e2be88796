"""Due dates: partner steps at their roadmap week, TradingView's tasks a turnaround of working days later."""

import random
from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from roadmap.default_template import STEPS
from roadmap.refusals import InvalidInput, InvalidTemplate
from roadmap.schedule import (
    add_working_days,
    check_plannable,
    is_working_day,
    next_working_day,
    plan_due_dates,
    prepares_during_week,
    side_days,
    weeks_after,
    working_days_between,
)
from tests.default_plan import KICKOFF, LAUNCH_WINDOW, PLANNED_DUE

# Monday 2026-03-02 .. Sunday 2026-03-08.
KICKOFFS = [date(2026, 3, 2) + timedelta(days=i) for i in range(7)]
KICKOFF_IDS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

MON, TUE, WED, THU, FRI, SAT, SUN = KICKOFFS


def default_steps():
    return [
        SimpleNamespace(
            position=position,
            code=row["code"],
            side=row["side"],
            due_week=row["due_week"],
            due_week_last=row.get("due_week_last"),
            depends_on=list(row["depends_on"]),
            turnaround_days=row.get("turnaround_days", 3),
            prepared_ahead=row.get("prepared_ahead", True),
            keeps_days=row.get("keeps_days"),
        )
        for position, row in enumerate(STEPS, start=1)
    ]


def step(
    position,
    code,
    due_week=None,
    due_week_last=None,
    side="partner",
    depends_on=(),
    turnaround_days=3,
    prepared_ahead=True,
    keeps_days=None,
):
    return SimpleNamespace(
        position=position,
        code=code,
        side=side,
        due_week=due_week,
        due_week_last=due_week_last,
        depends_on=list(depends_on),
        turnaround_days=turnaround_days,
        prepared_ahead=prepared_ahead,
        keeps_days=keeps_days,
    )


def test_the_parametrized_week_runs_monday_to_sunday():
    assert [d.weekday() for d in KICKOFFS] == [0, 1, 2, 3, 4, 5, 6]


# --- working days ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "expected"), list(zip(KICKOFFS, [True] * 5 + [False] * 2, strict=True)), ids=KICKOFF_IDS
)
def test_is_working_day_monday_to_friday(day, expected):
    assert is_working_day(day) is expected


def test_a_paused_weekday_is_not_a_working_day():
    assert is_working_day(TUE, paused={TUE}) is False
    assert is_working_day(WED, paused={TUE}) is True


@pytest.mark.parametrize(
    ("day", "paused", "expected"),
    [
        (MON, (), MON),
        (FRI, (), FRI),
        (SAT, (), date(2026, 3, 9)),
        (SUN, (), date(2026, 3, 9)),
        (MON, {MON}, TUE),
        (SAT, {date(2026, 3, 9), date(2026, 3, 10)}, date(2026, 3, 11)),
    ],
)
def test_next_working_day(day, paused, expected):
    assert next_working_day(day, paused) == expected


@pytest.mark.parametrize(
    ("day", "n", "expected"),
    [
        (MON, 0, MON),
        (SAT, 0, date(2026, 3, 9)),  # n = 0 on a weekend: the Monday
        (SUN, 0, date(2026, 3, 9)),
        (MON, 1, TUE),
        (MON, 3, THU),
        (THU, 3, date(2026, 3, 10)),  # Thursday + 3: Friday, Monday, Tuesday
        (FRI, 1, date(2026, 3, 9)),
        (SAT, 1, date(2026, 3, 9)),
        (SUN, 3, date(2026, 3, 11)),
        (MON, 5, date(2026, 3, 9)),
        (MON, 10, date(2026, 3, 16)),
        (MON, -2, MON),
        (SAT, -1, date(2026, 3, 9)),
    ],
)
def test_add_working_days(day, n, expected):
    assert add_working_days(day, n) == expected


def test_add_working_days_skips_paused_days():
    assert add_working_days(MON, 3, paused={TUE}) == FRI
    assert add_working_days(THU, 1, paused={FRI, date(2026, 3, 9)}) == date(2026, 3, 10)
    # n = 0 on a paused day: the next working day that is not paused.
    assert add_working_days(MON, 0, paused={MON, TUE}) == WED


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (MON, MON, 0),
        (TUE, MON, 0),  # end before start
        (MON, THU, 3),
        (FRI, date(2026, 3, 9), 1),  # Saturday and Sunday do not count
        (SAT, date(2026, 3, 9), 1),
        (FRI, SUN, 0),
        (MON, date(2026, 3, 9), 5),
        (date(2026, 3, 30), date(2026, 4, 2), 3),
    ],
)
def test_working_days_between(start, end, expected):
    assert working_days_between(start, end) == expected


def test_working_days_between_leaves_out_paused_days():
    assert working_days_between(MON, FRI, paused={TUE, WED}) == 2
    assert working_days_between(MON, FRI, paused={MON}) == 4  # the start itself never counts


@pytest.mark.parametrize("paused", [frozenset(), frozenset({date(2026, 3, 4), date(2026, 3, 10), date(2026, 3, 11)})])
@pytest.mark.parametrize("start", KICKOFFS, ids=KICKOFF_IDS)
def test_working_days_between_is_the_inverse_of_add_working_days(start, paused):
    for n in range(1, 16):
        end = add_working_days(start, n, paused)
        assert working_days_between(start, end, paused) == n, n
    for end in (start + timedelta(days=i) for i in range(1, 30)):
        if is_working_day(end, paused):
            assert add_working_days(start, working_days_between(start, end, paused), paused) == end, end


def test_add_zero_working_days_to_a_working_day_is_the_day_itself_and_zero_days_between():
    for day in KICKOFFS[:5]:
        assert add_working_days(day, 0) == day
        assert working_days_between(day, add_working_days(day, 0)) == 0


def naive_add_working_days(day, n, paused):
    day = next_working_day(day, paused) if n <= 0 else day
    while n > 0:
        day += timedelta(days=1)
        n -= is_working_day(day, paused)
    return day


def naive_working_days_between(start, end, paused):
    return sum(is_working_day(start + timedelta(days=i), paused) for i in range(1, (end - start).days + 1))


def test_working_day_arithmetic_agrees_with_counting_day_by_day():
    rng = random.Random(20260302)
    for _ in range(3000):
        start = MON + timedelta(days=rng.randint(-7, 30))
        paused = frozenset(MON + timedelta(days=rng.randint(-10, 70)) for _ in range(rng.randint(0, 15)))
        n = rng.randint(-1, 30)
        assert add_working_days(start, n, paused) == naive_add_working_days(start, n, paused), (start, n, paused)
        end = start + timedelta(days=rng.randint(-5, 60))
        assert working_days_between(start, end, paused) == naive_working_days_between(start, end, paused), (
            start,
            end,
            paused,
        )


# --- weeks after kick-off -------------------------------------------------------------------------------


def expected_date(kickoff: date, weeks: int) -> date:
    day = kickoff + timedelta(days=7 * weeks)
    if kickoff.weekday() == 5:
        return day + timedelta(days=2)
    if kickoff.weekday() == 6:
        return day + timedelta(days=1)
    return day


@pytest.mark.parametrize("kickoff", KICKOFFS, ids=KICKOFF_IDS)
@pytest.mark.parametrize("weeks", [0, 1, 4, 11, 12])
def test_weeks_after(kickoff, weeks):
    due = weeks_after(kickoff, weeks)
    assert due == expected_date(kickoff, weeks)
    assert due.weekday() <= 4


def test_weeks_after_exact_dates():
    assert weeks_after(date(2026, 3, 2), 4) == date(2026, 3, 30)  # Monday
    assert weeks_after(date(2026, 3, 6), 4) == date(2026, 4, 3)  # Friday
    assert weeks_after(date(2026, 3, 7), 4) == date(2026, 4, 6)  # Saturday -> Monday
    assert weeks_after(date(2026, 3, 8), 4) == date(2026, 4, 6)  # Sunday -> Monday
    assert weeks_after(date(2026, 3, 7), 0) == date(2026, 3, 9)


# --- plannable dates ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [KICKOFF, date(2029, 3, 1), date(2023, 3, 3), date(2026, 1, 1)],
    ids=["today", "3-years-ahead", "3-years-back", "last-year"],
)
def test_dates_within_three_years_are_plannable(day):
    assert check_plannable(day, today=KICKOFF) is None


@pytest.mark.parametrize("day", [date(2029, 3, 2), date(2023, 3, 2), date(2035, 1, 1), date(1, 1, 1)])
def test_dates_more_than_three_years_away_are_refused(day):
    with pytest.raises(InvalidInput) as excinfo:
        check_plannable(day, today=KICKOFF)
    assert excinfo.value.code == "invalid_input"
    assert f"The kick-off date {day:%Y-%m-%d} is more than 3 years from today (2026-03-02)" in str(excinfo.value)


def test_year_9999_is_refused_with_a_message_not_an_overflow():
    with pytest.raises(InvalidInput) as excinfo:
        check_plannable(date(9999, 12, 31), today=KICKOFF, what="new kick-off")
    assert str(excinfo.value) == (
        "The new kick-off date 9999-12-31 is more than 3 years from today (2026-03-02); "
        "give a date between 2023-03-03 and 2029-03-01."
    )
    assert excinfo.value.messages == [str(excinfo.value)]


# --- the plan ---------------------------------------------------------------------------------------------------


def test_default_plan_for_a_monday_kickoff():
    plan = plan_due_dates(default_steps(), KICKOFF)
    assert {code: due for code, (_, due) in plan.items()} == PLANNED_DUE
    assert plan["open-to-all-users"] == LAUNCH_WINDOW
    assert [code for code, (start, _) in plan.items() if start is not None] == ["open-to-all-users"]
    # The onboarding is due in the first week: Thursday, 3 working days after Monday's kick-off.
    assert plan["slack-jira-onboarding"] == (None, date(2026, 3, 5))


# (kick-off, onboarding, sandbox access): the first TradingView tasks 3 working days after kick-off;
# sandbox access on the partner's week-4 date (the partner keeps week 5 for the sandbox).
FIRST_TV_TASKS = [
    (MON, THU, date(2026, 3, 30)),
    (TUE, FRI, date(2026, 3, 31)),
    (WED, date(2026, 3, 9), date(2026, 4, 1)),
    (THU, date(2026, 3, 10), date(2026, 4, 2)),
    (FRI, date(2026, 3, 11), date(2026, 4, 3)),
    (SAT, date(2026, 3, 11), date(2026, 4, 6)),  # week 4 is Saturday 4 Apr -> Monday 6 Apr
    (SUN, date(2026, 3, 11), date(2026, 4, 6)),
]


@pytest.mark.parametrize(("kickoff", "onboarding", "sandbox_access"), FIRST_TV_TASKS, ids=KICKOFF_IDS)
def test_tradingview_tasks_for_each_weekday_kickoff(kickoff, onboarding, sandbox_access):
    plan = plan_due_dates(default_steps(), kickoff)
    assert plan["slack-jira-onboarding"] == (None, onboarding)
    assert plan["autotests-configuration"] == (None, onboarding)
    assert plan["sandbox-access"] == (None, sandbox_access)


@pytest.mark.parametrize("kickoff", KICKOFFS, ids=KICKOFF_IDS)
def test_default_plan_due_dates_are_working_days(kickoff):
    plan = plan_due_dates(default_steps(), kickoff)
    assert len(plan) == 17
    for code, (start, due) in plan.items():
        assert is_working_day(due), code
        if start is not None:
            assert is_working_day(start), code


@pytest.mark.parametrize("kickoff", KICKOFFS, ids=KICKOFF_IDS)
def test_dated_steps_are_due_their_weeks_after_kickoff(kickoff):
    plan = plan_due_dates(default_steps(), kickoff)
    for s in default_steps():
        if s.due_week is None or s.due_week_last is not None:
            continue
        assert plan[s.code] == (None, expected_date(kickoff, s.due_week)), s.code


# TradingView's tasks between two partner weeks one week apart (4->5, 5->6, 6->7, 9->10).
DURING_THE_PARTNERS_WEEK = {"sandbox-access", "request-production-urls", "smoke-testing", "closed-release"}


@pytest.mark.parametrize("kickoff", KICKOFFS, ids=KICKOFF_IDS)
def test_tradingview_tasks_are_due_three_working_days_after_their_latest_dependency(kickoff):
    steps = default_steps()
    plan = plan_due_dates(steps, kickoff)
    for s in steps:
        if s.due_week is not None:
            continue
        assert s.side == "tradingview"
        actionable = max((plan[code][1] for code in s.depends_on), default=kickoff)
        due = plan[s.code][1]
        turnaround = 0 if s.code in DURING_THE_PARTNERS_WEEK else 3
        assert due == add_working_days(actionable, turnaround), s.code
        if s.depends_on:
            assert working_days_between(actionable, due) == turnaround, s.code
    assert [s.code for s in steps if prepares_during_week(s, steps)] == sorted(
        DURING_THE_PARTNERS_WEEK, key=[s.code for s in steps].index
    )


@pytest.mark.parametrize("kickoff", KICKOFFS, ids=KICKOFF_IDS)
def test_no_step_is_due_before_a_step_it_depends_on(kickoff):
    plan = plan_due_dates(default_steps(), kickoff)
    for s in default_steps():
        for code in s.depends_on:
            assert plan[code][1] <= plan[s.code][1], (code, s.code)


@pytest.mark.parametrize("kickoff", KICKOFFS, ids=KICKOFF_IDS)
def test_launch_window_opens_week_11_and_is_due_week_12(kickoff):
    plan = plan_due_dates(default_steps(), kickoff)
    assert plan["open-to-all-users"] == (expected_date(kickoff, 11), expected_date(kickoff, 12))


@pytest.mark.parametrize("kickoff", KICKOFFS[5:], ids=KICKOFF_IDS[5:])
def test_weekend_kickoff_rolls_every_partner_date_to_a_monday(kickoff):
    plan = plan_due_dates(default_steps(), kickoff)
    monday = date(2026, 3, 9)  # week N is due N weeks after this Monday
    assert plan["endpoints-implementation"][1] == monday + timedelta(weeks=4)
    assert plan["beta-testing"][1] == monday + timedelta(weeks=10)
    assert plan["open-to-all-users"] == (monday + timedelta(weeks=11), monday + timedelta(weeks=12))
    for s in default_steps():
        if s.due_week is not None:
            assert plan[s.code][1].weekday() == 0, s.code
        elif s.code in DURING_THE_PARTNERS_WEEK:
            assert plan[s.code][1].weekday() == 0, s.code  # on the partner's Monday before
        elif s.depends_on:
            assert plan[s.code][1].weekday() == 3, s.code  # a Monday + 3 working days: Thursday
        else:
            assert plan[s.code][1] == date(2026, 3, 11), s.code  # the weekend + 3 working days: Wednesday


def test_turnaround_counts_from_the_latest_dependency_not_the_last_listed():
    steps = [
        step(1, "late-one", 6),
        step(2, "early-one", 2),
        step(3, "review", side="tradingview", depends_on=["late-one", "early-one"]),
        step(4, "launch", 11, 12, side="tradingview", depends_on=["review"]),
    ]
    plan = plan_due_dates(steps, KICKOFF)
    assert plan["late-one"] == (None, date(2026, 4, 13))
    assert plan["early-one"] == (None, date(2026, 3, 16))
    assert plan["review"] == (None, date(2026, 4, 16))


@pytest.mark.parametrize(
    ("next_week", "prepare_due"),
    [(5, date(2026, 3, 30)), (6, date(2026, 4, 2)), (4, date(2026, 4, 2))],
    ids=["one-week-apart", "two-weeks-apart", "same-week"],
)
def test_a_task_between_partner_weeks_one_week_apart_is_due_with_the_step_before(next_week, prepare_due):
    steps = [
        step(1, "build", 4),
        step(2, "prepare", side="tradingview", depends_on=["build"]),
        step(3, "use", next_week, depends_on=["prepare"]),
    ]
    plan = plan_due_dates(steps, KICKOFF)
    # One week apart: prepared during the partner's week 4, due on its date (Monday 30 Mar).
    # Otherwise: its 3 working days' turnaround after it.
    assert plan["prepare"] == (None, prepare_due)
    assert prepares_during_week(steps[1], steps) == (next_week == 5)


def test_testing_rounds_are_not_prepared_ahead_and_their_fixes_keep_the_rest_of_the_week():
    # Two rounds in weeks 8-9 after fixes due week 7 (Monday 20 Apr): without the two fields the weeks
    # alone say round 1 is prepared during the partner's week (due Monday 20 Apr, with nothing to test)
    # and its fixes keep a whole week after it.
    def rounds(**fields):
        return [
            step(1, "smoke-fixes", 7),
            step(2, "round-1", side="tradingview", depends_on=["smoke-fixes"], **fields.get("testing", {})),
            step(3, "fixes-1", 8, depends_on=["round-1"], **fields.get("fixes", {})),
            step(4, "round-2", side="tradingview", depends_on=["fixes-1"], **fields.get("testing", {})),
            step(5, "fixes-2", 9, depends_on=["round-2"], **fields.get("fixes", {})),
            step(6, "release", side="tradingview", depends_on=["fixes-2"]),
            step(7, "beta", 10, depends_on=["release"]),
        ]

    by_weeks = rounds()
    assert prepares_during_week(by_weeks[1], by_weeks) and prepares_during_week(by_weeks[3], by_weeks)
    steps = rounds(testing={"prepared_ahead": False}, fixes={"keeps_days": 2})
    assert not prepares_during_week(steps[1], steps) and not prepares_during_week(steps[3], steps)
    plan = plan_due_dates(steps, KICKOFF)
    assert {code: due for code, (_, due) in plan.items()} == {
        "smoke-fixes": date(2026, 4, 20),
        "round-1": date(2026, 4, 23),  # Thursday: 3 working days of testing
        "fixes-1": date(2026, 4, 27),  # week 8: the 2 working days left
        "round-2": date(2026, 4, 30),
        "fixes-2": date(2026, 5, 4),  # week 9
        "release": date(2026, 5, 4),  # still prepared during the partner's week 9
        "beta": date(2026, 5, 11),
    }
    days = side_days(steps, plan, KICKOFF)
    assert [days[c] for c in ("round-1", "fixes-1", "round-2", "fixes-2")] == [3, 2, 3, 2]
    # Not prepared ahead but a whole week kept: round 1's fixes push every later deadline by days.
    pushed = plan_due_dates(rounds(testing={"prepared_ahead": False}), KICKOFF)
    assert pushed["fixes-1"][1] == date(2026, 4, 30) and pushed["beta"][1] == date(2026, 5, 19)  # not 11 May


def test_a_task_waiting_on_no_partner_step_keeps_its_turnaround():
    steps = [step(1, "configure", side="tradingview"), step(2, "build", 1, depends_on=["configure"])]
    assert not prepares_during_week(steps[0], steps)
    assert plan_due_dates(steps, KICKOFF)["configure"] == (None, date(2026, 3, 5))


def test_a_partner_step_keeps_its_week_after_a_long_turnaround():
    steps = [
        step(1, "build", 4),
        step(2, "review", side="tradingview", depends_on=["build"], turnaround_days=8),
        step(3, "fix", 6, depends_on=["review"]),
        step(4, "launch", 11, 12, side="tradingview", depends_on=["fix"]),
    ]
    plan = plan_due_dates(steps, KICKOFF)
    # The review is due Thursday 9 Apr, 8 working days after week 4; week 6 (Monday 13 Apr) would
    # leave the partner 2 working days: the fixes keep their 5 and are due Thursday 16 Apr.
    assert plan["review"] == (None, date(2026, 4, 9))
    assert plan["fix"] == (None, date(2026, 4, 16))
    assert plan["launch"] == LAUNCH_WINDOW


def test_turnaround_days_of_each_step_are_used():
    steps = [
        step(1, "build", 4),
        step(2, "quick", side="tradingview", depends_on=["build"], turnaround_days=1),
        step(3, "slow", side="tradingview", depends_on=["build"], turnaround_days=10),
        step(4, "same-day", side="tradingview", depends_on=["build"], turnaround_days=0),
    ]
    plan = plan_due_dates(steps, KICKOFF)
    assert plan["build"] == (None, date(2026, 3, 30))
    assert plan["quick"] == (None, date(2026, 3, 31))
    assert plan["slow"] == (None, date(2026, 4, 13))
    assert plan["same-day"] == (None, date(2026, 3, 30))


def test_a_tradingview_chain_adds_turnarounds():
    steps = [
        step(1, "a", side="tradingview"),
        step(2, "b", side="tradingview", depends_on=["a"]),
        step(3, "c", side="tradingview", depends_on=["b"], turnaround_days=2),
    ]
    # Kick-off Friday 6 Mar: a Wednesday 11, b Monday 16, c Wednesday 18.
    assert plan_due_dates(steps, FRI) == {
        "a": (None, date(2026, 3, 11)),
        "b": (None, date(2026, 3, 16)),
        "c": (None, date(2026, 3, 18)),
    }


def test_plan_follows_position_not_list_order():
    steps = [
        step(2, "work", 3),
        step(3, "check", side="tradingview", depends_on=["work"]),
        step(1, "prepare", side="tradingview"),
    ]
    assert plan_due_dates(steps, KICKOFF) == {
        "prepare": (None, date(2026, 3, 5)),
        "work": (None, date(2026, 3, 23)),
        "check": (None, date(2026, 3, 26)),
    }


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            [step(1, "check", side="tradingview", depends_on=["ghost"])],
            "Step 'check' depends on 'ghost', which is not an earlier step.",
        ),
        (
            [step(1, "check", side="tradingview", depends_on=["build", "ghost"]), step(2, "build", 4)],
            "Step 'check' depends on 'build', 'ghost', which is not an earlier step.",
        ),
    ],
    ids=["unknown", "later-and-unknown"],
)
def test_an_undated_step_on_an_unknown_or_later_dependency_is_an_invalid_template(steps, message):
    with pytest.raises(InvalidTemplate) as excinfo:
        plan_due_dates(steps, KICKOFF)
    assert excinfo.value.code == "invalid_template"
    assert str(excinfo.value) == message


def test_no_steps_no_plan():
    assert plan_due_dates([], KICKOFF) == {}
