"""The inbox: claiming a delivery once, recording its outcome, backing off, sweeping and replaying."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, OperationalError

from integrations.jira import inbox
from integrations.jira.models import JiraDelivery, JiraIssue
from integrations.jira.tasks import PROCESS_DELIVERY_TASK, SWEEP_TASK, process_delivery, sweep
from roadmap.models import StepStatus
from tests.integrations.helpers import step
from tests.integrations.jira.conftest import fixture_json, new_delivery_id

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)


def ago(**delta) -> datetime:
    return NOW - timedelta(**delta)


def stored(name: str = "comment_created__task", *, body=None, **fields) -> JiraDelivery:
    """A delivery as the webhook stores it (received now unless said otherwise)."""
    body = fixture_json(name) if body is None else body
    issue = body.get("issue") if isinstance(body, dict) else None
    defaults = {
        "delivery_id": new_delivery_id(),
        "event": body["webhookEvent"] if isinstance(body, dict) else "jira:issue_updated",
        "issue_key": issue["key"] if isinstance(issue, dict) else "",
        "body": body,
        "received_at": NOW,
    }
    return JiraDelivery.objects.create(**(defaults | fields))


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def fresh(delivery: JiraDelivery) -> JiraDelivery:
    delivery.refresh_from_db()
    return delivery


# --- process -----------------------------------------------------------------------------------


def test_a_delivery_is_processed_once_however_often_it_is_queued(acme, frozen):
    delivery = stored("jira_issue_updated__status_done")

    assert inbox.process(delivery.pk) == "applied"
    assert inbox.process(delivery.pk) is None
    assert process_delivery.apply(args=[delivery.pk]).get() is None  # the task, as a redelivered message runs it

    delivery = fresh(delivery)
    assert (delivery.outcome, delivery.attempts, delivery.claimed_at, delivery.processed_at) == (
        "applied",
        1,
        NOW,
        NOW,
    )
    assert step(acme, "slack-jira-onboarding").history.filter(source="jira").count() == 1


def test_the_task_processes_a_delivery_by_its_id(acme, frozen):
    delivery = stored("jira_issue_updated__status_done")

    assert process_delivery.name == PROCESS_DELIVERY_TASK
    assert process_delivery.apply(args=[delivery.pk]).get() == "applied"
    assert step(acme, "slack-jira-onboarding").status == StepStatus.DONE


def test_a_delivery_another_worker_is_processing_is_left_to_it(acme, frozen):
    delivery = stored("jira_issue_updated__status_done", outcome="processing", claimed_at=ago(minutes=2), attempts=1)

    assert inbox.process(delivery.pk) is None

    delivery = fresh(delivery)
    assert (delivery.outcome, delivery.attempts, delivery.claimed_at) == ("processing", 1, ago(minutes=2))
    assert step(acme, "slack-jira-onboarding").status == StepStatus.NOT_STARTED


def test_an_unknown_or_deleted_delivery_is_nothing_to_do(frozen):
    assert inbox.process(987654) is None


def test_a_waiting_delivery_is_not_taken_before_its_time(acme, frozen):
    delivery = stored("jira_issue_updated__status_done", outcome="waiting", not_before=NOW + timedelta(seconds=1))

    assert inbox.process(delivery.pk) is None
    frozen.shift(timedelta(seconds=1))
    assert inbox.process(delivery.pk) == "applied"


@pytest.mark.parametrize(
    ("attempts", "rest"),
    [(0, 1), (1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 32), (7, 60), (8, 60), (500, 60)],
)
def test_waiting_deliveries_back_off_from_a_minute_to_an_hour(attempts, rest):
    assert inbox.backoff(attempts) == timedelta(minutes=rest)


def test_a_waiting_delivery_records_why_and_when_it_is_tried_again(acme, frozen):
    delivery = stored("jira_issue_updated__status_done_prerequisites_open", attempts=6)

    assert inbox.process(delivery.pk) == "waiting"

    delivery = fresh(delivery)
    assert delivery.attempts == 7
    assert delivery.detail.startswith("prerequisites_open: 3 · TradingView · Sandbox access configuration cannot")
    assert (delivery.processed_at, delivery.not_before) == (NOW, NOW + timedelta(hours=1))


def test_an_issue_jira_describes_badly_fails_with_what_is_wrong(acme, frozen):
    body = fixture_json("jira_issue_updated__status_done")
    body["issue"]["fields"]["labels"] = "roadmap-slack-jira-onboarding"  # a string, not a list
    delivery = stored(body=body)

    assert inbox.process(delivery.pk) == "failed"

    delivery = fresh(delivery)
    assert (delivery.outcome, delivery.detail) == ("failed", "The labels of ACME-12 are not a list of strings.")
    assert (delivery.processed_at, delivery.not_before) == (NOW, None)
    assert not JiraIssue.objects.exists()


def test_a_stored_body_that_is_not_an_object_fails(frozen):
    delivery = stored(body=["edited", "by", "hand"], event="jira:issue_updated")

    assert inbox.process(delivery.pk) == "failed"
    assert fresh(delivery).detail == "The stored body is a list, not a JSON object."


def broken_apply(*args, **kwargs):
    """A bug in the code that applies Jira's news (the one thing these tests replace)."""
    raise AttributeError("'list' object has no attribute 'get'")


