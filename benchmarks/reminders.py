"""Benchmark of the daily reminder sweep (``notifications.reminders.plan_reminders``) and its SQL queries.

Usage: .venv/bin/python benchmarks/reminders.py [--sizes 100,1000,10000] [--batch-size 500] [--smoke]
       [--profile refresh|monday|rerun|weekday|plans]
Runs on a fresh SQLite file in a temporary folder, or on DATABASE_URL when it is set (the database
named there is used as is; the benchmark writes partners prefixed "Bench").

A few integrations are kicked off through ``plan.start_integration`` (some with steps done); the
portfolio is then grown by bulk copies of them (as benchmarks/core.py does), each with its own Slack
channel, their PMs linked to Slack users. For each size, as of a fresh Monday on which everything is
late (the partners' first step overdue and escalated, TradingView's first tasks weeks late, and the
PMs' weekly digest due): the daily refresh of the stored standing (``refresh_running``, which runs
before the sweep), the sweep (``plan_reminders``), the same sweep run again (it reads everything and
writes nothing), and a weekday in the overdue cadence. Then beat's hourly run (``sweep_reminders``)
on that weekday: the run that plans the zones' day, a run later the same day when every zone is swept
(nothing due), and a run before any zone's reminder hour.

Each line gives the wall time, this process's CPU time (Python and SQLite; the figure a busy machine
inflates least) and the SQL queries: queries grow with the number of batches (``--batch-size``
integrations each), not with the number of integrations or messages. With two sizes or more, the
last lines extrapolate linearly from the smallest and the largest the portfolio each phase (the refresh,
the Monday sweep, run again, the weekday and beat's run planning the day) would reach in ``--limit``
seconds (the task's soft time limit).
"""

import argparse
import cProfile
import pstats
import time
from datetime import UTC, date, datetime

from start import start_django  # noqa: E402  (this folder is on sys.path)

start_django("reminders-bench-", SLACK_INTERNAL_CHANNEL="C0INTERNAL")

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import get_resolver  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.portfolio import copy_portfolio  # noqa: E402
from integrations import plan, steps  # noqa: E402
from integrations.context import ChangeContext  # noqa: E402
from integrations.models import Integration, Partner  # noqa: E402
from integrations.standing import refresh_running  # noqa: E402
from notifications.models import OutboxMessage, SlackUser  # noqa: E402
from notifications.reminders import plan_reminders, sweep_reminders  # noqa: E402
from roadmap.models import RoadmapTemplate  # noqa: E402

KICKOFF = date(2026, 3, 2)
SOURCES = 20  # integrations made through the services; the rest are copies
PMS = 5
PROFILE_LINES = 30  # the top functions ``--profile`` prints, by own time and by cumulative time
PHASES = {"everything late": "monday", "run again": "rerun", "weekday": "weekday"}  # the sweeps' keys in the ceiling
# Per size: a Monday with everything late (reminders, escalations + the weekly digest) and a weekday in the
# partner's overdue cadence, both fresh (no reason written yet). The first steps are due Mon 30 Mar and
# overdue reminders go on working days 1, 4, 7 ... overdue: each day below is one of those (10, 13; 25, 28 ...).
DAYS = [
    (date(2026, 4, 13), date(2026, 4, 16)),
    (date(2026, 5, 4), date(2026, 5, 7)),
    (date(2026, 5, 25), date(2026, 5, 28)),
    (date(2026, 6, 15), date(2026, 6, 18)),
]


def moment(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=hour))


def pms():
    users = []
    for n in range(PMS):
        user, _ = get_user_model().objects.get_or_create(
            username=f"bench.pm{n}", defaults={"email": f"bench.pm{n}@example.com", "is_staff": True}
        )
        SlackUser.objects.get_or_create(user=user, defaults={"slack_user_id": f"UBENCH{n:04d}"})
        users.append(user)
    return users


def sources(template, managers):
    """Integrations kicked off through the services; every third has its first TradingView tasks done."""
    made = []
    for n in range(SOURCES):
        partner = Partner.objects.create(name=f"Bench {n:05d} {time.time_ns()}", time_zone="Europe/Berlin")
        integration = Integration.objects.create(
            partner=partner,
            template=template,
            tv_pm=managers[n % len(managers)],
            parts="both",
            data_types=["crypto"],
            data_source="own_feed",
            data_auth="fixed_token",
            trading_auth="oauth2_code",
            slack_channel_id=f"CBENCH{n:06d}",
        )
        plan.start_integration(integration, KICKOFF, ChangeContext("system", at=moment(KICKOFF)))
        if n % 3 == 0:
            for code in ("slack-jira-onboarding", "autotests-configuration"):
                steps.complete_step(integration.steps.get(code=code), ChangeContext("system", at=moment(KICKOFF, 15)))
        made.append(integration)
    return made


def measured(fn, *args, profiled: bool = False, **kwargs):
    """(result, wall seconds, CPU seconds, queries) of ``fn``; ``profiled``: under cProfile, its top functions
    printed (the figures then include the profiler's own cost)."""
    profile = cProfile.Profile() if profiled else None
    with CaptureQueriesContext(connection) as queries:
        start, cpu = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        result = fn(*args, **kwargs)
        if profile:
            profile.disable()
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    if profile:
        for order in ("tottime", "cumulative"):
            pstats.Stats(profile).strip_dirs().sort_stats(order).print_stats(PROFILE_LINES)
    return result, elapsed, cpu, len(queries)


