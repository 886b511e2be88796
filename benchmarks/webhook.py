"""Benchmark of Jira's webhook over gunicorn, as production serves it: signed deliveries stored per
second against a bare view answering 204 and a bare view inserting one row, in the same run.

Usage: .venv/bin/python benchmarks/webhook.py [--deliveries 2000] [--rounds 5] [--smoke]
Runs on a fresh SQLite file in a temporary folder, or on DATABASE_URL when it is set (the database
named there is used as is; the deliveries are stored under ids starting "bench-"). REDIS_URL, when
set, is the broker the hook queues its drains on (nothing consumes them: the drains wait there).

One gunicorn sync worker in production settings (DEBUG off, persistent database connections:
DATABASE_CONN_MAX_AGE as production has it, https as the proxy says with X-Forwarded-Proto), and
one client sending one request at a time on a new connection, as Jira does. The three URLs are
alternated in rounds, so that each sees the same machine and the same database size. Prints
requests/s and ms per request of each, the worker's CPU time per request (read from /proc on
Linux: what the server itself spent, whatever else the machine runs), and the ratios hook/bare and
hook/bare inserting.

Then a burst of ``--burst`` deliveries, each moving one step of its own integration (an issue of
the integration's Jira project, labelled for "Slack and Jira onboarding", moved to Done), POSTed
one after the other to the same gunicorn, with the default worker running (``celery -A config
worker``, as production starts it: its default pool and concurrency): POST -> step changed p50
and p95, from the moment each POST is sent to the moment this script sees the step's history row
(polled every 10 ms). The integrations are made for the burst (partners named "Bench hook ...");
the rounds' deliveries, which move no step, are marked ignored first, so the worker starts with
an empty inbox. Then one drain of a full batch of such deliveries in this process, the worker
stopped: its queries, and its CPU and wall time per delivery; and one drain of deliveries each
completing "Passing REST API autotests" of its own integration, both parts' Jenkins jobs linked
with builds (the guard reads each part's runs), the same figures.

``--drain-only`` runs the drains alone (no gunicorn, no worker); ``--profile`` prints where each
drain spends its CPU (cProfile, by own time).
"""

import argparse
import cProfile
import hashlib
import hmac
import http.client
import json
import os
import pstats
import signal
import socket
import string
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from start import start_django  # noqa: E402  (this folder is on sys.path)

start_django()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402
from portfolio import bench_integration  # noqa: E402

from integrations import plan  # noqa: E402
from integrations.context import ChangeContext  # noqa: E402
from integrations.jenkins.models import JenkinsBuild, JenkinsJob  # noqa: E402
from integrations.jira import inbox  # noqa: E402
from integrations.jira.inbox import content_key  # noqa: E402
from integrations.jira.models import JiraDelivery  # noqa: E402
from integrations.models import Integration, IntegrationStep, Partner, StepChange  # noqa: E402
from roadmap.models import RoadmapTemplate, StepStatus  # noqa: E402

HERE = Path(__file__).resolve().parent
HOOK = "/hooks/jira/"
BARE = "/bench/bare/"
INSERT = "/bench/insert/"
SECRET = "bench-webhook-secret"
RUN = f"bench-{time.time_ns()}"


