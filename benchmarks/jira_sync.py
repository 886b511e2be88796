"""Benchmark of the Jira sync: requests a pull cycle makes, and webhook deliveries stored per second.

Usage: .venv/bin/python benchmarks/jira_sync.py [--sizes 10,100,1000] [--changed 50] [--deliveries 500]
       [--burst 2000] [--smoke]
Runs on a fresh SQLite file in a temporary folder, or on DATABASE_URL when it is set (the database
named there is used as is: the benchmark writes partners prefixed "Bench Jira" and moves the
JiraConnection row's watermark). The Celery broker is always a temporary folder.

Prints:
- for each portfolio size in ``--sizes`` (integrations, each with its own Jira project key), one
  pull cycle against a fake Jira Cloud site (``tests/fake_jira.py``, the real ``jira`` client over
  HTTP) with ``--changed`` issues changed in total: the requests it made, its time (and this
  process's CPU time: on PostgreSQL the server's is not in it), queries and the
  steps Jira's news moved; then the same issues edited again (known rows, no step moves: the
  queries grow with pages, not issues); then the largest portfolio with ten times as many changes
  (50 and 500 by default), to show what the requests and queries grow with;
- webhook deliveries stored per second: signed bodies POSTed to /hooks/jira/ through Django's test
  Client (stored, and a drain queued on the broker per burst), next to a bare view answering 204 on
  the same path in the same run, and their ratio;
- a burst of ``--burst`` deliveries (15 % of them the same news resent under new ids) POSTed as fast
  as the test Client goes, with a worker thread in this process running what the hook queues:
  POST -> applied p50 and p95, and that each delivery was processed once.
The first few integrations are kicked off through plan.start_integration; the rest are bulk copies.
"""

import argparse
import hashlib
import hmac
import itertools
import json
import os
import queue
import sys
import threading
import time
import traceback
import types
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

# Python puts this script's folder first on the path, where this file would shadow the ``jira`` package.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from benchmarks.start import throwaway_folder  # noqa: E402

if "VAR_DIR" not in os.environ:
    os.environ["VAR_DIR"] = throwaway_folder("roadmap-jira-bench-")
os.environ.setdefault("EMBEDDED", "1")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # one log line per delivery would drown the figures
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

from benchmarks.portfolio import bench_integration  # noqa: E402
from integrations import plan  # noqa: E402
from integrations.context import ChangeContext  # noqa: E402
from integrations.jira.models import JiraConnection, JiraDelivery  # noqa: E402
from integrations.jira.pull import pull_cycle  # noqa: E402
from integrations.models import Integration, IntegrationStep, Partner, StepChange  # noqa: E402
from roadmap.models import RoadmapTemplate  # noqa: E402
from tests.fake_jira import SEARCH, FakeJira, jira_issue, jira_time  # noqa: E402

KICKED_OFF = 5  # integrations made through the services; the rest are bulk copies of the first
HOOK = "/hooks/jira/"
SECRET = "bench-webhook-secret"
# Delivery ids of this run: a database used again (DATABASE_URL) holds those of earlier runs.
RUN = f"bench-{time.time_ns()}"


def project_key(n: int) -> str:
    return f"BJ{n:04d}"


def kick_off(template, n: int) -> Integration:
    integration = bench_integration(template, f"Bench Jira {n:05d}", jira_project_key=project_key(n))
    today = timezone.localdate()
    kickoff = today - timedelta(days=today.weekday())  # this week's Monday
    return plan.start_integration(integration, kickoff, ChangeContext("system", at=timezone.now()))


@transaction.atomic
def copy_integrations(source: Integration, start: int, stop: int):
    """Integrations ``start``..``stop - 1``: copies of ``source`` with its steps, each with its own project key."""
    partners = [Partner(name=f"Bench Jira {n:05d} {time.time_ns()}") for n in range(start, stop)]
    Partner.objects.bulk_create(partners)
    copies = []
    for n, partner in zip(range(start, stop), partners, strict=True):
        copy = Integration(**{f.attname: getattr(source, f.attname) for f in Integration._meta.concrete_fields})
        copy.pk = None
        copy.partner_id = partner.pk
        copy.current_step_id = None
        copy.jira_project_key = project_key(n)
        copies.append(copy)
    Integration.objects.bulk_create(copies, batch_size=500)
    steps = list(source.steps.all())
    rows = []
    for copy in copies:
        for step in steps:
            clone = IntegrationStep(
                **{f.attname: getattr(step, f.attname) for f in IntegrationStep._meta.concrete_fields}
            )
            clone.pk = None
            clone.integration_id = copy.pk
            rows.append(clone)
    IntegrationStep.objects.bulk_create(rows, batch_size=2000)


