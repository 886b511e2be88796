"""Backtest of the launch forecast's confidence on a synthetic portfolio with known step durations.

For each launched integration, at each week of its life: the history is what the portfolio had
finished by then, the integration stands as it stood then, and the question is whether the real
launch came on or before that week's P85. Prints the calibration (the share that did; the target
is 85 % within 5 points), the median absolute error, in working days, of the P50 and of the
rule-based forecast (every open step on its deadline) at weeks 2, 6 and 10, and the time to
learn from and forecast a portfolio of ``--speed`` integrations (pure computation), and the daily
refresh (``refresh_forecasts``) over portfolios of ``--db`` running integrations in the database:
time and queries.

    .venv/bin/python benchmarks/forecast.py [--integrations 300] [--runs 1000] [--speed 10000] [--db 1000,10000] [--smoke]
"""

import argparse
import statistics
import sys
import time
from datetime import timedelta

from start import start_django  # noqa: E402  (this folder is on sys.path)

start_django("roadmap-bench-forecast-")

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from benchmarks.portfolio import KICKOFF, copy_portfolio, moment, seed_originals  # noqa: E402
from benchmarks.synthetic_portfolio import backtest, make_portfolio  # noqa: E402
from integrations.forecast import refresh_forecasts  # noqa: E402
from integrations.models import Integration  # noqa: E402
from roadmap import confidence  # noqa: E402
from roadmap import standing as rules  # noqa: E402

WEEKS = (2, 6, 10)


def rule_forecast(steps, kickoff, today):
    """The rule-based forecast launch, as the standing computes it for the pages."""
    return rules.steps_standing(steps, kickoff, rules.Clock.on(today)).forecast_launch


def speed(n: int, runs: int) -> tuple[float, float]:
    """Seconds to learn from ``n`` launched integrations, then to forecast ``n`` integrations in week 6."""
    portfolio, _ = make_portfolio(n, seed=99)
    started = time.perf_counter()
    history = confidence.History.learn((i.steps, i.kickoff) for i in portfolio)
    learned = time.perf_counter() - started
    started = time.perf_counter()
    for n_, integration in enumerate(portfolio):
        today = integration.kickoff + timedelta(weeks=6)
        confidence.forecast(integration.as_of(today), integration.kickoff, today, history, runs=runs, seed=n_)
    return learned, time.perf_counter() - started


def refresh_in_database(sizes: list[int]):
    """The daily refresh's forecasts over growing portfolios of running integrations: time and queries."""
    call_command("migrate", verbosity=0)
    seed_originals(10)
    originals = Integration.objects.filter(partner__name__startswith="Bench ").prefetch_related("steps")
    for size in sizes:
        copy_portfolio(size, originals)
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            done = refresh_forecasts(now=moment(KICKOFF + timedelta(weeks=5)), batch_size=500)
            took = time.perf_counter() - started
        print(
            f"refresh_forecasts: {done} running integrations in {took:.2f} s, {len(queries)} queries (batches of 500)"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--integrations", type=int, default=300, help="launched integrations in the portfolio")
    parser.add_argument("--warm-up", type=int, default=50, help="the first ones are history only")
    parser.add_argument("--runs", type=int, default=1000, help="simulated runs per forecast")
    parser.add_argument("--speed", type=int, default=10000, help="integrations forecast for the timing")
    parser.add_argument("--db", default="1000,10000", help="portfolio sizes for the refresh in the database")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--smoke", action="store_true", help="small sizes, a few seconds")
    args = parser.parse_args(argv)
    if args.smoke:
        args.integrations, args.warm_up, args.runs, args.speed, args.db = 40, 10, 300, 200, "20,60"

    portfolio, truth = make_portfolio(args.integrations, seed=args.seed)
    started = time.perf_counter()
    result = backtest(portfolio, runs=args.runs, seed=args.seed, rule_forecast=rule_forecast, skip_first=args.warm_up)
    took = time.perf_counter() - started
    launches = [confidence._offset(i.launch, i.kickoff) for i in portfolio]
    print(
        f"synthetic portfolio: {args.integrations} launched integrations (seed {args.seed}), the first "
        f"{args.warm_up} history only; launch after {statistics.median(launches)} working days at the median"
    )
    print(f"backtest: {result.checks} weekly forecasts, {args.runs} runs each, {took:.1f} s")
    hit = result.calibration * 100
    verdict = "within" if abs(hit - 85) <= 5 else "OUTSIDE"
    print(f"calibration: real launch on or before the P85 in {hit:.1f} % of weeks ({verdict} 5 points of 85 %)")
    print("median absolute error of the launch date, working days:")
    print(f"  {'week':>4}  {'P50':>6}  {'rule-based':>10}  {'forecasts':>9}")
    for week in WEEKS:
        count = len(result.p50_errors.get(week, []))
        print(
            f"  {week:>4}  {result.median_error(week):>6.1f}  {result.median_error(week, rule=True):>10.1f}  {count:>9}"
        )
    learned, forecast = speed(args.speed, args.runs)
    print(
        f"speed: learning from {args.speed} integrations {learned:.2f} s; forecasting {args.speed} "
        f"({args.runs} runs each) {forecast:.2f} s, {forecast / args.speed * 1000:.2f} ms each"
    )
    refresh_in_database([int(n) for n in args.db.split(",") if n])
    return 0 if verdict == "within" or args.smoke else 1


if __name__ == "__main__":
    sys.exit(main())
