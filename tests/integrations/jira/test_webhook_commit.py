"""A Jira delivery is one statement committed on its own before the answer: no BEGIN and COMMIT
around it (the round trips a webhook's answer waits for), no look-up before it, and still committed
before Jira hears 2xx; a duplicate is still answered 200 without breaking anything. On PostgreSQL,
unless JIRA_WEBHOOK_WAIT_FOR_DISK, that statement's commit does not wait for the disk, and no
other does; SQLite's connections commit to the WAL without waiting for the disk. On PostgreSQL, in
autocommit, the statement is the connection's own prepared statement sent through libpq: the same
row as the model would store, prepared again when the server dropped it, never prepared without
prepared statements, and a refusal is Django's DatabaseError (503)."""

import json
import logging
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.jira.inbox import content_key
from integrations.jira.models import JiraDelivery
from integrations.jira.views import NO_WAIT_FOR_DISK, DeliveryInsert
from tests.integrations.jira.conftest import fixture_body, fixture_json, new_delivery_id

pytestmark = pytest.mark.django_db(transaction=True)

POSTGRESQL = connection.vendor == "postgresql"


def test_a_delivery_is_one_statement_committed_before_the_answer(post_raw, settings):
    settings.JIRA_WEBHOOK_WAIT_FOR_DISK = True
    delivery_id = new_delivery_id()

    with CaptureQueriesContext(connection) as queries:
        response = post_raw(fixture_body("jira_issue_created__task"), delivery_id=delivery_id)

    assert response.status_code == 202, response.content
    assert len(queries) == 1, [q["sql"] for q in queries]  # no BEGIN, COMMIT, SAVEPOINT nor look-up
    assert queries[0]["sql"].startswith("INSERT INTO")
    assert "ON CONFLICT" in queries[0]["sql"]
    assert (connection.in_atomic_block, connection.get_autocommit()) == (False, True)  # so it is committed
    assert JiraDelivery.objects.filter(delivery_id=delivery_id, outcome="pending").exists()


def test_without_waiting_for_the_disk_only_the_delivery_commit_is_relaxed(post_raw, settings):
    settings.JIRA_WEBHOOK_WAIT_FOR_DISK = False
    delivery_id = new_delivery_id()

    with CaptureQueriesContext(connection) as queries:
        response = post_raw(fixture_body("jira_issue_created__task"), delivery_id=delivery_id)

    assert response.status_code == 202, response.content
    assert len(queries) == 1, [q["sql"] for q in queries]  # still one round trip
    assert queries[0]["sql"].startswith("INSERT INTO")
    if POSTGRESQL:  # one statement, which relaxes its own commit
        assert NO_WAIT_FOR_DISK in queries[0]["sql"]
        with connection.cursor() as cursor:  # local to it: the connection's next commits wait again
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone() == ("on",)
    else:  # SQLite: nothing to relax per statement (see the next test)
        assert NO_WAIT_FOR_DISK not in queries[0]["sql"]
    assert JiraDelivery.objects.filter(delivery_id=delivery_id, outcome="pending").exists()


@pytest.mark.skipif(POSTGRESQL, reason="SQLite's own setting")
def test_sqlite_commits_to_its_wal_without_waiting_for_the_disk():
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        assert cursor.fetchone() == (1,)  # NORMAL: the WAL is flushed at checkpoints, not at each commit


def test_the_same_delivery_again_is_a_duplicate_and_stored_once(post_raw):
    delivery_id = new_delivery_id()
    body = fixture_body("jira_issue_created__task")

    first = post_raw(body, delivery_id=delivery_id)
    again = post_raw(body, delivery_id=delivery_id)

    assert (first.status_code, again.status_code) == (202, 200)
    assert json.loads(again.content) == {"status": "duplicate", "delivery": delivery_id}
    assert JiraDelivery.objects.filter(delivery_id=delivery_id).count() == 1


