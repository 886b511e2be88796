"""Where an integration stands: who holds the ball, what is late, when it will launch, and whose delay.

The rules, as the README states them for PMs:

- Each step has a planned date (from the kick-off; re-planning and pausing move it). A partner
  step is due at its roadmap week; a TradingView task a turnaround of working days after the plan
  makes it actionable, or with the partner's step before it where the partner has one week
  between the two (``roadmap.schedule.plan_due_dates``).
- A step keeps the time the plan gave it: it is due no earlier than its planned date, and no
  earlier than each prerequisite's finish plus the working days the plan put between the two.
  So a late hand-over moves the other side's deadline, and the delay is the hand-over's.
  A hand-over reaches a step on that step's side's working day on which it was done, in its zone
  and calendar: a partner west of TradingView done in its evening hands over on TradingView's next
  working day, and TradingView's task waiting on it is not due before then.
- A step that is open and actionable after its deadline is overdue, and owed by its side. Each
  overdue day moves the forecast of every step after it, and the launch, by a day.
- Days are working days wherever they are counted against a deadline or a plan (days overdue,
  days late, the slip and its split; ``working_days_late``), so the numbers add up.
- The slip is the forecast launch against the planned one. It is split by who lost each day: the
  side whose step was late, or both when a step of each side was late at once. Finishing a step
  early wins days back: first the finishing side's own, then the most recent. So the split
  always adds up to the slip, and a side shown overdue is charged for it.
- History is never rewritten. A done step's finish is the day it was done, whatever the plan
  became since. A reopened step owes new work from the reopen: it is due the working days the
  plan gave it after its latest prerequisite (a TradingView task, at least its turnaround),
  counted from the reopen; what depends on it, and what was done after it before the reopen,
  waits for it again. Days charged before the reopen stay charged to whoever lost them; the
  days the redo adds are the reopened step's side's.

Everything here is pure: steps are read by attribute (``code``, ``side``, ``position``,
``status``, ``depends_on``, ``planned_due_date``, ``completed_at``, ``reopens`` when a step
was ever reopened, and ``turnaround_days`` for a task without a due week) and "now" comes in through a ``Clock``, so the rules work on model instances
and plain objects alike and are exact under test.
"""

import functools
import operator
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from itertools import zip_longest

from roadmap.calendars import WEEKENDS_ONLY, WorkingCalendar
from roadmap.models import OPEN_STATUSES, SETTLED_STATUSES, Side, StepStatus
from roadmap.schedule import add_working_days, next_working_day, working_days_between

BOTH = "both"
_POSITION = operator.attrgetter("position")  # roadmap order: a sweep sorts hundreds of thousands of steps by it


@dataclass(frozen=True)
class Clock:
    """ "Today" for each side: a partner's deadline is a day in the partner's time zone.

    ``frozen_on`` stops the clock (a paused integration stands as of the day it paused).
    ``calendars`` holds each side's working calendar: a step's days are counted in the calendar
    of the side that owes it (weekends only for a side not in it).
    """

    now: datetime
    zones: Mapping[str, tzinfo]
    frozen_on: date | None = None
    calendars: Mapping[str, WorkingCalendar] = field(default_factory=dict)

    def calendar(self, side: str) -> WorkingCalendar:
        return self.calendars.get(side, WEEKENDS_ONLY)

    @classmethod
    def on(cls, day: date, zone: tzinfo = UTC) -> "Clock":
        """Noon on ``day`` in ``zone``, the same for both sides (for tests and benchmarks)."""
        return cls(datetime.combine(day, time(12), zone), {Side.TRADINGVIEW: zone, Side.PARTNER: zone})

    def today(self, side: str) -> date:
        return self.frozen_on or day_in(self.now, self.zones[side])

    def day(self, moment: datetime, side: str) -> date:
        """The calendar day of ``moment`` for ``side``: when a step of that side was finished."""
        return day_in(moment, self.zones[side])


