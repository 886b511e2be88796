"""Where one request to Jira's webhook spends its time: each step of the hook timed on its own, in
this process (no gunicorn, no socket), next to the whole request through the middlewares and a bare
view answering 204 through the same middlewares.

Usage: .venv/bin/python benchmarks/webhook_phases.py [--requests 2000] [--smoke]
Runs on a fresh SQLite file in a temporary folder, or on DATABASE_URL when it is set (used as is:
the deliveries are stored under ids starting "phase-"). REDIS_URL, when set, is the broker the
publish is timed against (otherwise kombu's filesystem transport in the temporary folder).

Prints, per request, the CPU time (time.process_time: what this process did, whatever else the
machine runs) and the wall time (which includes waiting for the disk and the broker) of:
the middlewares alone (bare view), the body read and HMAC, the JSON parse and checks, the content
key, the answer's response object, the hook's INSERT with its commit (``insert_once``, as the
hook runs it: on PostgreSQL its commit does not wait for the disk unless JIRA_WEBHOOK_WAIT_FOR_DISK)
next to a model's ``create`` (whose commit waits), a delivery's drain request while a drain is
queued (most of a burst's: one publish per window), one broker publish, the whole view, and the whole request, also with
production's LOG_LEVEL=INFO (the log lines written to a file).
"""

import argparse
import hashlib
import hmac
import io
import logging
import os
import tempfile
import time

from start import start_django  # noqa: E402  (this folder is on sys.path)

# Persistent connections as production has them, and the delivery's commit as benchmarks/webhook.py
# runs it (JIRA_WEBHOOK_WAIT_FOR_DISK=0 unless set); logging at WARNING but for the row that says so.
start_django(
    LOG_LEVEL="WARNING",
    DATABASE_CONN_MAX_AGE="60",
    DATABASE_CONN_HEALTH_CHECKS="1",
    JIRA_WEBHOOK_WAIT_FOR_DISK="0",
)

import hook_server  # noqa: E402  (the product's URLs plus /bench/bare/, as benchmarks/webhook.py serves them)
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.utils import timezone  # noqa: E402
from webhook import SECRET, delivery_body  # noqa: E402

from integrations.jira import views  # noqa: E402
from integrations.jira.inbox import content_key  # noqa: E402
from integrations.jira.models import JiraDelivery  # noqa: E402
from integrations.jira.tasks import drain  # noqa: E402

RUN = f"phase-{time.time_ns()}"