def test_the_insert_is_the_connection_check_no_select_1_before_it(post_raw, monkeypatch):
    checks = []
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append("SELECT 1") or True)
    saved = connection.health_check_enabled, connection.health_check_done
    # CONN_HEALTH_CHECKS as in production, and the request's first query still to come.
    connection.health_check_enabled, connection.health_check_done = True, False
    try:
        response = post_raw(fixture_body("jira_issue_created__task"))
    finally:
        connection.health_check_enabled, connection.health_check_done = saved

    assert response.status_code == 202, response.content
    assert checks == []


@pytest.mark.skipif(not POSTGRESQL, reason="PostgreSQL's prepared statements")
@pytest.mark.parametrize("wait_for_disk", [False, True])
def test_postgresql_keeps_the_delivery_statement_prepared_and_no_other(post_raw, settings, wait_for_disk):
    settings.JIRA_WEBHOOK_WAIT_FOR_DISK = wait_for_disk
    connection.close()  # a connection of its own: no statement prepared yet
    body = fixture_body("jira_issue_created__task")

    statuses = [post_raw(body).status_code for _ in range(7)]
    for _ in range(7):  # the product's other queries keep Django's client-side binding
        list(JiraDelivery.objects.filter(outcome="pending").values_list("pk", flat=True))

    assert statuses == [202] * 7
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [statement for (statement,) in cursor.fetchall()]
    assert len(prepared) == 1, prepared
    assert prepared[0].startswith('INSERT INTO "integrations_jiradelivery"')
    assert (NO_WAIT_FOR_DISK in prepared[0]) is not wait_for_disk


@pytest.mark.skipif(not POSTGRESQL, reason="PostgreSQL's binding")
def test_with_server_side_binding_everywhere_the_delivery_is_still_one_statement_not_waiting(
    post_raw, settings, monkeypatch
):
    settings.JIRA_WEBHOOK_WAIT_FOR_DISK = False
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "server_side_binding", True)

    with CaptureQueriesContext(connection) as queries:
        response = post_raw(fixture_body("jira_issue_created__task"))

    assert response.status_code == 202, response.content
    assert len(queries) == 1 and NO_WAIT_FOR_DISK in queries[0]["sql"], [q["sql"] for q in queries]


@pytest.mark.skipif(not POSTGRESQL, reason="a PostgreSQL backend ended under the product")
def test_a_connection_that_died_is_answered_503_and_closed_so_the_next_delivery_is_stored(post_raw, settings):
    import psycopg

    settings.JIRA_WEBHOOK_WAIT_FOR_DISK = False
    body = fixture_body("jira_issue_created__task")
    assert post_raw(body).status_code == 202  # the connection is open, its INSERT prepared
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as other:  # a database restart
        other.execute("SELECT pg_terminate_backend(%s)", [pid])

    refused = post_raw(body)
    broken = connection.errors_occurred
    connection.close_if_unusable_or_obsolete()  # what Django does as a request ends (the test client skips it)
    stored = post_raw(body)

    assert (refused.status_code, broken, stored.status_code) == (503, True, 202)


# --- PostgreSQL: the connection's own prepared statement, sent through libpq ----------------------


def test_a_delivery_stores_what_the_model_would_store(post_raw, monkeypatch):
    if POSTGRESQL:  # in autocommit, with nothing counting queries, no Django cursor is made for it
        monkeypatch.setattr(connection, "cursor", lambda *args: pytest.fail("the delivery went through a cursor"))
    delivery_id = new_delivery_id()
    arrived = datetime(2026, 3, 4, 14, 30, 1, 123456, tzinfo=UTC)

    with time_machine.travel(arrived, tick=False):
        response = post_raw(fixture_body("jira_issue_updated__status_done"), delivery_id=delivery_id, retry=3)

    monkeypatch.undo()
    assert response.status_code == 202, response.content
    assert response["Content-Type"] == "application/json"
    assert response.content == json.dumps({"status": "accepted", "delivery": delivery_id}).encode()
    row = JiraDelivery.objects.get(delivery_id=delivery_id)
    body = fixture_json("jira_issue_updated__status_done")
    assert (row.received_at, row.event, row.issue_key, row.retry_number) == (
        arrived,
        "jira:issue_updated",
        "ACME-12",
        3,
    )
    assert (row.body, row.content_key) == (body, content_key(body))
    assert (row.outcome, row.detail, row.attempts) == ("pending", "", 0)
    assert (row.claimed_at, row.processed_at, row.not_before, row.duplicate_of) == (None, None, None, None)


