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

Censoring: a step still open ``d`` working days after it became actionable takes at least ``d``
(it may still finish today). Its duration is drawn from the learned durations of at least ``d``
(weight 1 each) and the plan's log-normal beyond ``d`` (``PRIOR_WEIGHT`` times its mass there),
never from the shorter ones. When that is less than one observation's worth, the step has outrun what history and plan
know: its remaining days are drawn as a fresh step's (``d`` plus a new draw).

``forecast`` then runs the remaining steps in roadmap order a few thousand times from today: a
done step stays done on its day, a step that does not apply passes its prerequisites through, an
actionable step already running is censored as above, and a later step starts when its
prerequisites finish. The launch's P50 and P85 are read off the runs, and the step whose
duration moves the launch most is named, with what its history says.

Pure: steps are read by attribute (``code``, ``side``, ``title``, ``position``, ``status``,
``depends_on``, ``planned_due_date``, ``completed_at``, and ``reopened_at`` when present), no
Django, numpy for the runs. Every date is a working-day offset from today while simulating.
"""

import math
import zlib
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, tzinfo
from statistics import NormalDist

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


def _day(moment, zone: tzinfo) -> date:
    return moment.astimezone(zone).date()


def _done_days(steps: list, kickoff: date, zone: tzinfo) -> dict[str, date]:
    """``{code: day it was settled}`` for settled steps; a step that does not apply settles with its prerequisites."""
    settled: dict[str, date] = {}
    known = {s.code for s in steps}
    for s in sorted(steps, key=lambda s: s.position):
        deps = [c for c in s.depends_on if c in known]
        if any(c not in settled for c in deps):
            continue
        if s.status == DONE and s.completed_at is not None:
            settled[s.code] = max(kickoff, _day(s.completed_at, zone))
        elif s.status == NOT_APPLICABLE:
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
    steps = list(steps)
    settled = _done_days(steps, kickoff, zone)
    out = []
    for s in steps:
        if s.status == DONE and s.code in settled:
            start = actionable_on(s, settled, kickoff, zone)
            out.append(((s.code, s.side), working_days_between(start, settled[s.code], paused)))
    return out


def plan_durations(steps: Iterable, kickoff: date) -> dict[str, int]:
    """``{code: working days}`` the plan gives each step after its prerequisites' planned dates (at least 1)."""
    steps = sorted(steps, key=lambda s: s.position)
    planned = {s.code: s.planned_due_date for s in steps if s.planned_due_date is not None}
    out = {}
    for s in steps:
        if s.code not in planned:
            continue
        start = max((planned[c] for c in s.depends_on if c in planned), default=kickoff)
        out[s.code] = max(1, working_days_between(start, planned[s.code]))
    return out


