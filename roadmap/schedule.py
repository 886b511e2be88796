"""Due dates: when each step of a roadmap is due, counted from the kick-off date.

Deadlines are working days (Monday to Friday). Partner steps are due a number of weeks after
kick-off, as the roadmap prints them. TradingView's own tasks carry no printed week: each is due a
turnaround of working days after it becomes actionable (its prerequisites done), except where the
roadmap gives the partner one week between two due weeks (4->5, 5->6, 6->7, 9->10): there
TradingView prepares while the partner finishes the step before, and hands over on that step's
due date, so the partner keeps its week. A step with a due week is never due before what it
waits on from the other side, and keeps at least the roadmap's week after that hand-over.

Two per-step template fields say where the weeks alone would plan a step wrongly, and every rule
below reads them through ``prepares_during_week`` and ``kept_days`` (the plan, ``side_days``, the
words of ``due_words``; the standing keeps the gaps the plan puts between steps): a TradingView
task that is not ``prepared_ahead`` (a testing round tests the partner's fixes, it cannot start
before them) gets its turnaround after the hand-over even between two weeks one week apart, and a
partner step with ``keeps_days`` keeps that many working days after the hand-over instead of a
whole week (the final-testing rounds share the roadmap's two weeks: 3 working days for
TradingView's testing, 2 for the partner's fixes, twice).
``side_days`` says how many working days each side has for each step, as the template page and
the stage page show them.

Days an integration spends paused are not working days: the clock is stopped for both sides.
"""

from collections.abc import Collection, Mapping
from datetime import date, timedelta

from roadmap.refusals import InvalidInput, InvalidTemplate

SATURDAY = 5
WORKING_DAYS_A_WEEK = 5
# Kick-off and re-plan dates further than this from today are refused: a typo, not a plan.
MAX_YEARS_FROM_TODAY = 3


def is_working_day(day: date, paused: Collection[date] = ()) -> bool:
    return day.weekday() < SATURDAY and day not in paused


def next_working_day(day: date, paused: Collection[date] = ()) -> date:
    """``day`` itself if it is a working day, else the first working day after it."""
    while not is_working_day(day, paused):
        day += timedelta(days=1)
    return day


