"""POST /hooks/jira/: signed deliveries stored before the answer, processed once, refused with reasons.

Each payload fixture is delivered signed with a real HMAC, arrives a second after Jira sent it
(its ``timestamp``) unless a test says otherwise, and is processed by the queued task (run eagerly
here; tests/integrations/jira/test_worker.py runs it on a real worker).
"""

import io
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.handlers.asgi import ASGIRequest
from django.db import DatabaseError, connection
from django.test import Client

from config.celery import app
from integrations.jira import inbox
from integrations.jira.issues import IssueFacts, apply_issue
from integrations.jira.models import JiraDelivery, JiraIssue
from integrations.jira.rules import open_bugs_refusal
from integrations.jira.views import webhook
from integrations.steps import complete_step
from roadmap.models import StepStatus
from roadmap.refusals import OpenBugs
from tests.fake_jira import configured_fake_jira, jira_issue
from tests.integrations.helpers import ctx, step
from tests.integrations.jira.conftest import (
    URL,
    fixture_body,
    fixture_json,
    new_delivery_id,
    sent_at,
    sign,
)
from tests.integrations.test_tasks import _reset_connection_pools

pytestmark = pytest.mark.django_db


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def stored(response) -> JiraDelivery:
    return JiraDelivery.objects.get(delivery_id=response.delivery_id)


def jira_changes(integration_step):
    return list(integration_step.history.filter(source="jira").order_by("at", "id"))


def assert_accepted(response):
    assert response.status_code == 202, response.content
    assert response.json() == {"status": "accepted", "delivery": response.delivery_id}
    assert len(response.callbacks) == 1  # the processing, queued once the row is committed


# --- one test per payload fixture -------------------------------------------------------------


def test_a_created_task_is_recorded_on_its_step_which_stays_not_started(acme, deliver):
    response = deliver("jira_issue_created__task")

    assert_accepted(response)
    delivery = stored(response)
    sandbox = step(acme, "sandbox-access")
    assert (delivery.event, delivery.issue_key, delivery.retry_number) == ("jira:issue_created", "ACME-11", 0)
    assert delivery.body == fixture_json("jira_issue_created__task")
    assert (delivery.outcome, delivery.attempts) == ("applied", 1)
    assert delivery.detail == f"{sandbox} is already not started, as Jira says."
    assert delivery.received_at == delivery.processed_at == utc(2026, 3, 3, 8, 15, 1, 412000)
    issue = JiraIssue.objects.get(key="ACME-11")
    assert (issue.step, issue.status_name, issue.status_category, issue.is_bug) == (sandbox, "To Do", "new", False)
    assert issue.summary == "Configure sandbox access for Acme Crypto Exchange"
    assert issue.updated_at == utc(2026, 3, 3, 8, 15)
    assert sandbox.status == StepStatus.NOT_STARTED
    assert jira_changes(sandbox) == []


def test_a_task_done_in_jira_completes_its_step_in_jiras_name_and_time(acme, deliver):
    response = deliver("jira_issue_updated__status_done")

    assert_accepted(response)
    delivery = stored(response)
    onboarding = step(acme, "slack-jira-onboarding")
    assert (delivery.event, delivery.issue_key, delivery.outcome) == ("jira:issue_updated", "ACME-12", "applied")
    assert delivery.detail == f"{onboarding}: done. ACME-12 (Done) done in Jira."
    assert onboarding.status == StepStatus.DONE
    assert onboarding.completed_at == utc(2026, 3, 4, 14, 30)
    [change] = jira_changes(onboarding)
    assert (change.from_status, change.to_status) == ("not_started", "done")
    assert (change.source, change.by_name, change.at) == ("jira", "Mia Krystof", utc(2026, 3, 4, 14, 30))
    assert change.note == "ACME-12 (Done) done in Jira."


def test_a_task_reopened_in_jira_reopens_its_step(acme, deliver):
    deliver("jira_issue_updated__status_done")

    response = deliver("jira_issue_updated__reopened")

    assert_accepted(response)
    delivery = stored(response)
    onboarding = step(acme, "slack-jira-onboarding")
    assert delivery.outcome == "applied"
    assert delivery.detail == f"{onboarding}: in progress. Reopened in Jira: ACME-12 (Reopened)."
    assert onboarding.status == StepStatus.IN_PROGRESS
    assert onboarding.completed_at is None
    done, reopened = jira_changes(onboarding)
    assert (reopened.from_status, reopened.to_status) == ("done", "in_progress")
    assert (reopened.source, reopened.by_name, reopened.at) == ("jira", "Jonas Weber", utc(2026, 3, 5, 9, 20))
    assert reopened.note == "Reopened in Jira: ACME-12 (Reopened)."
    issue = JiraIssue.objects.get(key="ACME-12")
    assert (issue.status_name, issue.status_category) == ("Reopened", "new")


