"""A synthetic portfolio with known step-duration distributions, and the forecast's backtest on it.

Every integration follows one version of the default roadmap (``roadmap.default_template.VERSIONS``):
the newest by default (version 2, final testing as two dated rounds, seventeen rows), the one a new
integration takes and so the forecast users see; ``version=1`` builds the fifteen rows of version 1,
drawn exactly as before version 2 existed, so its figures stay comparable. Each step's true
duration, in working days after it becomes actionable, is log-normal with a median and a spread
drawn once per step code, so the truth is known. The backtest replays each integration week by
week: at each week of its life, the history is what the whole portfolio had finished by then (and
what it was still running, as ``history_on`` says), the integration stands as it stood then, and
the forecast's P85 is checked against the real launch.

Pure (numpy and the roadmap's pure rules): ``tests/roadmap/test_confidence.py`` runs it seeded,
``benchmarks/forecast.py`` prints its figures.
"""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from roadmap import confidence
from roadmap.default_template import VERSION, VERSIONS
from roadmap.schedule import add_working_days, next_working_day, plan_due_dates


@dataclass(frozen=True)
class Step:
    code: str
    side: str
    title: str
    position: int
    depends_on: tuple
    due_week: int | None = None
    due_week_last: int | None = None
    turnaround_days: int = 3
    prepared_ahead: bool = True
    keeps_days: int | None = None
    planned_due_date: date | None = None
    status: str = "not_started"
    completed_at: datetime | None = None


@dataclass
class Integration:
    kickoff: date
    steps: list  # every step done, as it really went
    launch: date = field(init=False)

    def __post_init__(self):
        self.launch = max(s.completed_at.date() for s in self.steps if s.completed_at)

    def as_of(self, today: date) -> list:
        """The steps as they stood on ``today``: done by then, or not started."""
        return [
            s
            if s.status != "done" or s.completed_at.date() < today
            else replace(s, status="not_started", completed_at=None)
            for s in self.steps
        ]


def template_steps(version: int = VERSION) -> list[Step]:
    """The default roadmap's steps in ``version`` (the newest by default), as a template holds them."""
    return [
        Step(
            code=row["code"],
            side=row["side"],
            title=row["title"],
            position=i,
            depends_on=tuple(row.get("depends_on", ())),
            due_week=row.get("due_week"),
            due_week_last=row.get("due_week_last"),
            turnaround_days=row.get("turnaround_days", 3),
            prepared_ahead=row.get("prepared_ahead", True),
            keeps_days=row.get("keeps_days"),
        )
        for i, row in enumerate(VERSIONS[version])
    ]


def true_distributions(rng: np.random.Generator, template: list[Step]) -> dict[str, tuple[float, float]]:
    """``{code: (median working days, sigma)}``: partner steps slower and wider than TradingView's."""
    truth = {}
    for s in template:
        if s.side == "partner":
            truth[s.code] = (float(rng.uniform(3, 12)), float(rng.uniform(0.3, 0.8)))
        else:
            truth[s.code] = (float(rng.uniform(1, 4)), float(rng.uniform(0.2, 0.6)))
    return truth


def make_portfolio(
    n: int, seed: int = 0, start: date = date(2024, 1, 8), version: int = VERSION
) -> tuple[list[Integration], dict]:
    """``n`` integrations on ``version`` of the default roadmap, kicked off about two working days apart, each run to its launch."""
    rng = np.random.default_rng(seed)
    template = template_steps(version)
    truth = true_distributions(rng, template)
    portfolio = []
    kickoff = start
    for _ in range(n):
        kickoff = next_working_day(kickoff + timedelta(days=int(rng.integers(1, 4))))
        plan = plan_due_dates(template, kickoff)
        no_autotests = rng.random() < 0.3
        done: dict[str, date] = {}
        steps = []
        for s in template:
            deps = [done[c] for c in s.depends_on]
            if no_autotests and "autotests" in s.code:
                done[s.code] = max(deps, default=kickoff)
                steps.append(replace(s, planned_due_date=plan[s.code][1], status="not_applicable"))
                continue
            median, sigma = truth[s.code]
            days = int(round(median * np.exp(sigma * rng.standard_normal())))
            finished = add_working_days(max(deps, default=kickoff), days)
            done[s.code] = finished
            steps.append(
                replace(
                    s,
                    planned_due_date=plan[s.code][1],
                    status="done",
                    completed_at=datetime.combine(finished, time(12), UTC),
                )
            )
        portfolio.append(Integration(kickoff, steps))
    return portfolio, truth