def grow_portfolio(template, size: int):
    have = Integration.objects.filter(jira_project_key__startswith="BJ").count()
    while have < min(size, KICKED_OFF):
        kick_off(template, have)
        have += 1
    if have < size:
        first = Integration.objects.get(jira_project_key=project_key(0))
        copy_integrations(first, have, size)


def changed_issues(run: int, count: int, projects: int) -> list[dict]:
    """``count`` issues changed in the last minutes, spread over the first ``projects`` projects."""
    now = timezone.now()
    issues = []
    for i in range(count):
        done = i % 2 == 0
        issues.append(
            jira_issue(
                f"{project_key(i % projects)}-{run * 100_000 + i + 1}",
                now - timedelta(minutes=5) + timedelta(milliseconds=10 * i),
                status="Done" if done else "In Progress",
                category="done" if done else "indeterminate",
                labels=["roadmap-slack-jira-onboarding"] if i % 3 else ["roadmap-autotests-configuration"],
            )
        )
    return issues


def pull_requests(fake: FakeJira, template, sizes: list[int], changed: int):
    print(f"pull cycle, {changed} changed issues in total (a page holds {fake.page_size} issues)")
    runs = [(size, changed) for size in sizes] + [(sizes[-1], changed * 10)]
    for run, (size, count) in enumerate(runs):
        grow_portfolio(template, size)
        fake.issues = changed_issues(run, count, min(size, count))
        JiraConnection.objects.update_or_create(pk=1, defaults={"watermark": timezone.now() - timedelta(minutes=10)})
        fake.forget_requests()
        changes_before = StepChange.objects.filter(source="jira").count()
        with CaptureQueriesContext(connection) as queries:
            start, cpu = time.perf_counter(), time.process_time()
            counts = pull_cycle()
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        assert not counts["error"] and not counts["skipped"], counts
        moved = StepChange.objects.filter(source="jira").count() - changes_before
        print(
            f"  {size:6} integrations  changed={counts['read']:4}  requests={fake.count():3} "
            f"(serverInfo {fake.count('/serverInfo')}, field {fake.count('/field')}, search {fake.count(SEARCH)})  "
            f"applied={counts['applied']:4}  steps moved={moved:4}  {elapsed * 1000:8.0f} ms  "
            f"CPU {cpu * 1000:7.0f} ms  queries={len(queries)}"
        )
        # The same issues changed again (a summary edited): known rows, no step moves.
        later = timezone.now()
        for issue in fake.issues:
            issue["fields"]["summary"] += " (edited)"
            issue["fields"]["updated"] = jira_time(later)
        fake.forget_requests()
        with CaptureQueriesContext(connection) as queries:
            start, cpu = time.perf_counter(), time.process_time()
            counts = pull_cycle()
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        assert not counts["error"] and not counts["skipped"], counts
        print(
            f"  {size:6} integrations  changed={counts['read']:4}  requests={fake.count():3} (edited again, "
            f"no step moves)  {elapsed * 1000:8.0f} ms  CPU {cpu * 1000:7.0f} ms  queries={len(queries)}"
        )


