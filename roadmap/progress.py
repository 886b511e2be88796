"""Where an integration stands: who holds the ball, what is late, when it will launch.

These rules read planned steps by attribute, so they work on model instances and on plain
objects alike. A planned step has ``code``, ``side``, ``position``, ``status``, ``due_date``
(a date or None), ``depends_on`` (codes of earlier steps) and ``completed_on`` (a date, for
done steps). "Today" is always passed in, so the rules are exact under test.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from roadmap.models import OPEN_STATUSES, SETTLED_STATUSES, Side, StepStatus


def is_open(step) -> bool:
    return step.status in OPEN_STATUSES


def actionable_steps(steps: Iterable) -> list:
    """Open steps whose prerequisites are all settled (done or not applicable), in order."""
    steps = sorted(steps, key=lambda s: s.position)
    status = {s.code: s.status for s in steps}
    return [
        s
        for s in steps
        if is_open(s) and all(status.get(code, StepStatus.DONE) in SETTLED_STATUSES for code in s.depends_on)
    ]


def waiting_on(step, steps: Iterable) -> list:
    """The prerequisites of ``step`` that are not settled yet."""
    by_code = {s.code: s for s in steps}
    return [by_code[c] for c in step.depends_on if c in by_code and by_code[c].status not in SETTLED_STATUSES]


def days_overdue(step, today: date) -> int:
    """Days an open step is past its due date (0 if not due yet, settled or undated)."""
    if not is_open(step) or step.due_date is None or today <= step.due_date:
        return 0
    return (today - step.due_date).days


def days_late(step) -> int:
    """Days after its due date that a done step was completed."""
    if step.status != StepStatus.DONE or not step.completed_on or not step.due_date:
        return 0
    return max(0, (step.completed_on - step.due_date).days)


@dataclass
class BallInCourt:
    """The actionable steps of an integration, grouped by the side that owes them."""

    tradingview: list = field(default_factory=list)
    partner: list = field(default_factory=list)

    @property
    def side(self) -> str | None:
        """``tradingview``, ``partner``, ``both``, or None when nothing is owed."""
        if self.tradingview and self.partner:
            return "both"
        if self.tradingview:
            return Side.TRADINGVIEW.value
        if self.partner:
            return Side.PARTNER.value
        return None

    def for_side(self, side: str) -> list:
        return self.tradingview if side == Side.TRADINGVIEW else self.partner


def ball_in_court(steps: Iterable) -> BallInCourt:
    """Who owes the next moves: actionable steps split by side, each in roadmap order."""
    ball = BallInCourt()
    for step in actionable_steps(steps):
        ball.for_side(step.side).append(step)
    return ball


def current_step(steps: Iterable):
    """The earliest actionable step: the one a PM asks about first. None when all are settled."""
    actionable = actionable_steps(steps)
    return actionable[0] if actionable else None


def forecast_finishes(steps: Iterable, today: date, paused_days: int = 0) -> dict[str, date]:
    """The date each step is expected to be settled, keeping the plan's gaps between steps.

    A done step finished when it was completed. An open step finishes at its due date, moved by
    ``paused_days`` while the integration is paused, and no earlier than its prerequisites'
    forecast plus the planned gap between their due dates and its own; an open step cannot
    finish before today. So one step running late moves every step after it by as much,
    through steps that do not apply as well.
    """
    steps = sorted(steps, key=lambda s: s.position)
    finish: dict[str, date] = {}
    due: dict[str, date | None] = {}
    for step in steps:
        deps = [c for c in step.depends_on if c in finish]
        planned = step.due_date + timedelta(days=paused_days) if step.due_date and is_open(step) else step.due_date
        due[step.code] = planned
        if step.status == StepStatus.DONE:
            finish[step.code] = step.completed_on or planned or today
            continue
        expected = planned or today
        for code in deps:
            gap = (planned - due[code]).days if planned and due[code] else 0
            expected = max(expected, finish[code] + timedelta(days=max(0, gap)))
        # A step that does not apply takes no time but passes its prerequisites' delay on.
        finish[step.code] = expected if step.status == StepStatus.NOT_APPLICABLE else max(expected, today)
    return finish


def forecast_launch(steps: Iterable, today: date, paused_days: int = 0) -> date | None:
    """The forecast date of the last step of the roadmap (the launch)."""
    steps = sorted(steps, key=lambda s: s.position)
    if not steps:
        return None
    return forecast_finishes(steps, today, paused_days)[steps[-1].code]


@dataclass(frozen=True)
class StepChangeOnDay:
    """A step's status and due date as they stood after a change made on ``day``."""

    day: date
    status: str
    due_date: date | None


@dataclass
class StepTimeline:
    code: str
    side: str
    depends_on: list
    changes: list  # of StepChangeOnDay, oldest first


@dataclass(frozen=True)
class DelaySplit:
    """Days lost to lateness, by who held the ball on each such day."""

    tradingview: int = 0
    partner: int = 0
    both: int = 0
    paused: int = 0

    @property
    def total(self) -> int:
        return self.tradingview + self.partner + self.both


def delay_split(
    timelines: list[StepTimeline], kickoff: date, today: date, paused_on: set[date] = frozenset()
) -> DelaySplit:
    """Split the days lost so far between the sides, from the steps' recorded history.

    Each day after kick-off up to today is looked at as it stood at the start of that day
    (changes made on earlier days applied). The day is lost if a step that was actionable then
    was late; it counts against the side that owed that step, or against both when each side
    owed a late step. Days in ``paused_on`` count as paused instead.

    A step is late once past its due date, moved later by as much as its prerequisites were
    completed late (keeping the planned gap): a side that receives the ball late is not blamed
    for the days the other side already lost. So the split adds up to the slip of the plan.
    """
    counts = {"tradingview": 0, "partner": 0, "both": 0, "paused": 0}
    day = kickoff + timedelta(days=1)
    while day <= today:
        if day in paused_on:
            counts["paused"] += 1
        else:
            late_sides = _late_sides_at_start_of(day, timelines)
            if len(late_sides) == 2:
                counts["both"] += 1
            elif late_sides:
                counts[late_sides.pop()] += 1
        day += timedelta(days=1)
    return DelaySplit(**counts)


def _late_sides_at_start_of(day: date, timelines: list[StepTimeline]) -> set[str]:
    state: dict[str, StepChangeOnDay | None] = {}
    settled_on: dict[str, date] = {}
    for timeline in timelines:
        current = None
        for change in timeline.changes:
            if change.day >= day:
                break
            if change.status in SETTLED_STATUSES and (current is None or current.status not in SETTLED_STATUSES):
                settled_on[timeline.code] = change.day
            current = change
        state[timeline.code] = current
    sides = set()
    for timeline in timelines:
        current = state[timeline.code]
        if current is None or current.status not in OPEN_STATUSES or current.due_date is None:
            continue
        prerequisites = [code for code in timeline.depends_on if code in state]
        if not all(state[c] is not None and state[c].status in SETTLED_STATUSES for c in prerequisites):
            continue
        due = current.due_date
        for code in prerequisites:
            dep = state[code]
            if dep.status == StepStatus.DONE and dep.due_date:
                gap = max(0, (current.due_date - dep.due_date).days)
                due = max(due, settled_on[code] + timedelta(days=gap))
        if due < day:
            sides.add(timeline.side)
    return sides
