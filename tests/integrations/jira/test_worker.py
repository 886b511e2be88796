"""Deliveries processed by a real Celery worker over a real Redis: queued after the commit, or left
behind (the message lost, the worker killed) and finished by the sweep the worker runs.

The worker runs in a thread of the test process (``start_worker``, solo pool), as in
tests/integrations/test_tasks.py, whose ``broker_app`` fixture gives each test its own Redis key
prefix. The worker's writes are committed, so these are transactional database tests. Needs
REDIS_URL (e.g. redis://127.0.0.1:6379/15); skipped otherwise.
"""

import threading
import time
from datetime import timedelta

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from config.celery import app
from integrations.jira.models import JiraDelivery
from integrations.jira.tasks import sweep
from roadmap.models import StepStatus
from tests.integrations.helpers import step
from tests.integrations.jira.conftest import fixture_body, new_delivery_id
from tests.integrations.test_tasks import (
    REDIS_URL,
    broker_app,  # noqa: F401  (the fixture, used by every test here)
    reading_beside_a_writer_thread,
)

DEADLINE_SECONDS = 15

pytestmark = [
    pytest.mark.redis,
    pytest.mark.usefixtures("broker_app"),  # config.celery.app on REDIS_URL, under a key prefix of its own
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not REDIS_URL, reason="needs a Redis server: set REDIS_URL, e.g. redis://127.0.0.1:6379/15"),
]


def wait_for(delivery_ids, outcomes=("applied",), deadline_seconds: float = DEADLINE_SECONDS) -> dict:
    """Poll until every delivery has one of ``outcomes`` or the deadline passes; their outcomes then."""
    pause = threading.Event()
    deadline = time.monotonic() + deadline_seconds
    with reading_beside_a_writer_thread():
        while True:
            seen = dict(JiraDelivery.objects.filter(delivery_id__in=delivery_ids).values_list("delivery_id", "outcome"))
            if (all(seen.get(d) in outcomes for d in delivery_ids)) or time.monotonic() > deadline:
                return seen
            pause.wait(0.05)


def real_worker(app):
    return start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30)


def test_a_signed_delivery_is_processed_by_a_real_worker_over_redis(acme, post_raw):
    assert app.connection_for_write().transport.driver_type == "redis"
    delivery_id = new_delivery_id()

    with real_worker(app):
        response = post_raw(fixture_body("jira_issue_updated__status_done"), delivery_id=delivery_id)
        assert response.status_code == 202, response.content
        seen = wait_for([delivery_id])

    assert seen == {delivery_id: "applied"}, f"not applied within {DEADLINE_SECONDS}s"
    delivery = JiraDelivery.objects.get(delivery_id=delivery_id)
    assert (delivery.attempts, delivery.issue_key) == (1, "ACME-12")
    onboarding = step(acme, "slack-jira-onboarding")
    assert onboarding.status == StepStatus.DONE
    change = onboarding.history.get(source="jira")
    assert (change.by_name, change.note) == ("Mia Krystof", "ACME-12 (Done) done in Jira.")


def test_deliveries_left_behind_are_finished_by_the_sweep_on_a_real_worker(acme, post_raw):
    """No worker runs as two deliveries arrive. The first's message is lost (the queue is purged);
    the second's worker was killed mid-way, leaving it in processing. A minute later beat's sweep,
    run by a worker, finishes both."""
    lost, killed = new_delivery_id(), new_delivery_id()
    assert post_raw(fixture_body("jira_issue_updated__status_done"), delivery_id=lost).status_code == 202
    assert post_raw(fixture_body("jira_issue_updated__labels"), delivery_id=killed).status_code == 202
    # One drain was queued for the burst (two if the posts came more than the drain's window apart);
    # now the messages are gone.
    assert app.control.purge() in (1, 2)
    JiraDelivery.objects.filter(delivery_id=killed).update(
        outcome="processing", claimed_at=timezone.now() - timedelta(minutes=11), attempts=1
    )
    assert dict(JiraDelivery.objects.values_list("delivery_id", "outcome")) == {lost: "pending", killed: "processing"}

    with time_machine.travel(timezone.now() + timedelta(minutes=1), tick=True), real_worker(app):
        sweep.delay()
        seen = wait_for([lost, killed])

    assert seen == {lost: "applied", killed: "applied"}, f"not swept within {DEADLINE_SECONDS}s"
    attempts = dict(JiraDelivery.objects.values_list("delivery_id", "attempts"))
    assert attempts == {lost: 1, killed: 2}
    assert step(acme, "slack-jira-onboarding").status == StepStatus.DONE
    assert step(acme, "endpoints-implementation").status == StepStatus.IN_PROGRESS