def test_an_unexpected_error_fails_the_delivery_logs_it_and_does_not_stop_the_sweep(acme, frozen, caplog, monkeypatch):
    monkeypatch.setattr(inbox, "apply_issue", broken_apply)
    broken = stored("jira_issue_updated__status_done", received_at=ago(minutes=2))
    comment = stored("comment_created__task", received_at=ago(minutes=1))

    with caplog.at_level(logging.INFO, logger="integrations.jira.inbox"):
        assert inbox.sweep() == 2

    broken, comment = fresh(broken), fresh(comment)
    assert (broken.outcome, broken.detail) == ("failed", "AttributeError: 'list' object has no attribute 'get'")
    assert broken.processed_at == NOW
    assert comment.outcome == "ignored"
    failure = next(r for r in caplog.records if r.getMessage().startswith("jira.inbox.process_failed"))
    assert failure.levelno == logging.ERROR and failure.exc_info
    assert failure.getMessage() == (
        f"jira.inbox.process_failed delivery={broken.delivery_id} id={broken.pk} event=jira:issue_updated"
    )
    assert step(acme, "slack-jira-onboarding").status == StepStatus.NOT_STARTED
    assert not JiraIssue.objects.exists()  # the failed attempt left nothing half-done


@pytest.mark.parametrize(
    "race",
    [
        IntegrityError('duplicate key value violates unique constraint "integrations_jiraissue_key_key"'),
        OperationalError("deadlock detected"),
        OperationalError("could not serialize access due to concurrent update"),
    ],
    ids=["unique-key", "deadlock", "serialization"],
)
def test_a_delivery_that_met_another_worker_waits_and_is_applied_by_the_sweep(acme, frozen, monkeypatch, race):
    """Two workers on one new issue: the loser's error is a race, not a fault of the delivery."""
    apply_issue = inbox.apply_issue
    calls = []

    def meets_another_worker_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise race
        return apply_issue(*args, **kwargs)

    monkeypatch.setattr(inbox, "apply_issue", meets_another_worker_once)
    delivery = stored("jira_issue_updated__status_done")

    assert inbox.process(delivery.pk) == "waiting"

    delivery = fresh(delivery)
    assert (delivery.outcome, delivery.attempts, delivery.not_before) == ("waiting", 1, NOW + timedelta(minutes=1))
    assert delivery.detail.startswith(f"Met another worker on ACME-12 ({type(race).__name__}: ")
    assert delivery.detail.endswith("; tried again after a back-off.")
    frozen.shift(timedelta(minutes=1))
    assert inbox.sweep() == 1
    assert (fresh(delivery).outcome, delivery.attempts) == ("applied", 2)
    assert step(acme, "slack-jira-onboarding").status == StepStatus.DONE


# --- sweep -------------------------------------------------------------------------------------


