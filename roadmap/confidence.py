"""How sure the launch forecast is: step durations learned from the portfolio, then simulated.

The rule-based forecast assumes every open step finishes on its deadline. This one learns how
long each step really takes (working days from the moment it became actionable, its
prerequisites settled, to its completion), by step code and side, from every finished step of
the portfolio. A step with little history leans on the plan: the working days the integration's
own plan gives it, as a log-normal around that figure worth ``PRIOR_WEIGHT`` observations; the
more history, the less the plan counts.

``forecast`` then runs the remaining steps in roadmap order a few thousand times from today: a
done step stays done on its day, a step that does not apply passes its prerequisites through, an
actionable step already running for some days takes at least those days, and a later step starts
when its prerequisites finish. The launch's P50 and P85 are read off the runs, and the step whose
duration moves the launch most is named, with what its history says.

Pure: steps are read by attribute (``code``, ``side``, ``title``, ``position``, ``status``,
``depends_on``, ``planned_due_date``, ``completed_at``, and ``reopened_at`` when present), no
Django, numpy for the runs. Every date is a working-day offset from today while simulating.
"""

import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, tzinfo

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
# Below this many observations the sentence says the plan, not the history, drives the figure.
MIN_HISTORY = 3
# Rounds of redrawing an actionable step's duration that fell short of the days it already ran.
REDRAWS = 8
# Durations are drawn once per step and plan duration into a pool this many runs long; each
# forecast takes a slice at a random start. The draws cost once per refresh, not per integration.
POOL_RUNS = 16


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


def finished_durations(steps: Iterable, kickoff: date, zone: tzinfo = UTC) -> list[tuple[tuple[str, str], int]]:
    """``[((code, side), working days)]``: how long each finished step took after it became actionable."""
    steps = list(steps)
    settled = _done_days(steps, kickoff, zone)
    out = []
    for s in steps:
        if s.status == DONE and s.code in settled:
            start = actionable_on(s, settled, kickoff, zone)
            out.append(((s.code, s.side), working_days_between(start, settled[s.code])))
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
    """Observed durations in working days, by ``(code, side)``."""

    observed: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    pools: dict = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def learn(cls, integrations: Iterable[tuple[Iterable, date]], zone: tzinfo = UTC) -> "History":
        """From ``(steps, kickoff)`` pairs: every finished step of every integration, once."""
        found: dict[tuple[str, str], list[int]] = defaultdict(list)
        for steps, kickoff in integrations:
            for key, days in finished_durations(steps, kickoff, zone):
                found[key].append(days)
        return cls({key: np.asarray(days, dtype=float) for key, days in found.items()})

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
            rng = np.random.default_rng(zlib.crc32(f"{key[0]}|{key[1]}|{plan_days}".encode()))
            self.pools[(key, plan_days, runs)] = self.draw(key, plan_days, POOL_RUNS * runs, rng)
        return self.pools[(key, plan_days, runs)]

    def take(self, key, plan_days: int, runs: int, rng: np.random.Generator) -> np.ndarray:
        """``runs`` durations of ``key``: a slice of its pool from a random start."""
        pool = self.pool(key, plan_days, runs)
        start = int(rng.integers(0, len(pool) - runs + 1))
        return pool[start : start + runs]


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
) -> Forecast:
    """P50 and P85 launch dates of one integration from ``today`` and what is done, and what drives the risk."""
    steps = sorted(steps, key=lambda s: s.position)
    rng = np.random.default_rng(seed)
    plan = plan_durations(steps, kickoff)
    settled = _done_days(steps, kickoff, zone)
    known = {s.code for s in steps}
    start_floor = _offset(max(kickoff, today), today)  # nothing runs before the kick-off
    finish: dict[str, np.ndarray] = {}
    drawn: dict[str, np.ndarray] = {}
    for s in steps:
        deps = [finish[c] for c in s.depends_on if c in known and c in finish]
        if s.code in settled and s.status == DONE:
            finish[s.code] = np.full(runs, float(_offset(settled[s.code], today)))
            continue
        start = np.maximum.reduce([*deps, np.full(runs, float(_offset(kickoff, today)))])
        if s.status == NOT_APPLICABLE:
            finish[s.code] = start
            continue
        key = (s.code, s.side)
        days = history.take(key, plan.get(s.code, 1), runs, rng)
        if not all(c in settled or c not in known for c in s.depends_on):
            start = np.maximum(start, start_floor)
        else:
            # Running since it became actionable: it takes at least the days it has already run.
            ran = -_offset(actionable_on(s, settled, kickoff, zone), today)
            for _ in range(REDRAWS):
                short = days < ran
                if not short.any():
                    break
                days = np.where(short, history.draw(key, plan.get(s.code, 1), runs, rng), days)
            days = np.where(days < ran, ran + 1 + np.floor(days / 2), days)
            start = np.full(runs, float(-ran))
        finish[s.code] = start + days
        drawn[s.code] = days
    launch = np.maximum.reduce(list(finish.values())) if finish else np.zeros(runs)
    launch = np.maximum(launch, 0)
    p50, p85 = np.percentile(launch, [50, 85], method="higher")
    code = _driver(drawn, launch)
    by_code = {s.code: s for s in steps}
    risk = risk_sentence(by_code[code], history, plan.get(code, 1)) if code else ""
    return Forecast(add_working_days(today, int(p50)), add_working_days(today, int(p85)), risk, code or "")


def _driver(drawn: dict[str, np.ndarray], launch: np.ndarray) -> str | None:
    """The open step whose duration moves the launch most: the largest covariance with it."""
    best, best_cov = None, -1.0
    for code, days in drawn.items():
        cov = float(np.mean((days - days.mean()) * (launch - launch.mean())))
        if cov > best_cov:
            best, best_cov = code, cov
    return best


def risk_sentence(step, history: History, plan_days: int) -> str:
    """ "the partner's production deployment took 9 working days at the median across 14 integrations"."""
    who = "the partner's" if step.side == PARTNER else "TradingView's"
    title = getattr(step, "title", step.code)
    key = (step.code, step.side)
    n = history.count(key)
    if n < MIN_HISTORY:
        seen = f"only {n} finished so far" if n else "no history yet"
        return f"{who} {title} drives the risk: {seen}, so the plan's {plan_days} working days count most"
    median = history.median(key)
    return (
        f"{who} {title} took {median:g} working days at the median across {n} integrations "
        f"(the plan gives it {plan_days})"
    )
