"""The production worker rides out Redis restarts while it delivers the outbox: nothing lost, nothing twice.

A real ``celery worker`` subprocess, started with the production command line (``WORKER_COMMAND``
in ``config/celery.py``: prefork pool, the worker settings of ``config/settings.py``), against a
``redis-server`` of this test's own on a free port of 127.0.0.1 (no persistence: a restart empties
it, as a crash would). The worker and this test share a SQLite file in a temporary ``VAR_DIR``;
Slack is the fake on 127.0.0.1, answering slowly so that posts are under way when Redis goes.
Redis is stopped and started twice; rows are written while it is down. Needs only the
``redis-server`` binary (skipped without it), never the shared Redis.
"""

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from celery import Celery

from config.celery import WORKER_COMMAND
from notifications.tasks import DELIVER_TASK
from tests.notifications.test_worker import OwnRedis

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 90
BEAT_SECONDS = 3
pytestmark = pytest.mark.skipif(not shutil.which("redis-server"), reason="needs the redis-server binary")

WRITE_ROWS = """
import sys
from notifications.outbox import Message, write
start, count = int(sys.argv[1]), int(sys.argv[2])
write(
    Message(f"survive:{i}", "replanned", text=f"Message {i}", channel=f"C{i % 7:03d}SURVIVE")
    for i in range(start, start + count)
)
"""


def pause(seconds: float):
    threading.Event().wait(seconds)


class Product:
    """The worker's side: its environment, database file and process."""

    def __init__(self, var_dir: Path, redis: OwnRedis, slack):
        self.db = var_dir / "roadmap.sqlite3"
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CACHE_URL") and "proxy" not in k.lower()
        }
        self.env.update(
            EMBEDDED="1",
            VAR_DIR=str(var_dir),
            REDIS_URL=redis.url,
            SLACK_BOT_TOKEN=slack.token,
            SLACK_API_URL=slack.url,
            SLACK_TIMEOUT_SECONDS="5",
            PYTHONUNBUFFERED="1",
        )
        self.log = (var_dir / "worker.log").open("w+")
        self.worker = None

    def manage(self, *args: str, stdin: str | None = None):
        subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, input=stdin, text=True, check=True)

    def write_rows(self, start: int, count: int):
        subprocess.run(
            [sys.executable, "-c", "import django; django.setup()\n" + WRITE_ROWS, str(start), str(count)],
            cwd=ROOT,
            env={**self.env, "DJANGO_SETTINGS_MODULE": "config.settings"},
            check=True,
        )

    def start_worker(self):
        self.worker = subprocess.Popen(
            [sys.executable, "-m", *WORKER_COMMAND, "--concurrency=2"],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def stop_worker(self):
        if self.worker is not None and self.worker.poll() is None:
            self.worker.send_signal(signal.SIGTERM)  # only the process this test started
            try:
                self.worker.wait(30)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait(10)

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def states(self) -> dict[str, int]:
        with sqlite3.connect(self.db, timeout=5) as conn:
            return dict(conn.execute("select state, count(*) from notifications_outboxmessage group by state"))


def tick(url: str):
    """What beat sends on its "deliver-outbox" tick."""
    beat = Celery(broker=url)
    try:
        beat.send_task(DELIVER_TASK, retry=True, retry_policy={"max_retries": 30, "interval_step": 0.2})
    finally:
        beat.close()


def wait_for(check, what: str, product: Product, beat_url: str = ""):
    """Until ``check()``; with ``beat_url``, a tick every ``BEAT_SECONDS`` as beat sends (shortened)."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    next_tick = time.monotonic() + BEAT_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        assert product.worker.poll() is None, f"the worker exited:\n{product.output()[-4000:]}"
        if beat_url and time.monotonic() >= next_tick:
            tick(beat_url)
            next_tick = time.monotonic() + BEAT_SECONDS
        pause(0.2)
    raise AssertionError(f"gave up waiting for {what}: {product.states()}\n{product.output()[-4000:]}")


def test_the_worker_rides_out_redis_restarts_mid_delivery(tmp_path, fake_slack):
    redis = OwnRedis().start()
    product = Product(tmp_path, redis, fake_slack)
    try:
        product.manage("migrate", "--verbosity=0")
        product.write_rows(0, 40)
        fake_slack.fail_next(6, stall=0.7, methods=("chat.postMessage",))  # slow answers: posts under way
        product.start_worker()
        wait_for(lambda: "ready." in product.output(), "the worker to start", product)
        tick(redis.url)
        written = 40
        for restart in range(2):
            enough = restart * 20
            wait_for(lambda enough=enough: len(fake_slack.posts()) > enough, "posts under way", product, redis.url)
            redis.stop()  # mid-delivery: Redis and every message in it are gone
            product.write_rows(written, 10)  # the product goes on writing its rows meanwhile
            written += 10
            pause(2)
            redis.start()  # the same port, empty
            fake_slack.fail_next(3, stall=0.7, methods=("chat.postMessage",))
            tick(redis.url)  # beat's next tick
        wait_for(lambda: product.states() == {"sent": written}, f"all {written} rows sent", product, redis.url)
        assert product.worker.poll() is None  # still running, ready for the next tick
    finally:
        product.stop_worker()
        redis.stop()
    texts = [post["text"] for post in fake_slack.posts()]
    assert sorted(texts) == sorted(f"Message {i}" for i in range(written))  # each once: nothing lost or doubled
    assert "Unrecoverable error" not in product.output()
