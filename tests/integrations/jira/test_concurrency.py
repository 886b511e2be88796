"""Deliveries processed by several workers at once, on PostgreSQL (SQLite runs one writer at a time).

Each worker is a thread with its own database connection, as Celery workers have; a barrier starts
them together so their transactions overlap. Deliveries about one issue are shuffled, so the newest
may well be applied first: whatever the order, each issue must end in its newest state, no delivery
may fail, and each issue has one row.
"""

import random
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, connections

from integrations.jira import inbox, issues
from integrations.jira.models import JiraDelivery, JiraIssue
from roadmap.models import StepStatus
from tests.fake_jira import jira_issue
from tests.integrations.helpers import step
from tests.integrations.jira.conftest import new_delivery_id

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 4
BASE = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # the day after the kick-off


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (the SQLite test database is one in-memory file)")


# Five new issues, each changed four times (the first delivery creates it), and where each ends.
HISTORIES = {
    "ACME-21": ("Task", ["roadmap-slack-jira-onboarding"], [("To Do", "new"), ("In Progress", "indeterminate"), ("Done", "done"), ("Done", "done")]),
    "ACME-22": ("Task", ["roadmap-autotests-configuration"], [("To Do", "new"), ("In Progress", "indeterminate"), ("Done", "done"), ("In Progress", "indeterminate")]),
    "ACME-23": ("Bug", ["smoke-test"], [("Open", "new"), ("In Progress", "indeterminate"), ("Done", "done"), ("Reopened", "new")]),
    "ACME-24": ("Bug", ["final-test-1", "ux"], [("Open", "new"), ("In Progress", "indeterminate"), ("In Review", "indeterminate"), ("Done", "done")]),
    "ACME-25": ("Task", ["backend"], [("To Do", "new"), ("In Progress", "indeterminate"), ("Done", "done"), ("Done", "done")]),
}  # fmt: skip


def updated_at(issue_number: int, change: int) -> datetime:
    """When change ``change`` (0-3) of ACME-<issue_number> happened in Jira: a minute apart, interleaved."""
    return BASE + timedelta(minutes=10 * change + issue_number % 10)


def delivery_body(key: str, change: int) -> dict:
    kind, labels, statuses = HISTORIES[key]
    status, category = statuses[change]
    moment = updated_at(int(key.split("-")[1]), change)
    body = {
        "timestamp": int(moment.timestamp() * 1000) + 250,
        "webhookEvent": "jira:issue_created" if change == 0 else "jira:issue_updated",
        "issue_event_type_name": "issue_created" if change == 0 else "issue_generic",
        "user": {"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Mia Krystof"},
        "issue": jira_issue(key, moment, status=status, category=category, labels=labels, kind=kind),
    }
    if change:
        previous = statuses[change - 1][0]
        body["changelog"] = {
            "id": f"{20000 + 10 * int(key.split('-')[1]) + change}",
            "items": [{"field": "status", "fieldId": "status", "fromString": previous, "toString": status}],
        }
    return body


def store_shuffled(seed: int) -> list[int]:
    """The 20 deliveries stored as the webhook stores them, in a shuffled order of arrival; their ids."""
    bodies = [delivery_body(key, change) for key in HISTORIES for change in range(4)]
    random.Random(seed).shuffle(bodies)
    ids = []
    for body in bodies:
        delivery = JiraDelivery.objects.create(
            delivery_id=new_delivery_id(),
            event=body["webhookEvent"],
            issue_key=body["issue"]["key"],
            body=body,
            content_key=inbox.content_key(body),
        )
        ids.append(delivery.pk)
    return ids


def run_at_once(jobs: list[list], work) -> list[BaseException]:
    """Run ``work(item)`` for each job's items, one thread per job, started together; the errors raised."""
    start, errors = threading.Barrier(len(jobs)), []

    def worker(items):
        try:
            start.wait(10)
            for item in items:
                work(item)
        except BaseException as error:  # reported to the test, not lost in the thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(items,)) for items in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a worker is still running after a minute"
    return errors


@pytest.mark.parametrize("seed", range(3))
def test_deliveries_about_new_issues_processed_by_several_workers_end_in_the_newest_state(acme, seed):
    ids = store_shuffled(seed)

    errors = run_at_once([ids[n::WORKERS] for n in range(WORKERS)], inbox.process)

    assert errors == []
    outcomes = dict(JiraDelivery.objects.values_list("pk", "outcome"))
    assert set(outcomes) == set(ids)
    details = {d.issue_key: d.detail for d in JiraDelivery.objects.exclude(outcome__in=("applied", "ignored"))}
    assert details == {}, "every delivery is applied or ignored as older than what is known"
    assert sorted(JiraIssue.objects.values_list("key", flat=True)) == sorted(HISTORIES)
    for key, (_, _, statuses) in HISTORIES.items():
        issue = JiraIssue.objects.get(key=key)
        assert (issue.status_name, issue.status_category) == statuses[-1], key
        assert issue.updated_at == updated_at(int(key.split("-")[1]), 3), key
    # The steps follow what their tasks say last, and the open bug holds its fixing step.
    assert step(acme, "slack-jira-onboarding").status == StepStatus.DONE
    assert step(acme, "autotests-configuration").status == StepStatus.IN_PROGRESS
    bug, fixed = JiraIssue.objects.get(key="ACME-23"), JiraIssue.objects.get(key="ACME-24")
    assert (bug.step.code, bug.is_open) == ("smoke-test-fixes", True)
    assert (fixed.step.code, fixed.affects_ux, fixed.is_open) == ("final-testing-fixes-1", True, False)