@pytest.fixture
def fresh_connection():
    """The test's deliveries on a connection of their own (nothing prepared yet), closed after it."""
    connection.close()
    yield connection
    connection.close()


def prepared_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


@pytest.mark.skipif(not POSTGRESQL, reason="PostgreSQL's prepared statements")
def test_a_statement_the_server_dropped_is_prepared_again_and_the_delivery_stored(post_raw, fresh_connection):
    body = fixture_body("jira_issue_created__task")
    assert post_raw(body).status_code == 202  # prepared on this connection
    with connection.cursor() as cursor:  # what a pooler resetting the session, or a DEALLOCATE, does
        cursor.execute("DEALLOCATE ALL")

    delivery_id = new_delivery_id()
    response = post_raw(body, delivery_id=delivery_id)

    assert response.status_code == 202, response.content
    assert JiraDelivery.objects.filter(delivery_id=delivery_id).exists()
    assert len(prepared_statements()) == 1


@pytest.mark.skipif(not POSTGRESQL, reason="PostgreSQL's prepared statements")
def test_another_statement_of_its_name_in_the_session_is_replaced(post_raw, settings, fresh_connection):
    settings.JIRA_WEBHOOK_WAIT_FOR_DISK = False
    name = DeliveryInsert.on(connection, without_disk=True).pq_name.decode()
    with connection.cursor() as cursor:  # a pooler's session kept from another client, an older version's
        cursor.execute(f"PREPARE {name} AS SELECT 1")
    delivery_id = new_delivery_id()

    response = post_raw(fixture_body("jira_issue_created__task"), delivery_id=delivery_id)

    assert response.status_code == 202, response.content
    assert JiraDelivery.objects.filter(delivery_id=delivery_id).exists()
    [statement] = prepared_statements()
    assert statement.startswith('INSERT INTO "integrations_jiradelivery"')


@pytest.mark.skipif(not POSTGRESQL, reason="PostgreSQL's prepared statements")
def test_without_prepared_statements_the_delivery_is_not_prepared(post_raw, fresh_connection):
    connection.ensure_connection()
    connection.connection.prepare_threshold = None  # DATABASE_PREPARED_STATEMENTS=0, behind a pooler
    body = fixture_body("jira_issue_created__task")

    statuses = [post_raw(body).status_code for _ in range(6)]

    assert statuses == [202] * 6
    assert prepared_statements() == []


@pytest.mark.skipif(not POSTGRESQL, reason="PostgreSQL refusing the prepared statement")
def test_a_refusal_of_the_prepared_statement_is_answered_503_then_the_delivery_is_stored(
    post_raw, fresh_connection, caplog
):
    body = fixture_body("jira_issue_created__task")
    assert post_raw(body).status_code == 202  # prepared on this connection
    with connection.cursor() as cursor:
        cursor.execute("SET default_transaction_read_only = on")  # every INSERT now refused
    delivery_id = new_delivery_id()

    with caplog.at_level(logging.ERROR, logger="integrations.jira.views"):
        refused = post_raw(body, delivery_id=delivery_id)
    with connection.cursor() as cursor:
        cursor.execute("RESET default_transaction_read_only")
    stored = post_raw(body, delivery_id=delivery_id)

    assert refused.status_code == 503  # Django's DatabaseError, as from its cursor: "could not be stored"
    assert json.loads(refused.content) == {"error": "The delivery could not be stored; send it again later."}
    assert "read-only transaction" in caplog.text
    assert stored.status_code == 202, stored.content