def test_a_roadmap_label_added_in_jira_puts_the_task_on_its_step(acme, deliver):
    response = deliver("jira_issue_updated__labels")

    assert_accepted(response)
    delivery = stored(response)
    endpoints = step(acme, "endpoints-implementation")
    assert (delivery.issue_key, delivery.outcome) == ("ACME-13", "applied")
    assert delivery.detail == f"{endpoints}: in progress. Work started in Jira: ACME-13 (In Progress)."
    issue = JiraIssue.objects.get(key="ACME-13")
    assert (issue.step, issue.labels) == (endpoints, ["backend", "roadmap-endpoints-implementation"])
    assert endpoints.status == StepStatus.IN_PROGRESS
    [change] = jira_changes(endpoints)
    assert (change.from_status, change.to_status) == ("not_started", "in_progress")
    assert (change.source, change.by_name, change.at) == ("jira", "Jonas Weber", utc(2026, 3, 9, 10, 5))
    assert change.note == "Work started in Jira: ACME-13 (In Progress)."


def test_a_smoke_test_bug_holds_the_fixing_step_and_the_closed_release(acme, deliver):
    response = deliver("jira_issue_created__smoke_bug")

    assert_accepted(response)
    delivery = stored(response)
    assert (delivery.event, delivery.issue_key, delivery.outcome) == ("jira:issue_created", "ACME-42", "applied")
    assert delivery.detail == "ACME-42 recorded as ACME-42 (Open)."
    bug = JiraIssue.objects.get(key="ACME-42")
    fixes, release = step(acme, "smoke-test-fixes"), step(acme, "closed-release")
    assert (bug.is_bug, bug.step, bug.testing_round, bug.affects_ux) == (True, fixes, "smoke-test", True)
    # A bug moves no step: it holds its fixing step, and the closed release since it affects the UX.
    assert (fixes.status, release.status) == (StepStatus.NOT_STARTED, StepStatus.NOT_STARTED)
    assert jira_changes(fixes) == jira_changes(release) == []
    for held in (fixes, release):
        refusal = open_bugs_refusal(held)
        assert isinstance(refusal, OpenBugs) and refusal.message.endswith("ACME-42 (Open).")


@pytest.fixture
def fake_jira(settings):
    """The pull configured, against a fake Jira Cloud site."""
    with configured_fake_jira(settings) as fake:
        yield fake


def bug_as_the_pull_read_it():
    """ACME-42 with its labels, as the search (or an earlier delivery) gave it."""
    apply_issue(IssueFacts.from_json(fixture_json("jira_issue_created__smoke_bug")["issue"]))


def assert_holds_its_round_and_the_release(acme):
    bug = JiraIssue.objects.get(key="ACME-42")
    fixes, release = step(acme, "smoke-test-fixes"), step(acme, "closed-release")
    assert (bug.labels, bug.issue_type, bug.status_name) == (["smoke-test", "ux"], "Bug", "Open")
    assert (bug.is_bug, bug.step, bug.testing_round, bug.affects_ux) == (True, fixes, "smoke-test", True)
    for held in (fixes, release):
        refusal = open_bugs_refusal(held)
        assert isinstance(refusal, OpenBugs) and refusal.message.endswith("ACME-42 (Open).")


def test_a_created_bug_without_list_fields_keeps_the_labels_known_and_holds_its_step(acme, deliver):
    """Jira's issue_created may leave out the list fields (labels, components...): unknown, not empty."""
    bug_as_the_pull_read_it()
    assert_holds_its_round_and_the_release(acme)

    response = deliver("jira_issue_created__smoke_bug_without_lists")

    assert_accepted(response)
    assert "labels" not in fixture_json("jira_issue_created__smoke_bug_without_lists")["issue"]["fields"]
    assert stored(response).outcome == "applied"
    assert_holds_its_round_and_the_release(acme)


def test_a_new_bug_without_list_fields_is_read_from_jira_when_the_pull_is_configured(acme, deliver, fake_jira):
    fake_jira.issues = [
        jira_issue("ACME-42", "2026-04-16T10:40:00.000+0200", status="Open", labels=["smoke-test", "ux"], kind="Bug")
    ]

    response = deliver("jira_issue_created__smoke_bug_without_lists")

    assert stored(response).outcome == "applied"
    assert_holds_its_round_and_the_release(acme)
    [request] = [r for r in fake_jira.requests if r.path.endswith("/issue/ACME-42")]
    assert request.query["fields"] == ["summary,status,labels,issuetype,project,updated"]
    assert fake_jira.count() == 2  # serverInfo, the issue