@dataclass
class Backtest:
    checks: int = 0  # (integration, week) pairs forecast
    within_p85: int = 0
    hits: dict = field(default_factory=lambda: defaultdict(list))  # week -> [real launch on or before the P85]
    p50_errors: dict = field(default_factory=lambda: defaultdict(list))  # week -> working days off
    rule_errors: dict = field(default_factory=lambda: defaultdict(list))

    @property
    def calibration(self) -> float:
        return self.within_p85 / self.checks if self.checks else float("nan")

    def calibration_at(self, week: int) -> float:
        """The share of integrations still running in ``week`` whose real launch came on or before that week's P85."""
        hits = self.hits.get(week, [])
        return float(np.mean(hits)) if hits else float("nan")

    def median_error(self, week: int, rule: bool = False) -> float:
        errors = (self.rule_errors if rule else self.p50_errors).get(week, [])
        return float(np.median(errors)) if errors else float("nan")


def backtest(portfolio: list[Integration], runs: int = 1000, seed: int = 0, rule_forecast=None, skip_first: int = 0):
    """At each week of each launched integration's life: was the real launch on or before that week's P85?

    ``rule_forecast(steps, kickoff, today)`` (optional) gives the rule-based forecast, for its error.
    ``skip_first`` integrations are history only (the portfolio had to start somewhere).
    """
    # Every step once, with the days it became actionable and finished: the history as of a day is a
    # filter, its finished steps and, as the refresh learns them, the steps still running that day.
    observations = defaultdict(list)
    for integration in portfolio:
        finished = {s.code: s.completed_at.date() for s in integration.steps if s.completed_at}
        for key, days in confidence.finished_durations(integration.steps, integration.kickoff):
            # No pauses here: the step became actionable ``days`` working days before it finished.
            began = np.busday_offset(np.datetime64(finished[key[0]]), -days, roll="forward")
            observations[key].append((began, np.datetime64(finished[key[0]]), days))
    steps_of = {
        key: tuple(np.asarray(column) for column in zip(*rows, strict=True)) for key, rows in observations.items()
    }
    result = Backtest()
    for i, integration in enumerate(portfolio[skip_first:]):
        week = 1
        while True:
            today = integration.kickoff + timedelta(weeks=week)
            if today >= integration.launch:
                break
            history = history_on(steps_of, today)
            steps = integration.as_of(today)
            got = confidence.forecast(steps, integration.kickoff, today, history, runs=runs, seed=seed + i * 100 + week)
            result.checks += 1
            result.within_p85 += integration.launch <= got.p85
            result.hits[week].append(integration.launch <= got.p85)
            result.p50_errors[week].append(abs(_working_days(got.p50, integration.launch)))
            if rule_forecast is not None:
                ruled = rule_forecast(steps, integration.kickoff, today)
                result.rule_errors[week].append(abs(_working_days(ruled, integration.launch)))
            week += 1
    return result


def history_on(steps_of: dict, today: date) -> confidence.History:
    """The history as the refresh learns it just after midnight on ``today``: the steps finished before
    ``today``, and the days run by those still open (``working_days_between`` as numpy counts it)."""
    day = np.datetime64(today)
    finished, running = {}, {}
    for key, (began, ended, days) in steps_of.items():
        done = ended < day
        finished[key] = days[done].astype(float)
        still = ~done & (began < day)
        if still.any():
            running[key] = np.busday_count(began[still] + 1, day + 1).astype(float)
    return confidence.History(finished, running)


def _working_days(a: date, b: date) -> int:
    return confidence._offset(b, a)