def day_in(moment: datetime, zone: tzinfo) -> date:
    """The calendar day ``moment`` falls on in ``zone``: the one way a moment becomes a day here."""
    return moment.astimezone(zone).date()


def days_since(start: datetime | None, now: datetime, zone: tzinfo) -> int:
    """The days of ``zone`` from the one ``start`` begins (a midnight there) to ``now``'s, both counted.

    0 before ``start``. Calendar days, not spans of 24 hours: a change of daylight saving time
    between the two neither adds nor loses a day.
    """
    if start is None or now < start:
        return 0
    return (day_in(now, zone) - day_in(start, zone)).days + 1


def working_days_late(deadline: date, finish: date, paused: Collection[date] = ()) -> int:
    """The one count of days late: working days from ``deadline`` to ``finish``, paused days not counted.

    ``finish`` is the day a step was done, or for an open step the earliest day it can still be
    done (``next_working_day`` of today). So a step N days late is charged N days and moves what
    waits on it N working days: every page, list, export and message says days late, overdue,
    slip and charged in these working days. 0 when ``finish`` is not after ``deadline``.
    """
    return working_days_between(deadline, finish, paused)


def overdue_days(deadline: date, today: date, off: Collection[date] = ()) -> int:
    """The one count of an open step's days overdue on ``today``: ``working_days_late`` from ``deadline`` to the
    earliest day it can still be done (``next_working_day`` of today), ``off`` (the paused days and the owing
    side's days off) not counted. What the pages show and what the reminders and escalations count by.
    """
    if today <= deadline:
        return 0
    return working_days_late(deadline, next_working_day(today, off), off)


def is_open(step) -> bool:
    return step.status in OPEN_STATUSES


def awaiting_check(step) -> bool:
    """A fixing step (one with testing-round labels) the partner marked done, not yet checked by TradingView
    (``checking_since`` is set when the partner's side completes it, cleared by the check).

    It holds up what depends on it and the ball is TradingView's until the fixes are verified
    (``verified_at``). Its finish stays the day it was done: the check's time is TradingView's,
    taken from the turnaround of the step that follows it. Steps without these attributes (plain
    objects) are never awaiting a check.
    """
    return step.status == StepStatus.DONE and getattr(step, "checking_since", None) is not None


def holds_nothing_up(step) -> bool:
    """Settled (done or not applicable), and not done fixes waiting for TradingView's check."""
    return step.status in SETTLED_STATUSES and not awaiting_check(step)


@dataclass(frozen=True)
class Reopen:
    """A settled step sent back to work: when, and the finish it undid (None: it had not applied)."""

    at: datetime
    undid: datetime | None = None


def settled_codes(steps: Iterable) -> set[str]:
    """Codes of the steps that hold nothing up: done or not applicable, with their own prerequisites settled.

    A step that does not apply passes through: what depends on it waits for what it depended on.
    So does a step done before one of its prerequisites was reopened: what depends on it waits
    for the reopened step again.
    """
    steps = sorted(steps, key=_POSITION)
    settled: set[str] = set()
    known = {s.code for s in steps}
    for s in steps:
        deps_settled = all(code in settled or code not in known for code in s.depends_on)
        if holds_nothing_up(s) and deps_settled:
            settled.add(s.code)
    return settled


def actionable_steps(steps: Iterable) -> list:
    """Open steps whose prerequisites are all settled (see ``settled_codes``), in order."""
    steps = sorted(steps, key=_POSITION)
    known = {s.code for s in steps}
    settled = settled_codes(steps)
    return [s for s in steps if is_open(s) and all(c in settled or c not in known for c in s.depends_on)]