def test_a_known_bug_without_list_fields_costs_no_request_to_jira(acme, deliver, fake_jira):
    bug_as_the_pull_read_it()

    deliver("jira_issue_created__smoke_bug_without_lists")

    assert fake_jira.count() == 0
    assert_holds_its_round_and_the_release(acme)


def test_when_jira_cannot_be_read_a_new_bug_is_recorded_with_what_the_delivery_says(acme, deliver, fake_jira, caplog):
    fake_jira.fail_next(503, path="/issue/ACME-42")

    with caplog.at_level(logging.WARNING, logger="integrations.jira.inbox"):
        response = deliver("jira_issue_created__smoke_bug_without_lists")

    delivery = stored(response)
    assert (delivery.outcome, delivery.detail) == ("ignored", f"ACME-42 is linked to no step of {acme}; recorded.")
    bug = JiraIssue.objects.get(key="ACME-42")
    assert (bug.labels, bug.is_bug, bug.status_name, bug.step) == ([], True, "Open", None)
    assert "jira.inbox.fetch_failed issue=ACME-42 unsaid=labels: Jira answered 503" in caplog.text


def test_a_deleted_task_no_longer_holds_its_step_which_is_done_when_jira_deleted_it(acme, deliver):
    # What the product knew of ACME-15 (an open onboarding task) before it was deleted.
    apply_issue(IssueFacts.from_json(fixture_json("jira_issue_deleted__task")["issue"]), who="Mia Krystof")
    deliver("jira_issue_updated__status_done")  # ACME-12 done on 03-04: the step starts, ACME-15 is open
    onboarding = step(acme, "slack-jira-onboarding")
    assert onboarding.status == StepStatus.IN_PROGRESS
    assert jira_changes(onboarding)[-1].note == "Work started in Jira: ACME-12 (Done)."

    response = deliver("jira_issue_deleted__task")

    assert_accepted(response)
    delivery = stored(response)
    onboarding.refresh_from_db()
    assert (delivery.event, delivery.issue_key, delivery.outcome) == ("jira:issue_deleted", "ACME-15", "applied")
    assert delivery.detail == f"{onboarding}: done. ACME-12 (Done) done in Jira."
    assert onboarding.status == StepStatus.DONE
    # Dated when Jira deleted the issue (the delivery's timestamp), not at the issue's last edit on 03-03,
    # which is before the step started and would be refused as stale.
    deleted_at = sent_at(fixture_json("jira_issue_deleted__task"))
    assert deleted_at == utc(2026, 3, 5, 9, 0, 0, 642000)
    change = jira_changes(onboarding)[-1]
    assert (change.from_status, change.to_status, change.by_name) == ("in_progress", "done", "Mia Krystof")
    assert (change.source, change.at, change.note) == ("jira", deleted_at, "ACME-12 (Done) done in Jira.")
    gone = JiraIssue.objects.get(key="ACME-15")
    assert gone.deleted and not gone.is_open


def test_a_comment_is_stored_and_ignored(acme, deliver):
    response = deliver("comment_created__task")

    assert_accepted(response)
    delivery = stored(response)
    assert (delivery.event, delivery.issue_key, delivery.retry_number) == ("comment_created", "ACME-12", 0)
    assert (delivery.outcome, delivery.detail, delivery.attempts) == ("ignored", "nothing to do for comment_created", 1)
    assert delivery.processed_at == utc(2026, 3, 4, 14, 45, 1, 518000)
    assert not JiraIssue.objects.exists()
    assert not acme.steps.filter(history__source="jira").exists()


# --- signatures --------------------------------------------------------------------------------


def assert_refused(response, status: int, message: str):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert message in response.json()["error"]
    assert not JiraDelivery.objects.exists()


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        (sign(fixture_body("jira_issue_updated__status_done"), secret="another-secret"), "does not match the body"),
        # Signed, then altered on the way: one byte of the body changed.
        (sign(fixture_body("jira_issue_updated__status_done").replace(b"Done", b"Dona", 1)), "does not match the body"),
        ("sha256=" + "0" * 64, "does not match the body"),
        ("sha256=not-hex", "does not match the body"),
        (sign(fixture_body("jira_issue_updated__status_done"), algorithm="sha1"), "'sha1'; only sha256"),
        ("md5=" + "0" * 32, "'md5'; only sha256"),
        (sign(fixture_body("jira_issue_updated__status_done")).removeprefix("sha256="), "must look like sha256="),
        ("sha256=", "must look like sha256="),
    ],
    ids=["other-secret", "altered-body", "zeros", "not-hex", "sha1", "md5", "no-prefix", "empty-digest"],
)
def test_a_delivery_without_our_signature_is_refused_and_not_stored(acme, post_raw, signature, message):
    response = post_raw(fixture_body("jira_issue_updated__status_done"), signature=signature)

    assert_refused(response, 401, message)
    assert step(acme, "slack-jira-onboarding").status == StepStatus.NOT_STARTED


