"""Benchmark of the Jenkins hook: notifications stored per second, and what applying them costs.

Usage: .venv/bin/python benchmarks/jenkins.py [--integrations 100] [--smoke]
Runs on a fresh SQLite file in a temporary folder, or on DATABASE_URL when it is set (the database
named there is used as is: the benchmark writes partners named "Bench Jenkins ...").

Each integration (data and trading, crypto) is kicked off with its partner's endpoints done and a
Jenkins job linked to each part; then each gets five notifications shaped like the plugin's:
data STARTED and COMPLETED SUCCESS, trading STARTED, COMPLETED FAILURE (#1) and COMPLETED SUCCESS
(#2). Prints:
- stored: the POSTs to /hooks/jenkins/ through Django's test Client (token in the query string),
  per second, mean, median and 95th percentile;
- applied: the inbox's sweep applying them all (records the builds, completes "Autotests
  configuration" and "Passing REST API autotests" with source jenkins): per delivery, and the
  queries per delivery;
- how many steps Jenkins completed (two per integration expected).
"""

import argparse
import json
import statistics
import time

from start import start_django  # noqa: E402  (this folder is on sys.path)

start_django("jenkins-bench-", LOG_LEVEL="WARNING")

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import override_settings  # noqa: E402
from django.utils import timezone  # noqa: E402

from benchmarks.portfolio import bench_integration  # noqa: E402
from integrations import plan  # noqa: E402
from integrations.context import ChangeContext  # noqa: E402
from integrations.jenkins import inbox  # noqa: E402
from integrations.jenkins.models import JenkinsDelivery, JenkinsJob  # noqa: E402
from integrations.models import IntegrationStep, StepChange  # noqa: E402
from integrations.steps import complete_step  # noqa: E402
from roadmap.models import RoadmapTemplate  # noqa: E402


def setup(count: int) -> list[tuple[str, str, str, str]]:
    """``count`` integrations with both jobs linked: (trading job, trading token, data job, data token) each."""
    template = RoadmapTemplate.latest("tradingview-rest-api")
    now = timezone.now()
    kickoff = timezone.localdate() - timezone.timedelta(days=14)
    linked = []
    for n in range(count):
        integration = bench_integration(template, f"Bench Jenkins {n:05d}")
        plan.start_integration(integration, kickoff, ChangeContext("system", at=now - timezone.timedelta(days=14)))
        endpoints = IntegrationStep.objects.get(integration=integration, code="endpoints-implementation")
        complete_step(endpoints, ChangeContext("system", at=now - timezone.timedelta(days=1)))
        trading_job, trading = JenkinsJob.issue(integration=integration, part="trading", job_name=f"bench-{n}-trading")
        data_job, data = JenkinsJob.issue(integration=integration, part="data", job_name=f"bench-{n}-data")
        linked.append((trading_job.job_name, trading, data_job.job_name, data))
    return linked


def body(job: str, number: int, phase: str, status: str | None = None) -> bytes:
    build = {
        "full_url": f"https://ci.example/job/{job}/{number}/",
        "number": number,
        "phase": phase,
        "timestamp": int(time.time() * 1000) - 60_000,
        "url": f"job/{job}/{number}/",
        "scm": {"url": "https://git.example/autotests.git", "branch": "origin/master", "commit": "4f1c2a9e"},
        "parameters": {"SPEC_VERSION": "1.9"},
    }
    if status:
        build["status"], build["duration"] = status, 30_000
    return json.dumps({"name": job, "url": f"job/{job}/", "build": build}).encode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--integrations", type=int, default=100)
    parser.add_argument("--smoke", action="store_true", help="the smallest size, to check that it runs")
    args = parser.parse_args()
    count = 3 if args.smoke else args.integrations
    call_command("migrate", verbosity=0)
    linked = setup(count)
    notifications = []
    for trading_job, trading, data_job, data in linked:
        notifications += [
            (data, body(data_job, 1, "STARTED")),
            (data, body(data_job, 1, "COMPLETED", "SUCCESS")),
            (trading, body(trading_job, 1, "STARTED")),
            (trading, body(trading_job, 1, "COMPLETED", "FAILURE")),
            (trading, body(trading_job, 2, "COMPLETED", "SUCCESS")),
        ]
    client = Client()
    times = []
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        for token, raw in notifications:
            start = time.perf_counter()
            response = client.post(f"/hooks/jenkins/?token={token}", raw, content_type="application/json")
            times.append(time.perf_counter() - start)
            assert response.status_code == 202, response.content
    mean = statistics.mean(times)
    p95 = sorted(times)[int(len(times) * 0.95) - 1] if len(times) > 1 else times[0]
    median = statistics.median(times)
    print(
        f"stored: {len(times)} notifications, {1 / mean:,.0f}/s  mean {mean * 1000:.1f} ms  "
        f"median {median * 1000:.1f} ms  p95 {p95 * 1000:.1f} ms (the first request warms Django up)"
    )

    pending = JenkinsDelivery.objects.filter(outcome="pending").count()
    queries = []

    def counted(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(counted):  # every query, however many (the debug log keeps 9,000)
        start = time.perf_counter()
        applied = inbox.sweep(now=timezone.now() + timezone.timedelta(minutes=1), limit=len(notifications))
        elapsed = time.perf_counter() - start
    print(
        f"applied: {applied} of {pending} in {elapsed:.2f} s  {elapsed / max(applied, 1) * 1000:.1f} ms each  "
        f"{len(queries) / max(applied, 1):.0f} queries each"
    )
    done = StepChange.objects.filter(source="jenkins", to_status="done").count()
    print(f"steps Jenkins completed: {done} (expected {2 * count})")
    assert done == 2 * count, done


if __name__ == "__main__":
    main()
