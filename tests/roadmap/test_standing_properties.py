"""Properties of the standing rules over random plans and histories (hypothesis).

Whatever the plan (kick-off weekday, due weeks, turnarounds) and whatever happened (steps done
early or late, not applicable, still open), the delay split adds up to the slip of the forecast
launch against the plan, a side shown overdue is charged, and a day that makes the launch slip
is charged to a side that is overdue on it (and a side is charged more only on a day it is overdue).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from roadmap import default_template
from roadmap.models import StepStatus
from roadmap.schedule import plan_due_dates
from roadmap.standing import Clock, actionable_steps, steps_standing


@dataclass
class TemplateRow:
    code: str
    side: str
    position: int
    depends_on: list
    due_week: int | None
    due_week_last: int | None
    turnaround_days: int


@dataclass
class Planned:
    code: str
    side: str
    position: int
    depends_on: list
    planned_due_date: date
    status: str = StepStatus.NOT_STARTED
    completed_at: datetime | None = None
    extra: dict = field(default_factory=dict)


@st.composite
def plans(draw):
    """The default roadmap's shape with random due weeks (never going backwards) and turnarounds."""
    kickoff = date(2026, 1, 5) + timedelta(days=draw(st.integers(0, 13)))
    week = 0
    rows = []
    for position, row in enumerate(default_template.STEPS, start=1):
        due_week = due_week_last = None
        if row["due_week"] is not None:
            week = max(week, draw(st.integers(1, 3)) + week if row["side"] == "partner" else week + 1)
            due_week = week
            if row.get("due_week_last"):
                due_week_last = week + draw(st.integers(0, 2))
        rows.append(
            TemplateRow(
                row["code"], row["side"], position, row["depends_on"], due_week, due_week_last, draw(st.integers(0, 5))
            )
        )
    dates = plan_due_dates(rows, kickoff)
    return kickoff, [Planned(r.code, r.side, r.position, list(r.depends_on), dates[r.code][1]) for r in rows]


@st.composite
def histories(draw):
    """A plan, then steps settled one by one in an order the rules allow, each early, on time or late."""
    kickoff, steps = draw(plans())
    day = kickoff
    for _ in range(draw(st.integers(0, len(steps)))):
        actionable = actionable_steps(steps)
        if not actionable:
            break
        if draw(st.integers(0, 9)) == 0:
            # A PM may mark any open step but the launch not applicable, even one still waiting.
            candidates = [s for s in steps[:-1] if s.status == StepStatus.NOT_STARTED]
            if candidates:
                draw(st.sampled_from(candidates)).status = StepStatus.NOT_APPLICABLE
            continue
        chosen = draw(st.sampled_from(actionable))
        offset = draw(st.integers(-10, 25))
        day = max(day, chosen.planned_due_date + timedelta(days=offset))
        chosen.status = StepStatus.DONE
        chosen.completed_at = datetime.combine(day, time(15), UTC)
    today = day + timedelta(days=draw(st.integers(0, 60)))
    paused = set()
    if draw(st.booleans()):
        # A pause somewhere between kick-off and today; nothing changes while paused.
        start = kickoff + timedelta(days=draw(st.integers(1, max(1, (today - kickoff).days))))
        paused = {start + timedelta(days=n) for n in range(draw(st.integers(1, 30)))}
        if any(s.completed_at and s.completed_at.date() in paused for s in steps):
            paused = set()
        paused = {d for d in paused if d < today}
    return kickoff, steps, today, frozenset(paused)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(histories())
def test_split_adds_up_to_the_slip_and_the_overdue_side_is_charged(history):
    kickoff, steps, today, paused = history
    step_standing = steps_standing(steps, kickoff, Clock.on(today), paused)

    slip = max(0, (step_standing.forecast_launch - step_standing.planned_launch).days)
    assert step_standing.split.total == slip == step_standing.slip_days
    for side in step_standing.overdue_sides():
        assert step_standing.split.charges(side) >= 1, (side, step_standing.split)
    for of_step in step_standing.steps.values():
        assert of_step.deadline >= of_step.planned >= of_step.step.planned_due_date


@settings(max_examples=200, deadline=None, derandomize=True)
@given(histories(), st.integers(1, 20))
def test_a_day_that_makes_the_launch_slip_is_charged_to_a_side_overdue_on_it(history, days):
    kickoff, steps, today, paused = history
    before = steps_standing(steps, kickoff, Clock.on(today), paused)
    for _ in range(days):
        today += timedelta(days=1)
        after = steps_standing(steps, kickoff, Clock.on(today), paused)
        assert after.slip_days >= before.slip_days  # nothing happened: nothing is won back
        overdue = after.overdue_sides()
        grew = {side for side in ("tradingview", "partner") if after.split.charges(side) > before.split.charges(side)}
        assert grew <= overdue, f"{grew - overdue} charged more on {today} without being overdue"
        if after.slip_days > before.slip_days:
            assert grew, "the launch slipped while no side was charged for it"
        before = after