def test_an_unsigned_delivery_is_refused(post_raw):
    response = post_raw(fixture_body("jira_issue_updated__status_done"), signature=None)

    assert_refused(response, 401, "not signed: the X-Hub-Signature header is missing")


def test_the_algorithm_prefix_is_read_case_insensitively(acme, deliver):
    body = fixture_body("jira_issue_updated__status_done")
    response = deliver(body, signature=sign(body).replace("sha256=", "SHA256="))

    assert_accepted(response)
    assert stored(response).outcome == "applied"


def test_without_a_secret_every_delivery_is_refused(post_raw, settings):
    settings.JIRA_WEBHOOK_SECRET = ""
    body = fixture_body("jira_issue_updated__status_done")

    for signature in (None, sign(body), sign(body, secret="")):
        response = post_raw(body, signature=signature)
        assert_refused(response, 401, "JIRA_WEBHOOK_SECRET is not set")


def test_a_development_setup_may_take_unsigned_deliveries_when_no_secret_is_set(acme, deliver, settings):
    settings.JIRA_WEBHOOK_SECRET = ""
    settings.JIRA_WEBHOOK_ALLOW_UNSIGNED = True

    response = deliver("jira_issue_updated__status_done", signature=None)

    assert_accepted(response)
    assert stored(response).outcome == "applied"
    assert step(acme, "slack-jira-onboarding").status == StepStatus.DONE


def test_allowing_unsigned_deliveries_does_not_weaken_a_configured_secret(post_raw, settings):
    settings.JIRA_WEBHOOK_ALLOW_UNSIGNED = True
    body = fixture_body("jira_issue_updated__status_done")

    assert_refused(post_raw(body, signature=None), 401, "X-Hub-Signature header is missing")
    assert_refused(post_raw(body, signature=sign(body, secret="guess")), 401, "does not match the body")


# --- what the body and headers must be -----------------------------------------------------------


def test_a_delivery_without_its_identifier_is_refused(post_raw):
    response = post_raw(fixture_body("jira_issue_updated__status_done"), delivery_id=False)

    assert_refused(response, 400, "no X-Atlassian-Webhook-Identifier header")


def test_a_delivery_identifier_too_long_to_be_jiras_is_refused(post_raw):
    response = post_raw(fixture_body("jira_issue_updated__status_done"), delivery_id="x" * 201)

    assert_refused(response, 400, "X-Atlassian-Webhook-Identifier header is too long")


