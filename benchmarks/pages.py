"""Benchmark of the portfolio page: its render time against a bare view of the same rows; and the
portfolio's timeline page.

Usage: .venv/bin/python benchmarks/pages.py [--sizes 10,100,1000,10000] [--timeline-sizes 100,1000]
[--repeat 20] [--smoke]
Runs on a fresh SQLite file in a temporary folder, or on DATABASE_URL when it is set (the
database named there is used as is; the benchmark writes partners prefixed "Bench").

For each portfolio size, prints the mean and 95th percentile of GET / through Django's test
Client (a staff user logged in; the first page of 50 rows, counts, filters and health line), the
same for a bare view defined here that renders the same 50 rows from one query with a minimal
template, their ratio, and the page's query count. Then, for each of ``--timeline-sizes``, the
mean and 95th percentile of GET /timeline/ (its first page of 50 rows drawn against the calendar),
its CPU time a request (``time.process_time``: on a loaded machine the figure that moves least),
its ratio to the bare view measured in the same run, and its query count.
"""

import argparse
import statistics
import time

from start import start_django  # noqa: E402  (this folder is on sys.path)

start_django()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.template import Context, Template  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402

from benchmarks.portfolio import copy_portfolio, seed_originals  # noqa: E402
from integrations.models import Integration  # noqa: E402

BARE = Template(
    "<table>{% for i in rows %}<tr><td>{{ i.partner.name }}</td><td>{{ i.current_step }}</td>"
    "<td>{{ i.ball_side }}</td><td>{{ i.next_due_on }}</td><td>{{ i.forecast_launch_on }}</td>"
    "<td>{{ i.updated_at }}</td></tr>{% endfor %}</table>"
)


def bare(request):
    """The same first page of rows (sorted by deadline) from one query, in a minimal template."""
    rows = (
        Integration.objects.filter(state__in=Integration.RUNNING_STATES)
        .select_related("partner", "current_step")
        .order_by("next_deadline_at", "partner__name", "name", "pk")[:50]
    )
    return HttpResponse(BARE.render(Context({"rows": rows})))


urlpatterns = [path("bare/", bare), path("", include("config.urls"))]


def measure(client, url, repeat, cpu=None):
    """Mean and 95th percentile of GET ``url`` in ms; with a list ``cpu``, each request's CPU ms is added to it."""
    samples = []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, response.status_code
    ordered = sorted(samples)
    return statistics.mean(samples), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--timeline-sizes", default="100,1000")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="the smallest sizes, to check that it runs")
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.timeline_sizes, args.repeat = "10,30", "30", 2
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}")
    seed_originals(10)
    user, _ = get_user_model().objects.get_or_create(username="bench-pm", defaults={"is_staff": True})
    Integration.objects.filter(partner__name__startswith="Bench").update(tv_pm=user)
    with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"], DEBUG=False):
        client = Client()
        client.force_login(user)
        print(f"{'integrations':>12}  {'portfolio mean/p95 ms':>22}  {'bare mean/p95 ms':>18}  {'ratio':>6}  queries")
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        timeline_sizes = [int(s) for s in args.timeline_sizes.split(",") if s.strip()]
        timeline = []
        for size in sorted(set(sizes) | set(timeline_sizes)):
            originals = Integration.objects.filter(partner__name__startswith="Bench").prefetch_related("steps")[:10]
            copy_portfolio(size, originals)
            running = Integration.objects.filter(state__in=Integration.RUNNING_STATES).count()
            if size in timeline_sizes:
                timeline.append((running, *measure_timeline(client, args.repeat)))
            if size not in sizes:
                continue
            client.get("/")  # warm up templates
            client.get("/bare/")
            page = measure(client, "/", args.repeat)
            plain = measure(client, "/bare/", args.repeat)
            with CaptureQueriesContext(connection) as queries:
                client.get("/")
            print(
                f"{running:>12}  {page[0]:>10.1f} / {page[1]:>8.1f}  {plain[0]:>8.1f} / {plain[1]:>7.1f}  "
                f"{page[0] / plain[0]:>6.1f}  {len(queries)}"
            )
        print(
            f"\n{'integrations':>12}  {'timeline mean/p95 ms':>21}  {'CPU ms':>6}  {'bare ms':>7}  {'ratio':>6}  queries"
        )
        for running, mean, p95, cpu, plain, queries in timeline:
            print(
                f"{running:>12}  {mean:>10.1f} / {p95:>8.1f}  {cpu:>6.1f}  {plain:>7.1f}  {mean / plain:>6.1f}  {queries}"
            )


def measure_timeline(client, repeat):
    """GET /timeline/ (its first page of 50 rows): mean and 95th percentile in ms, mean CPU ms, the bare
    view's mean ms (for the ratio, in the same conditions), and its queries."""
    client.get("/timeline/")  # warm up templates
    client.get("/bare/")
    cpu = []
    mean, p95 = measure(client, "/timeline/", repeat, cpu)
    plain = measure(client, "/bare/", repeat)[0]
    with CaptureQueriesContext(connection) as queries:
        client.get("/timeline/")
    return mean, p95, statistics.mean(cpu), plain, len(queries)


if __name__ == "__main__":
    main()
