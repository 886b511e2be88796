"""Due dates counted in weeks from kick-off, kept on working days."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from roadmap.default_template import STEPS
from roadmap.schedule import plan_due_dates, weeks_after

# Monday 2026-03-02 .. Sunday 2026-03-08.
KICKOFFS = [date(2026, 3, 2) + timedelta(days=i) for i in range(7)]
KICKOFF_IDS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def default_steps():
    return [
        SimpleNamespace(
            position=position,
            code=row["code"],
            side=row["side"],
            due_week=row["due_week"],
            due_week_last=row.get("due_week_last"),
        )
        for position, row in enumerate(STEPS, start=1)
    ]


def step(position, code, due_week=None, due_week_last=None, side="partner"):
    return SimpleNamespace(position=position, code=code, side=side, due_week=due_week, due_week_last=due_week_last)


def expected_date(kickoff: date, weeks: int) -> date:
    day = kickoff + timedelta(days=7 * weeks)
    if kickoff.weekday() == 5:
        return day + timedelta(days=2)
    if kickoff.weekday() == 6:
        return day + timedelta(days=1)
    return day


def test_the_parametrized_week_runs_monday_to_sunday():
    assert [d.weekday() for d in KICKOFFS] == [0, 1, 2, 3, 4, 5, 6]


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


@pytest.mark.parametrize("kickoff", KICKOFFS, ids=KICKOFF_IDS)
def test_default_plan_due_dates_are_working_days(kickoff):
    plan = plan_due_dates(default_steps(), kickoff)
    assert len(plan) == 15
    for code, (start, due) in plan.items():
        assert due.weekday() <= 4, code
        if start is not None:
            assert start.weekday() <= 4, code


@pytest.mark.parametrize("kickoff", KICKOFFS, ids=KICKOFF_IDS)
def test_dated_steps_are_due_their_weeks_after_kickoff(kickoff):
    plan = plan_due_dates(default_steps(), kickoff)
    for s in default_steps():
        if s.due_week is None or s.due_week_last is not None:
            continue
        assert plan[s.code] == (None, expected_date(kickoff, s.due_week)), s.code


@pytest.mark.parametrize("kickoff", KICKOFFS[:5], ids=KICKOFF_IDS[:5])
def test_weekday_kickoff_is_exact_weeks(kickoff):
    plan = plan_due_dates(default_steps(), kickoff)
    assert plan["endpoints-implementation"][1] == kickoff + timedelta(days=28)
    assert plan["sandbox-development"][1] == kickoff + timedelta(days=35)
    assert plan["beta-testing"][1] == kickoff + timedelta(days=70)
    assert plan["open-to-all-users"] == (kickoff + timedelta(days=77), kickoff + timedelta(days=84))


@pytest.mark.parametrize("kickoff", KICKOFFS[5:], ids=KICKOFF_IDS[5:])
def test_weekend_kickoff_rolls_every_due_date_to_the_monday(kickoff):
    plan = plan_due_dates(default_steps(), kickoff)
    monday = date(2026, 3, 9)  # week N is due N weeks after this Monday
    assert plan["endpoints-implementation"][1] == monday + timedelta(weeks=4)
    assert plan["passing-autotests"][1] == monday + timedelta(weeks=4)
    assert plan["sandbox-development"][1] == monday + timedelta(weeks=5)
    assert plan["production-deployment"][1] == monday + timedelta(weeks=6)
    assert plan["smoke-test-fixes"][1] == monday + timedelta(weeks=7)
    assert plan["final-testing-fixes"][1] == monday + timedelta(weeks=9)
    assert plan["beta-testing"][1] == monday + timedelta(weeks=10)
    assert plan["open-to-all-users"] == (monday + timedelta(weeks=11), monday + timedelta(weeks=12))
    for _, due in plan.values():
        assert due.weekday() == 0


@pytest.mark.parametrize("kickoff", KICKOFFS, ids=KICKOFF_IDS)
def test_tradingview_steps_are_due_with_the_next_dated_step(kickoff):
    steps = default_steps()
    plan = plan_due_dates(steps, kickoff)
    for i, s in enumerate(steps):
        if s.due_week is not None:
            continue
        assert s.side == "tradingview"
        next_dated = next(later for later in steps[i + 1 :] if later.due_week is not None)
        assert next_dated.due_week_last is None
        assert plan[s.code] == (None, plan[next_dated.code][1]), s.code


@pytest.mark.parametrize("kickoff", KICKOFFS, ids=KICKOFF_IDS)
def test_launch_window_opens_week_11_and_is_due_week_12(kickoff):
    plan = plan_due_dates(default_steps(), kickoff)
    assert plan["open-to-all-users"] == (expected_date(kickoff, 11), expected_date(kickoff, 12))


def test_default_plan_for_a_monday_kickoff():
    plan = plan_due_dates(default_steps(), date(2026, 3, 2))
    assert plan == {
        "slack-jira-onboarding": (None, date(2026, 3, 30)),
        "autotests-configuration": (None, date(2026, 3, 30)),
        "endpoints-implementation": (None, date(2026, 3, 30)),
        "passing-autotests": (None, date(2026, 3, 30)),
        "sandbox-access": (None, date(2026, 4, 6)),
        "sandbox-development": (None, date(2026, 4, 6)),
        "request-production-urls": (None, date(2026, 4, 13)),
        "production-deployment": (None, date(2026, 4, 13)),
        "smoke-testing": (None, date(2026, 4, 20)),
        "smoke-test-fixes": (None, date(2026, 4, 20)),
        "final-testing": (None, date(2026, 5, 4)),
        "final-testing-fixes": (None, date(2026, 5, 4)),
        "closed-release": (None, date(2026, 5, 11)),
        "beta-testing": (None, date(2026, 5, 11)),
        "open-to-all-users": (date(2026, 5, 18), date(2026, 5, 25)),
    }


def test_plan_follows_position_not_list_order():
    steps = [step(2, "work", 3), step(1, "prepare", side="tradingview"), step(3, "later", 5)]
    assert plan_due_dates(steps, date(2026, 3, 2)) == {
        "prepare": (None, date(2026, 3, 23)),
        "work": (None, date(2026, 3, 23)),
        "later": (None, date(2026, 4, 6)),
    }


def test_undated_step_before_a_window_is_due_when_the_window_opens():
    steps = [step(1, "prepare", side="tradingview"), step(2, "launch", 11, 12, side="tradingview")]
    assert plan_due_dates(steps, date(2026, 3, 2)) == {
        "prepare": (None, date(2026, 5, 18)),
        "launch": (date(2026, 5, 18), date(2026, 5, 25)),
    }


def test_trailing_undated_steps_raise():
    steps = [step(1, "work", 4), step(2, "wrap-up", side="tradingview"), step(3, "tidy", side="tradingview")]
    with pytest.raises(ValueError, match=r"^Steps wrap-up, tidy have no later step with a due week to be due with\.$"):
        plan_due_dates(steps, date(2026, 3, 2))


def test_only_undated_steps_raise():
    with pytest.raises(ValueError, match="Steps alone have no later step"):
        plan_due_dates([step(1, "alone")], date(2026, 3, 2))


def test_no_steps_no_plan():
    assert plan_due_dates([], date(2026, 3, 2)) == {}