def issue_updated(**changes) -> dict:
    body = fixture_json("jira_issue_updated__status_done")
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"webhookEvent": "jira:issue_updated", "issue": {"key": "ACME-12"', "The body is not JSON: "),
        (b"", "The body is not JSON: Expecting value"),
        (b"\xff\xfe\x00garbage", "The body is not JSON"),
        (b'{"webhookEvent": "jira:issue_updated", "timestamp": NaN}', "NaN is not a JSON number"),
        (b'{"webhookEvent": "jira:issue_updated", "timestamp": 1e999}', "too large a number"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b"[]", "must be a JSON object, not an array"),
        (b'"jira:issue_updated"', "must be a JSON object, not a string"),
        (b"null", "must be a JSON object, not null"),
        (json.dumps(issue_updated(webhookEvent=None)).encode(), "no 'webhookEvent' string"),
        (json.dumps(issue_updated(webhookEvent=["jira:issue_updated"])).encode(), "no 'webhookEvent' string"),
        (json.dumps(issue_updated(webhookEvent="  ")).encode(), "no 'webhookEvent' string"),
        (json.dumps(issue_updated(webhookEvent="jira:" + "x" * 60)).encode(), "too long to be a Jira event"),
        (json.dumps(issue_updated(issue=None)).encode(), "jira:issue_updated delivery needs an 'issue' object"),
        (json.dumps(issue_updated(issue=["ACME-12"])).encode(), "needs an 'issue' object with its 'key'"),
        (json.dumps(issue_updated(issue={"id": "10312", "fields": {}})).encode(), "with its 'key' (such as ACME-42)"),
        (json.dumps(issue_updated(issue={"key": 12})).encode(), "with its 'key'"),
        (json.dumps(issue_updated(issue={"key": "ACME-" + "9" * 40})).encode(), "with its 'key'"),
        (json.dumps(issue_updated(comment="broken\x00text")).encode(), "cannot be stored: it contains a NUL"),
        (
            b'{"webhookEvent": "comment_created", "comment": {"body": "\\ud800"}}',
            "cannot be stored: it contains a lone UTF-16 surrogate",
        ),
        (b'{"webhookEvent": "x", "a": ' + b"[" * 70 + b"]" * 70 + b"}", "nested more than 64 levels deep"),
        # What only the bytes show, or an escape written otherwise: still refused.
        (
            b'{"webhookEvent": "comment_created", "comment": {"body": "\xed\xa0\x80"}}',
            "cannot be stored: it contains a lone UTF-16 surrogate",
        ),
        (
            b'{"webhookEvent": "comment_created", "comment": {"body": "\\uDC00"}}',
            "cannot be stored: it contains a lone UTF-16 surrogate",
        ),
        (
            b'{"webhookEvent": "x", "a": ' + b"[" * 63 + b"1" + b"]" * 63 + b"}",  # 64 brackets, a value inside
            "nested more than 64 levels deep",
        ),
        (
            '{"webhookEvent": "x", "a": "broken\\u0000text"}'.encode("utf-16"),
            "cannot be stored: it contains a NUL",
        ),
    ],
    ids=[
        "truncated",
        "empty",
        "not-utf8",
        "nan",
        "infinite",
        "deep-recursion",
        "array",
        "string",
        "null",
        "event-null",
        "event-list",
        "event-blank",
        "event-too-long",
        "issue-null",
        "issue-list",
        "issue-without-key",
        "issue-key-number",
        "issue-key-too-long",
        "nul-character",
        "lone-surrogate",
        "nested-too-deep",
        "lone-surrogate-as-utf8-bytes",
        "lone-surrogate-escaped-in-capitals",
        "nested-64-deep-by-one-value",
        "nul-in-utf16",
    ],
)
def test_a_body_that_is_not_a_jira_delivery_is_refused_saying_what_is_wrong(post_raw, body, message):
    response = post_raw(body)

    assert_refused(response, 400, message)


def test_an_event_we_do_not_handle_needs_no_issue_and_is_acknowledged(deliver):
    body = {"timestamp": 1772634600087, "webhookEvent": "jira:version_released", "version": {"name": "1.0"}}

    response = deliver(body)

    assert_accepted(response)
    delivery = stored(response)
    assert (delivery.issue_key, delivery.outcome) == ("", "ignored")
    assert delivery.detail == "nothing to do for jira:version_released"


def test_jira_needs_no_csrf_token(acme, jira_secret):
    body = fixture_body("jira_issue_updated__status_done")
    headers = {"X-Atlassian-Webhook-Identifier": new_delivery_id(), "X-Hub-Signature": sign(body)}

    response = Client(enforce_csrf_checks=True).post(URL, data=body, content_type="application/json", headers=headers)

    assert response.status_code == 202


def test_other_methods_are_answered_405_in_json(client):
    for method in ("get", "put", "delete"):
        response = getattr(client, method)(URL)
        assert response.status_code == 405
        assert response["Allow"] == "POST"
        assert response.json() == {"error": "Jira deliveries are POSTed here."}


# --- size ---------------------------------------------------------------------------------------


def padded(name: str, size: int) -> bytes:
    """The fixture's bytes, padded with JSON whitespace to exactly ``size`` bytes."""
    body = fixture_body(name).rstrip()
    return body + b" " * (size - len(body))


def test_a_body_over_the_limit_is_refused_413_by_its_content_length(acme, post_raw, settings):
    settings.JIRA_WEBHOOK_MAX_BYTES = 8_000
    assert len(fixture_body("jira_issue_updated__status_done")) < 8_000

    response = post_raw(padded("jira_issue_updated__status_done", 8_001))

    assert_refused(response, 413, "larger than 8000 bytes (JIRA_WEBHOOK_MAX_BYTES)")


def test_a_body_of_exactly_the_limit_is_taken(acme, deliver, settings):
    settings.JIRA_WEBHOOK_MAX_BYTES = 8_000

    response = deliver(padded("jira_issue_updated__status_done", 8_000))

    assert_accepted(response)
    assert stored(response).outcome == "applied"


def test_a_declared_length_over_the_limit_is_refused_without_reading_the_body(post_raw, settings):
    settings.JIRA_WEBHOOK_MAX_BYTES = 8_000
    body = fixture_body("jira_issue_updated__status_done")

    response = post_raw(body, CONTENT_LENGTH="8001")

    assert_refused(response, 413, "larger than 8000 bytes")