def add_working_days(day: date, n: int, paused: Collection[date] = ()) -> date:
    """The ``n``-th working day after ``day``; with ``n`` 0, ``next_working_day(day)``."""
    if n <= 0:
        return next_working_day(day, paused)
    # Whole weeks at once (5 working days each), then day by day; paused days in the way are
    # made up for afterwards, one working day each.
    target = day + timedelta(weeks=(n - 1) // 5)
    n -= 5 * ((n - 1) // 5)
    while n:
        target += timedelta(days=1)
        if target.weekday() < SATURDAY:
            n -= 1
    extra = sum(1 for d in paused if day < d <= target and d.weekday() < SATURDAY)
    while extra or not is_working_day(target, paused):
        target += timedelta(days=1)
        if is_working_day(target, paused):
            extra = max(0, extra - 1)
            if not extra:
                break
    return target


def working_days_between(start: date, end: date, paused: Collection[date] = ()) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not later)."""
    if end <= start:
        return 0
    days = (end - start).days
    weeks, rest = divmod(days, 7)
    count = 5 * weeks
    first = (start.weekday() + 1) % 7  # weekday of the first day after start
    count += sum(1 for k in range(rest) if (first + k) % 7 < SATURDAY)
    return count - sum(1 for d in paused if start < d <= end and d.weekday() < SATURDAY)


def weeks_after(kickoff: date, weeks: int) -> date:
    """The date ``weeks`` weeks after ``kickoff``; a Saturday or Sunday moves to the Monday after.

    Deadlines are working days: a kick-off on a weekend would otherwise put every deadline of the
    plan on a weekend.
    """
    return next_working_day(kickoff + timedelta(weeks=weeks))


def week_due_date(step, kickoff: date) -> date | None:
    """The day a step with a due week falls due by weeks alone (weekends moved, holidays not); None without one."""
    if step.due_week is None:
        return None
    return weeks_after(kickoff, step.due_week_last or step.due_week)


def check_plannable(day: date, today: date, what: str = "kick-off"):
    """Refuse a plan date so far from today that it can only be a typo (and would overflow)."""
    limit = MAX_YEARS_FROM_TODAY * 365
    if abs((day - today).days) > limit:
        raise InvalidInput(
            f"The {what} date {day:%Y-%m-%d} is more than {MAX_YEARS_FROM_TODAY} years from today "
            f"({today:%Y-%m-%d}); give a date between {today - timedelta(days=limit):%Y-%m-%d} and "
            f"{today + timedelta(days=limit):%Y-%m-%d}."
        )


def plan_due_dates(steps, kickoff: date, calendars: Mapping | None = None) -> dict[str, tuple[date | None, date]]:
    """``{code: (window_start, due_date)}`` for template steps, planned from ``kickoff``.

    A step with a due week is due that many weeks after kick-off; a window (the launch, weeks
    11-12) is due at its end and opens at its start. It is never due before a step of the other
    side it waits on, and keeps at least the days it keeps after that hand-over (``kept_days``: the
    roadmap's week before its due week, or its ``keeps_days``). A step without a due week (TradingView's own tasks) is due
    ``turnaround_days`` working days after the plan makes it actionable: after the latest due date
    of the steps it depends on, or after kick-off when it depends on none; with no turnaround when
    it prepares during the other side's week (``prepares_during_week``).

    ``calendars`` maps a side to its ``roadmap.calendars.WorkingCalendar``: each step is due on a
    working day of its own side's calendar (a holiday moves it to the next working day), and a
    turnaround counts that side's working days. Without it, weekends only.
    """
    steps = sorted(steps, key=lambda s: s.position)
    by_code = {step.code: step for step in steps}
    off = {side: cal.days_not_worked([kickoff]) for side, cal in (calendars or {}).items()}
    plan: dict[str, tuple[date | None, date]] = {}
    for step in steps:
        days_off = off.get(step.side, ())
        missing = [code for code in step.depends_on if code not in plan]
        if missing:
            raise InvalidTemplate(
                f"Step {step.code!r} depends on {', '.join(map(repr, missing))}, which is not an earlier step."
            )
        handovers = [plan[code][1] for code in step.depends_on if by_code[code].side != step.side]
        if step.due_week is not None:
            due = next_working_day(weeks_after(kickoff, step.due_week_last or step.due_week), days_off)
            start = next_working_day(weeks_after(kickoff, step.due_week), days_off) if step.due_week_last else None
            if handovers:
                due = max(due, add_working_days(max(handovers), kept_days(step, kickoff, days_off), days_off))
            plan[step.code] = (start, due)
            continue
        actionable = max((plan[code][1] for code in step.depends_on), default=kickoff)
        turnaround = 0 if prepares_during_week(step, steps) else step.turnaround_days
        plan[step.code] = (None, add_working_days(actionable, turnaround, days_off))
    return plan


def kept_days(step, kickoff: date, days_off: Collection[date] = ()) -> int:
    """The least working days ``step`` (with a due week) keeps after a hand-over from the other side.

    Its ``keeps_days`` when the template sets them; else the working days of its side in the
    roadmap's week before its due week (its first week for a window), holidays off.
    """
    keeps = getattr(step, "keeps_days", None)
    if keeps is not None:
        return keeps
    week = max(step.due_week - 1, 0)
    return working_days_between(weeks_after(kickoff, week), weeks_after(kickoff, step.due_week), days_off)


def due_words(step, steps) -> str:
    """When a step is due by its template, in words: "week 4", "weeks 11-12", its turnaround, or, for a task
    prepared during the other side's week (``prepares_during_week``), with that side's step before it; a
    task not prepared ahead and a step keeping set days after a hand-over say so ("week 8, at least 2
    working days after the hand-over"). ``steps``: its roadmap's steps (a template's, or an
    integration's), which decide the preparing."""
    other = "partner" if step.side == "tradingview" else "TradingView"  # Side.TRADINGVIEW (models import this)
    if step.due_week is None and prepares_during_week(step, steps):
        return f"with the {other}'s step before it (prepared during the {other}'s week)"
    if step.due_week is None:
        words = f"{working_days_text(step.turnaround_days)} after it becomes actionable"
        if not getattr(step, "prepared_ahead", True):
            words += f" (not prepared ahead: it works on what the {other} hands over)"
        return words
    if step.due_week_last:
        return f"weeks {step.due_week}-{step.due_week_last}"
    keeps = getattr(step, "keeps_days", None)
    if keeps is not None:
        return f"week {step.due_week}, at least {working_days_text(keeps)} after the hand-over"
    return f"week {step.due_week}"


def working_days_text(n: int) -> str:
    """A count of working days with its unit, "1 working day", "3 working days": how every surface says one."""
    return f"{n} working day{'' if n == 1 else 's'}"


def prepares_during_week(step, steps) -> bool:
    """Whether ``step`` (without a due week) is planned with no turnaround: the roadmap gives the other
    side exactly one week between ``step``'s latest prerequisite of that side and the first step of
    that side waiting on ``step`` (4->5, 5->6, 6->7, 9->10), so the week is the other side's and
    ``step`` is prepared while the other side finishes the step before. Never for a step that is not
    ``prepared_ahead`` (a testing round tests the fixes it waits on)."""
    if not getattr(step, "prepared_ahead", True):
        return False
    weeks = [s.due_week_last or s.due_week for s in steps if s.code in step.depends_on and s.side != step.side]
    after = [s.due_week for s in steps if step.code in s.depends_on and s.side != step.side]
    if not weeks or not after or None in weeks or None in after:
        return False
    return min(after) == max(weeks) + 1


def side_days(steps, plan: Mapping[str, tuple[date | None, date]], kickoff: date, calendars: Mapping | None = None):
    """``{code: n}``: the working days of its own side each step has in ``plan`` (``plan_due_dates``).

    From the latest hand-over the plan gives it (the due date of its latest prerequisite of the other
    side, or kick-off) to its due date, in its side's calendar: a side's own steps one after another
    run in parallel (the partner passes its autotests while implementing its endpoints).
    """
    off = {side: cal.days_not_worked([kickoff]) for side, cal in (calendars or {}).items()}
    by_code = {step.code: step for step in steps}
    days = {}
    for step in steps:
        handovers = [plan[c][1] for c in step.depends_on if c in plan and by_code[c].side != step.side]
        start = max(handovers, default=kickoff)
        days[step.code] = working_days_between(start, plan[step.code][1], off.get(step.side, ()))
    return days


# Any Monday: a plan from a Monday without holidays gives each side the days the roadmap means.
REFERENCE_MONDAY = date(2026, 1, 5)


def roadmap_side_days(steps) -> dict[str, int]:
    """``side_days`` of a template's steps, planned from a Monday without holidays: the working days
    the roadmap itself gives each side for each step. ``{}`` for steps that cannot be planned."""
    steps = sorted(steps, key=lambda s: s.position)
    try:
        plan = plan_due_dates(steps, REFERENCE_MONDAY)
    except (InvalidTemplate, TypeError, ValueError, KeyError):
        return {}
    return side_days(steps, plan, REFERENCE_MONDAY)