def test_two_workers_creating_one_issue_at_once_keep_the_newer_whichever_writes_first(acme, monkeypatch):
    """Both workers find no row for ACME-21 before either writes one: the older delivery writes first."""
    older, newer = (delivery_body("ACME-21", change) for change in (1, 2))
    rows = {}
    for name, body in (("older", older), ("newer", newer)):
        rows[name] = JiraDelivery.objects.create(
            delivery_id=new_delivery_id(),
            event=body["webhookEvent"],
            issue_key="ACME-21",
            body=body,
            content_key=inbox.content_key(body),
        )
    both_looked = threading.Barrier(2)
    integration_for = issues._integration_for

    def looked_then_wait(project_key):
        found = integration_for(project_key)
        both_looked.wait(10)  # each worker has seen that ACME-21 has no row yet
        if threading.current_thread().name == "newer":
            threading.Event().wait(0.3)  # the older one writes first
        return found

    monkeypatch.setattr(issues, "_integration_for", looked_then_wait)
    errors = []

    def work(name):
        try:
            inbox.process(rows[name].pk)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(name,), name=name) for name in ("older", "newer")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    for row in rows.values():
        row.refresh_from_db()
    assert (rows["older"].outcome, rows["newer"].outcome) == ("applied", "applied"), (
        rows["older"].detail,
        rows["newer"].detail,
    )
    issue = JiraIssue.objects.get(key="ACME-21")
    assert (issue.status_name, issue.updated_at) == ("Done", updated_at(21, 2))
    assert step(acme, "slack-jira-onboarding").status == StepStatus.DONE


def test_two_drains_at_once_take_each_delivery_once_and_each_issues_news_in_order(acme, monkeypatch):
    """Drain "a" claims a batch and holds it while drain "b" claims: "b" takes no row of "a"'s, and no
    later news of an issue whose earlier news "a" is applying (it would be applied first, and the earlier
    news then ignored as older than what is known)."""
    # In order of arrival: each issue's first change, then each one's second, and so on.
    ids = []
    for change in range(4):
        for key in HISTORIES:
            body = delivery_body(key, change)
            ids.append(
                JiraDelivery.objects.create(
                    delivery_id=new_delivery_id(),
                    event=body["webhookEvent"],
                    issue_key=key,
                    body=body,
                    content_key=inbox.content_key(body),
                ).pk
            )
    claimed = {"a": [], "b": []}
    a_claimed, b_claimed = threading.Event(), threading.Event()
    firsts = inbox._firsts

    def after_each_claim(deliveries):
        name = threading.current_thread().name
        claimed[name].append([d.pk for d in deliveries])
        if name == "a" and len(claimed["a"]) == 1:
            a_claimed.set()
            assert b_claimed.wait(10), "drain b did not claim while a held its batch"
        if name == "b" and len(claimed["b"]) == 1:
            b_claimed.set()
        return firsts(deliveries)

    monkeypatch.setattr(inbox, "_firsts", after_each_claim)
    errors = []

    def drain(name):
        try:
            if name == "b":
                assert a_claimed.wait(10)
            while inbox.drain(limit=3):
                pass
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=drain, args=(name,), name=name) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    first_of_a, first_of_b = claimed["a"][0], claimed["b"][0]
    assert first_of_a == ids[:3]  # the first change of ACME-21, 22 and 23
    # Not ACME-21's second change (ids[5]), nor 22's or 23's: a holds their first; 24's and 25's are free.
    assert first_of_b == [ids[3], ids[4], ids[8]]
    taken = [pk for batches in claimed.values() for batch in batches for pk in batch]
    assert sorted(taken) == sorted(ids)  # every delivery taken, none twice
    rows = JiraDelivery.objects.filter(pk__in=ids)
    assert set(rows.values_list("attempts", flat=True)) == {1}
    older = [d.issue_key for d in rows if d.detail.startswith("Older than what is known")]
    assert older == []  # each issue's news applied in the order it came
    assert set(rows.exclude(issue_key="ACME-25").values_list("outcome", flat=True)) == {"applied"}
    for key, (_, _, statuses) in HISTORIES.items():
        issue = JiraIssue.objects.get(key=key)
        assert (issue.status_name, issue.status_category) == statuses[-1], key
    onboarding = step(acme, "slack-jira-onboarding")
    assert [c.to_status for c in onboarding.history.filter(source="jira").order_by("at", "id")] == [
        "in_progress",
        "done",
    ]