def delivery_body(n: int) -> bytes:
    issue = jira_issue(f"{project_key(n % 10)}-{900_000 + n}", timezone.now(), status="Done", category="done")
    issue["fields"]["labels"] = ["roadmap-slack-jira-onboarding"]
    return json.dumps(
        {
            "timestamp": int(time.time() * 1000),
            "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_generic",
            "user": {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Mia Krystof"},
            "issue": issue,
            "changelog": {
                "id": str(10_000 + n),
                "items": [
                    {
                        "field": "status",
                        "fieldtype": "jira",
                        "fieldId": "status",
                        "from": "3",
                        "fromString": "In Progress",
                        "to": "10001",
                        "toString": "Done",
                    }
                ],
            },
        }
    ).encode()


@csrf_exempt
def bare(request):
    return HttpResponse(status=204)


@csrf_exempt
def bare_insert(request):
    """The floor of a hook that stores before it answers: one row inserted and committed, then 204."""
    JiraDelivery.objects.create(delivery_id=f"floor-{time.time_ns()}", event="bench", body={}, outcome="ignored")
    return HttpResponse(status=204)


def post_all(client: Client, bodies, first_id: int, expected: int) -> float:
    start = time.perf_counter()
    for n, body in enumerate(bodies):
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        response = client.post(
            HOOK,
            data=body,
            content_type="application/json",
            headers={"X-Atlassian-Webhook-Identifier": f"{RUN}-{first_id + n}", "X-Hub-Signature": signature},
        )
        assert response.status_code == expected, (response.status_code, response.content[:200])
    return time.perf_counter() - start


def webhook_rate(deliveries: int, rounds: int = 5):
    bare_urls = types.ModuleType("jira_bench_bare_urls")
    bare_urls.urlpatterns = [path(HOOK.strip("/") + "/", bare)]
    sys.modules[bare_urls.__name__] = bare_urls
    insert_urls = types.ModuleType("jira_bench_insert_urls")
    insert_urls.urlpatterns = [path(HOOK.strip("/") + "/", bare_insert)]
    sys.modules[insert_urls.__name__] = insert_urls
    client = Client()
    bodies = [delivery_body(n) for n in range(deliveries)]
    per_round = max(1, deliveries // rounds)
    hook_time = bare_time = insert_time = 0.0
    stored_before = JiraDelivery.objects.filter(delivery_id__startswith=RUN).count()
    with override_settings(JIRA_WEBHOOK_SECRET=SECRET, JIRA_WEBHOOK_ALLOW_UNSIGNED=False, ALLOWED_HOSTS=["testserver"]):
        # Alternate the two in rounds, so that both see the same machine and the same database size.
        for start in range(0, deliveries, per_round):
            chunk = bodies[start : start + per_round]
            with override_settings(ROOT_URLCONF=bare_urls.__name__):
                bare_time += post_all(client, chunk, start, 204)
            with override_settings(ROOT_URLCONF=insert_urls.__name__):
                insert_time += post_all(client, chunk, start, 204)
            hook_time += post_all(client, chunk, start, 202)
    stored = JiraDelivery.objects.filter(delivery_id__startswith=RUN).count() - stored_before
    assert stored == deliveries, (stored, deliveries)
    hook_rate, bare_rate = deliveries / hook_time, deliveries / bare_time
    print(f"webhook, {deliveries} signed deliveries through the test Client ({len(bodies[0])} bytes each)")
    print(
        f"  /hooks/jira/ (stored, queued)  {hook_rate:8.0f} deliveries/s  {hook_time * 1e3 / deliveries:6.2f} ms each"
    )
    print(
        f"  bare view answering 204         {bare_rate:8.0f} requests/s    {bare_time * 1e3 / deliveries:6.2f} ms each"
    )
    insert_rate = deliveries / insert_time
    print(
        f"  bare view inserting one row     {insert_rate:8.0f} requests/s    {insert_time * 1e3 / deliveries:6.2f} ms each"
    )
    print(f"  ratio hook/bare                 {hook_rate / bare_rate:8.2f}")
    print(f"  ratio hook/bare inserting       {hook_rate / insert_rate:8.2f}")


class InProcessWorker:
    """A worker thread of this process: the tasks the hook queues (a drain per burst; before it, a
    task per delivery) are put on a queue and run here, at their countdown, as a Celery worker would."""

    def __init__(self):
        # By due time, as a worker holds tasks with a countdown: a drain's follow-up a minute away
        # must not hold up the drains queued after it.
        self.queue = queue.PriorityQueue()
        self.order = itertools.count()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.patched = []

    def idle(self) -> bool:
        """Nothing running and nothing queued: only then would a lost drain show (the queue is empty
        while a drain runs, and that drain takes whatever is pending when it claims)."""
        return self.queue.unfinished_tasks == 0  # each task taken is done only once it has run

    def __enter__(self):
        from integrations.jira import tasks
        from integrations.jira.views import DRAIN_WINDOW

        # The webhook figures just before queued their drain to the broker, which no worker of this
        # process reads; a burst starting within that drain's window would count on it and queue none
        # (why the burst used to need a sweep). A new worker starts with no window open.
        DRAIN_WINDOW.close()

        def later(task):
            def queue_it(*args, countdown=None, **kwargs):
                self.queue.put(
                    (time.monotonic() + (countdown or 0), next(self.order), task, kwargs.get("args") or args)
                )

            return queue_it

        for name in ("drain", "process_delivery"):
            task = getattr(tasks, name, None)
            if task is not None:
                self.patched.append((task, task.__dict__.get("apply_async"), task.__dict__.get("delay")))
                task.apply_async = later(task)
                task.delay = lambda *args, _task=task: later(_task)(args=args)
        self.thread.start()
        return self

    def run(self):
        while True:
            due, order, task, args = self.queue.get()
            try:
                if task is None:
                    break
                if due > time.monotonic():  # not yet: look again shortly, in case an earlier one comes
                    self.queue.put((due, order, task, args))
                    time.sleep(min(0.01, due - time.monotonic()) if due > time.monotonic() else 0)
                    continue
                try:
                    task.run(*args)
                except Exception:  # a worker logs a failed task and goes on; the sweep takes what it left
                    traceback.print_exc()
            finally:
                self.queue.task_done()
        connection.close()

    def __exit__(self, *exc):
        self.queue.put((0.0, -1, None, None))  # stop now, before the follow-ups still waiting
        self.thread.join()
        for task, apply_async, delay in self.patched:
            for name, value in (("apply_async", apply_async), ("delay", delay)):
                if value is None:
                    task.__dict__.pop(name, None)
                else:
                    setattr(task, name, value)


class _SweepDrain:
    """What beat's sweep does for a delivery no drain took: drain the inbox. ``took`` counts the
    sweeps that found deliveries no drain had taken (a sweep finding none was not needed)."""

    def __init__(self):
        self.took = 0

    def run(self):
        from integrations.jira.tasks import drain

        if drain.run():
            self.took += 1


def burst(deliveries: int, resent: int):
    """``deliveries`` signed POSTs as fast as the test Client sends them, ``resent`` of them the same news
    under a new delivery id, with the worker in this process: POST -> applied (the row's
    ``received_at`` to its ``processed_at``), p50 and p95, and whether every one was processed once."""
    bodies = [delivery_body(500_000 + n) for n in range(deliveries - resent)]
    bodies += [bodies[n * (len(bodies) // max(1, resent))] for n in range(resent)]
    first_id = 1_000_000
    client = Client()
    with (
        override_settings(JIRA_WEBHOOK_SECRET=SECRET, JIRA_WEBHOOK_ALLOW_UNSIGNED=False, ALLOWED_HOSTS=["testserver"]),
        InProcessWorker() as worker,
    ):
        start = time.perf_counter()
        posting = post_all(client, bodies, first_id, 202)
        ids = [f"{RUN}-{first_id + n}" for n in range(len(bodies))]
        sweep_drain = _SweepDrain()
        left, quiet_since, sweeps = None, time.perf_counter(), 0
        while now_left := JiraDelivery.objects.filter(
            delivery_id__in=ids, outcome__in=("pending", "processing")
        ).count():
            if time.perf_counter() - start > 600:
                raise SystemExit("the burst was not processed within 10 minutes")
            if now_left != left:
                left, quiet_since = now_left, time.perf_counter()
            elif time.perf_counter() - quiet_since > 2 and worker.idle():
                # Nothing moved for 2 s, nothing runs and nothing is queued: beat's sweep would drain what is pending.
                worker.queue.put((time.monotonic(), next(worker.order), sweep_drain, ()))
                quiet_since, sweeps = time.perf_counter(), sweeps + 1
            time.sleep(0.05)
        elapsed = time.perf_counter() - start
    rows = JiraDelivery.objects.filter(delivery_id__in=ids)
    waits = sorted((p - r).total_seconds() for r, p in rows.values_list("received_at", "processed_at"))
    seen = dict(Counter(rows.values_list("outcome", flat=True)))
    attempts = set(rows.values_list("attempts", flat=True))
    p50, p95 = waits[len(waits) // 2], waits[min(len(waits) - 1, int(len(waits) * 0.95))]
    print(f"burst, {len(bodies)} deliveries ({resent} resent under new ids), worker in this process")
    print(
        f"  intake {len(bodies) / posting:6.0f}/s, all applied after {elapsed:5.1f} s "
        f"({len(bodies) / elapsed:6.0f}/s)  POST -> applied p50 {p50 * 1e3:7.0f} ms  p95 {p95 * 1e3:7.0f} ms"
    )
    print(f"  outcomes {seen}  attempts per delivery {sorted(attempts)}  sweeps {sweeps}, needed {sweep_drain.took}")
    assert seen.get("duplicate", 0) >= resent and attempts == {1}, (seen, attempts)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,1000", help="portfolio sizes (integrations)")
    parser.add_argument("--changed", type=int, default=50, help="issues changed in total, per pull cycle")
    parser.add_argument("--deliveries", type=int, default=500)
    parser.add_argument("--burst", type=int, default=2000, help="deliveries of the burst, POST -> applied")
    parser.add_argument("--smoke", action="store_true", help="the smallest sizes, to check that it runs")
    args = parser.parse_args()
    if args.smoke:
        args.sizes, args.changed, args.deliveries, args.burst = "5,12", 6, 10, 20  # 12: some bulk copies too
    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}, day: {date.today()}")
    template = RoadmapTemplate.latest("tradingview-rest-api")
    begin = time.perf_counter()
    with (
        FakeJira() as fake,
        override_settings(
            JIRA_URL=fake.url,
            JIRA_USER=fake.user,
            JIRA_API_TOKEN=fake.token,
            JIRA_ENABLED=True,
            JIRA_TIMEOUT_SECONDS=10,
        ),
    ):
        pull_requests(fake, template, sorted(int(s) for s in args.sizes.split(",") if s.strip()), args.changed)
    webhook_rate(args.deliveries)
    burst(args.burst, resent=args.burst * 3 // 20)
    print(f"total: {time.perf_counter() - begin:.1f} s")


if __name__ == "__main__":
    main()
