"""Properties of the standing rules over random plans and histories (hypothesis).

Whatever the plan (kick-off weekday, due weeks, turnarounds) and whatever happened (steps done
early or late, not applicable, still open), the delay split adds up to the slip of the forecast
launch against the plan, a side shown overdue is charged, and a day that makes the launch slip
is charged to a side that is overdue on it (and a side is charged more only on a day it is overdue).

Lives played day by day add reopens, re-plans and pauses: the same holds after each of them, a
done step stays done on the day it was done, a day charged before a reopen stays charged (while
the plan stays), and an ended integration's standing does not change as days pass.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from roadmap import default_template
from roadmap.models import StepStatus
from roadmap.schedule import plan_due_dates, working_days_between
from roadmap.standing import Clock, Reopen, actionable_steps, steps_standing, working_days_late


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
    reopens: tuple = ()


@st.composite
def plans(draw):
    """The default roadmap's shape with random due weeks (never going backwards) and turnarounds."""
    kickoff, rows = draw(templates())
    dates = plan_due_dates(rows, kickoff)
    return kickoff, [Planned(r.code, r.side, r.position, list(r.depends_on), dates[r.code][1]) for r in rows]


@st.composite
def templates(draw):
    """A kick-off and the default roadmap's rows with random due weeks (never going backwards) and turnarounds."""
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
    return kickoff, rows


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

    slip = working_days_late(step_standing.planned_launch, step_standing.forecast_launch, paused)
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


@dataclass
class Life:
    """A plan played day by day: ``standing(day)`` is what the rules say on ``day``."""

    kickoff: date  # the current plan's
    started_on: date  # the first kick-off
    steps: list
    paused: set = field(default_factory=set)
    day: date = date(2026, 1, 1)
    finished: dict = field(default_factory=dict)  # code -> the day it was done, while it stays done
    charged: dict = field(default_factory=dict)  # code -> its charges just before it was reopened, same plan
    story: list = field(default_factory=list)  # what happened, for a failing example's report
    broken: list = field(default_factory=list)  # days charged before a reopen that moved since

    def keep_track(self, settled: str = ""):
        """After a change: the split adds up, and each day charged before a reopen is still charged to the same side.

        Only the step that was settled may have won some back (finishing early, or not applying),
        the most recent first.
        """
        result = self.standing()
        try:
            check(result)
        except AssertionError as failed:
            self.broken.append(f"{self.day}: {failed}")
        for code, kept in self.charged.items():
            now = result.steps[code].charges
            if now[: len(kept)] != kept[: len(now)] or (len(now) < len(kept) and code != settled):
                self.broken.append(f"{self.day}: {code} was charged {kept} before its reopen, now {now}")
            self.charged[code] = kept[: len(now)]

    def __repr__(self):
        return f"Life(kickoff={self.started_on}, {'; '.join(self.story)})"

    def standing(self, day: date | None = None, frozen_on: date | None = None):
        clock = Clock.on(day or self.day)
        if frozen_on:
            clock = Clock(clock.now, clock.zones, frozen_on=frozen_on)
        return steps_standing(self.steps, self.kickoff, clock, frozenset(self.paused), self.started_on)