def free_port() -> int:
    """A port nothing listens on now: a fixed one may be another run's server, answering in our place."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = int(os.environ.get("BENCH_PORT") or free_port())


def delivery_body(n: int, key: str | None = None, step: str = "slack-jira-onboarding") -> bytes:
    """A Jira issue-updated delivery of the usual size (a status moved to Done), of issue ``key`` if given,
    labelled for ``step``."""
    updated = time.strftime("%Y-%m-%dT%H:%M:%S.000+0000", time.gmtime())
    key = key or f"BJ{n % 10:04d}-{900_000 + n}"
    return json.dumps(
        {
            "timestamp": int(time.time() * 1000),
            "webhookEvent": "jira:issue_updated",
            "issue_event_type_name": "issue_generic",
            "user": {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Mia Krystof"},
            "issue": {
                "id": str(900_000 + n),
                "key": key,
                "fields": {
                    "summary": "Slack and Jira onboarding",
                    "labels": [f"roadmap-{step}"],
                    "status": {"name": "Done", "statusCategory": {"key": "done"}},
                    "issuetype": {"name": "Task"},
                    "updated": updated,
                    "created": updated,
                },
            },
            "changelog": {
                "id": str(10_000 + n),
                "items": [{"field": "status", "fromString": "In Progress", "toString": "Done"}],
            },
        }
    ).encode()


def server_environment(wait_for_disk: bool) -> dict:
    database = settings.DATABASES["default"]
    sqlite = database["ENGINE"].endswith("sqlite3")
    url = f"sqlite:///{database['NAME']}" if sqlite else os.environ["DATABASE_URL"]
    env = {k: v for k, v in os.environ.items() if k not in ("EMBEDDED", "DEBUG")}
    env.update(
        DATABASE_URL=url,
        SECRET_KEY="bench-" + "k" * 50,
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_PROXY_SSL_HEADER="HTTP_X_FORWARDED_PROTO,https",
        JIRA_WEBHOOK_SECRET=SECRET,
        JIRA_WEBHOOK_WAIT_FOR_DISK="1" if wait_for_disk else "0",
        LOG_LEVEL=os.environ.get("LOG_LEVEL", "INFO"),
    )
    return env


def post(path: str, body: bytes, headers: dict) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def send(path: str, bodies, first: int, expected: int) -> float:
    start = time.perf_counter()
    for n, body in enumerate(bodies):
        signature = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        status = post(
            path,
            body,
            {
                "Content-Type": "application/json",
                "X-Forwarded-Proto": "https",
                "X-Atlassian-Webhook-Identifier": f"{RUN}-{first + n}",
                "X-Hub-Signature": signature,
            },
        )
        assert status == expected, (path, status)
    return time.perf_counter() - start


KEY_CHARACTERS = string.ascii_uppercase + string.digits
ONBOARDING = "slack-jira-onboarding"  # the step an issue labelled roadmap-slack-jira-onboarding moves
POLL_SECONDS = 0.01


def burst_portfolio(count: int) -> list[tuple[str, int]]:
    """``count`` running integrations, each with a Jira project of its own: (project key, onboarding step id).

    One is kicked off through the services (this week's Monday), the others are copies of it with
    their steps, made in bulk."""
    stamp = time.time_ns() // 1_000_000
    run = "".join(KEY_CHARACTERS[stamp // 36**i % 36] for i in range(5))  # this run's own project keys
    keys = [f"W{run}{n:04d}" for n in range(count)]
    template = RoadmapTemplate.latest("tradingview-rest-api")
    today = timezone.localdate()
    first = bench_integration(template, "Bench hook 0000", jira_project_key=keys[0])
    first = plan.start_integration(
        first, today - timedelta(days=today.weekday()), ChangeContext("system", at=timezone.now())
    )
    partners = Partner.objects.bulk_create([Partner(name=f"Bench hook {n:04d} {stamp}") for n in range(1, count)])
    made = []
    for partner, key in zip(partners, keys[1:], strict=True):
        copy = Integration(**{f.attname: getattr(first, f.attname) for f in Integration._meta.concrete_fields})
        copy.pk, copy.partner_id, copy.current_step_id, copy.jira_project_key = None, partner.pk, None, key
        made.append(copy)
    Integration.objects.bulk_create(made, batch_size=500)
    steps = list(first.steps.all())
    IntegrationStep.objects.bulk_create(
        [
            IntegrationStep(
                **{
                    **{f.attname: getattr(step, f.attname) for f in IntegrationStep._meta.concrete_fields},
                    "id": None,
                    "integration_id": copy.pk,
                }
            )
            for copy in made
            for step in steps
        ],
        batch_size=2000,
    )
    onboarding = dict(
        IntegrationStep.objects.filter(integration__jira_project_key__in=keys, code=ONBOARDING).values_list(
            "integration__jira_project_key", "pk"
        )
    )
    return [(key, onboarding[key]) for key in keys]


class StepWatch(threading.Thread):
    """Polls the steps' history every ``POLL_SECONDS``: when this process first saw a change of each step.

    By step, not by a last-seen id: two worker processes commit their rows out of id order."""

    def __init__(self, step_ids):
        super().__init__(daemon=True)
        self.wanted = set(step_ids)
        self.seen: dict[int, float] = {}
        self.after = StepChange.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        self.stop = threading.Event()

    def run(self):
        try:
            while not self.stop.is_set() and len(self.seen) < len(self.wanted):
                waiting = self.wanted.difference(self.seen)
                changed = set(
                    StepChange.objects.filter(pk__gt=self.after, step_id__in=waiting).values_list("step_id", flat=True)
                )
                now = time.perf_counter()
                self.seen.update(dict.fromkeys(changed, now))
                time.sleep(POLL_SECONDS)
        finally:
            connection.close()


def start_worker(env: dict, log: Path):
    """The default worker, as production starts it (README): its own pool and concurrency."""
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel=WARNING"]
    with open(log, "ab") as out:
        return subprocess.Popen(command, env=env, cwd=HERE.parent, stdout=out, stderr=out)


def burst(count: int, env: dict, log: Path):
    """``count`` deliveries, each moving its own step, POSTed one after another with the default worker
    running: prints POST -> step changed p50 and p95."""
    targets = burst_portfolio(count + 1)  # the first warms the worker up
    # The rounds' deliveries move no step: out of the worker's way, so it starts on an empty inbox.
    JiraDelivery.objects.filter(delivery_id__startswith="bench-", outcome="pending").update(
        outcome="ignored", detail="benchmark rounds: not applied"
    )
    worker = start_worker(env, log)
    try:
        warm_key, warm_step = targets[0]
        watch = StepWatch([warm_step])
        watch.start()
        send(HOOK, [delivery_body(0, f"{warm_key}-1")], -2000, 202)
        watch.join(timeout=120)
        if warm_step not in watch.seen:
            raise SystemExit(f"the worker did not move a step within 120 s: see {log}")
        worker_cpu = worker_cpu_seconds(worker.pid)
        targets = targets[1:]
        bodies = [delivery_body(n, f"{key}-1") for n, (key, _) in enumerate(targets)]
        watch = StepWatch([step for _, step in targets])
        watch.start()
        sent = {}
        start = time.perf_counter()
        for n, ((_, step), body) in enumerate(zip(targets, bodies, strict=True)):
            sent[step] = time.perf_counter()
            send(HOOK, [body], 10_000_000 + n, 202)
        posting = time.perf_counter() - start
        watch.join(timeout=600)
        watch.stop.set()
        elapsed = time.perf_counter() - start
        worker_cpu = worker_cpu_seconds(worker.pid) - worker_cpu
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    waits = sorted(watch.seen[step] - sent[step] for step in sent if step in watch.seen)
    print(f"burst: {count} deliveries, each moving its own step; the default worker (celery -A config worker)")
    if len(waits) < count:
        print(f"  only {len(waits)} of {count} steps changed within 10 minutes")
    if waits:
        p50, p95 = waits[len(waits) // 2], waits[min(len(waits) - 1, int(len(waits) * 0.95))]
        print(
            f"  POSTed at {count / posting:5.0f}/s, every step changed after {elapsed:5.1f} s;"
            f"  POST -> step changed p50 {p50 * 1e3:6.0f} ms  p95 {p95 * 1e3:6.0f} ms  max {waits[-1] * 1e3:6.0f} ms"
        )
        print(
            f"  applied {len(waits) / elapsed:5.0f}/s (from the first POST to the last step changed);"
            f"  the worker's CPU {worker_cpu * 1e3 / len(waits):5.2f} ms per delivery (its processes, Linux)"
        )


PASSING = "passing-autotests"  # the step Jenkins guards: its prerequisites done, both parts' jobs linked


def link_jenkins_jobs(targets: list[tuple[str, int]]):
    """For each target's integration: the steps before "Passing REST API autotests" done, and a Jenkins job
    linked to each part with three builds (a failure, a success, one running): the guard then reads each
    part's latest run, latest finished run and first run, and lets the step be done."""
    integration_ids = list(
        IntegrationStep.objects.filter(pk__in=[step for _, step in targets]).values_list("integration_id", flat=True)
    )
    passing = IntegrationStep.objects.filter(integration_id=integration_ids[0], code=PASSING).get()
    done_at = timezone.now() - timedelta(days=1)
    IntegrationStep.objects.filter(integration_id__in=integration_ids, position__lt=passing.position).update(
        status=StepStatus.DONE, completed_at=done_at
    )
    jobs = JenkinsJob.objects.bulk_create(
        [
            JenkinsJob(
                integration_id=integration_id,
                part=part,
                job_name=f"bench-{integration_id}-{part}-autotests",
                token_hash=f"{RUN}-{integration_id}-{part}"[-64:],
                prefix="bench",
            )
            for integration_id in integration_ids
            for part in ("trading", "data")
        ]
    )
    builds = []
    for job in jobs:
        for number, phase, status in ((1, "COMPLETED", "FAILURE"), (2, "COMPLETED", "SUCCESS"), (3, "STARTED", "")):
            started = done_at + timedelta(minutes=20 * number)
            builds.append(
                JenkinsBuild(
                    job=job,
                    integration_id=job.integration_id,
                    part=job.part,
                    number=number,
                    phase=phase,
                    status=status,
                    url=f"https://ci.example/job/{job.job_name}/{number}/",
                    started_at=started,
                    finished_at=started + timedelta(minutes=18) if status else None,
                    updated_at=started,
                    payload={"name": job.job_name, "build": {"number": number, "phase": phase, "status": status}},
                )
            )
    JenkinsBuild.objects.bulk_create(builds, batch_size=1000)


def one_drain(count: int, step: str = ONBOARDING, profile: bool = False):
    """One drain of ``count`` deliveries, each moving ``step`` of its own integration, stored as the hook
    stores them and drained in this process (no worker): the drain's queries, and its CPU and wall time
    per delivery. For "Passing REST API autotests" the Jenkins jobs are linked first (``link_jenkins_jobs``)."""
    targets = burst_portfolio(count)
    if step == PASSING:
        link_jenkins_jobs(targets)
        targets = [
            (key, moved)
            for (key, _), moved in zip(
                targets,
                IntegrationStep.objects.filter(integration__jira_project_key__in=[k for k, _ in targets], code=PASSING)
                .order_by("integration__jira_project_key")
                .values_list("pk", flat=True),
                strict=True,
            )
        ]
    for n, (key, _) in enumerate(targets):
        body = json.loads(delivery_body(n, f"{key}-1", step))
        JiraDelivery.objects.create(
            delivery_id=f"{RUN}--drain-{step}-{n}",
            event=body["webhookEvent"],
            issue_key=body["issue"]["key"],
            body=body,
            content_key=content_key(body),
        )
    profiler = cProfile.Profile() if profile else None
    with CaptureQueriesContext(connection) as queries:
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        taken = inbox.drain(limit=count)
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    moved = StepChange.objects.filter(step_id__in=[moved for _, moved in targets], source="jira").count()
    print(f"one drain of {taken} deliveries in this process, each moving {step} of its own integration ({moved} moved)")
    print(
        f"  queries {len(queries)}  CPU {cpu * 1e3 / taken:5.2f} ms per delivery"
        f"  wall {wall * 1e3 / taken:5.2f} ms per delivery"
    )
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def drains(count: int, profile: bool = False):
    """The in-process drains: ``count`` deliveries moving a step no guard reads for, then ``count`` each
    completing the autotests' step that Jenkins guards."""
    print(f"database: {connection.vendor}")
    one_drain(count, ONBOARDING, profile)
    one_drain(count, PASSING, profile)


def worker_cpu_seconds(master: int) -> float:
    """CPU time so far of the Celery worker ``master`` and its pool's processes (Linux; 0 elsewhere)."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        children = []
    return cpu_seconds(master) + sum(cpu_seconds(int(child)) for child in children)


def worker_pid(master: int) -> int | None:
    """gunicorn's one worker process (the child of ``master``), whose CPU time is read; None off Linux."""
    try:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    except OSError:
        return None
    return int(children[0]) if children else None


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc); 0 when it cannot be read."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_for_server(process, log):
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit(f"gunicorn stopped: see {log}")
        try:
            post(BARE, b"", {"X-Forwarded-Proto": "https"})
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("gunicorn did not answer within 30 s")


