"""Benchmark of the portfolio page: its render time against a bare view of the same rows; and the
portfolio's timeline page.

Usage: .venv/bin/python benchmarks/pages.py [--sizes 10,100,1000,10000] [--timeline-sizes 100,1000]
[--repeat 20] [--smoke]
Runs on a fresh SQLite file in a temporary folder, or on DATABASE_URL when it is set (the
database named there is used as is; the benchmark writes partners prefixed "Bench").

For each portfolio size, prints the mean and 95th percentile of GET / through Django's test
Client (a staff user logged in; the first page of 50 rows, counts, filters and health line), the
same for a bare view defined here that renders the same 50 rows from one query with a minimal
template, their ratio, the ratio of their mean CPU times (``time.process_time``: steadier than
the wall clock on a loaded machine, though it leaves out the database server's own work on
PostgreSQL) and the page's query count. On PostgreSQL the tables are vacuumed and analysed after each
copy (``settle``), as autovacuum would have done in a live database. Then, for each of ``--timeline-sizes`` (by default the
same sizes), the same figures for GET /timeline/ (its first page of 50 rows drawn against the
calendar) against the same bare view.
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

from benchmarks.portfolio import copy_portfolio, seed_originals, settle  # noqa: E402
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


def measure(client, url, repeat):
    """Mean and 95th percentile wall time of GET ``url`` in ms, and its mean CPU time in ms."""
    samples, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        assert response.status_code == 200, response.status_code
    ordered = sorted(samples)
    return statistics.mean(samples), ordered[max(0, int(len(ordered) * 0.95) - 1)], statistics.mean(cpu)


def figures(page, plain, queries) -> str:
    """One line's figures: the page's and the bare view's times, the wall and CPU ratios, the queries."""
    return (
        f"{page[0]:>10.1f} / {page[1]:>8.1f}  {plain[0]:>8.1f} / {plain[1]:>7.1f}  "
        f"{page[0] / plain[0]:>6.1f}  {page[2]:>6.1f} / {plain[2]:>5.1f}  {page[2] / plain[2]:>5.1f}  {queries}"
    )


HEADER = (
    f"{'mean/p95 ms':>22}  {'bare mean/p95 ms':>18}  {'ratio':>6}  {'CPU ms page/bare':>14}  {'CPU ratio':>5}  queries"
)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--timeline-sizes", default="", help="default: the same as --sizes")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="the smallest sizes, to check that it runs")
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.timeline_sizes, args.repeat = "10,30", "30", 2
    args.timeline_sizes = args.timeline_sizes or args.sizes
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}")
    seed_originals(10)
    user, _ = get_user_model().objects.get_or_create(username="bench-pm", defaults={"is_staff": True})
    Integration.objects.filter(partner__name__startswith="Bench").update(tv_pm=user)
    with override_settings(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["*"], DEBUG=False):
        client = Client()
        client.force_login(user)
        print(f"{'portfolio':>12}\n{'integrations':>12}  {HEADER}")
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
        timeline_sizes = [int(s) for s in args.timeline_sizes.split(",") if s.strip()]
        timeline = []
        for size in sorted(set(sizes) | set(timeline_sizes)):
            originals = Integration.objects.filter(partner__name__startswith="Bench").prefetch_related("steps")[:10]
            copy_portfolio(size, originals)
            settle()
            running = Integration.objects.filter(state__in=Integration.RUNNING_STATES).count()
            client.get("/bare/")  # warm up templates
            plain = measure(client, "/bare/", args.repeat)
            if size in timeline_sizes:
                drawn, queries = measure_page(client, "/timeline/", args.repeat)
                timeline.append(f"{running:>12}  {figures(drawn, plain, queries)}")
            if size not in sizes:
                continue
            page, queries = measure_page(client, "/", args.repeat)
            print(f"{running:>12}  {figures(page, plain, queries)}", flush=True)
        print(f"\n{'timeline':>12}\n{'integrations':>12}  {HEADER}")
        for line in timeline:
            print(line)


def measure_page(client, url, repeat):
    """``measure`` of GET ``url`` after a warm-up, and its query count."""
    client.get(url)  # warm up templates
    figures = measure(client, url, repeat)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return figures, len(queries)


if __name__ == "__main__":
    main()
