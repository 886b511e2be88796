"""Each side works to its own calendar: public holidays (the ``holidays`` library) and company days off.

Scenarios across Christmas and New Year 2026/27, for a partner in Germany, one in Japan, and
TradingView's own calendar (England, with its company days off).
"""

from datetime import UTC, date, datetime, time

import pytest

from roadmap.calendars import WEEKENDS_ONLY, WorkingCalendar, parse_days_off
from roadmap.refusals import InvalidInput
from roadmap.schedule import plan_due_dates
from roadmap.standing import Clock, steps_standing
from tests.roadmap.test_schedule import default_steps, step
from tests.roadmap.test_standing import Step

TV, PARTNER = "tradingview", "partner"
GERMANY = WorkingCalendar("DE")
JAPAN = WorkingCalendar("JP")
TRADINGVIEW = WorkingCalendar("GB", "ENG", parse_days_off("2026-12-24, 2026-12-31"))
KICKOFF = date(2026, 12, 4)  # a Friday: week 4 ends on New Year's Day


def test_public_holidays_and_days_off_are_not_working_days():
    assert not GERMANY.is_working_day(date(2026, 12, 25))
    assert GERMANY.holiday(date(2026, 12, 25)) == "Christmas Day"
    assert GERMANY.is_working_day(date(2026, 12, 24))
    assert JAPAN.is_working_day(date(2026, 12, 25))
    assert not JAPAN.is_working_day(date(2027, 1, 1))
    assert not TRADINGVIEW.is_working_day(date(2026, 12, 28))  # Boxing Day, observed on the Monday
    assert TRADINGVIEW.holiday(date(2026, 12, 31)) == "company day off"
    assert GERMANY.place == "Germany" and TRADINGVIEW.place == "United Kingdom (ENG)"


def test_without_a_country_the_calendar_is_weekends_only():
    assert WEEKENDS_ONLY.is_working_day(date(2026, 12, 25))
    assert WEEKENDS_ONLY.days_not_worked([KICKOFF]) == frozenset()


@pytest.mark.parametrize(
    ("country", "subdivision"), [("XX", ""), ("DE", "ZZ"), ("", "BY")], ids=["country", "region", "no-country"]
)
def test_an_unknown_country_or_region_is_refused(country, subdivision):
    with pytest.raises(InvalidInput):
        WorkingCalendar(country, subdivision)


def test_a_day_off_that_is_not_a_date_is_refused():
    with pytest.raises(InvalidInput, match="2026-13-01"):
        parse_days_off("2026-12-24,2026-13-01")


def test_a_kickoff_on_4_december_no_longer_gives_a_partner_deadline_on_new_years_day():
    weekends_only = plan_due_dates(default_steps(), KICKOFF)
    assert weekends_only["endpoints-implementation"][1] == date(2027, 1, 1)  # the old plan

    for partner in (GERMANY, JAPAN):
        plan = plan_due_dates(default_steps(), KICKOFF, {TV: TRADINGVIEW, PARTNER: partner})
        assert plan["endpoints-implementation"][1] == date(2027, 1, 4)
        assert plan["passing-autotests"][1] == date(2027, 1, 4)
        assert not any(due in (date(2026, 12, 25), date(2027, 1, 1)) for _, due in plan.values())


def test_a_partner_deadline_on_christmas_day_moves_only_where_christmas_is_a_holiday():
    steps = [step(1, "build", due_week=4)]
    kickoff = date(2026, 11, 27)  # week 4: Friday 25 December
    assert plan_due_dates(steps, kickoff, {PARTNER: GERMANY})["build"][1] == date(2026, 12, 28)
    assert plan_due_dates(steps, kickoff, {PARTNER: JAPAN})["build"][1] == date(2026, 12, 25)


def test_tradingviews_turnaround_counts_its_own_holidays_and_days_off():
    steps = [step(1, "build", due_week=3), step(2, "review", side=TV, depends_on=["build"])]
    kickoff = date(2026, 12, 2)  # week 3: Wednesday 23 December
    assert plan_due_dates(steps, kickoff)["review"][1] == date(2026, 12, 28)
    # 24 Dec off, 25 Dec and 28 Dec holidays: 29, 30, then 31 Dec off and 1 Jan a holiday.
    assert plan_due_dates(steps, kickoff, {TV: TRADINGVIEW})["review"][1] == date(2027, 1, 4)


def owing(side: str, due: date) -> list[Step]:
    return [
        Step("late", side, 1, planned_due_date=due),
        Step("launch", TV, 2, depends_on=["late"], planned_due_date=date(2027, 3, 1)),
    ]


def clock(day: date, partner: WorkingCalendar) -> Clock:
    now = datetime.combine(day, time(12), UTC)
    return Clock(now, {TV: UTC, PARTNER: UTC}, calendars={TV: TRADINGVIEW, PARTNER: partner})


@pytest.mark.parametrize(
    ("side", "partner", "overdue"),
    [
        # Thursday 24 Dec to Monday 4 Jan: 7 weekdays (25, 28, 29, 30, 31 Dec, 1, 4 Jan).
        (PARTNER, WEEKENDS_ONLY, 7),
        (PARTNER, GERMANY, 5),  # not 25 Dec, 1 Jan
        (PARTNER, JAPAN, 6),  # not 1 Jan
        (TV, GERMANY, 3),  # TradingView's: not 25, 28, 31 Dec, 1 Jan
        (TV, JAPAN, 3),
    ],
)
def test_days_late_skip_the_holidays_of_the_side_that_owes(side, partner, overdue):
    standing = steps_standing(owing(side, date(2026, 12, 24)), date(2026, 11, 2), clock(date(2027, 1, 4), partner))
    assert standing.steps["late"].days_overdue == overdue
    assert standing.split.charges(side) == standing.slip_days


def test_a_partner_step_done_after_new_year_is_late_in_its_own_working_days():
    steps = owing(PARTNER, date(2026, 12, 30))
    steps[0].status, steps[0].completed_at = "done", datetime(2027, 1, 4, 12, tzinfo=UTC)
    late = {
        name: steps_standing(steps, date(2026, 11, 2), clock(date(2027, 1, 5), cal)).steps["late"].days_late
        for name, cal in {"weekends": WEEKENDS_ONLY, "de": GERMANY, "jp": JAPAN}.items()
    }
    assert late == {"weekends": 3, "de": 2, "jp": 2}


def test_an_open_step_is_not_forecast_on_a_holiday_of_its_side():
    steps = owing(PARTNER, date(2026, 12, 31))
    weekends = steps_standing(steps, date(2026, 11, 2), clock(date(2027, 1, 1), WEEKENDS_ONLY)).steps["late"]
    japan = steps_standing(steps, date(2026, 11, 2), clock(date(2027, 1, 1), JAPAN)).steps["late"]
    assert (weekends.forecast, weekends.days_overdue) == (date(2027, 1, 1), 1)
    assert (japan.forecast, japan.days_overdue) == (date(2027, 1, 4), 1)  # the earliest it can be done
