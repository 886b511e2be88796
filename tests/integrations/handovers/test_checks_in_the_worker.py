"""A handed-over URL is checked by the worker, never in the request that hands it over.

``hand_over_url`` stores the URL and a pending check ("checking") and queues the check's task
after the commit; the task probes the URL, records the result and announces the hand-over with
it, in one transaction. Beat's re-queue picks up checks left pending (the message lost, the
worker killed), and gives up on one that never finishes.

The last tests run a real Celery worker in a thread (``start_worker``, solo pool, kombu's
in-process ``memory://`` broker; Redis with REDIS_URL), as ``tests/integrations/test_tasks.py``.
"""

import threading
import time
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.utils import timezone

from config.celery import app
from integrations import events
from integrations.handovers import tasks
from integrations.handovers.checking import MAX_ATTEMPTS, run_check, stale_after
from integrations.handovers.models import UrlCheck
from integrations.handovers.url_check import hand_over_url
from integrations.models import Integration
from tests.integrations.test_tasks import (
    broker_app,  # noqa: F401  (the fixture: config.celery.app on memory:// or REDIS_URL)
    reading_beside_a_writer_thread,
)

Outcome = UrlCheck.Outcome
pytestmark = pytest.mark.django_db


@pytest.fixture
def announced():
    """The roadmap events announced during the test."""
    seen = []

    def hear(sender, event, **kwargs):
        seen.append(event)

    events.roadmap_event.connect(hear, weak=False)
    yield seen
    events.roadmap_event.disconnect(hear)


def handovers(seen) -> list:
    return [e for e in seen if e.kind == events.PARTNER_HANDOVER]


@pytest.fixture
def eager():
    """Queued tasks run at once in this process."""
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = saved


def pending(integration, *, handed_over_ago=0, started_ago=None, attempts=0, url=None) -> UrlCheck:
    """A pending check of the integration's trading production URL, as old as asked."""
    now = timezone.now()
    return UrlCheck.objects.create(
        integration=integration,
        part="trading",
        environment="production",
        url=url or integration.trading_production_url,
        checked_at=now - timedelta(seconds=handed_over_ago),
        started_at=None if started_ago is None else now - timedelta(seconds=started_ago),
        attempts=attempts,
        outcome=Outcome.CHECKING,
    )


# --- handing over ------------------------------------------------------------------------------


