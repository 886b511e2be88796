"""A Jira delivery is one statement committed on its own before the answer: no BEGIN and COMMIT
around it (the round trips a webhook's answer waits for), no look-up before it, and still committed
before Jira hears 2xx; a duplicate is still answered 200 without breaking anything. On PostgreSQL,
unless JIRA_WEBHOOK_WAIT_FOR_DISK, that statement's commit does not wait for the disk, and no
other does; SQLite's connections commit to the WAL without waiting for the disk."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.jira.models import JiraDelivery
from integrations.jira.views import NO_WAIT_FOR_DISK
from tests.integrations.jira.conftest import fixture_body, new_delivery_id

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