def sweep(day: date, batch_size: int, profiled: bool = False) -> tuple[float, float, int, int, int]:
    digests = OutboxMessage.objects.filter(kind=OutboxMessage.Kind.DIGEST).count()
    written, elapsed, cpu, queries = measured(plan_reminders, day, batch_size=batch_size, profiled=profiled)
    digests = OutboxMessage.objects.filter(kind=OutboxMessage.Kind.DIGEST).count() - digests
    return elapsed, cpu, written, digests, queries


def ceiling(figures: dict[int, tuple[float, float]], limit: float) -> str:
    """The portfolio that would take ``limit`` seconds, extrapolated linearly from the smallest and largest size
    measured, by wall time and by CPU time."""
    small, large = min(figures), max(figures)
    said = []
    for index, name in ((0, "wall"), (1, "cpu")):
        slope = (figures[large][index] - figures[small][index]) / (large - small)
        if slope <= 0:
            said.append(f"{name}: no growth measured")
            continue
        reach = small + (limit - figures[small][index]) / slope
        said.append(f"{name}: {reach:8.0f} integrations ({slope * 1e6:.0f} µs each)")
    return "  ".join(said)


def hourly(moment: datetime, batch_size: int, profiled: bool = False) -> tuple[float, float, int, int]:
    """Beat's hourly reminder run at ``moment``: wall time, CPU time, rows written and queries."""
    written, elapsed, cpu, queries = measured(sweep_reminders, moment, batch_size=batch_size, profiled=profiled)
    return elapsed, cpu, written, queries


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000", help="portfolio sizes (running integrations)")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--limit", type=float, default=240.0, help="seconds the ceiling is measured against")
    parser.add_argument("--smoke", action="store_true", help="the smallest sizes, to check that it runs")
    parser.add_argument(
        "--profile",
        choices=["refresh", *PHASES.values(), "plans"],
        help="print where that phase spends its time, at the largest size (cProfile: its figures grow too)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.batch_size = "30,60", 25  # more than one batch
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    call_command("migrate", verbosity=0)
    # Loaded before anything is timed, as in a running worker: else the first sweep timed pays for importing
    # every page's module (its links), and the ceiling's slope comes out too low.
    get_resolver().url_patterns  # noqa: B018
    print(f"database: {connection.vendor}, batch size: {args.batch_size}")
    begin = time.perf_counter()
    template = RoadmapTemplate.latest("tradingview-rest-api")
    sources(template, pms())
    figures = {"refresh": {}, "monday": {}, "rerun": {}, "weekday": {}, "plans": {}}
    for size, days in zip(sizes, DAYS * (len(sizes) // len(DAYS) + 1), strict=False):
        copy_portfolio(
            size,
            Integration.objects.filter(partner__name__startswith="Bench 0").prefetch_related("steps"),
            time_zone="Europe/Berlin",
            slack_channels=True,
        )
        running = Integration.objects.filter(state=Integration.State.ACTIVE).count()
        batches = -(-running // args.batch_size)
        monday, weekday = days
        profiled = {args.profile} if size == max(sizes) else set()
        refreshed, elapsed, cpu, queries = measured(
            refresh_running, now=moment(monday, 5), batch_size=args.batch_size, profiled="refresh" in profiled
        )
        figures["refresh"][running] = (elapsed, cpu)
        print(
            f"refresh_running {monday:%a %Y-%m-%d}  {running:6} running  {batches:3} batch(es)  "
            f"{elapsed * 1000:9.0f} ms  cpu={cpu * 1000:7.0f} ms  refreshed={refreshed:6}  queries={queries}"
        )
        for label, day in (("everything late", monday), ("run again", monday), ("weekday", weekday)):
            elapsed, cpu, written, digests, queries = sweep(day, args.batch_size, PHASES[label] in profiled)
            figures[PHASES[label]][running] = (elapsed, cpu)
            print(
                f"plan_reminders {day:%a %Y-%m-%d} {label:15}  {running:6} running  {batches:3} batch(es)  "
                f"{elapsed * 1000:9.0f} ms  cpu={cpu * 1000:7.0f} ms  "
                f"rows={written:6} (digests {digests})  queries={queries}"
            )
        for label, hour in (("plans the day", 9), ("nothing due", 10), ("before the hour", 2)):
            moment_ = datetime(weekday.year, weekday.month, weekday.day, hour, 15, tzinfo=UTC)
            planning = label == "plans the day" and "plans" in profiled
            elapsed, cpu, written, queries = hourly(moment_, args.batch_size, planning)
            if label == "plans the day":
                figures["plans"][running] = (elapsed, cpu)
            print(
                f"sweep_reminders {moment_:%a %Y-%m-%d %H:%M} UTC  {running:6} running  {label:15}  "
                f"{elapsed * 1000:9.1f} ms  cpu={cpu * 1000:7.1f} ms  rows={written:6}  queries={queries}"
            )
    if len(figures["monday"]) > 1:
        for name, label in (
            ("refresh", "daily refresh"),
            ("monday", "Monday sweep, everything late"),
            ("rerun", "sweep run again, nothing new"),
            ("weekday", "weekday sweep"),
            ("plans", "beat's run planning the day"),
        ):
            print(f"ceiling under {args.limit:.0f} s, {label:30} {ceiling(figures[name], args.limit)}")
    print(f"total: {time.perf_counter() - begin:.1f} s")


if __name__ == "__main__":
    main()
