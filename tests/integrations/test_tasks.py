"""The heartbeat task run by a real Celery worker, the beat heartbeat signal, and the daily
standing refresh.

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
from datetime import date, datetime

import kombu.pools
import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import DatabaseError, connection

from config.celery import app
from integrations import plan, signals
from integrations.models import Heartbeat, Integration
from integrations.steps import complete_step
from integrations.tasks import HEARTBEAT_TASK, REFRESH_STANDINGS_TASK, heartbeat, refresh_standings
from tests.factories import IntegrationFactory
from tests.integrations.helpers import KICKOFF, LAUNCH_WINDOW, at, ctx, on, step, stored_and_live

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


# --- the daily standing refresh -------------------------------------------------------------


def stored_standing(integration) -> dict:
    return stored_and_live(integration)[0]


@pytest.mark.django_db
def test_refresh_standings_brings_a_stale_stored_standing_up_to_today(started_integration, pm):
    """TradingView's tasks done on 03-04; nothing changes until the task runs on 04-09, when the
    partner's endpoints (due 03-30) are 8 working days (10 calendar days) overdue."""
    with on("2026-03-04"):
        for code in ("slack-jira-onboarding", "autotests-configuration"):
            complete_step(step(started_integration, code), ctx(pm, "2026-03-04"))
    IntegrationFactory()  # not kicked off: nothing to refresh
    before = stored_standing(started_integration)
    assert before["standing_as_of"] == date(2026, 3, 4)
    assert before["forecast_launch_on"] == LAUNCH_WINDOW[1]
    assert (before["delay_tradingview_days"], before["delay_partner_days"], before["delay_both_days"]) == (0, 0, 0)

    with time_machine.travel(at("2026-04-09"), tick=False):
        result = refresh_standings.apply()

    assert result.successful()
    assert result.get() == 1
    after = stored_standing(started_integration)
    assert after["standing_as_of"] == date(2026, 4, 9)
    # Ten calendar days (eight working days) late: the launch moves from Monday 05-25 to Thursday 06-04.
    assert after["forecast_launch_on"] == date(2026, 6, 4)
    assert (after["delay_tradingview_days"], after["delay_partner_days"], after["delay_both_days"]) == (0, 8, 0)
    assert (after["current_step"].code, after["ball_side"], after["next_due_on"]) == (
        "endpoints-implementation",
        "partner",
        date(2026, 3, 30),
    )
    assert after == stored_and_live(started_integration, at("2026-04-09"))[1]
    assert started_integration.days_overdue(at("2026-04-09")) == 8

    # Idempotent: a second run on the same day writes the same values.
    with time_machine.travel(at("2026-04-09", 18), tick=False):
        refresh_standings.apply()
    assert stored_standing(started_integration) == after


@pytest.mark.django_db
def test_refresh_standings_skips_ended_integrations(started_integration, pm):
    with on("2026-03-10"):
        plan.cancel(started_integration, ctx(pm, "2026-03-10", note="Partner withdrew."))
    before = stored_standing(started_integration)

    with time_machine.travel(at("2026-04-09"), tick=False):
        assert refresh_standings.apply().get() == 0

    assert stored_standing(started_integration) == before
    assert before["standing_as_of"] == date(2026, 3, 10)


@pytest.mark.django_db
def test_refresh_standings_refreshes_a_paused_integration(started_integration, pm):
    plan.pause(started_integration, ctx(pm, "2026-03-09"))

    with time_machine.travel(at("2026-04-09"), tick=False):
        assert refresh_standings.apply().get() == 1

    after = stored_standing(started_integration)
    assert started_integration.state == Integration.State.PAUSED
    assert after["standing_as_of"] == date(2026, 4, 9)
    assert (after["ball_side"], after["next_due_on"]) == ("", None)
    assert after == stored_and_live(started_integration, at("2026-04-09"))[1]


@pytest.mark.django_db
def test_refresh_standings_takes_each_integration_just_after_a_day_begins_in_a_zone_it_counts_in(pm, settings):
    """Elbrus (Moscow) counts a new day at 21:00 UTC; Acme (Tokyo) at 15:00; TradingView (UTC) at 00:00.

    Beat sends the refresh every quarter of an hour: each run refreshes only those for which a day
    began since their last refresh, so the lists take a partner's midnight when its pages do.
    """
    settings.TIME_ZONE = "UTC"
    for name, zone in (("Elbrus Markets", "Europe/Moscow"), ("Acme Tokyo", "Asia/Tokyo")):
        integration = IntegrationFactory(partner__name=name, partner__time_zone=zone, tv_pm=pm)
        with time_machine.travel(at(KICKOFF, 9), tick=False):
            plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))

    def run(moment: str) -> set[str]:
        with time_machine.travel(datetime.fromisoformat(moment), tick=False):
            before = dict(Integration.objects.values_list("partner__name", "standing_refreshed_at"))
            count = refresh_standings.apply().get()
            after = dict(Integration.objects.values_list("partner__name", "standing_refreshed_at"))
        changed = {name for name in after if after[name] != before[name]}
        assert count == len(changed)
        return changed

    assert run("2026-04-08T12:00:00+00:00") == {"Elbrus Markets", "Acme Tokyo"}  # a month since the kick-off
    assert run("2026-04-08T12:15:00+00:00") == set()
    assert run("2026-04-08T15:00:00+00:00") == {"Acme Tokyo"}  # midnight in Tokyo
    assert run("2026-04-08T15:15:00+00:00") == set()
    assert run("2026-04-08T21:00:00+00:00") == {"Elbrus Markets"}  # midnight in Moscow
    assert run("2026-04-08T21:15:00+00:00") == set()
    assert run("2026-04-09T00:00:00+00:00") == {"Elbrus Markets", "Acme Tokyo"}  # midnight in TIME_ZONE
    # Beat's start refreshes every running integration, whatever its day.
    with time_machine.travel(datetime.fromisoformat("2026-04-09T00:05:00+00:00"), tick=False):
        assert refresh_standings.apply(kwargs={"everything": True}).get() == 2


def test_beat_sends_the_standing_refresh_every_quarter_of_an_hour():
    schedule = settings.CELERY_BEAT_SCHEDULE["refresh-standings"]["schedule"]
    assert schedule.minute == {0, 15, 30, 45}
    assert len(schedule.hour) == 24


def test_the_refresh_task_is_registered_by_name():
    assert refresh_standings.name == REFRESH_STANDINGS_TASK == "integrations.refresh_standings"
    assert REFRESH_STANDINGS_TASK in app.tasks


def test_beat_schedules_the_daily_standing_refresh():
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert REFRESH_STANDINGS_TASK in tasks
