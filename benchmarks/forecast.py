"""Backtest of the launch forecast's confidence on a synthetic portfolio with known step durations.

For each launched integration, at each week of its life: the history is what the portfolio had
finished by then, the integration stands as it stood then, and the question is whether the real
launch came on or before that week's P85. Prints the calibration (the share that did; the target
is 85 % within 5 points), the median absolute error, in working days, of the P50 and of the
rule-based forecast (every open step on its deadline) at weeks 2, 6 and 10, and the time to
learn from and forecast a portfolio of ``--speed`` integrations (pure computation), and the daily
refresh (``refresh_forecasts``) over portfolios of ``--db`` running integrations in the database:
time and queries.

The same backtest runs on the demo portfolio (``manage.py seed_demo``), beside the synthetic
figures. Few demo integrations have launched, so each is backtested on what it has settled so far:
its roadmap up to the steps done (and those that do not apply) whose prerequisites are settled,
"launched" when the last of them was done. Its history is what the demo had finished by each
week, by step and side (a dozen integrations fill no group of ``MIN_GROUP``). So few
integrations give few forecasts: the counts are printed with the errors.

    .venv/bin/python benchmarks/forecast.py [--integrations 300] [--runs 1000] [--speed 10000] [--db 1000,10000] [--smoke]
"""

import argparse
import io
import logging
import statistics
import sys
import time
from dataclasses import replace
from datetime import date, timedelta

from start import start_django  # noqa: E402  (this folder is on sys.path)

start_django("roadmap-bench-forecast-")

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from benchmarks.portfolio import KICKOFF, copy_portfolio, moment, seed_originals  # noqa: E402
from benchmarks.synthetic_portfolio import Integration as Story  # noqa: E402
from benchmarks.synthetic_portfolio import Step, backtest, make_portfolio  # noqa: E402
from integrations.forecast import refresh_forecasts  # noqa: E402
from integrations.management.commands.seed_demo import DEMO_NOTE  # noqa: E402
from integrations.models import Integration, Partner  # noqa: E402
from roadmap import confidence  # noqa: E402
from roadmap import standing as rules  # noqa: E402
from roadmap.default_template import VERSION, VERSIONS  # noqa: E402
from roadmap.models import StepStatus  # noqa: E402

WEEKS = (2, 6, 10)
# A week's own calibration is printed when it holds this many forecasts: fewer are mostly noise.
MIN_WEEK_CHECKS = 100
ONE_DAY_KICKOFFS = date(2026, 1, 5)  # a Monday


def moved_by_weeks(integration: Story, weeks: int) -> Story:
    """``integration`` with every date ``weeks`` weeks later: the same weekdays, so the same working days."""
    by = timedelta(weeks=weeks)
    steps = [
        replace(
            s,
            planned_due_date=s.planned_due_date and s.planned_due_date + by,
            completed_at=s.completed_at and s.completed_at + by,
        )
        for s in integration.steps
    ]
    return Story(integration.kickoff + by, steps)


def rule_forecast(steps, kickoff, today):
    """The rule-based forecast launch, as the standing computes it for the pages."""
    return rules.steps_standing(steps, kickoff, rules.Clock.on(today)).forecast_launch


