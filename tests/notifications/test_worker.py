"""Beat's "deliver-outbox" task on a real Celery worker over real Redis, delivering to the fake Slack.

Skipped without ``REDIS_URL``. The worker runs in a thread of the test process (``start_worker``,
solo pool), as in ``tests/integrations/test_tasks.py``. The Redis-restart test starts its own
``redis-server`` on a free port of 127.0.0.1 (no persistence), never touching the shared one.
"""

import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings

from config.celery import app
from notifications.models import OutboxMessage
from tests.integrations.test_tasks import BROKER_SETTINGS, _reset_connection_pools, reading_beside_a_writer_thread
from tests.notifications.rows import queued

REDIS_URL = os.environ.get("REDIS_URL", "")
DEADLINE_SECONDS = 20
pytestmark = [
    pytest.mark.skipif(not REDIS_URL, reason="needs a Redis server: set REDIS_URL, e.g. redis://127.0.0.1:6379/15"),
    pytest.mark.django_db(transaction=True),
]
S = OutboxMessage.State


@contextmanager
def broker(url: str):
    """``config.celery.app`` pointed at Redis ``url`` under a key prefix of this test's own, restored afterwards."""
    saved = {name: app.conf[name] for name in BROKER_SETTINGS}
    app.conf.update(
        broker_url=url,
        broker_transport_options={"global_keyprefix": f"roadmap-test-{uuid.uuid4().hex}:"},
        task_always_eager=False,
        worker_hijack_root_logger=False,
    )
    _reset_connection_pools()
    try:
        yield app
    finally:
        _reset_connection_pools()
        app.conf.update(saved)


def publish_as_beat(celery_app):
    """What beat sends on its "deliver-outbox" tick."""
    entry = settings.CELERY_BEAT_SCHEDULE["deliver-outbox"]
    return celery_app.send_task(entry["task"], retry=True, retry_policy={"max_retries": 20, "interval_step": 0.2})


def rows(n: int, start: int = 0) -> list[OutboxMessage]:
    """``n`` rows, each in its own channel (so pacing lets one run send them all)."""
    return [
        queued(f"worker:{i}", OutboxMessage.Kind.REPLANNED, text=f"Message {i}", channel=f"C{i:03d}")
        for i in range(start, start + n)
    ]


def wait_until_sent(ids, deadline_seconds: float = DEADLINE_SECONDS) -> bool:
    pause = threading.Event()
    deadline = time.monotonic() + deadline_seconds
    with reading_beside_a_writer_thread():
        while time.monotonic() < deadline:
            if OutboxMessage.objects.filter(pk__in=ids, state=S.SENT).count() == len(ids):
                return True
            pause.wait(0.1)
    return False


def test_beats_deliver_task_on_a_real_worker_delivers_the_outbox(fake_slack):
    batch = [r.pk for r in rows(5)]
    with broker(REDIS_URL) as celery_app, start_worker(celery_app, pool="solo", perform_ping_check=False):
        publish_as_beat(celery_app)
        assert wait_until_sent(batch), list(OutboxMessage.objects.values_list("state", "last_error"))
    assert sorted(p["text"] for p in fake_slack.posts()) == [f"Message {i}" for i in range(5)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnRedis:
    """A redis-server of this test's own on 127.0.0.1:<free port>, without persistence."""

    def __init__(self):
        self.port = _free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        import redis

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_timeout=0.5).ping()
                return self
            except redis.ConnectionError:
                threading.Event().wait(0.05)
        raise RuntimeError("own redis-server did not start")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # only the process this test started, by its own handle
            self.process.wait(10)
        self.process = None


@pytest.mark.skipif(not shutil.which("redis-server"), reason="needs redis-server to start one of the test's own")
def test_a_redis_restart_mid_delivery_loses_and_doubles_nothing(fake_slack):
    """Redis holds only the tick ("deliver what is due"), never the messages: the outbox rows do.
    Redis dies while the worker is posting (its task message lost with it, nothing persisted); the
    next tick after the restart delivers the rest, and no row is posted twice."""
    own = OwnRedis().start()
    try:
        first = [r.pk for r in rows(3)]
        fake_slack.fail_next(1, stall=0.5, methods=("chat.postMessage",))  # a slow answer: Redis dies meanwhile
        with broker(own.url) as celery_app, start_worker(celery_app, pool="solo", perform_ping_check=False):
            publish_as_beat(celery_app)
            deadline = time.monotonic() + DEADLINE_SECONDS
            while not fake_slack.posts() and time.monotonic() < deadline:
                threading.Event().wait(0.02)
            own.stop()  # mid-delivery
            second = [r.pk for r in rows(3, start=3)]  # written while Redis is down
            threading.Event().wait(0.5)
            own.start()
            publish_as_beat(celery_app)  # beat's next tick
            assert wait_until_sent(first + second), list(OutboxMessage.objects.values_list("state", "last_error"))
    finally:
        own.stop()
    texts = [p["text"] for p in fake_slack.posts()]
    assert sorted(texts) == [f"Message {i}" for i in range(6)]  # each once: nothing lost, nothing doubled
    assert all(len(messages) == 1 for messages in fake_slack.messages.values())