def waiting_on(step, steps: Iterable) -> list:
    """The open steps that ``step`` waits for: its prerequisites, and theirs behind steps that do not apply."""
    by_code = {s.code: s for s in steps}
    settled = settled_codes(by_code.values())
    waiting, seen = [], set()

    def visit(codes):
        for code in codes:
            if code in settled or code not in by_code or code in seen:
                continue
            seen.add(code)
            dep = by_code[code]
            if holds_nothing_up(dep):  # passes through: it waits for its own prerequisites
                visit(dep.depends_on)
            else:
                waiting.append(dep)

    visit(step.depends_on)
    return sorted(waiting, key=_POSITION)


@dataclass
class BallInCourt:
    """The actionable steps of an integration, grouped by the side that owes them."""

    tradingview: list = field(default_factory=list)
    partner: list = field(default_factory=list)

    @property
    def side(self) -> str | None:
        """``tradingview``, ``partner``, ``both``, or None when nothing is owed."""
        if self.tradingview and self.partner:
            return BOTH
        if self.tradingview:
            return Side.TRADINGVIEW.value
        if self.partner:
            return Side.PARTNER.value
        return None

    def for_side(self, side: str) -> list:
        return self.tradingview if side == Side.TRADINGVIEW else self.partner


def owed_steps(steps: Iterable, actionable: list | None = None) -> list:
    """The actionable steps and the fixes awaiting TradingView's check, in roadmap order.

    ``actionable``: ``actionable_steps(steps)`` when the caller has it already (a sweep works it out once).
    """
    steps = sorted(steps, key=_POSITION)
    actionable = {id(s) for s in (actionable_steps(steps) if actionable is None else actionable)}
    return [s for s in steps if id(s) in actionable or awaiting_check(s)]


def ball_in_court(steps: Iterable, owed: list | None = None) -> BallInCourt:
    """Who owes the next moves: actionable steps split by side, each in roadmap order; fixes done by
    the partner and not yet checked are TradingView's to check. ``owed``: ``owed_steps(steps)``, when known."""
    ball = BallInCourt()
    for step in owed_steps(steps) if owed is None else owed:
        ball.for_side(Side.TRADINGVIEW if awaiting_check(step) else step.side).append(step)
    return ball


def current_step(steps: Iterable, owed: list | None = None):
    """The earliest actionable step (or fixes awaiting their check): the one a PM asks about first.
    None when all are settled. ``owed``: ``owed_steps(steps)``, when known."""
    owed = owed_steps(steps) if owed is None else owed
    return owed[0] if owed else None


@dataclass(frozen=True)
class DelaySplit:
    """Days of slip, by who lost them."""

    tradingview: int = 0
    partner: int = 0
    both: int = 0

    @property
    def total(self) -> int:
        return self.tradingview + self.partner + self.both

    @classmethod
    def of(cls, charges: list[str]) -> "DelaySplit":
        return cls(charges.count(Side.TRADINGVIEW), charges.count(Side.PARTNER), charges.count(BOTH))

    def charges(self, side: str) -> int:
        """Days charged to ``side``, its share of days lost by both included."""
        return getattr(self, side) + self.both


@dataclass(slots=True)
class StepStanding:
    """One step's deadline, forecast and lateness, as the rules give them today (slotted: a sweep makes one
    per step of the portfolio)."""

    step: object
    planned: date  # the plan's date, moved later by the working days the integration was paused
    deadline: date  # the date it is due: planned date, moved by late hand-overs already made
    forecast: date  # when it is settled, or expected to be; for a done step, the day it was done
    fixed: bool  # what it hands over is known (done, or not applicable after finished prerequisites)
    days_overdue: int = 0  # open, actionable and past its deadline
    days_late: int = 0  # done after its deadline
    charges: list = field(default_factory=list, repr=False)  # who lost each working day of its slip
    hands_over: date | None = None  # when what depends on it can go on: its forecast, or later when it waits again
    restart: date | None = None  # reopened: the plan's turnaround counted from the reopen
    done_at: datetime | None = field(default=None, repr=False)  # the moment it was done (done steps)
    since: datetime | None = field(default=None, repr=False)  # the reopen it owes its work again from


