"""The heartbeat task run by a real Celery worker, and the beat heartbeat signal.

The worker runs in a thread of the test process (``start_worker``, solo pool) and talks to
Redis when ``REDIS_URL`` is set, else to kombu's in-process ``memory://`` transport. Tasks are
published and consumed for real (never ``task_always_eager``); the worker's writes are
committed, so the worker tests use transactional database tests.
"""

import logging
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager

import kombu.pools
import pytest
from celery.contrib.testing.worker import start_worker
from django.db import DatabaseError, connection

from config.celery import app
from integrations import signals
from integrations.models import Heartbeat
from integrations.tasks import HEARTBEAT_TASK, heartbeat

REDIS_URL = os.environ.get("REDIS_URL", "")
WORKER_DEADLINE_SECONDS = 10

BROKER_SETTINGS = (
    "broker_url",
    "broker_transport_options",
    "task_always_eager",
    "worker_hijack_root_logger",
)


def _reset_connection_pools():
    """Drop pooled connections, so the next publish connects to the broker configured now."""
    app._after_fork()  # forgets the app's connection and producer pools
    kombu.pools.reset()  # closes kombu's process-wide pools, keyed by broker


@pytest.fixture
def broker_app():
    """``config.celery.app`` pointed at Redis (REDIS_URL) or at memory://, restored afterwards.

    Each test gets its own Redis key prefix, so parallel test processes never consume each
    other's messages and nothing is left behind in Redis.
    """
    saved = {name: app.conf[name] for name in BROKER_SETTINGS}
    prefix = f"roadmap-test-{uuid.uuid4().hex}:"
    if REDIS_URL:
        url, options = REDIS_URL, {"global_keyprefix": prefix}
    else:
        url, options = "memory://", {"polling_interval": 0.05}
    app.conf.update(
        broker_url=url,
        broker_transport_options=options,
        task_always_eager=False,
        worker_hijack_root_logger=False,
    )
    _reset_connection_pools()
    app.control.purge()
    try:
        yield app
    finally:
        app.control.purge()
        _reset_connection_pools()
        app.conf.update(saved)
        if REDIS_URL:
            import redis

            client = redis.Redis.from_url(REDIS_URL)
            keys = list(client.scan_iter(match=f"{prefix}*"))
            if keys:
                client.delete(*keys)
            client.close()


@pytest.fixture
def in_beat():
    """This process acts as celery beat (as after ``beat_init``) for the test."""
    signals.mark_beat_process()
    try:
        yield
    finally:
        signals._in_beat = False


@contextmanager
def reading_beside_a_writer_thread():
    """Let this thread poll while the worker thread writes, on SQLite too.

    The SQLite test database lives in memory with a shared cache, where a table lock held by
    one connection fails the other at once ("database table is locked"; the busy timeout does
    not apply): the poll could fail, or make the worker's write fail. Reading uncommitted
    takes no table locks, so neither side waits on the other. PostgreSQL needs nothing.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA read_uncommitted = 1")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA read_uncommitted = 0")


def wait_for_heartbeat(name: str, deadline_seconds: float = WORKER_DEADLINE_SECONDS) -> bool:
    """Poll the database until the worker has written the ``name`` heartbeat, or the deadline passes."""
    pause = threading.Event()
    deadline = time.monotonic() + deadline_seconds
    with reading_beside_a_writer_thread():
        while time.monotonic() < deadline:
            if Heartbeat.objects.filter(name=name).exists():
                return True
            pause.wait(0.05)
    return False


def run_heartbeat_on_a_real_worker(celery_app):
    assert not celery_app.conf.task_always_eager
    assert not Heartbeat.objects.filter(name="worker").exists()
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
        assert worker.hostname.startswith("gen")  # an embedded worker, named gen<pid>@<host>
        result = heartbeat.delay()
        seen = wait_for_heartbeat("worker")
    assert seen, f"no worker heartbeat within {WORKER_DEADLINE_SECONDS}s (task {result.id})"
    # Read again, committed, now that the worker has stopped.
    row = Heartbeat.objects.get(name="worker")
    assert row.detail == socket.gethostname()
    assert not row.is_stale
    # The worker ran the task; only beat publishing it records a beat heartbeat.
    assert not Heartbeat.objects.filter(name="beat").exists()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_records_the_worker_heartbeat(broker_app):
    run_heartbeat_on_a_real_worker(broker_app)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not REDIS_URL, reason="needs a Redis server: set REDIS_URL, e.g. redis://127.0.0.1:6379/15")
def test_a_real_worker_over_redis_records_the_worker_heartbeat(broker_app):
    assert broker_app.conf.broker_url == REDIS_URL
    assert broker_app.connection_for_write().transport.driver_type == "redis"
    run_heartbeat_on_a_real_worker(broker_app)


# --- the beat heartbeat ---------------------------------------------------------------------


@pytest.mark.django_db
def test_publishing_the_heartbeat_from_beat_records_beat(broker_app, in_beat):
    broker_app.send_task(HEARTBEAT_TASK)

    beat = Heartbeat.objects.get(name="beat")
    assert beat.detail == "celery beat"
    assert not beat.is_stale
    # Publishing is not running: the worker heartbeat comes only from a worker.
    assert not Heartbeat.objects.filter(name="worker").exists()


@pytest.mark.django_db
def test_apply_async_from_beat_records_beat(broker_app, in_beat):
    heartbeat.apply_async()
    assert Heartbeat.objects.filter(name="beat").exists()


@pytest.mark.django_db
def test_publishing_outside_beat_records_nothing(broker_app):
    assert signals._in_beat is False
    heartbeat.apply_async()
    broker_app.send_task(HEARTBEAT_TASK)
    assert not Heartbeat.objects.exists()


@pytest.mark.django_db
def test_beat_publishing_other_tasks_records_nothing(broker_app, in_beat):
    broker_app.send_task("integrations.some_other_task")
    assert not Heartbeat.objects.exists()


@pytest.mark.django_db
def test_a_database_error_does_not_stop_beat_publishing(broker_app, in_beat, monkeypatch, caplog):
    def failing_beat(*args, **kwargs):
        raise DatabaseError("database is locked")

    monkeypatch.setattr(Heartbeat, "beat", failing_beat)
    with caplog.at_level(logging.ERROR, logger="integrations.signals"):
        result = broker_app.send_task(HEARTBEAT_TASK)

    assert result.id
    assert "heartbeat.beat_record_failed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_beat_starting_sends_a_first_heartbeat_a_worker_runs(broker_app):
    """Beat's interval schedule first fires an interval after start; the start sends one at once."""
    from celery.signals import beat_init

    try:
        beat_init.send(sender=None)  # what celery beat sends as it starts
        assert Heartbeat.objects.filter(name="beat").exists()
        with start_worker(broker_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            assert wait_for_heartbeat("worker")
    finally:
        signals._in_beat = False
    assert Heartbeat.objects.filter(name="worker").exists()