def test_a_content_length_that_is_not_a_number_is_refused(post_raw):
    response = post_raw(fixture_body("jira_issue_updated__status_done"), CONTENT_LENGTH="12; drop")

    assert_refused(response, 400, "Content-Length '12; drop' is not a number of bytes")


class CountingStream(io.BytesIO):
    """A request body that remembers how many bytes were read from it."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_a_body_without_content_length_is_read_only_one_byte_past_the_limit(settings, jira_secret):
    """An ASGI request with a chunked body carries no Content-Length: the view reads limit + 1 bytes, no more."""
    settings.JIRA_WEBHOOK_MAX_BYTES = 8_000
    body = padded("jira_issue_updated__status_done", 50_000)
    stream = CountingStream(body)
    scope = {
        "type": "http",
        "method": "POST",
        "path": URL,
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"transfer-encoding", b"chunked"),
            (b"x-atlassian-webhook-identifier", new_delivery_id().encode()),
            (b"x-hub-signature", sign(body).encode()),
        ],
    }

    response = webhook(ASGIRequest(scope, stream))

    assert response.status_code == 413
    assert json.loads(response.content) == {"error": "The body is larger than 8000 bytes (JIRA_WEBHOOK_MAX_BYTES)."}
    assert stream.bytes_read == 8_001
    assert not JiraDelivery.objects.exists()


# --- duplicates, order, lateness -----------------------------------------------------------------


def test_a_redelivered_delivery_is_answered_200_and_processed_once(acme, deliver):
    first = deliver("jira_issue_updated__status_done")
    again = deliver(
        "jira_issue_updated__status_done",
        delivery_id=first.delivery_id,
        retry=1,
        at=utc(2026, 3, 4, 14, 31),
    )

    assert_accepted(first)
    assert again.status_code == 200
    assert again.json() == {"status": "duplicate", "delivery": first.delivery_id}
    assert again.callbacks == []  # nothing queued
    delivery = JiraDelivery.objects.get()
    assert (delivery.delivery_id, delivery.retry_number, delivery.outcome, delivery.attempts) == (
        first.delivery_id,
        0,
        "applied",
        1,
    )
    assert len(jira_changes(step(acme, "slack-jira-onboarding"))) == 1


def test_the_same_news_under_another_delivery_id_is_stored_as_a_duplicate_and_not_applied_again(acme, deliver):
    """Jira may resend one change under a new delivery id: it is kept, and marked a duplicate of the first."""
    first = deliver("jira_issue_updated__status_done")
    second = deliver("jira_issue_updated__status_done", at=utc(2026, 3, 4, 14, 32))

    assert_accepted(second)
    original, copy = stored(first), stored(second)
    assert (original.outcome, copy.outcome) == ("applied", "duplicate")
    assert copy.body == original.body == fixture_json("jira_issue_updated__status_done")
    assert (
        copy.content_key
        == original.content_key
        == "jira:issue_updated|ACME-12|2026-03-04T15:30:00.000+0100|changelog:10541"
    )
    assert (original.outcome, original.duplicate_of) == ("applied", None)
    assert (copy.outcome, copy.duplicate_of, copy.attempts) == ("duplicate", original, 1)
    assert copy.detail == (
        f"The same news as delivery {first.delivery_id} (#{original.pk}, applied), resent under another "
        "delivery id: not applied again."
    )
    assert JiraIssue.objects.get(key="ACME-12").seen_at == utc(2026, 3, 4, 14, 30, 1, 87000)  # not seen again
    assert len(jira_changes(step(acme, "slack-jira-onboarding"))) == 1

    # Replayed, it is still the first delivery's duplicate; the first one may be replayed.
    assert inbox.replay(copy) == "duplicate"
    assert copy.duplicate_of == original


def test_another_change_at_the_same_moment_is_not_a_duplicate(acme, deliver):
    """Two changes of one issue saved in one second differ by their changelog: both are news."""
    deliver("jira_issue_updated__status_done")
    body = fixture_json("jira_issue_updated__status_done")
    body["changelog"] = {"id": "10542", "items": [{"field": "labels", "fieldId": "labels", "toString": "backend"}]}
    body["issue"]["fields"]["labels"].append("backend")

    second = deliver(body, at=utc(2026, 3, 4, 14, 32))

    assert (stored(second).outcome, stored(second).duplicate_of) == ("applied", None)
    assert JiraIssue.objects.get(key="ACME-12").labels == ["roadmap-slack-jira-onboarding", "backend"]


def test_a_duplicate_of_waiting_news_waits_with_the_first(acme, deliver):
    first = deliver("jira_issue_updated__status_done_prerequisites_open")
    second = deliver("jira_issue_updated__status_done_prerequisites_open", at=utc(2026, 3, 10, 10, 5))

    assert stored(first).outcome == "waiting"
    assert (stored(second).outcome, stored(second).duplicate_of) == ("duplicate", stored(first))


def test_an_older_delivery_arriving_after_a_newer_one_is_ignored(acme, deliver):
    """Jira reorders deliveries: the reopening (03-05) arrives first, then the completion (03-04)."""
    newer = deliver("jira_issue_updated__reopened")
    older = deliver("jira_issue_updated__status_done", at=utc(2026, 3, 5, 9, 21))

    assert (stored(newer).outcome, stored(older).outcome) == ("applied", "ignored")
    assert stored(older).detail == (
        "Older than what is known of ACME-12 (updated 2026-03-04 15:30:00+0100, "
        "known 2026-03-05 09:20:00+0000); nothing changed."
    )
    issue = JiraIssue.objects.get(key="ACME-12")
    assert (issue.status_name, issue.updated_at) == ("Reopened", utc(2026, 3, 5, 9, 20))
    onboarding = step(acme, "slack-jira-onboarding")
    assert onboarding.status == StepStatus.NOT_STARTED  # a reopened task that was never seen done
    assert jira_changes(onboarding) == []


def test_a_late_delivery_older_than_what_the_pull_saw_is_ignored(acme, deliver):
    """Jira's delivery of the completion (03-04 14:30) failed and is retried late; meanwhile the pull
    read the issue done, then reopened (03-05 09:20). The late retry, arriving 03-05 09:45, changes nothing."""
    for name, read_at in (
        ("jira_issue_updated__status_done", utc(2026, 3, 4, 14, 40)),
        ("jira_issue_updated__reopened", utc(2026, 3, 5, 9, 30)),
    ):
        with time_machine.travel(read_at, tick=False):  # what the pull read, applied as the pull applies it
            assert apply_issue(IssueFacts.from_json(fixture_json(name)["issue"])).state == "applied"

    late = deliver("jira_issue_updated__status_done", retry=2, at=utc(2026, 3, 5, 9, 45))

    assert_accepted(late)
    delivery = stored(late)
    assert (delivery.retry_number, delivery.outcome) == (2, "ignored")
    assert delivery.detail == (
        "Older than what is known of ACME-12 (updated 2026-03-04 15:30:00+0100, "
        "known 2026-03-05 09:20:00+0000); nothing changed."
    )
    onboarding = step(acme, "slack-jira-onboarding")
    assert onboarding.status == StepStatus.IN_PROGRESS
    done, reopened = jira_changes(onboarding)
    assert (done.to_status, done.at) == ("done", utc(2026, 3, 4, 14, 30))
    assert (reopened.to_status, reopened.at, reopened.by_name) == ("in_progress", utc(2026, 3, 5, 9, 20), "Jira")


# --- waiting for the roadmap ------------------------------------------------------------------------


def test_done_in_jira_while_prerequisites_are_open_waits_then_the_sweep_applies_it(acme, deliver, pm):
    """ACME-11 (sandbox access) is done in Jira on 03-10 at 10:00 before the steps it depends on."""
    response = deliver("jira_issue_updated__status_done_prerequisites_open")

    assert_accepted(response)
    delivery = stored(response)
    sandbox = step(acme, "sandbox-access")
    arrived = utc(2026, 3, 10, 10, 0, 1, 164000)
    assert (delivery.outcome, delivery.attempts, delivery.processed_at) == ("waiting", 1, arrived)
    assert delivery.detail == (
        f"prerequisites_open: {sandbox} cannot be done before the steps it depends on: "
        f"{step(acme, 'slack-jira-onboarding')} (not started); {step(acme, 'endpoints-implementation')} "
        f"(not started); {step(acme, 'passing-autotests')} (not started)."
    )
    assert delivery.not_before == arrived + timedelta(minutes=1)
    assert sandbox.status == StepStatus.NOT_STARTED
    assert jira_changes(sandbox) == []

    # A minute later the sweep tries again: still open, so it waits twice as long.
    with time_machine.travel(arrived + timedelta(minutes=1), tick=False):
        assert inbox.sweep() == 1
    delivery.refresh_from_db()
    assert (delivery.outcome, delivery.attempts) == ("waiting", 2)
    assert delivery.not_before == arrived + timedelta(minutes=3)

    # The PM completes the prerequisites; the next due sweep applies Jira's news, dated no earlier
    # than the prerequisites it waited for.
    for code in ("slack-jira-onboarding", "autotests-configuration", "endpoints-implementation", "passing-autotests"):
        complete_step(step(acme, code), ctx(pm, arrived + timedelta(minutes=2)))
    with time_machine.travel(arrived + timedelta(minutes=2, seconds=30), tick=False):
        assert inbox.sweep() == 0  # not due yet
    with time_machine.travel(arrived + timedelta(minutes=3), tick=False):
        assert inbox.sweep() == 1

    delivery.refresh_from_db()
    sandbox.refresh_from_db()
    assert (delivery.outcome, delivery.attempts, delivery.not_before) == ("applied", 3, None)
    assert delivery.detail == (
        f"{sandbox}: done. ACME-11 (Done) done in Jira on 10 Mar; applied 10 Mar when Passing REST API autotests "
        "was done."
    )
    assert sandbox.status == StepStatus.DONE
    [change] = jira_changes(sandbox)
    assert (change.source, change.by_name, change.at) == ("jira", "Mia Krystof", arrived + timedelta(minutes=2))
    assert (
        change.note == "ACME-11 (Done) done in Jira on 10 Mar; applied 10 Mar when Passing REST API autotests was done."
    )


# --- storage and the queue ---------------------------------------------------------------------------


def test_a_delivery_the_database_cannot_store_is_answered_503_so_jira_retries(acme, post_raw, caplog):
    def refuse(execute, sql, params, many, context):
        if "INSERT INTO" in sql and "jiradelivery" in sql:
            raise DatabaseError("could not extend file: No space left on device")
        return execute(sql, params, many, context)

    delivery_id = new_delivery_id()

    with caplog.at_level(logging.ERROR, logger="integrations.jira.views"), connection.execute_wrapper(refuse):
        response = post_raw(fixture_body("jira_issue_updated__status_done"), delivery_id=delivery_id)

    assert_refused(response, 503, "could not be stored; send it again later")
    assert f"jira.webhook.store_failed delivery={delivery_id}" in caplog.text
    # Jira's retry finds the database back: stored and processed.
    assert post_raw(fixture_body("jira_issue_updated__status_done"), delivery_id=delivery_id).status_code == 202


def test_a_stored_delivery_writes_no_info_line_a_redelivery_does(acme, post_raw, caplog):
    delivery_id = new_delivery_id()
    body = fixture_body("jira_issue_updated__status_done")

    with caplog.at_level(logging.INFO, logger="integrations.jira.views"):
        first = post_raw(body, delivery_id=delivery_id)
        again = post_raw(body, delivery_id=delivery_id)

    assert (first.status_code, again.status_code) == (202, 200)
    # The row says what the stored line said (a DEBUG line now); only the redelivery is news for the log.
    assert [record.getMessage() for record in caplog.records if record.levelno >= logging.INFO] == [
        f"jira.webhook.duplicate delivery={delivery_id} retry=0"
    ]


@pytest.fixture
def broker_down(eager_tasks):
    """The Celery broker cannot be reached: publishing a task fails after the client's own retries."""
    saved = {name: app.conf[name] for name in ("broker_url", "broker_transport_options", "task_always_eager")}
    # Port 9 (discard) on this host: the connection is refused at once.
    app.conf.update(broker_url="redis://127.0.0.1:9/0", broker_transport_options={}, task_always_eager=False)
    _reset_connection_pools()
    try:
        yield app
    finally:
        app.conf.update(saved)
        _reset_connection_pools()


def test_a_delivery_is_accepted_when_the_broker_is_down_and_the_sweep_processes_it(acme, deliver, broker_down, caplog):
    with caplog.at_level(logging.ERROR, logger="integrations.jira.views"):
        response = deliver("jira_issue_updated__status_done")

    assert_accepted(response)
    delivery = stored(response)
    assert (delivery.outcome, delivery.attempts) == ("pending", 0)
    assert f"jira.webhook.enqueue_failed delivery={response.delivery_id} id={delivery.pk}" in caplog.text
    assert step(acme, "slack-jira-onboarding").status == StepStatus.NOT_STARTED

    arrived = delivery.received_at
    with time_machine.travel(arrived + timedelta(seconds=5), tick=False):
        assert inbox.sweep() == 0  # its task may still be on its way
    with time_machine.travel(arrived + timedelta(seconds=60), tick=False):
        assert inbox.sweep() == 1

    delivery.refresh_from_db()
    assert (delivery.outcome, delivery.attempts) == ("applied", 1)
    onboarding = step(acme, "slack-jira-onboarding")
    assert onboarding.status == StepStatus.DONE
    assert jira_changes(onboarding)[0].at == utc(2026, 3, 4, 14, 30)