@dataclass
class StepsStanding:
    steps: dict  # code -> StepStanding, in roadmap order
    planned_launch: date | None  # the date the launch is due: the agreed date once agreed, else the plan's
    forecast_launch: date | None
    split: DelaySplit
    plan_launch: date | None = None  # the plan's launch (its weeks from kick-off), agreed or not

    @property
    def slip_days(self) -> int:
        return self.split.total

    def overdue(self) -> list[StepStanding]:
        return [o for o in self.steps.values() if o.days_overdue]

    def overdue_sides(self) -> set[str]:
        return {o.step.side for o in self.overdue()}


def steps_standing(
    steps: Iterable,
    kickoff: date,
    clock: Clock,
    paused: Collection[date] = (),
    started_on: date | None = None,
    agreed_launch: date | None = None,
    actionable: Collection[str] | None = None,
) -> StepsStanding:
    """Deadlines, forecasts, overdue days and the delay split of planned steps (see module doc).

    ``paused`` holds the days the integration was paused: they are not working days. So the clock
    is stopped for both sides: every date the plan put after a pause moves later by the working
    days paused, a hand-over's time does not run while paused, and nobody is late on a paused day. Who lost each day is tracked in
    working days along the plan, and the split is in working days, as every count of days late
    (``working_days_late``), so weekends neither create nor hide a side's delay. ``started_on`` is
    the first kick-off (``kickoff`` when not re-planned): a step done before it counts as done on it.

    ``agreed_launch``: the launch date both sides agreed. The launch (the last step) is due on it
    instead of the plan's date, a calendar day pauses do not move, so the slip and its split
    are counted against it; ``plan_launch`` keeps the plan's date.

    ``actionable``: the codes of ``actionable_steps(steps)``, when the caller has worked them out already.
    """
    steps = sorted(steps, key=_POSITION)
    if not steps:
        return StepsStanding({}, None, None, DelaySplit())
    rules = _Rules(steps, kickoff, started_on or kickoff, clock, frozenset(paused), actionable)
    plan_launch = rules.planned[steps[-1].code]
    if agreed_launch is not None:
        rules.agree(steps[-1].code, agreed_launch)
    by_code = {step.code: rules.at(step.code) for step in steps}
    launch = by_code[steps[-1].code]
    planned_launch = launch.planned
    return StepsStanding(
        steps=by_code,
        planned_launch=planned_launch,
        forecast_launch=launch.forecast,
        # Working days, as charged: a side charged N days moved the launch N working days.
        split=DelaySplit.of(
            _resize(
                launch.charges,
                _days_late(planned_launch, launch.forecast, rules.off[launch.step.side]),
                launch.step.side,
            )
        ),
        plan_launch=plan_launch,
    )