@dataclass
class History:
    """Observed durations in working days, by ``(code, side)`` and by ``(code, side, trait)``."""

    observed: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    pools: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def learn(cls, integrations: Iterable[tuple], zone: tzinfo = UTC) -> "History":
        """From ``(steps, kickoff)`` or ``(steps, kickoff, paused days, traits)``: every finished step, once.

        Each duration counts in its side-level pool and in the pool of each of its integration's traits.
        """
        found: dict[tuple, list[int]] = defaultdict(list)
        for steps, kickoff, *more in integrations:
            paused, traits = (*more, (), ())[:2]
            for key, days in finished_durations(steps, kickoff, zone, paused):
                found[key].append(days)
                for trait in traits:
                    found[(*key, trait)].append(days)
        return cls({key: np.asarray(days, dtype=float) for key, days in found.items()})

    def key_for(self, code: str, side: str, traits: Iterable[str] = ()) -> tuple:
        """The pool a step of an integration with ``traits`` is drawn from: its first trait with enough history, else its side's."""
        for trait in traits:
            if self.count((code, side, trait)) >= MIN_GROUP:
                return (code, side, trait)
        return (code, side)

    def count(self, key) -> int:
        return len(self.observed.get(key, ()))

    def median(self, key) -> float | None:
        days = self.observed.get(key)
        return float(np.median(days)) if days is not None and len(days) else None

    def draw(self, key, plan_days: int, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` durations: a past observation with weight 1 each, the plan's log-normal with ``PRIOR_WEIGHT``."""
        days = self.observed.get(key, np.empty(0))
        prior = np.round(max(plan_days, 1) * np.exp(PRIOR_SIGMA * rng.standard_normal(size)))
        if not len(days):
            return prior
        from_history = rng.random(size) < len(days) / (len(days) + PRIOR_WEIGHT)
        return np.where(from_history, days[rng.integers(0, len(days), size)], prior)

    def pool(self, key, plan_days: int, runs: int) -> np.ndarray:
        """``POOL_RUNS`` times ``runs`` draws of ``key``'s duration, made once (seeded by the key: reproducible)."""
        if (key, plan_days, runs) not in self.pools:
            rng = np.random.default_rng(zlib.crc32("|".join((*key, str(plan_days))).encode()))
            self.pools[(key, plan_days, runs)] = self.draw(key, plan_days, POOL_RUNS * runs, rng)
        return self.pools[(key, plan_days, runs)]

    def take(self, key, plan_days: int, runs: int, rng: np.random.Generator) -> np.ndarray:
        """``runs`` durations of ``key``: a slice of its pool from a random start."""
        pool = self.pool(key, plan_days, runs)
        start = int(rng.integers(0, len(pool) - runs + 1))
        return pool[start : start + runs]

    def at_least(self, key, plan_days: int, ran: int, size: int, rng: np.random.Generator) -> np.ndarray:
        """``size`` durations of a step still open after ``ran`` working days: censored (see the module's rule)."""
        days = self.observed.get(key, np.empty(0))
        longer = days[days >= ran]
        plan = max(plan_days, 1)
        # The plan's draws round to ``ran`` or more from ``ran - 0.5`` up: its tail's mass beyond there.
        edge = _NORMAL.cdf(math.log(max(ran - 0.5, 0.5) / plan) / PRIOR_SIGMA)
        prior_weight = PRIOR_WEIGHT * (1 - edge)
        if len(longer) + prior_weight < 1:
            return ran + self.draw(key, plan_days, size, rng)
        z = np.interp(rng.uniform(edge, 1, size), _P_GRID, _Z_GRID)
        prior = np.maximum(np.round(plan * np.exp(PRIOR_SIGMA * z)), ran)
        if not len(longer):
            return prior
        from_history = rng.random(size) < len(longer) / (len(longer) + prior_weight)
        return np.where(from_history, longer[rng.integers(0, len(longer), size)], prior)


@dataclass(frozen=True)
class Forecast:
    p50: date
    p85: date
    risk: str  # one sentence on the step that drives the risk; empty when nothing is left to run
    risk_code: str = ""


def _offset(day: date, today: date) -> int:
    """Working days from ``today`` to ``day`` (negative when in the past)."""
    return working_days_between(today, day) if day >= today else -working_days_between(day, today)


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
    """
    traits = tuple(traits)
    steps = sorted(steps, key=lambda s: s.position)
    rng = np.random.default_rng(seed)
    plan = plan_durations(steps, kickoff)
    settled = _done_days(steps, kickoff, zone)
    known = {s.code for s in steps}
    start_floor = _offset(max(kickoff, today), today)  # nothing runs before the kick-off
    finish: dict[str, np.ndarray] = {}
    drawn: dict[str, np.ndarray] = {}
    keys: dict[str, tuple] = {}
    for s in steps:
        deps = [finish[c] for c in s.depends_on if c in known and c in finish]
        if s.code in settled and s.status == DONE:
            finish[s.code] = np.full(runs, float(_offset(settled[s.code], today)))
            continue
        start = np.maximum.reduce([*deps, np.full(runs, float(_offset(kickoff, today)))])
        if s.status == NOT_APPLICABLE:
            finish[s.code] = start
            continue
        key = keys[s.code] = history.key_for(s.code, s.side, traits)
        if not all(c in settled or c not in known for c in s.depends_on):
            days = history.take(key, plan.get(s.code, 1), runs, rng)
            start = np.maximum(start, start_floor)
        else:
            # Running since it became actionable: it takes at least the days it has already run.
            began = actionable_on(s, settled, kickoff, zone)
            ran = working_days_between(began, today, paused) if began < today else 0
            if ran > 0:
                days = history.at_least(key, plan.get(s.code, 1), ran, runs, rng)
            else:
                days = history.take(key, plan.get(s.code, 1), runs, rng)
            start = np.full(runs, float(-ran))
        finish[s.code] = start + days
        drawn[s.code] = days
    launch = np.maximum.reduce(list(finish.values())) if finish else np.zeros(runs)
    launch = np.maximum(launch, 0)
    p50, p85 = np.percentile(launch, [50, 85], method="higher")
    code = _driver(drawn, launch)
    by_code = {s.code: s for s in steps}
    risk = risk_sentence(by_code[code], history, plan.get(code, 1), keys[code]) if code else ""
    return Forecast(add_working_days(today, int(p50)), add_working_days(today, int(p85)), risk, code or "")


def _driver(drawn: dict[str, np.ndarray], launch: np.ndarray) -> str | None:
    """The open step whose duration moves the launch most: the largest covariance with it."""
    best, best_cov = None, -1.0
    for code, days in drawn.items():
        cov = float(np.mean((days - days.mean()) * (launch - launch.mean())))
        if cov > best_cov:
            best, best_cov = code, cov
    return best


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