def speed(n: int, runs: int, version: int) -> tuple[float, tuple[float, float], tuple[float, float]]:
    """Seconds to learn from ``n`` launched integrations, then to forecast ``n`` integrations in week 6.

    The forecasts are timed twice, (wall, CPU) each: one integration at a time (``forecast``), and
    in batches of 500 as the daily refresh runs them (``forecast_many``).
    """
    portfolio, _ = make_portfolio(n, seed=99, version=version)
    started = time.perf_counter()
    history = confidence.History.learn((i.steps, i.kickoff) for i in portfolio)
    learned = time.perf_counter() - started
    started, cpu = time.perf_counter(), time.process_time()
    for n_, integration in enumerate(portfolio):
        today = integration.kickoff + timedelta(weeks=6)
        confidence.forecast(integration.as_of(today), integration.kickoff, today, history, runs=runs, seed=n_)
    one_by_one = time.perf_counter() - started, time.process_time() - cpu
    # The refresh forecasts a whole portfolio on one day: each integration moved by whole weeks (its
    # working days unchanged) to a kick-off in the same week, so that day falls in its week 7.
    today = ONE_DAY_KICKOFFS + timedelta(weeks=7)
    cases = []
    for n_, integration in enumerate(portfolio):
        moved = moved_by_weeks(integration, (ONE_DAY_KICKOFFS - integration.kickoff).days // 7)
        cases.append(confidence.Case(moved.as_of(today), moved.kickoff, seed=n_))
    started, cpu = time.perf_counter(), time.process_time()
    for first in range(0, len(cases), 500):
        confidence.forecast_many(cases[first : first + 500], today, history, runs=runs)
    return learned, one_by_one, (time.perf_counter() - started, time.process_time() - cpu)


def demo_portfolio() -> list[Story]:
    """The demo portfolio as seed_demo writes it, each integration cut to what it has settled so far."""
    call_command("migrate", verbosity=0)
    logging.disable(logging.INFO)  # the demo's stories log every step they complete
    try:
        call_command("seed_demo", "--reset", verbosity=0, stdout=io.StringIO())
    finally:
        logging.disable(logging.NOTSET)
    stories = []
    demo = Integration.objects.filter(partner__notes=DEMO_NOTE, kickoff_on__isnull=False).prefetch_related("steps")
    for integration in demo.order_by("kickoff_on", "pk"):
        settled: dict[str, object] = {}
        for s in integration.steps.order_by("position"):
            if s.status not in (StepStatus.DONE, StepStatus.NOT_APPLICABLE) or any(
                c not in settled for c in s.depends_on
            ):
                continue
            settled[s.code] = Step(
                code=s.code,
                side=s.side,
                title=s.title,
                position=s.position,
                depends_on=tuple(s.depends_on),
                planned_due_date=s.planned_due_date,
                status=s.status,
                completed_at=s.completed_at,
            )
        if any(s.status == StepStatus.DONE for s in settled.values()):
            stories.append(Story(integration.kickoff_on, list(settled.values())))
    Integration.objects.filter(partner__notes=DEMO_NOTE).delete()
    Partner.objects.filter(notes=DEMO_NOTE).delete()
    return stories


def refresh_in_database(sizes: list[int]):
    """The daily refresh's forecasts over growing portfolios of running integrations: time and queries."""
    call_command("migrate", verbosity=0)
    seed_originals(10)
    originals = Integration.objects.filter(partner__name__startswith="Bench ").prefetch_related("steps")
    for size in sizes:
        copy_portfolio(size, originals)
        with CaptureQueriesContext(connection) as queries:
            started, cpu = time.perf_counter(), time.process_time()
            done = refresh_forecasts(now=moment(KICKOFF + timedelta(weeks=5)), batch_size=500)
            took, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"refresh_forecasts: {done} running integrations in {took:.2f} s ({cpu:.2f} s CPU), "
            f"{len(queries)} queries (batches of 500)"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--integrations", type=int, default=300, help="launched integrations in the portfolio")
    parser.add_argument("--warm-up", type=int, default=50, help="the first ones are history only")
    parser.add_argument("--runs", type=int, default=1000, help="simulated runs per forecast")
    parser.add_argument("--speed", type=int, default=10000, help="integrations forecast for the timing")
    parser.add_argument("--db", default="1000,10000", help="portfolio sizes for the refresh in the database")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--version",
        type=int,
        choices=sorted(VERSIONS),
        default=VERSION,
        help="the default roadmap's version the synthetic integrations follow (the newest by default)",
    )
    parser.add_argument("--smoke", action="store_true", help="small sizes, a few seconds")
    args = parser.parse_args(argv)
    if args.smoke:
        args.integrations, args.warm_up, args.runs, args.speed, args.db = 40, 10, 300, 200, "20,60"

    portfolio, truth = make_portfolio(args.integrations, seed=args.seed, version=args.version)
    started = time.perf_counter()
    result = backtest(portfolio, runs=args.runs, seed=args.seed, rule_forecast=rule_forecast, skip_first=args.warm_up)
    took = time.perf_counter() - started
    launches = [confidence._offset(i.launch, i.kickoff) for i in portfolio]
    print(
        f"synthetic portfolio: {args.integrations} launched integrations on version {args.version} of the default "
        f"roadmap (seed {args.seed}), the first "
        f"{args.warm_up} history only; launch after {statistics.median(launches)} working days at the median"
    )
    print(f"backtest: {result.checks} weekly forecasts, {args.runs} runs each, {took:.1f} s")
    hit = result.calibration * 100
    verdict = "within" if abs(hit - 85) <= 5 else "OUTSIDE"
    print(f"calibration: real launch on or before the P85 in {hit:.1f} % of weeks ({verdict} 5 points of 85 %)")
    # Each week of life on its own: early weeks forecast the whole roadmap, late ones its last steps.
    weeks = [week for week in sorted(result.hits) if len(result.hits[week]) >= MIN_WEEK_CHECKS]
    print(
        f"calibration by week of life (weeks with at least {MIN_WEEK_CHECKS} forecasts): "
        + ", ".join(f"{week}: {result.calibration_at(week) * 100:.0f} %" for week in weeks)
    )
    demo = demo_portfolio()
    started = time.perf_counter()
    on_demo = backtest(demo, runs=args.runs, seed=args.seed, rule_forecast=rule_forecast)
    took = time.perf_counter() - started
    print(
        f"demo portfolio (seed_demo): {len(demo)} integrations, each up to what it has settled; "
        f"{on_demo.checks} weekly forecasts, {took:.1f} s"
    )
    print(f"demo calibration: settled on or before the P85 in {on_demo.calibration * 100:.1f} % of weeks")
    print("median absolute error of the launch date, working days: synthetic, and the demo beside it")
    print(
        f"  {'week':>4}  {'P50':>6}  {'rule-based':>10}  {'forecasts':>9}  {'demo P50':>8}  {'demo rule':>9}  {'demo n':>6}"
    )
    for week in WEEKS:
        print(
            f"  {week:>4}  {result.median_error(week):>6.1f}  {result.median_error(week, rule=True):>10.1f}"
            f"  {len(result.p50_errors.get(week, [])):>9}  {on_demo.median_error(week):>8.1f}"
            f"  {on_demo.median_error(week, rule=True):>9.1f}  {len(on_demo.p50_errors.get(week, [])):>6}"
        )
    learned, (forecast, cpu), (batched, batched_cpu) = speed(args.speed, args.runs, args.version)
    print(
        f"speed: learning from {args.speed} integrations {learned:.2f} s; forecasting {args.speed} "
        f"({args.runs} runs each) {forecast:.2f} s ({cpu:.2f} s CPU), {forecast / args.speed * 1000:.2f} ms each; "
        f"in batches of 500 {batched:.2f} s ({batched_cpu:.2f} s CPU)"
    )
    refresh_in_database([int(n) for n in args.db.split(",") if n])
    return 0 if verdict == "within" or args.smoke else 1


if __name__ == "__main__":
    sys.exit(main())