class _Rules:
    """The rules applied to one integration's steps, now or as they stood at a past moment.

    A step stood differently at a past moment only when it, or a step before it, was reopened
    since: the standings at past moments are worked out for those alone, once each.
    """

    def __init__(
        self,
        steps: list,
        kickoff: date,
        started_on: date,
        clock: Clock,
        paused: frozenset,
        actionable: Collection[str] | None = None,
    ):
        self.kickoff, self.started_on, self.clock, self.paused = kickoff, started_on, clock, paused
        self.steps = {s.code: s for s in steps}
        self.actionable = set(actionable) if actionable is not None else {s.code for s in actionable_steps(steps)}
        # Days a side does not work: the paused days, and its calendar's holidays and days off.
        around = [kickoff, started_on, clock.now.date()]
        holidays = {side: clock.calendar(side).days_not_worked(around) for side in {s.side for s in steps}}
        # Not paused (most integrations): the calendar's own set, the same object for a whole sweep,
        # so the day counts below are remembered across integrations.
        self.off = {side: paused | days if paused else days for side, days in holidays.items()}
        self.today = {side: clock.today(side) for side in holidays}
        self.planned = {s.code: _after_pauses(s.planned_due_date, kickoff, paused, holidays[s.side]) for s in steps}
        # The last reopen of the step or of one before it: none at all for most integrations.
        self.reopened: dict[str, datetime | None] = dict.fromkeys(self.steps)
        self.ever_reopened = any(getattr(s, "reopens", ()) for s in steps)
        if self.ever_reopened:
            for s in steps:
                moments = [r.at for r in getattr(s, "reopens", ())]
                moments += [self.reopened[c] for c in s.depends_on if self.reopened.get(c)]
                self.reopened[s.code] = max(moments, default=None)
        self.known: dict[tuple, StepStanding] = {}
        self.agreed: set[str] = set()  # steps due on a date both sides agreed

    def agree(self, code: str, day: date):
        """``code`` is due on ``day``, agreed by both sides: due then, or as soon as its prerequisites
        are done if they finish later (the plan's gap after them no longer holds)."""
        self.planned[code] = day
        self.agreed.add(code)

    def at(self, code: str, moment: datetime | None = None) -> StepStanding:
        """The step as it stands now (``moment`` None), or as it stood at ``moment``."""
        if moment is not None:
            last = self.reopened[code]
            if last is None or moment > last:
                moment = None  # nothing was reopened since: as it stands now
        key = (code, moment)
        known = self.known.get(key)
        if known is None:
            step = self.steps[code]
            status, completed_at, reopens = step.status, step.completed_at, tuple(getattr(step, "reopens", ()))
            if moment is not None:
                # A reopen at the very moment came after it: what was done then saw the step settled.
                later = [i for i, r in enumerate(reopens) if r.at >= moment]
                if later:  # then it stood settled, as the first reopen since found it
                    first = reopens[later[0]]
                    status = StepStatus.DONE if first.undid else StepStatus.NOT_APPLICABLE
                    completed_at, reopens = first.undid, reopens[: later[0]]
            known = self.known[key] = self._episode(step, status, completed_at, reopens, moment)
        return known

    def _handovers(
        self, planned: date, deps: list, paused: frozenset, side: str, agreed: bool = False
    ) -> tuple[date, date, list, bool]:
        """Deadline and expected finish a step gets from ``deps``, who lost the days they add, all known.

        ``paused``: the days the step's side does not work (the time the plan gave it is its side's).
        ``agreed``: the step is due on an agreed date, and on the day its prerequisites are done if later.
        ``side``: the step's (``handover``).
        """
        deadline = expected = planned
        contributions = []
        fixed = True
        for dep in deps:
            handover = self.handover(dep, planned, paused, side, agreed)
            expected = max(expected, handover)
            if dep.fixed:
                deadline = max(deadline, handover)
            else:
                fixed = False
            if handover > planned:
                contributions.append(_resize(dep.charges, _working_days(planned, handover, paused), dep.step.side))
        return deadline, expected, contributions, fixed

    def handover(self, dep: StepStanding, planned: date, paused: frozenset, side: str, agreed: bool = False) -> date:
        """The day a step of ``side`` planned for ``planned`` is due at the earliest after ``dep``: the working days
        the plan put between the two after ``dep`` hands over (none for a date both sides agreed), and never before
        the working day of ``side`` (its zone, ``paused`` its days off) on which ``dep`` was done: a partner west of
        TradingView finishing on its due date in its evening is on time, and TradingView's task waiting on it is
        not due before TradingView's next working day. The days that adds are the hand-over's, as a late one's."""
        gap = 0 if agreed else _working_days(dep.planned, planned, paused)
        due = _add_working_days(dep.hands_over, gap, paused)
        if dep.done_at is None:
            return due
        return max(due, _next_working_day(max(self.clock.day(dep.done_at, side), self.started_on), paused))

    def _episode(self, step, status, completed_at, reopens, moment) -> StepStanding:
        """The step with ``status`` since its last reopen (or ever), as it stands at ``moment`` (None: now).

        Before a reopen the step stood done (or not applicable): that standing, at the reopen,
        keeps the days charged until then.
        """
        paused, planned = self.off[step.side], self.planned[step.code]
        before = restart = None
        kept = []
        # A done step was done after its prerequisites as they were then.
        seen_at = completed_at if status == StepStatus.DONE else moment
        seen = [self.at(code, seen_at) for code in step.depends_on if code in self.steps]
        deadline, expected, contributions, fixed = self._handovers(
            planned, seen, paused, step.side, step.code in self.agreed
        )
        if not reopens:
            inherited = _resize(_merge(contributions), _working_days(planned, expected, paused), step.side)
        else:
            last = reopens[-1]
            settled_as = StepStatus.DONE if last.undid else StepStatus.NOT_APPLICABLE
            before = self._episode(step, settled_as, last.undid, reopens[:-1], last.at)
            if status != StepStatus.NOT_APPLICABLE:
                # New work from the reopen: the working days the plan gave it after its latest prerequisite,
                # and at least its turnaround: a task the plan had prepared during the other side's week
                # (no working day after it) is done again from scratch.
                latest = max((dep.planned for dep in seen), default=self.kickoff)
                reopened = max(self.clock.day(last.at, step.side), self.started_on)
                redo = max(_working_days(latest, planned, paused), getattr(step, "turnaround_days", 0))
                restart = _add_working_days(reopened, redo, paused)
                deadline, expected = max(deadline, restart), max(expected, restart)
                contributions.append([step.side] * _working_days(planned, restart, paused))
            if settled_as == StepStatus.DONE:
                # Charged up to the day it was done; a delay it waited for since is its prerequisites' to keep.
                kept = before.charges[: _working_days(planned, before.forecast, paused)]
                expected = max(expected, before.forecast)  # it never hands over earlier than it did
            inherited = _after(kept, contributions, _working_days(planned, expected, paused), step.side)
        standing = StepStanding(step, planned, deadline, expected, fixed=False, restart=restart)
        standing.since = reopens[-1].at if reopens else None
        if status == StepStatus.DONE:
            standing.forecast = max(self.clock.day(completed_at, step.side), self.started_on)
            standing.done_at = completed_at
            standing.fixed = True
            standing.days_late = _days_late(deadline, standing.forecast, paused)
        elif status == StepStatus.NOT_APPLICABLE:
            # Takes no time, but passes its prerequisites' delay on to the steps after it.
            standing.fixed = fixed
        else:
            today = self.today[step.side]
            # An open step is finished on a working day, today at the earliest.
            standing.forecast = max(expected, _next_working_day(today, paused))
            if moment is None and step.code in self.actionable:
                standing.days_overdue = _overdue_days(deadline, today, paused)
        if standing.forecast >= expected:
            own = _working_days(expected, standing.forecast, paused)
            standing.charges = inherited + [step.side] * own
        else:
            won = _working_days(standing.forecast, expected, paused)
            standing.charges = _win_back(inherited, won, step.side, kept=len(kept))
        standing.hands_over = standing.forecast
        # Without a reopen every step stands at any moment as it stands now: nothing waits again.
        if status == StepStatus.DONE and seen_at != moment and self.ever_reopened:
            self._wait_again(standing, seen, [self.at(code, moment) for code in step.depends_on if code in self.steps])
        return standing

    def _wait_again(self, standing: StepStanding, seen: list, now: list):
        """A step done before a step it waits for was reopened hands over no earlier than the redo does.

        It stays done on its day, with the days charged then; the days the redo adds after that
        are charged as the redo's.
        """
        redone = [
            dep
            for dep, was in zip(now, seen, strict=True)
            if (dep.hands_over, dep.fixed) != (was.hands_over, was.fixed)
        ]
        if not redone:
            return
        paused, planned = self.off[standing.step.side], standing.planned
        contributions = []
        for dep in redone:
            handover = self.handover(dep, planned, paused, standing.step.side)
            standing.hands_over = max(standing.hands_over, handover)
            if handover > planned:
                contributions.append(_resize(dep.charges, _working_days(planned, handover, paused), dep.step.side))
        standing.fixed = all(dep.fixed for dep in redone)
        days = _working_days(planned, standing.hands_over, paused)
        standing.charges = _after(standing.charges, contributions, days, redone[0].step.side)


