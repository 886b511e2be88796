"""How many working days each side has for each step, and whether the partner keeps the roadmap's week.

The partner keeps the week the roadmap gives it between weeks 4-5, 5-6, 6-7 and 9-10: TradingView
prepares while the partner finishes the step before and hands over on that step's due date, and a
partner step keeps at least the roadmap's week after TradingView's hand-over, whatever the holidays.
Final testing's two rounds share the roadmap's weeks 8-9: each round's fixes keep the working days
left in their week after TradingView's testing (``keeps_days``), and the two rounds together get the
roadmap's two weeks.
"""

from datetime import date, timedelta

import pytest

from roadmap.calendars import WEEKENDS_ONLY, WorkingCalendar, parse_days_off
from roadmap.models import Side
from roadmap.schedule import plan_due_dates, side_days, weeks_after, working_days_between
from tests.default_plan import KICKOFF
from tests.roadmap.test_schedule import default_steps

GERMANY = WorkingCalendar("DE")
TRADINGVIEW_UK = WorkingCalendar("GB", "ENG", parse_days_off("2026-12-24, 2026-12-31"))


def kickoffs(first: date, weeks: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(7 * weeks)]


# Three weeks of March 2026, and kick-offs whose partner weeks run across Christmas and New Year
# (October 2026: week 10 falls on Christmas; September: weeks 14-16 of a longer plan do not exist,
# so the October and November kick-offs are the ones that reach the holidays).
CASES = [(day, {}) for day in kickoffs(KICKOFF, 3)] + [
    (day, {Side.PARTNER: GERMANY, Side.TRADINGVIEW: TRADINGVIEW_UK})
    for day in kickoffs(date(2026, 10, 5), 3) + kickoffs(date(2026, 11, 2), 3)
]


def seed_week(step, kickoff, partner_off) -> int:
    """The partner's working days in the roadmap's last week before the step is due (holidays off)."""
    return working_days_between(
        weeks_after(kickoff, step.due_week - 1), weeks_after(kickoff, step.due_week), partner_off
    )


@pytest.mark.parametrize(("kickoff", "calendars"), CASES, ids=lambda v: v.isoformat() if isinstance(v, date) else "")
def test_no_partner_step_gets_less_than_the_roadmaps_week(kickoff, calendars):
    steps = default_steps()
    by_code = {s.code: s for s in steps}
    plan = plan_due_dates(steps, kickoff, calendars)
    partner_off = calendars.get(Side.PARTNER, WEEKENDS_ONLY).days_not_worked([kickoff])
    checked = 0
    for step in steps:
        if step.side != Side.PARTNER:
            continue
        for code in step.depends_on:
            if by_code[code].side != Side.TRADINGVIEW:
                continue
            handed_over = plan[code][1]
            due = plan[step.code][1]
            has = working_days_between(handed_over, due, partner_off)
            # Where the seed gives the step a week of its own; a final-testing round's fixes keep theirs.
            least = seed_week(step, kickoff, partner_off) if step.keeps_days is None else step.keeps_days
            assert has >= least, (step.code, code, handed_over, due)
            assert handed_over >= max((plan[c][1] for c in by_code[code].depends_on), default=kickoff)
            checked += 1
    # The autotests, sandbox, production, smoke fixes, both rounds' fixes and beta testing.
    assert checked == 7
    # The seed's two weeks of final testing (weeks 8-9) hold both rounds, the partner's deadline kept.
    both_rounds = working_days_between(plan["smoke-test-fixes"][1], plan["final-testing-fixes"][1], partner_off)
    seed_weeks = working_days_between(weeks_after(kickoff, 7), weeks_after(kickoff, 9), partner_off)
    assert both_rounds >= seed_weeks
    assert plan["final-testing-fixes"][1] >= weeks_after(kickoff, 9)


def test_the_seed_plan_gives_each_side_its_days():
    steps = default_steps()
    plan = plan_due_dates(steps, KICKOFF)
    days = side_days(steps, plan, KICKOFF)
    # The partner keeps its one week: TradingView prepares during the week before and hands over on
    # the partner's due date, with no working day of its own after the hand-over.
    assert days["sandbox-development"] == days["production-deployment"] == 5
    assert days["smoke-test-fixes"] == days["beta-testing"] == 5
    assert days["sandbox-access"] == days["request-production-urls"] == days["smoke-testing"] == 0
    assert days["closed-release"] == 0
    # The roadmap's two weeks of final testing hold two rounds: TradingView's testing (3 working days,
    # after the fixes it tests), then the partner's fixes (the 2 left in the week), twice.
    assert days["final-testing-1"] == days["final-testing-2"] == 3
    assert days["final-testing-fixes-1"] == days["final-testing-fixes"] == 2
    # A side's own steps run side by side: the partner passes its autotests while building its endpoints.
    assert days["endpoints-implementation"] == 20 and days["passing-autotests"] == 17
    assert days["slack-jira-onboarding"] == days["autotests-configuration"] == 3
    assert days["open-to-all-users"] == 10


def test_side_days_count_each_sides_own_holidays():
    steps = default_steps()
    kickoff = date(2026, 10, 22)  # week 10 ends on New Year's Eve, week 9 on Christmas Eve
    calendars = {Side.PARTNER: GERMANY, Side.TRADINGVIEW: TRADINGVIEW_UK}
    plan = plan_due_dates(steps, kickoff, calendars)
    days = side_days(steps, plan, kickoff, calendars)
    # The partner's final fixes are due Thursday 24 Dec (week 9), a working day in Germany.
    assert plan["final-testing-fixes"][1] == date(2026, 12, 24)
    # Closed release, prepared during week 9, is due with them, in TradingView's calendar: 24 Dec
    # off, Christmas, the weekend and the Boxing Day holiday (Monday 28 Dec) move it to Tuesday 29 Dec.
    assert plan["closed-release"][1] == date(2026, 12, 29) and days["closed-release"] == 1
    # Beta testing (week 10, Thursday 31 Dec) was due before the closed release it waits on. It keeps
    # the roadmap's week after the hand-over, in Germany's calendar: the 4 working days between
    # weeks 9 and 10 (Christmas Day off), 30 and 31 Dec, then New Year's Day off, 4 and 5 Jan.
    assert plan["beta-testing"][1] == date(2027, 1, 5) and days["beta-testing"] == 4
    # The launch window (weeks 11-12) still ends after it.
    assert plan["open-to-all-users"] == (date(2027, 1, 7), date(2027, 1, 14))
    for step in steps:
        for code in step.depends_on:
            assert plan[code][1] <= plan[step.code][1], (code, step.code)