def test_the_sweep_takes_what_was_left_behind_and_what_is_due(frozen):
    rows = {
        "pending, never queued": stored(received_at=ago(seconds=30)),
        "pending, just arrived": stored(received_at=ago(seconds=3)),
        "worker died": stored(
            received_at=ago(minutes=30), outcome="processing", claimed_at=ago(minutes=11), attempts=1
        ),
        "being processed": stored(
            received_at=ago(minutes=2), outcome="processing", claimed_at=ago(minutes=1), attempts=1
        ),
        "waiting, due": stored(received_at=ago(hours=2), outcome="waiting", not_before=ago(seconds=1), attempts=3),
        "waiting, not due": stored(received_at=ago(hours=3), outcome="waiting", not_before=NOW + timedelta(minutes=1)),
        "applied": stored(received_at=ago(hours=4), outcome="applied"),
        "ignored": stored(received_at=ago(hours=4), outcome="ignored"),
        "failed": stored(received_at=ago(hours=4), outcome="failed"),
    }
    before = {name: (row.outcome, row.attempts) for name, row in rows.items()}

    assert inbox.sweep() == 3

    after = {name: (fresh(row).outcome, row.attempts) for name, row in rows.items()}
    assert after == before | {
        "pending, never queued": ("ignored", 1),
        "worker died": ("ignored", 2),
        "waiting, due": ("ignored", 4),
    }


def test_the_sweep_is_bounded_per_run_and_takes_the_oldest(frozen):
    oldest, older, newest = (stored(received_at=ago(minutes=m)) for m in (30, 20, 10))

    assert inbox.sweep(limit=2) == 2
    assert [fresh(row).outcome for row in (oldest, older, newest)] == ["ignored", "ignored", "pending"]
    assert inbox.sweep(limit=2) == 1
    assert fresh(newest).outcome == "ignored"
    assert inbox.sweep() == 0


def test_the_sweep_task_runs_the_sweep(frozen):
    stored(received_at=ago(minutes=1))

    assert sweep.name == SWEEP_TASK
    assert sweep.apply().get() == 1


def test_the_sweep_takes_its_time_from_its_caller(frozen):
    row = stored(received_at=ago(seconds=3))

    assert inbox.sweep(now=NOW + timedelta(seconds=10)) == 1
    assert (fresh(row).outcome, row.claimed_at) == ("ignored", NOW + timedelta(seconds=10))


# --- replay ------------------------------------------------------------------------------------


def test_replaying_an_ignored_delivery_applies_it_once_the_project_is_linked(started_integration, frozen):
    delivery = stored("jira_issue_updated__status_done")
    assert inbox.process(delivery.pk) == "ignored"
    assert fresh(delivery).detail == "No integration uses the Jira project ACME."

    started_integration.jira_project_key = "ACME"
    started_integration.save(update_fields=["jira_project_key"])
    frozen.shift(timedelta(minutes=5))
    assert inbox.replay(delivery) == "applied"

    # The instance passed in is refreshed, for the admin to show.
    assert (delivery.outcome, delivery.attempts, delivery.processed_at) == ("applied", 2, NOW + timedelta(minutes=5))
    onboarding = step(started_integration, "slack-jira-onboarding")
    assert onboarding.status == StepStatus.DONE
    change = onboarding.history.get(source="jira")
    assert (change.by_name, change.at) == ("Mia Krystof", datetime(2026, 3, 4, 14, 30, tzinfo=UTC))


def test_replaying_a_failed_delivery_after_the_cause_is_fixed(acme, frozen, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr(inbox, "apply_issue", broken_apply)
        delivery = stored("jira_issue_updated__status_done")
        assert inbox.process(delivery.pk) == "failed"

    assert inbox.replay(delivery) == "applied"
    assert step(acme, "slack-jira-onboarding").status == StepStatus.DONE


def test_replaying_a_waiting_delivery_tries_it_now(acme, frozen):
    delivery = stored("jira_issue_updated__status_done_prerequisites_open")
    assert inbox.process(delivery.pk) == "waiting"

    assert inbox.replay(delivery) == "waiting"
    assert (delivery.attempts, delivery.not_before) == (2, NOW + timedelta(minutes=2))


def test_replaying_an_applied_delivery_changes_nothing_twice(acme, frozen):
    delivery = stored("jira_issue_updated__status_done")
    inbox.process(delivery.pk)

    assert inbox.replay(delivery) == "applied"
    onboarding = step(acme, "slack-jira-onboarding")
    assert delivery.detail == f"{onboarding} is already done, as Jira says."
    assert onboarding.history.filter(source="jira").count() == 1


def test_a_delivery_being_processed_is_not_replayed(acme, frozen):
    delivery = stored("jira_issue_updated__status_done", outcome="processing", claimed_at=ago(seconds=20), attempts=1)

    assert inbox.replay(delivery) is None
    assert (delivery.outcome, delivery.attempts, delivery.claimed_at) == ("processing", 1, ago(seconds=20))