# The day counts of the rules, remembered: a sweep asks the same counts of thousands of integrations (the
# same kick-off weekdays, template and calendar), and each count walks the days off it is given. Only
# frozen sets of days off are passed here (``_Rules.off``), so the arguments are the key.
_working_days = functools.lru_cache(maxsize=1 << 16)(working_days_between)
_add_working_days = functools.lru_cache(maxsize=1 << 16)(add_working_days)
_next_working_day = functools.lru_cache(maxsize=1 << 12)(next_working_day)
_days_late = functools.lru_cache(maxsize=1 << 14)(working_days_late)
_overdue_days = functools.lru_cache(maxsize=1 << 14)(overdue_days)


def _after_pauses(planned: date, kickoff: date, paused: frozenset, holidays: frozenset = frozenset()) -> date:
    """``planned`` moved later by the paused working days before it: the same working days after kick-off.

    ``holidays``: the days the step's side does not work anyway, counted neither before nor after.
    """
    if not paused or planned < min(paused):
        return planned
    return add_working_days(kickoff, working_days_between(kickoff, planned, holidays), paused | holidays)


def _after(kept: list[str], charge_lists: list[list[str]], days: int, fallback: str) -> list[str]:
    """``kept`` (days already charged), then who lost each day after them up to ``days``, day by day."""
    if days <= len(kept):
        return kept[:days]
    tails = [charges[len(kept) :] for charges in charge_lists]
    return kept + _resize(_merge(tails), days - len(kept), fallback)


