"""Benchmark of the REST API's integrations list: time and SQL queries as the portfolio grows.

Usage: .venv/bin/python benchmarks/api.py [--sizes 10,100,1000,10000] [--repeat 20] [--smoke]
Runs on a fresh SQLite file in a temporary folder, or on DATABASE_URL when it is set (the
database named there is used as is; the benchmark writes partners prefixed "Bench").

For each portfolio size, prints the median and 95th percentile of GET /api/v1/integrations/
(the first page of 50, default filters) through Django's test Client with a Bearer token, and
its query count, for a staff user (every integration) and for a partner's user (its partner's
integrations only: a tenth of the portfolio, moved to its partner), its mean CPU time
(``time.process_time``: steadier than the wall clock on a loaded machine, though it leaves out the
database server's own work on PostgreSQL), and, for the staff user, the ratios of its median and
of its mean CPU time to a bare JSON view defined here that lists the same first 50 rows from one
query.
"""

import argparse
import statistics
import time

from start import start_django  # noqa: E402  (this folder is on sys.path)

start_django()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402

from benchmarks.portfolio import copy_portfolio, seed_originals  # noqa: E402
from integrations.api.models import ApiToken  # noqa: E402
from integrations.models import Integration, Partner, PartnerUser  # noqa: E402

URL = "/api/v1/integrations/"
BARE = "/bare/"
BARE_FIELDS = ["id", "name", "partner__name", "state", "ball_side", "next_due_on", "forecast_launch_on", "updated_at"]


def bare(request):
    """The same first page of 50 running integrations (sorted by deadline), from one query, as plain JSON."""
    rows = (
        Integration.objects.filter(state__in=Integration.RUNNING_STATES)
        .order_by("next_deadline_at", "partner__name", "name", "pk")
        .values(*BARE_FIELDS)[:50]
    )
    return JsonResponse({"results": list(rows)})


urlpatterns = [path("bare/", bare), path("", include("config.urls"))]


def users():
    """A staff PM and a partner's user, each with a token; the partner is the first benchmark partner's."""
    model = get_user_model()
    pm, _ = model.objects.get_or_create(username="bench-pm", defaults={"is_staff": True})
    dev, _ = model.objects.get_or_create(username="bench-partner-dev")
    return pm, dev


def bearer(user) -> Client:
    _, raw = ApiToken.issue(user=user, name="benchmark")
    return Client(headers={"Authorization": f"Bearer {raw}"})


def measure(client, repeat, url=URL):
    """Median and 95th percentile wall time in ms, queries, the last answer, and the mean CPU time in ms."""
    samples, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, (response.status_code, response.content[:300])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    ordered = sorted(samples)
    median, p95 = statistics.median(samples), ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return median, p95, len(queries), response.json(), statistics.mean(cpu)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="the smallest sizes, to check that it runs")
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.repeat = "10,30", 2
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}")
    pm, dev = users()
    seed_originals(10, pm)
    originals = Integration.objects.filter(partner__name__startswith="Bench").prefetch_related("steps")[:10]
    partner = Partner.objects.filter(name__startswith="Bench").order_by("pk").first()
    PartnerUser.objects.update_or_create(user=dev, defaults={"partner": partner})
    # The throttle would stop a benchmark; the rate is a setting.
    with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"], DEBUG=False, API_THROTTLE_RATE="1000000/min"):
        staff, partner_client = bearer(pm), bearer(dev)
        print(
            f"{'integrations':>12}  {'caller':>8}  {'rows':>5}  {'median ms':>9}  {'p95 ms':>8}  queries  "
            "CPU ms  bare median ms  ratio  bare CPU ms  CPU ratio"
        )
        for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
            copy_portfolio(size, originals)
            # A tenth of the portfolio is the partner's: its user's list grows with the portfolio too.
            running = Integration.objects.filter(state__in=Integration.RUNNING_STATES)
            theirs = list(running.order_by("pk").values_list("pk", flat=True)[: max(1, size // 10)])
            Integration.objects.filter(pk__in=theirs).update(partner=partner)
            staff.get(BARE)  # warm up
            plain, *_, plain_cpu = measure(staff, args.repeat, BARE)
            for name, client in (("staff", staff), ("partner", partner_client)):
                client.get(URL)  # warm up
                median, p95, queries, body, cpu = measure(client, args.repeat)
                versus = (
                    f"{plain:>14.1f}  {median / plain:>5.1f}  {plain_cpu:>11.1f}  {cpu / plain_cpu:>9.1f}"
                    if name == "staff"
                    else ""
                )
                print(
                    f"{running.count():>12}  {name:>8}  {body['count']:>5}  {median:>9.1f}  {p95:>8.1f}  {queries:>7}  "
                    f"{cpu:>6.1f}  {versus}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