def timed(label: str, count: int, work) -> tuple[str, float, float]:
    """``work(n)`` for n in range(count): CPU and wall microseconds per call."""
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(count):
        work(n)
    return label, (time.process_time() - cpu) * 1e6 / count, (time.perf_counter() - wall) * 1e6 / count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--smoke", action="store_true", help="the smallest sizes, to check that it runs")
    args = parser.parse_args()
    if args.smoke:
        args.requests = 30
    call_command("migrate", verbosity=0)
    from django.conf import settings

    settings.JIRA_WEBHOOK_SECRET = SECRET
    settings.ALLOWED_HOSTS = ["testserver"]
    logging.disable(logging.INFO)
    count = args.requests
    bodies = [delivery_body(n) for n in range(count)]
    signatures = ["sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest() for body in bodies]
    parsed = [views.parse_body(body)[0] for body in bodies]
    factory = RequestFactory()
    application = hook_server.application

    def environ(path: str, n: int, tag: str) -> dict:
        request = factory.post(
            path,
            data=bodies[n],
            content_type="application/json",
            headers={"X-Atlassian-Webhook-Identifier": f"{RUN}-{tag}-{n}", "X-Hub-Signature": signatures[n]},
            secure=True,
        )
        env = dict(request.environ)
        env["wsgi.input"] = io.BytesIO(bodies[n])
        return env

    def through_stack(path: str, tag: str, expected: int):
        def work(n):
            status = []
            application(environ(path, n, tag), lambda s, h, exc_info=None: status.append(s))
            assert status[0].startswith(str(expected)), (path, status)

        return work

    def read_and_verify(n):
        request = factory.post("/hooks/jira/", data=bodies[n], content_type="application/json")
        views.verify_signature(views.read_body(request), signatures[n])

    def insert_once(n):
        body = parsed[n]
        delivery = {
            "delivery_id": f"{RUN}-once-{n}",
            "received_at": timezone.now(),
            "event": body["webhookEvent"],
            "issue_key": body["issue"]["key"],
            "retry_number": 0,
            "body": body,
            "content_key": content_key(body),
        }
        assert views.insert_once(delivery) is not None

    def create(n):
        body = parsed[n]
        JiraDelivery.objects.create(
            delivery_id=f"{RUN}-create-{n}",
            event=body["webhookEvent"],
            issue_key=body["issue"]["key"],
            body=body,
            content_key=content_key(body),
        )

    def view(n):
        request = factory.post(
            "/hooks/jira/",
            data=bodies[n],
            content_type="application/json",
            headers={"X-Atlassian-Webhook-Identifier": f"{RUN}-view-{n}", "X-Hub-Signature": signatures[n]},
        )
        assert views.webhook(request).status_code == 202

    def at_info(label: str, work):
        """``timed`` with the product's logging at INFO, as production runs, its lines written to a file."""
        root = logging.getLogger()
        handler = root.handlers[0]  # LOGGING's console handler, gunicorn's error log in production
        with tempfile.TemporaryFile("w") as log:
            stream, level = handler.setStream(log), root.level
            root.setLevel(logging.INFO)
            logging.disable(logging.NOTSET)
            try:
                return timed(label, count, work)
            finally:
                logging.disable(logging.INFO)
                handler.setStream(stream)
                root.setLevel(level)

    def drain_window_open(n):
        """One delivery's drain request while a drain is queued (the window open): most of a burst's."""
        views.DRAIN_WINDOW.closes = time.monotonic() + 60
        views.request_drain(0, f"{RUN}-{n}")

    # Warm up: imports, the connection, the broker's connection.
    through_stack("/bench/bare/", "warm", 204)(0)
    through_stack("/hooks/jira/", "warm", 202)(0)
    publishes = min(count, 200)  # each one is a message on the broker that no worker reads
    rows = [
        timed("bare view through the middlewares", count, through_stack("/bench/bare/", "bare", 204)),
        timed("read the body + HMAC", count, read_and_verify),
        timed("parse the JSON + checks", count, lambda n: views.parse_body(bodies[n])),
        timed("content key", count, lambda n: content_key(parsed[n])),
        timed("answer (response object)", count, lambda n: views.answer({"status": "accepted", "delivery": n}, 202)),
        timed("the hook's INSERT + commit (insert_once)", count, insert_once),
        timed("a model's create + commit (for comparison)", count, create),
        timed("drain request, a drain already queued", count, drain_window_open),
        timed(f"broker publish ({publishes} times)", publishes, lambda n: drain.apply_async(countdown=3600)),
        timed("whole view (drain window as served)", count, view),
        timed("whole request through the middlewares", count, through_stack("/hooks/jira/", "stack", 202)),
        at_info("whole request, LOG_LEVEL=INFO (production)", through_stack("/hooks/jira/", "info", 202)),
    ]
    views.DRAIN_WINDOW.close()
    JiraDelivery.objects.filter(delivery_id__startswith=RUN).delete()
    broker = "redis" if os.environ.get("REDIS_URL") else "filesystem"
    print(f"database: {connection.vendor}; broker: {broker}; in-process, {count} requests, {len(bodies[0])} bytes")
    print(f"  JIRA_WEBHOOK_WAIT_FOR_DISK={int(settings.JIRA_WEBHOOK_WAIT_FOR_DISK)}")
    print(f"  {'':44} {'CPU us':>8} {'wall us':>8}   per request")
    for label, cpu, wall in rows:
        print(f"  {label:44} {cpu:8.0f} {wall:8.0f}")


if __name__ == "__main__":
    main()