def _merge(charge_lists: list[list[str]]) -> list[str]:
    """Day by day, who lost it: one side, or both when each side lost that day on some path.

    May return one of ``charge_lists`` itself: its callers cut or stretch it into a new list (``_resize``)."""
    if len(charge_lists) < 2:  # no path or one: most steps of a sweep
        return charge_lists[0] if charge_lists and charge_lists[0] else []
    lists = [charges for charges in charge_lists if charges]
    if not lists:
        return []
    first = lists[0]
    if len(lists) == 1 or all(charges == first for charges in lists[1:]):
        return first  # one path (or all alike): the daily sweeps' common case
    if len(lists) == 2:
        # Two paths (a step waiting on both sides): day by day the same side, or both; then the longer one's days.
        a, b = lists
        merged = [x if x == y else BOTH for x, y in zip(a, b, strict=False)]
        return merged + (a if len(a) > len(b) else b)[len(merged) :]
    merged = []
    for sides in zip_longest(*lists):
        sides = set(sides)
        sides.discard(None)  # a shorter path has ended
        merged.append(sides.pop() if len(sides) == 1 else BOTH)
    return merged


def _resize(charges: list[str], days: int, fallback: str) -> list[str]:
    """``charges`` cut or stretched to ``days``; weekends between dates stretch the last day's side."""
    if days <= len(charges):
        return charges[:days]
    return charges + [charges[-1] if charges else fallback] * (days - len(charges))


def _win_back(charges: list[str], days: int, side: str, kept: int = 0) -> list[str]:
    """``charges`` less ``days`` days won back by ``side`` finishing early: its own days first.

    The first ``kept`` days were charged before a reopen: they are won back last, the most recent first.
    """
    kept = min(kept, len(charges))
    charges, head = list(charges[kept:]), charges[:kept]
    for wanted in (side, BOTH, None):
        for i in range(len(charges) - 1, -1, -1):
            if not days:
                return head + charges
            if wanted is None or charges[i] == wanted:
                del charges[i]
                days -= 1
    return head[: max(0, len(head) - days)] + charges
