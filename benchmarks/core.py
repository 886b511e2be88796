"""Benchmark of the roadmap core: kick-off, step changes and standing over a large portfolio.

Usage: .venv/bin/python benchmarks/core.py [--integrations 300]
Runs on a fresh SQLite file in a temporary folder, or on DATABASE_URL when it is set (the
database named there is used as is; the benchmark writes partners prefixed "Bench").
Prints per-operation timings (mean and 95th percentile, in ms) and the total.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
if not os.environ.get("DATABASE_URL"):
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="roadmap-bench-")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from integrations import plan, steps  # noqa: E402
from integrations.models import Integration, Partner  # noqa: E402
from integrations.standing import standing  # noqa: E402
from roadmap.models import RoadmapTemplate  # noqa: E402


def timed(samples, fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    samples.append((time.perf_counter() - start) * 1000)
    return result


def report(name, samples):
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1] if len(ordered) > 1 else ordered[0]
    print(f"{name:28} n={len(samples):5}  mean={statistics.mean(samples):7.2f} ms  p95={p95:7.2f} ms")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--integrations", type=int, default=300)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}, integrations: {args.integrations}")
    template = RoadmapTemplate.latest("tradingview-rest-api")
    kickoff = date(2026, 3, 2)
    at = timezone.make_aware(datetime(2026, 3, 2, 10))
    kick, change, stand = [], [], []
    begin = time.perf_counter()
    for n in range(args.integrations):
        partner = Partner.objects.create(name=f"Bench {n:05d} {time.time_ns()}")
        integration = Integration.objects.create(
            partner=partner,
            template=template,
            parts="both",
            data_types=["crypto"] if n % 2 else ["stocks"],
            data_source="own_feed" if n % 2 else "exchange_mapping",
            data_auth="fixed_token",
            trading_auth="oauth2_code",
        )
        timed(kick, plan.start_integration, integration, kickoff, source="system", at=at)
        for k, step in enumerate(integration.steps.filter(status="not_started")[: n % 12]):
            timed(change, steps.complete_step, step, source="system", at=at + timedelta(days=7 * k + 1))
        if n and n % max(1, args.integrations // 10) == 0:
            print(f"  {n}/{args.integrations} integrations", flush=True)
    today = date(2026, 5, 1)
    for integration in Integration.objects.filter(partner__name__startswith="Bench"):
        timed(stand, standing, integration, today)
    one = Integration.objects.filter(partner__name__startswith="Bench").last()
    with CaptureQueriesContext(connection) as queries:
        standing(one, today)
    report("kick-off (15 steps)", kick)
    report("complete a step", change)
    report("standing() of one", stand)
    print(f"standing() queries: {len(queries)}")
    print(f"total: {time.perf_counter() - begin:.1f} s")


if __name__ == "__main__":
    main()
