"""Benchmark of the roadmap core: kick-off, step changes, standing, and the daily refresh.

Usage: .venv/bin/python benchmarks/core.py [--integrations 300] [--refresh 1000,10000] [--smoke]
Runs on a fresh SQLite file in a temporary folder, or on DATABASE_URL when it is set (the
database named there is used as is; the benchmark writes partners prefixed "Bench").

Prints, in ms (mean and 95th percentile):
- kick-off, completing a step and standing() over ``--integrations`` integrations made through
  the services;
- standing() of one integration 60, 240 and 960 days after its kick-off, with its query count;
- the daily refresh (refresh_running) over each portfolio size in ``--refresh``: time, CPU time and
  queries. Those portfolios are copies of the integrations made above, written in bulk. With two sizes
  or more, the portfolio the refresh would reach in ``--limit`` seconds (the task's soft time limit),
  extrapolated linearly from the smallest and largest size.
"""

import argparse
import statistics
import time
from datetime import date, datetime, timedelta

from start import start_django  # noqa: E402  (this folder is on sys.path)

start_django()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.portfolio import copy_portfolio  # noqa: E402
from integrations import plan, steps  # noqa: E402
from integrations.context import ChangeContext  # noqa: E402
from integrations.handovers.demo import record_demo_handovers  # noqa: E402
from integrations.models import Integration, Partner  # noqa: E402
from integrations.standing import refresh_running, standing  # noqa: E402
from roadmap.models import RoadmapTemplate  # noqa: E402

KICKOFF = date(2026, 3, 2)


def moment(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=hour))


def timed(samples, fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    samples.append((time.perf_counter() - start) * 1000)
    return result


def report(name, samples):
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    print(f"{name:34} n={len(samples):6}  mean={statistics.mean(samples):8.2f} ms  p95={p95:8.2f} ms")


def new_integration(template, n):
    partner = Partner.objects.create(name=f"Bench {n:05d} {time.time_ns()}")
    return Integration.objects.create(
        partner=partner,
        template=template,
        parts="both",
        data_types=["crypto"] if n % 2 else ["stocks"],
        data_source="own_feed" if n % 2 else "exchange_mapping",
        data_auth="fixed_token",
        trading_auth="oauth2_code",
    )


def services(template, count):
    kick, change, stand = [], [], []
    for n in range(count):
        integration = new_integration(template, n)
        timed(kick, plan.start_integration, integration, KICKOFF, ChangeContext("system", at=moment(KICKOFF)))
        for k, step in enumerate(integration.steps.filter(status="not_started")[: n % 12]):
            when = moment(KICKOFF + timedelta(days=7 * k + 1))
            if step.handovers:
                # What the partner hands over first, as the demo records it (not part of the timing).
                record_demo_handovers(integration, step.handovers, None, when)
            timed(change, steps.complete_step, step, ChangeContext("system", at=when))
        if n and n % max(1, count // 10) == 0:
            print(f"  {n}/{count} integrations", flush=True)
    for integration in Integration.objects.filter(partner__name__startswith="Bench").select_related("partner"):
        timed(stand, standing, integration, moment(date(2026, 5, 1)))
    report(f"kick-off ({template.steps.count()} steps)", kick)
    report("complete a step", change)
    report("standing() of one", stand)


def standing_over_time(template):
    """One integration whose partner never delivers its endpoints: the slip grows every day."""
    integration = new_integration(template, 0)
    plan.start_integration(integration, KICKOFF, ChangeContext("system", at=moment(KICKOFF)))
    for code in ("slack-jira-onboarding", "autotests-configuration"):
        steps.complete_step(integration.steps.get(code=code), ChangeContext("system", at=moment(KICKOFF, 15)))
    integration = Integration.objects.select_related("partner").get(pk=integration.pk)
    for days in (60, 240, 960):
        now = moment(KICKOFF + timedelta(days=days))
        samples = []
        for _ in range(20):
            timed(samples, standing, integration, now)
        with CaptureQueriesContext(connection) as queries:
            result = standing(integration, now)
        report(f"standing() {days} days after kick-off", samples)
        print(f"{'':34} queries={len(queries)}  slip={result.slip_days} days")


def daily_refresh(sizes, limit: float = 240.0):
    figures = {}
    for size in sizes:
        copy_portfolio(size, Integration.objects.filter(partner__name__startswith="Bench").prefetch_related("steps"))
        running = Integration.objects.filter(state__in=Integration.RUNNING_STATES).count()
        with CaptureQueriesContext(connection) as queries:
            start, cpu = time.perf_counter(), time.process_time()
            refreshed = refresh_running(now=moment(date(2026, 5, 1)))
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        # CPU time: this process's own (Python and SQLite), what a busy machine does not inflate.
        print(
            f"daily refresh of {running:6} running    {elapsed * 1000:10.0f} ms  "
            f"({elapsed * 1e6 / max(1, refreshed):.0f} µs each)  cpu={cpu * 1000:.0f} ms  queries={len(queries)}"
        )
        figures[running] = (elapsed, cpu)
    if len(figures) > 1:
        small, large = min(figures), max(figures)
        said = []
        for index, name in ((0, "wall"), (1, "cpu")):
            slope = (figures[large][index] - figures[small][index]) / (large - small)
            reach = small + (limit - figures[small][index]) / slope if slope > 0 else float("inf")
            said.append(f"{name}: {reach:.0f} integrations")
        print(f"daily refresh's ceiling under {limit:.0f} s   {'  '.join(said)}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--integrations", type=int, default=300)
    parser.add_argument("--refresh", default="1000,10000", help="portfolio sizes for the daily refresh")
    parser.add_argument("--limit", type=float, default=240.0, help="seconds the refresh's ceiling is measured against")
    parser.add_argument("--smoke", action="store_true", help="the smallest sizes, to check that it runs")
    args = parser.parse_args()
    if args.smoke:
        # Twelve: the last one completes eleven steps, hand-overs included.
        args.integrations, args.refresh = 12, "30,60"
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}, integrations: {args.integrations}")
    template = RoadmapTemplate.latest("tradingview-rest-api")
    begin = time.perf_counter()
    services(template, args.integrations)
    standing_over_time(template)
    daily_refresh([int(s) for s in args.refresh.split(",") if s.strip()], args.limit)
    print(f"total: {time.perf_counter() - begin:.1f} s")


if __name__ == "__main__":
    main()
