"""How sure the launch forecast is: step durations learned from the portfolio, then simulated.

The rule-based forecast assumes every open step finishes on its deadline. This one learns how
long each step really takes (working days from the moment it became actionable, its
prerequisites settled, to its completion, the days the integration spent paused not counted),
by step code and side, from every finished step of the portfolio.

Learning by kind (pooling): a step's durations are also learned per group of integrations alike
in one trait (a data type, an authorisation type, the partner's kind), the traits named by the
caller. For one integration's step the most specific pool with enough history wins, in the order
the caller gives its traits: the first group with at least ``MIN_GROUP`` finished samples of the
step; else the side-level pool of every integration; and in every case the plan is the prior, a
log-normal around the working days the integration's own plan gives the step, worth
``PRIOR_WEIGHT`` observations, so a step with little history leans on the plan and the more
history, the less the plan counts. The risk sentence names the group its figure came from
("... across 14 crypto integrations").

Steps still running count in the history too (``History.weighted``): one open ``c`` working days
in a running integration lasts at least ``c``, and the durations are weighted by the product-limit
(Kaplan-Meier) rule. Learning from the finished steps alone left out the slow ones still in flight,
so the history looked short and the P85 came too early, the more so the more steps a roadmap runs
one after another (version 2's two rounds of final testing).

Censoring: a step still open ``d`` working days after it became actionable takes at least ``d``
(it may still finish today). Its duration is drawn from the learned durations of at least ``d``
(each with its weight) and the plan's log-normal beyond ``d`` (``PRIOR_WEIGHT`` times its mass there),
never from the shorter ones. When that is less than one observation's worth, the step has outrun what history and plan
know: its remaining days are drawn as a fresh step's (``d`` plus a new draw).

``forecast`` then runs the remaining steps in roadmap order a thousand times from today: a
done step stays done on its day, a step that does not apply passes its prerequisites through, an
actionable step already running is censored as above, and a later step starts when its
prerequisites finish. The launch's P50 and P85 are read off the runs, and the step whose
duration moves the launch most is named, with what its history says.

``forecast_many`` forecasts a portfolio at once: integrations of the same roadmap are simulated
together (numpy arrays of integrations by runs), each drawing from its own seed exactly as it
would alone (the same seed, the same dates), and integrations standing alike and seeded alike are
simulated once.

Pure: steps are read by attribute (``code``, ``side``, ``title``, ``position``, ``status``,
``depends_on``, ``planned_due_date``, ``completed_at``, and ``reopened_at`` when present), no
Django, numpy for the runs. Every date is a working-day offset from today while simulating.
"""

import functools
import math
import zlib
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, tzinfo
from statistics import NormalDist
from typing import NamedTuple

import numpy as np

from roadmap.schedule import add_working_days, working_days_between

DONE = "done"
NOT_APPLICABLE = "not_applicable"
PARTNER = "partner"
# The plan counts as this many observations of the step, spread as a log-normal of this sigma
# around the plan's duration: enough to shape a step with no history, soon outweighed.
PRIOR_WEIGHT = 3.0
PRIOR_SIGMA = 0.5
RUNS = 1000
# A group of integrations (a data type, an authorisation type, a partner kind) speaks for a step
# once it has this many finished samples of it; below, the side-level pool does.
MIN_GROUP = 8
# Below this many observations the sentence says the plan, not the history, drives the figure.
MIN_HISTORY = 3
# Durations are drawn once per step and plan duration into a pool this many runs long; each
# forecast takes a slice at a random start. The draws cost once per refresh, not per integration.
POOL_RUNS = 16
# The standard normal's quantiles on a fine grid: the plan's log-normal beyond a running step's
# days is drawn by inverting its tail (numpy has no inverse normal).
_NORMAL = NormalDist()
_P_GRID = np.linspace(1e-6, 1 - 1e-6, 4097)
_Z_GRID = np.array([_NORMAL.inv_cdf(p) for p in _P_GRID])