@st.composite
def lives(draw):
    """A plan, then day by day: steps done, reopened or marked not applicable, re-plans and pauses."""
    kickoff, rows = draw(templates())
    dates = plan_due_dates(rows, kickoff)
    steps = [Planned(r.code, r.side, r.position, list(r.depends_on), dates[r.code][1]) for r in rows]
    life = Life(kickoff, kickoff, steps, day=kickoff)
    launch = steps[-1]
    for n in range(draw(st.integers(0, 30))):
        life.day += timedelta(days=draw(st.integers(0, 6)))
        moment = datetime.combine(life.day, time(9), UTC) + timedelta(minutes=n)  # one change at a time
        action = draw(st.sampled_from(["done"] * 5 + ["reopen"] * 2 + ["not_applicable", "replan", "pause"]))
        if action == "done" and actionable_steps(steps):
            chosen = draw(st.sampled_from(actionable_steps(steps)))
            chosen.status, chosen.completed_at = StepStatus.DONE, moment
            life.story.append(f"{life.day} done {chosen.code}")
            life.finished[chosen.code] = max(life.day, life.started_on)  # the day it was done, for good
            life.keep_track(chosen.code)
            if chosen is launch:
                break
        elif action == "reopen":
            settled = [s for s in steps[:-1] if s.status in (StepStatus.DONE, StepStatus.NOT_APPLICABLE)]
            if settled:
                chosen = draw(st.sampled_from(settled))
                was = life.standing().steps[chosen.code]
                # What it was charged up to the day it was done (a step that did not apply only passed delays on).
                done = chosen.status == StepStatus.DONE
                life.charged[chosen.code] = (
                    was.charges[: working_days_between(was.planned, was.forecast, life.paused)] if done else []
                )
                undid = chosen.completed_at if done else None
                chosen.reopens += (Reopen(moment, undid),)
                chosen.status = StepStatus.IN_PROGRESS if undid else StepStatus.NOT_STARTED
                chosen.completed_at = None
                life.finished.pop(chosen.code, None)
                life.story.append(f"{life.day} reopen {chosen.code}")
                life.keep_track()
        elif action == "not_applicable":
            candidates = [s for s in steps[:-1] if s.status in (StepStatus.NOT_STARTED, StepStatus.IN_PROGRESS)]
            if candidates:
                chosen = draw(st.sampled_from(candidates))
                chosen.status = StepStatus.NOT_APPLICABLE
                life.story.append(f"{life.day} not applicable {chosen.code}")
                life.keep_track(chosen.code)
        elif action == "replan":
            # A new kick-off, earlier or later; the plan moves, what happened stays.
            life.kickoff = life.kickoff + timedelta(days=draw(st.integers(-20, 40)) or 1)
            dates = plan_due_dates(rows, life.kickoff)
            for s in steps:
                s.planned_due_date = dates[s.code][1]
            life.charged.clear()  # lateness is measured against the new plan
            life.story.append(f"{life.day} replan to {life.kickoff}")
            life.keep_track()
        else:
            # Nothing happens while paused; the days from the pause to the resume are not working days.
            length = draw(st.integers(1, 20))
            life.paused |= {life.day + timedelta(days=n) for n in range(length)}
            life.charged.clear()  # the plan moves by the working days paused
            life.story.append(f"{life.day} pause {length} days")
            life.day += timedelta(days=length)
    return life


def check(result, paused=()):
    """The split adds up to the slip (in working days), and a side shown overdue is charged."""
    slip = working_days_late(result.planned_launch, result.forecast_launch, paused)
    assert result.split.total == slip == result.slip_days
    for side in result.overdue_sides():
        assert result.split.charges(side) >= 1, (side, result.split)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(lives(), st.integers(0, 60))
def test_reopens_replans_and_pauses_keep_the_split_whole_and_the_past_as_it_was(life, later):
    today = life.day + timedelta(days=later)
    result = life.standing(today)

    check(result, life.paused)
    for code, day in life.finished.items():
        assert result.steps[code].forecast == day, f"{code} was done on {day}: {life}"
    assert not life.broken, life
    for code, kept in life.charged.items():
        assert result.steps[code].charges[: len(kept)] == kept, f"{code} was charged {kept} before its reopen: {life}"


@settings(max_examples=100, deadline=None, derandomize=True)
@given(lives(), st.integers(1, 20))
def test_after_a_reopen_a_day_that_makes_the_launch_slip_is_charged_to_a_side_overdue_on_it(life, days):
    day = life.day
    before = life.standing(day)
    for _ in range(days):
        day += timedelta(days=1)
        after = life.standing(day)
        check(after, life.paused)
        assert after.slip_days >= before.slip_days  # nothing happened: nothing is won back
        overdue = after.overdue_sides()
        grew = {side for side in ("tradingview", "partner") if after.split.charges(side) > before.split.charges(side)}
        assert grew <= overdue, f"{grew - overdue} charged more on {day} without being overdue"
        before = after


@settings(max_examples=100, deadline=None, derandomize=True)
@given(lives(), st.integers(1, 400))
def test_an_ended_integration_stands_still(life, later):
    ended = life.standing(life.day, frozen_on=life.day)
    much_later = life.standing(life.day + timedelta(days=later), frozen_on=life.day)

    assert much_later == ended, life
