"""Due dates: when each step of a roadmap is due, counted from the kick-off date."""

from datetime import date, timedelta

SATURDAY = 5


def weeks_after(kickoff: date, weeks: int) -> date:
    """The date ``weeks`` weeks after ``kickoff``; a Saturday or Sunday moves to the Monday after.

    Deadlines are working days: a kick-off on a weekend would otherwise put every deadline of the
    plan on a weekend.
    """
    day = kickoff + timedelta(weeks=weeks)
    if day.weekday() >= SATURDAY:
        day += timedelta(days=7 - day.weekday())
    return day


def plan_due_dates(steps, kickoff: date) -> dict[str, tuple[date | None, date]]:
    """``{code: (window_start, due_date)}`` for template steps in position order.

    A step with a due week is due that many weeks after kick-off; a window (the launch, weeks
    11-12) is due at its end and opens at its start. A step without a due week (TradingView's own
    tasks) is due when the next step with a due week is due: it must be done in time for the
    partner step it enables.
    """
    steps = sorted(steps, key=lambda s: s.position)
    plan: dict[str, tuple[date | None, date]] = {}
    pending: list[str] = []
    for step in steps:
        if step.due_week is None:
            pending.append(step.code)
            continue
        if step.due_week_last:
            window = (weeks_after(kickoff, step.due_week), weeks_after(kickoff, step.due_week_last))
        else:
            window = (None, weeks_after(kickoff, step.due_week))
        for code in pending:
            plan[code] = (None, window[1] if window[0] is None else window[0])
        pending = []
        plan[step.code] = window
    if pending:
        raise ValueError(f"Steps {', '.join(pending)} have no later step with a due week to be due with.")
    return plan