def report_rounds(args, wall: dict, cpu: dict, bodies):
    """Print the rounds' figures, after checking that every delivery was stored."""
    stored = JiraDelivery.objects.filter(delivery_id__startswith=RUN).exclude(delivery_id__startswith=f"{RUN}--")
    assert stored.count() == args.deliveries, (stored.count(), args.deliveries)
    count = args.deliveries
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:  # the server's connections run the same init_command
            cursor.execute("PRAGMA synchronous")
            level = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(cursor.fetchone()[0], "?")
        commit = f"SQLite synchronous={level} on every connection"
    elif not hasattr(settings, "JIRA_WEBHOOK_WAIT_FOR_DISK"):
        commit = "this code has no JIRA_WEBHOOK_WAIT_FOR_DISK: every commit waits for the disk"
    else:
        commit = f"the delivery's commit {'waits' if args.wait_for_disk else 'does not wait'} for the disk"
        commit += f" (JIRA_WEBHOOK_WAIT_FOR_DISK={int(args.wait_for_disk)})"
    print(f"database: {connection.vendor}; gunicorn, 1 sync worker; {count} POSTs each, {len(bodies[0])} bytes")
    print(f"  {commit}")
    print(f"  {'':36} {'requests/s':>10} {'ms each':>8} {'server CPU ms each':>19}")
    for label, path in (
        ("/hooks/jira/ (stored, drain queued)", HOOK),
        ("bare view answering 204", BARE),
        ("bare view inserting one row", INSERT),
    ):
        print(
            f"  {label:36} {count / wall[path]:10.0f} {wall[path] * 1e3 / count:8.2f} {cpu[path] * 1e3 / count:19.2f}"
        )
    print(f"  ratio hook/bare                      {wall[BARE] / wall[HOOK]:10.2f}")
    print(f"  ratio hook/bare inserting            {wall[INSERT] / wall[HOOK]:10.2f}")
    if cpu[HOOK]:
        print(f"  server CPU ratio hook/bare           {cpu[BARE] / cpu[HOOK]:10.2f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--wait-for-disk",
        action="store_true",
        help="JIRA_WEBHOOK_WAIT_FOR_DISK=1: on PostgreSQL each delivery's commit waits for the disk "
        "(the default without the pull); otherwise as production runs with the pull configured",
    )
    parser.add_argument("--burst", type=int, default=2000, help="deliveries of the burst, POST -> step changed")
    parser.add_argument("--drain-only", action="store_true", help="only the drains in this process (no server)")
    parser.add_argument("--profile", action="store_true", help="where each drain spends its CPU (cProfile)")
    parser.add_argument("--smoke", action="store_true", help="the smallest sizes, to check that it runs")
    args = parser.parse_args()
    if args.smoke:
        args.deliveries, args.rounds, args.burst = 30, 2, 10
    call_command("migrate", verbosity=0)
    if args.drain_only:
        drains(min(args.burst, inbox.DRAIN_BATCH), args.profile)
        return
    log = Path(os.environ.get("VAR_DIR") or "/tmp") / f"webhook-bench-{os.getpid()}.log"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    command = [str(gunicorn), "hook_server:application", "--pythonpath", str(HERE), "--workers", "1"]
    command += ["--bind", f"127.0.0.1:{PORT}", "--error-logfile", str(log)]
    environment = server_environment(args.wait_for_disk)
    with open(log, "ab") as out:
        process = subprocess.Popen(command, env=environment, stdout=out, stderr=out)
    try:
        wait_for_server(process, log)
        bodies = [delivery_body(n) for n in range(args.deliveries)]
        for n in range(10):  # warm up each URL (imports, the connection, the broker's)
            send(HOOK, [bodies[n]], -1 - n, 202)
            send(INSERT, [b"{}"], 0, 204)
        JiraDelivery.objects.filter(delivery_id__startswith=f"{RUN}--").delete()
        per_round = max(1, args.deliveries // args.rounds)
        worker = worker_pid(process.pid)
        wall = {HOOK: 0.0, BARE: 0.0, INSERT: 0.0}
        cpu = dict.fromkeys(wall, 0.0)
        for start in range(0, args.deliveries, per_round):
            chunk = bodies[start : start + per_round]
            for path, expected in ((BARE, 204), (INSERT, 204), (HOOK, 202)):
                before = cpu_seconds(worker)
                wall[path] += send(path, chunk, start, expected)
                cpu[path] += cpu_seconds(worker) - before
        report_rounds(args, wall, cpu, bodies)
        if args.burst:
            burst(args.burst, environment, log)
            drains(min(args.burst, inbox.DRAIN_BATCH), args.profile)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