@functools.lru_cache(maxsize=65536)
def _between(start: date, end: date) -> int:
    # The same few hundred dates recur across a portfolio: count each pair once.
    return working_days_between(start, end)


def _day(moment, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def _done_days(steps: list, kickoff: date, zone: tzinfo) -> dict[str, date]:
    """``{code: day it was settled}`` for settled steps; a step that does not apply settles with its prerequisites."""
    settled: dict[str, date] = {}
    known = {s.code for s in steps}
    for s in sorted(steps, key=lambda s: s.position):
        # Most steps of a running integration are open: they settle nothing, whatever their prerequisites.
        if s.status == DONE:
            if s.completed_at is None:
                continue
        elif s.status != NOT_APPLICABLE:
            continue
        deps = [c for c in s.depends_on if c in known]
        if any(c not in settled for c in deps):
            continue
        if s.status == DONE:
            settled[s.code] = max(kickoff, _day(s.completed_at, zone))
        else:
            settled[s.code] = max((settled[c] for c in deps), default=kickoff)
    return settled


def actionable_on(step, settled: dict[str, date], kickoff: date, zone: tzinfo = UTC) -> date:
    """The day ``step`` became actionable: its last prerequisite settled (kick-off without any), or its reopen."""
    day = max((settled.get(c, kickoff) for c in step.depends_on), default=kickoff)
    reopened = getattr(step, "reopened_at", None)
    if reopened is not None:
        day = max(day, _day(reopened, zone))
    return max(day, kickoff)


def finished_durations(
    steps: Iterable, kickoff: date, zone: tzinfo = UTC, paused: Collection[date] = ()
) -> list[tuple[tuple[str, str], int]]:
    """``[((code, side), working days)]``: how long each finished step took after it became actionable.

    ``paused`` holds the days the integration spent paused: they are not counted.
    """
    return step_durations(steps, kickoff, None, zone, paused)[0]


def running_durations(
    steps: Iterable, kickoff: date, today: date, zone: tzinfo = UTC, paused: Collection[date] = ()
) -> list[tuple[tuple[str, str], int]]:
    """``[((code, side), working days)]``: how long each step still open on ``today`` has run since it became actionable.

    Only steps whose prerequisites are settled and that became actionable before ``today``; ``paused``
    days are not counted.
    """
    return step_durations(steps, kickoff, today, zone, paused)[1]


def step_durations(
    steps: Iterable, kickoff: date, running_on: date | None, zone: tzinfo = UTC, paused: Collection[date] = ()
) -> tuple[list, list]:
    """``finished_durations`` and, with a ``running_on`` day, ``running_durations`` up to it: one reading of the steps.

    The refresh learns both from every running integration: settling the steps once, not once for
    each, and counting the working days of the few recurring date pairs once per process.
    """
    steps = list(steps)
    settled = _done_days(steps, kickoff, zone)
    count = functools.partial(working_days_between, paused=paused) if paused else _between
    known = {s.code for s in steps}
    finished, running = [], []
    for s in steps:
        if s.status == DONE:
            if s.code in settled:
                start = actionable_on(s, settled, kickoff, zone)
                finished.append(((s.code, s.side), count(start, settled[s.code])))
            continue
        if running_on is None or s.status == NOT_APPLICABLE:
            continue
        if any(c in known and c not in settled for c in s.depends_on):
            continue
        start = actionable_on(s, settled, kickoff, zone)
        if start < running_on:
            running.append(((s.code, s.side), count(start, running_on)))
    return finished, running


def plan_durations(steps: Iterable, kickoff: date) -> dict[str, int]:
    """``{code: working days}`` the plan gives each step after its prerequisites' planned dates (at least 1)."""
    steps = sorted(steps, key=lambda s: s.position)
    planned = {s.code: s.planned_due_date for s in steps if s.planned_due_date is not None}
    out = {}
    for s in steps:
        if s.code not in planned:
            continue
        start = max((planned[c] for c in s.depends_on if c in planned), default=kickoff)
        out[s.code] = max(1, _between(start, planned[s.code]))
    return out


@dataclass
class History:
    """Observed durations in working days, by ``(code, side)`` and by ``(code, side, trait)``.

    ``observed`` holds finished steps' durations; ``running`` the days run so far by steps still
    open, each lasting at least that long (see ``weighted``).
    """

    observed: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    running: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    # What is drawn or read from ``observed`` once, then reused: the pools, the keys, the medians.
    made: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def learn(cls, integrations: Iterable[tuple], zone: tzinfo = UTC) -> "History":
        """From ``(steps, kickoff)`` or ``(steps, kickoff, paused days, traits, running on)``: every finished step, once.

        ``running on`` (a day, or None) is the day a running integration's open steps have run up to:
        each counts as lasting at least the working days it has run by then. Each duration counts in
        its side-level pool and in the pool of each of its integration's traits.
        """
        found: dict[tuple, list[int]] = defaultdict(list)
        still: dict[tuple, list[int]] = defaultdict(list)
        for steps, kickoff, *more in integrations:
            paused, traits, running_on = (*more, (), (), None)[:3]
            finished, running = step_durations(steps, kickoff, running_on, zone, paused)
            for into, durations in ((found, finished), (still, running)):
                for key, days in durations:
                    into[key].append(days)
                    for trait in traits:
                        into[(*key, trait)].append(days)
        return cls(
            {key: np.asarray(days, dtype=float) for key, days in found.items()},
            {key: np.asarray(days, dtype=float) for key, days in still.items()},
        )

    def key_for(self, code: str, side: str, traits: Iterable[str] = ()) -> tuple:
        """The pool a step of an integration with ``traits`` is drawn from: its first trait with enough history, else its side's."""
        traits = tuple(traits)
        if ("key", code, side, traits) not in self.made:
            found = next((t for t in traits if self.count((code, side, t)) >= MIN_GROUP), None)
            self.made[("key", code, side, traits)] = (code, side) if found is None else (code, side, found)
        return self.made[("key", code, side, traits)]

    def count(self, key) -> int:
        return len(self.observed.get(key, ()))

    def median(self, key) -> float | None:
        if ("median", key) not in self.made:
            days = self.observed.get(key)
            self.made[("median", key)] = float(np.median(days)) if days is not None and len(days) else None
        return self.made[("median", key)]

    def weighted(self, key) -> tuple[np.ndarray, np.ndarray | None, np.ndarray, float]:
        """``key``'s finished durations and the weight of each (None: 1 each); the days run so far by the
        steps running past every finished one, and the weight of each of those.

        The product-limit (Kaplan-Meier) rule: a step still running after ``c`` working days lasts
        at least ``c``, so its weight goes to the durations of ``c`` or more. Leaving it out made the
        history look short: the slow steps of the integrations in flight have not finished yet. Of
        ``N`` observations (finished and running), a finished duration ``t`` weighs ``N * S(t-) / n(t)``,
        ``n(t)`` the observations of ``t`` or more and ``S`` the share not finished before ``t``. The
        weight left, of the steps running past every finished one, stays with them: the plan places
        it beyond their days so far (``draw``). Without running steps every duration weighs 1.
        """
        if ("weighted", key) not in self.made:
            days = self.observed.get(key, np.empty(0))
            running = np.sort(self.running.get(key, np.empty(0)))
            if not len(running):
                made = (days, None, running, 0.0)
            elif not len(days):
                made = (days, None, running, 1.0)
            else:
                times, finished = np.unique(days, return_counts=True)
                # At risk at t: finished in t days or more, or running for t days or more (it may finish on the day).
                at_risk = (len(days) - np.searchsorted(np.sort(days), times)) + (
                    len(running) - np.searchsorted(running, times)
                )
                open_before = np.concatenate(([1.0], np.cumprod(1 - finished / at_risk)[:-1]))
                weights = ((len(days) + len(running)) * open_before / at_risk)[np.searchsorted(times, days)]
                past = running[running >= times[-1]]
                left = max(len(days) + len(running) - float(weights.sum()), 0.0)
                made = (days, weights, past, left / len(past) if len(past) else 0.0)
            self.made[("weighted", key)] = made
        return self.made[("weighted", key)]

    @staticmethod
    def _pick(days: np.ndarray, weights: np.ndarray | None, size: int, rng: np.random.Generator) -> np.ndarray:
        if weights is None:
            return days[rng.integers(0, len(days), size)]
        total = np.cumsum(weights)
        return days[np.minimum(np.searchsorted(total, rng.random(size) * total[-1], side="right"), len(days) - 1)]

    def draw(self, key, plan_days: int, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` durations: a past observation with its weight (``weighted``), the plan's log-normal with
        ``PRIOR_WEIGHT``, and for each step running past every finished one, the plan's log-normal beyond its days."""
        days, weights, past, each = self.weighted(key)
        prior = np.round(max(plan_days, 1) * np.exp(PRIOR_SIGMA * rng.standard_normal(size)))
        beyond = each * len(past)
        if beyond:
            from_past = rng.random(size) < beyond / (beyond + PRIOR_WEIGHT)
            prior = np.where(from_past, _plan_beyond(plan_days, past[rng.integers(0, len(past), size)], rng), prior)
        if not len(days):
            return prior
        held = len(days) if weights is None else float(weights.sum())
        from_history = rng.random(size) < held / (held + PRIOR_WEIGHT + beyond)
        return np.where(from_history, self._pick(days, weights, size, rng), prior)

    def pool(self, key, plan_days: int, runs: int) -> np.ndarray:
        """``POOL_RUNS`` times ``runs`` draws of ``key``'s duration, made once (seeded by the key: reproducible)."""
        if (key, plan_days, runs) not in self.made:
            rng = np.random.default_rng(zlib.crc32("|".join((*key, str(plan_days))).encode()))
            self.made[(key, plan_days, runs)] = self.draw(key, plan_days, POOL_RUNS * runs, rng)
        return self.made[(key, plan_days, runs)]

    def take(self, key, plan_days: int, runs: int, rng: np.random.Generator) -> np.ndarray:
        """``runs`` durations of ``key``: a slice of its pool from a random start."""
        pool = self.pool(key, plan_days, runs)
        start = int(rng.integers(0, len(pool) - runs + 1))
        return pool[start : start + runs]

    def at_least(self, key, plan_days: int, ran: int, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` durations of a step still open after ``ran`` working days: censored (see the module's rule)."""
        days, weights, past, each = self.weighted(key)
        kept = days >= ran
        longer = days[kept]
        weights = None if weights is None else weights[kept]
        held = len(longer) if weights is None else float(weights.sum())
        plan = max(plan_days, 1)
        # The plan's draws round to ``ran`` or more from ``ran - 0.5`` up: its tail's mass beyond there.
        edge = _NORMAL.cdf(math.log(max(ran - 0.5, 0.5) / plan) / PRIOR_SIGMA)
        prior_weight = PRIOR_WEIGHT * (1 - edge)
        # A step running past every finished one, not yet ``ran`` days in: its plan's share beyond ``ran``.
        beyond = 0.0
        if len(past):
            floors = np.maximum(past, ran)
            shares = each * (1 - _plan_edge(plan, floors)) / (1 - _plan_edge(plan, past))
            beyond = float(shares.sum())
        if held + prior_weight + beyond < 1:
            return ran + self.draw(key, plan_days, size, rng)
        z = np.interp(rng.uniform(edge, 1, size), _P_GRID, _Z_GRID)
        prior = np.maximum(np.round(plan * np.exp(PRIOR_SIGMA * z)), ran)
        if beyond:
            from_past = rng.random(size) < beyond / (beyond + prior_weight)
            prior = np.where(from_past, _plan_beyond(plan, self._pick(floors, shares, size, rng), rng), prior)
        if not len(longer):
            return prior
        from_history = rng.random(size) < held / (held + prior_weight + beyond)
        return np.where(from_history, self._pick(longer, weights, size, rng), prior)


def _plan_edge(plan: int, lows: np.ndarray) -> np.ndarray:
    """The plan's log-normal mass below ``lows`` (its draws round to ``low`` or more from ``low - 0.5`` up); 0 for 0."""
    z = np.log(np.maximum(lows - 0.5, 0.5) / plan) / PRIOR_SIGMA
    return np.where(lows > 0, np.interp(z, _Z_GRID, _P_GRID), 0.0)


def _plan_beyond(plan_days: int, lows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw of the plan's log-normal of at least each of ``lows``, by inverting its tail."""
    plan = max(plan_days, 1)
    z = np.interp(rng.uniform(_plan_edge(plan, lows), 1), _P_GRID, _Z_GRID)
    return np.maximum(np.round(plan * np.exp(PRIOR_SIGMA * z)), lows)


@dataclass(frozen=True)
class Forecast:
    p50: date
    p85: date
    risk: str  # one sentence on the step that drives the risk; empty when nothing is left to run
    risk_code: str = ""


@dataclass(frozen=True)
class Case:
    """One integration to forecast: its steps, kick-off, groups (most specific first), paused days and seed."""

    steps: list
    kickoff: date
    traits: tuple[str, ...] = ()
    paused: Collection[date] = ()
    seed: int | None = None


def _offset(day: date, today: date) -> int:
    """Working days from ``today`` to ``day`` (negative when in the past)."""
    return _between(today, day) if day >= today else -_between(day, today)


def forecast(
    steps: Iterable,
    kickoff: date,
    today: date,
    history: History,
    runs: int = RUNS,
    seed: int | None = None,
    zone: tzinfo = UTC,
    traits: Iterable[str] = (),
    paused: Collection[date] = (),
) -> Forecast:
    """P50 and P85 launch dates of one integration from ``today`` and what is done, and what drives the risk.

    ``traits`` name the groups the integration belongs to, most specific first ("crypto",
    "exchange"); ``paused`` the days it spent paused, not counted in a running step's days.
    Without a ``seed``, the runs are seeded by how the integration stands: the same standing, the
    same figures.
    """
    case = Case(list(steps), kickoff, tuple(traits), paused, seed)
    return forecast_many([case], today, history, runs, zone)[0]


# How each step stands at the start of the runs (see ``_StepState``).
_DONE, _NOT_APPLICABLE, _WAITING, _RUNNING = range(4)


class _StepState(NamedTuple):
    """A step as the runs start: done at ``offset``; passing its prerequisites through; waiting on them
    (drawn from ``pool``, starting no earlier than today); or running since ``offset`` (drawn from ``pool``)."""

    kind: int
    offset: int = 0
    pool: tuple = ()
    key: tuple = ()
    plan_days: int = 1


@dataclass
class _Prepared:
    """One case read in plain Python: its roadmap's shape and each step's state, offsets from today."""

    shape: tuple  # ((code, side, title, prerequisite codes known and earlier), ...) in roadmap order
    steps: list
    states: list[_StepState]
    kickoff_offset: int
    start_floor: int
    plan: dict[str, int]
    seed: int | None = None


def _prepare(case: Case, today: date, history: History, zone: tzinfo) -> _Prepared:
    steps = sorted(case.steps, key=lambda s: s.position)
    plan = plan_durations(steps, case.kickoff)
    settled = _done_days(steps, case.kickoff, zone)
    known = {s.code for s in steps}
    seen: set[str] = set()
    shape, states = [], []
    for s in steps:
        deps = tuple(c for c in s.depends_on if c in known and c in seen)
        shape.append((s.code, s.side, getattr(s, "title", s.code), deps))
        seen.add(s.code)
        if s.code in settled and s.status == DONE:
            states.append(_StepState(_DONE, _offset(settled[s.code], today)))
            continue
        if s.status == NOT_APPLICABLE:
            states.append(_StepState(_NOT_APPLICABLE))
            continue
        key = history.key_for(s.code, s.side, case.traits)
        plan_days = plan.get(s.code, 1)
        if not all(c in settled or c not in known for c in s.depends_on):
            states.append(_StepState(_WAITING, pool=(key, plan_days, 0), key=key, plan_days=plan_days))
            continue
        # Running since it became actionable: it takes at least the days it has already run.
        began = actionable_on(s, settled, case.kickoff, zone)
        ran = (
            (working_days_between(began, today, case.paused) if case.paused else _between(began, today))
            if began < today
            else 0
        )
        states.append(_StepState(_RUNNING, -ran, (key, plan_days, ran), key, plan_days))
    return _Prepared(
        tuple(shape),
        steps,
        states,
        _offset(case.kickoff, today),
        _offset(max(case.kickoff, today), today),  # nothing runs before the kick-off
        plan,
    )


def forecast_many(
    cases: Iterable[Case], today: date, history: History, runs: int = RUNS, zone: tzinfo = UTC
) -> list[Forecast]:
    """``forecast`` of many integrations at once, in their order; each as if forecast alone with its seed.

    Integrations whose roadmaps have the same shape (steps and prerequisites) are simulated
    together, as one array of integrations by runs per step, so the cost is numpy's, not a Python
    loop's per integration. Every integration draws its steps' durations from its own seed, in
    roadmap order, as ``forecast`` alone always has: its forecast does not depend on which others
    it came with.
    """
    cases = list(cases)
    prepared = [_prepare(case, today, history, zone) for case in cases]
    # Integrations standing alike (the same roadmap, the same steps done the same working days
    # before today, the same open steps' pools) and seeded alike get the same forecast: simulated once.
    alike: dict[tuple, int] = {}
    firsts: list[int] = []
    which = []
    for n, (case, one) in enumerate(zip(cases, prepared, strict=True)):
        state = (one.shape, tuple(one.states), one.kickoff_offset, one.start_floor, case.seed)
        if state not in alike:
            alike[state] = len(firsts)
            firsts.append(n)
            # Python's own hash changes from one process to the next: the text's checksum does not.
            one.seed = case.seed if case.seed is not None else zlib.crc32(repr(state).encode())
        which.append(alike[state])
    simulated: list[Forecast | None] = [None] * len(firsts)
    by_shape: dict[tuple, list[int]] = defaultdict(list)
    for k, n in enumerate(firsts):
        by_shape[prepared[n].shape].append(k)
    for shape, members in by_shape.items():
        group = [prepared[firsts[k]] for k in members]
        for k, got in zip(members, _simulate(shape, group, history, runs, today), strict=True):
            simulated[k] = got
    return [simulated[k] for k in which]


def _simulate(shape: tuple, group: list[_Prepared], history: History, runs: int, today: date):
    """The forecasts of ``group``, integrations of one roadmap shape: every step an (integrations, runs) array.

    Working days are small whole numbers: float32 holds them exactly, at half float64's memory
    traffic, which is what the runs cost. A step done in every integration of the group stays one
    column (its day), broadcast where it is read.
    """
    m, width = len(group), POOL_RUNS * runs
    index = {code: j for j, (code, *_) in enumerate(shape)}
    # Each integration draws from its own seed in roadmap order, as it would alone: a start in the
    # pool of each open step, and its own censored durations for a step running for some days.
    starts = np.zeros((m, len(shape)), dtype=np.int64)
    censored: dict[tuple[int, int], np.ndarray] = {}
    for i, p in enumerate(group):
        rng = np.random.default_rng(p.seed)
        for j, state in enumerate(p.states):
            if state.kind == _RUNNING and state.pool[2] > 0:
                key, plan_days, ran = state.pool
                censored[(i, j)] = history.at_least(key, plan_days, ran, runs, rng)
            elif state.kind in (_WAITING, _RUNNING):
                starts[i, j] = rng.integers(0, width - runs + 1)
    kickoff = np.array([[p.kickoff_offset] for p in group], dtype=np.float32)
    floor = np.array([[p.start_floor] for p in group], dtype=np.float32)
    columns = np.arange(runs)
    pools: dict[tuple, np.ndarray] = {}
    finish: list[np.ndarray] = []
    drawn: list[tuple[int, np.ndarray, np.ndarray]] = []  # (step, rows, their days)
    launch = np.zeros((m, runs), dtype=np.float32)  # never before today
    for j, (*_, deps) in enumerate(shape):
        states = [p.states[j] for p in group]
        if all(state.kind == _DONE for state in states):
            finish.append(np.array([[state.offset] for state in states], dtype=np.float32))
            np.maximum(launch, finish[j], out=launch)
            continue
        start = kickoff
        for code in deps:
            start = np.maximum(start, finish[index[code]])
        start = np.broadcast_to(start, (m, runs))
        here = np.empty((m, runs), dtype=np.float32)
        rows_of: dict[tuple, list[int]] = defaultdict(list)
        for i, state in enumerate(states):
            rows_of[(state.kind, state.pool)].append(i)
        for (kind, pool_of), rows in rows_of.items():
            rows = np.asarray(rows)
            if kind == _DONE:
                here[rows] = np.array([[states[i].offset] for i in rows], dtype=np.float32)
                continue
            if kind == _NOT_APPLICABLE:
                here[rows] = start[rows]
                continue
            key, plan_days, ran = pool_of
            if ran > 0:
                days = np.array([censored[(i, j)] for i in rows], dtype=np.float32)
            else:
                if pool_of not in pools:
                    pools[pool_of] = history.pool(key, plan_days, runs).astype(np.float32)
                days = pools[pool_of][starts[rows, j, None] + columns]
            if kind == _WAITING:
                here[rows] = np.maximum(start[rows], floor[rows]) + days
            else:
                here[rows] = np.array([[states[i].offset] for i in rows], dtype=np.float32) + days
            drawn.append((j, rows, days))
        finish.append(here)
        np.maximum(launch, here, out=launch)
    p50, p85 = np.percentile(launch, [50, 85], axis=1, method="higher")
    # The open step whose duration moves the launch most: the largest covariance with it.
    centred = launch - launch.mean(axis=1, keepdims=True, dtype=np.float64)
    cov = np.full((len(shape), m), -np.inf)
    for j, rows, days in drawn:
        cov[j, rows] = np.mean((days - days.mean(axis=1, keepdims=True, dtype=np.float64)) * centred[rows], axis=1)
    best = cov.argmax(axis=0) if len(shape) else np.zeros(m, dtype=int)
    sentences: dict[tuple, str] = {}
    for i, p in enumerate(group):
        code, risk = "", ""
        if len(shape) and cov[best[i], i] > -1.0:
            code = shape[best[i]][0]
            state = p.states[best[i]]
            step = next(s for s in p.steps if s.code == code)
            said = (step.side, getattr(step, "title", code), state.plan_days, state.key)
            if said not in sentences:
                sentences[said] = risk_sentence(step, history, state.plan_days, state.key)
            risk = sentences[said]
        yield Forecast(add_working_days(today, int(p50[i])), add_working_days(today, int(p85[i])), risk, code)


def risk_sentence(step, history: History, plan_days: int, key: tuple | None = None) -> str:
    """ "the partner's production deployment took 9 working days at the median across 14 crypto integrations"."""
    who = "the partner's" if step.side == PARTNER else "TradingView's"
    title = getattr(step, "title", step.code)
    key = key or (step.code, step.side)
    n = history.count(key)
    group = f"{key[2]} integrations" if len(key) > 2 else "integrations"
    if n < MIN_HISTORY:
        seen = f"only {n} finished so far" if n else "no history yet"
        return f"{who} {title} drives the risk: {seen}, so the plan's {plan_days} working days count most"
    median = history.median(key)
    return (
        f"{who} {title} took {median:g} working days at the median across {n} {group} (the plan gives it {plan_days})"
    )