def test_a_hand_over_stores_the_url_and_a_pending_check_and_queues_it_after_the_commit(
    integration, partner_user, handover_servers, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(tasks, "queue_check", queued.append)

    with django_capture_on_commit_callbacks() as callbacks:
        check = hand_over_url(integration, "trading", "production", handover_servers.good, by=partner_user)
        assert queued == []  # not before the commit: the worker must find the row

    assert len(callbacks) == 1
    callbacks[0]()
    assert queued == [check.pk]
    assert (check.outcome, check.passed, check.finished_at, check.checked_by) == (
        Outcome.CHECKING,
        False,
        None,
        partner_user,
    )
    assert handover_servers.connections("good") == 0
    assert Integration.objects.get(pk=integration.pk).trading_production_url == handover_servers.good


def test_with_eager_tasks_the_commit_runs_the_check(
    integration, partner_user, handover_servers, django_capture_on_commit_callbacks, eager
):
    with django_capture_on_commit_callbacks(execute=True):
        check = hand_over_url(integration, "trading", "production", handover_servers.good, by=partner_user)

    check.refresh_from_db()
    assert check.passed and check.finished_at and check.attempts == 1


def test_the_hand_over_is_announced_when_the_check_finishes_with_its_result(
    integration, partner_user, handover_servers, announced
):
    check = hand_over_url(integration, "trading", "production", handover_servers.no_cors, by=partner_user)
    assert handovers(announced) == []

    run_check(check.pk)

    [event] = handovers(announced)
    assert event.details["passed"] is False and event.details["handover"] == "production_urls"
    assert handover_servers.no_cors in event.details["summary"] and "CORS missing" in event.details["summary"]
    assert (event.context.by, event.context.source) == (partner_user, "web")
    check.refresh_from_db()
    assert check.outcome == Outcome.NO_CORS and check.finished_at and check.elapsed_ms is not None


def test_a_check_runs_once(integration, pm, handover_servers, announced):
    check = hand_over_url(integration, "data", "production", handover_servers.good, by=pm)

    assert run_check(check.pk) == Outcome.OK
    assert run_check(check.pk) is None  # already done: a second message changes nothing

    assert handover_servers.connections("good") == 1
    assert len(handovers(announced)) == 1


def test_a_trickling_server_is_recorded_as_timed_out(integration, pm, handover_servers, settings):
    settings.HANDOVER_CHECK_DEADLINE_SECONDS = 2
    check = hand_over_url(integration, "trading", "production", handover_servers.trickle, by=pm)

    started = time.monotonic()
    tasks.check_handed_over_url.apply(args=[check.pk])

    assert time.monotonic() - started < 2 + 2
    check.refresh_from_db()
    assert check.outcome == Outcome.TIMEOUT and check.get_outcome_display() == "Timed out"
    assert "2-second limit" in check.detail and "HTTP/1.1 200 OK" in check.detail


# --- checks left pending -----------------------------------------------------------------------


def test_stale_after_is_the_deadline_and_a_margin(settings):
    settings.HANDOVER_CHECK_DEADLINE_SECONDS = 20
    assert stale_after() > timedelta(seconds=20)


def test_the_requeue_takes_up_only_checks_left_pending(integration, pm, handover_servers, monkeypatch):
    old = stale_after().total_seconds() + 5
    integration.trading_production_url = handover_servers.good
    integration.save(update_fields=["trading_production_url"])
    fresh = pending(integration)  # just handed over: its message is on its way
    running = pending(integration, handed_over_ago=old, started_ago=1, attempts=1)  # a worker has it now
    lost = pending(integration, handed_over_ago=old)  # its message never reached a worker
    killed = pending(integration, handed_over_ago=old, started_ago=old, attempts=1)  # its worker died
    done = UrlCheck.objects.create(
        integration=integration, part="data", environment="production", url="https://x.example.com", outcome="ok"
    )
    queued = []
    monkeypatch.setattr(tasks, "queue_check", queued.append)

    assert tasks.requeue_stale_checks.apply().get() == 2

    assert sorted(queued) == sorted([lost.pk, killed.pk])
    assert fresh.pk not in queued and running.pk not in queued and done.pk not in queued


def test_a_requeued_check_left_by_a_killed_worker_finishes(integration, pm, handover_servers, eager, announced):
    old = stale_after().total_seconds() + 5
    killed = pending(integration, handed_over_ago=old, started_ago=old, attempts=1, url=handover_servers.good)

    tasks.requeue_stale_checks.apply()

    killed.refresh_from_db()
    assert killed.passed and killed.attempts == 2
    assert len(handovers(announced)) == 1


def test_a_check_whose_runs_never_finish_is_given_up_as_timed_out(integration, pm, handover_servers, announced):
    old = stale_after().total_seconds() + 5
    stuck = pending(integration, handed_over_ago=old * 3, started_ago=old, attempts=MAX_ATTEMPTS)

    assert tasks.requeue_stale_checks.apply().get() == 0

    stuck.refresh_from_db()
    assert stuck.outcome == Outcome.TIMEOUT and stuck.finished_at
    assert f"started {MAX_ATTEMPTS} times" in stuck.detail
    [event] = handovers(announced)
    assert event.details["passed"] is False
    assert handover_servers.connections("good") == 0


def test_a_run_cannot_claim_a_check_another_run_holds(integration, pm, handover_servers):
    running = pending(integration, started_ago=1, attempts=1, url=handover_servers.good)

    assert run_check(running.pk) is None
    running.refresh_from_db()
    assert running.outcome == Outcome.CHECKING and running.attempts == 1
    assert handover_servers.connections("good") == 0


# --- a real worker -----------------------------------------------------------------------------

WORKER_DEADLINE_SECONDS = 20


def wait_until_checked(check_id: int) -> UrlCheck | None:
    pause = threading.Event()
    deadline = time.monotonic() + WORKER_DEADLINE_SECONDS
    with reading_beside_a_writer_thread():
        while time.monotonic() < deadline:
            check = UrlCheck.objects.filter(pk=check_id).exclude(outcome=Outcome.CHECKING).first()
            if check is not None:
                return check
            pause.wait(0.05)
    return None


def real_worker(celery_app):
    return start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30)


@pytest.mark.usefixtures("broker_app")
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_the_queued_check(integration, partner_user, handover_servers):
    with real_worker(app):
        check = hand_over_url(integration, "trading", "production", handover_servers.good, by=partner_user)
        done = wait_until_checked(check.pk)

    assert done is not None, f"the check was not done within {WORKER_DEADLINE_SECONDS} s"
    assert done.passed and done.finished_at and done.attempts == 1


@pytest.mark.usefixtures("broker_app")
@pytest.mark.django_db(transaction=True)
def test_beats_requeue_on_a_real_worker_finishes_a_check_a_killed_worker_left(integration, handover_servers):
    old = stale_after().total_seconds() + 5
    killed = pending(integration, handed_over_ago=old, started_ago=old, attempts=1, url=handover_servers.no_cors)
    entry = settings.CELERY_BEAT_SCHEDULE["handover-checks-requeue"]

    with real_worker(app):
        app.send_task(entry["task"])
        done = wait_until_checked(killed.pk)

    assert done is not None, f"the check was not done within {WORKER_DEADLINE_SECONDS} s"
    assert done.outcome == Outcome.NO_CORS and done.attempts == 2
