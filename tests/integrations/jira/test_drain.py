"""A burst of webhooks: the worker drains the inbox in batches, and the hook queues one drain per burst.

Nothing is lost (whatever no drain took, the sweep takes), nothing is applied twice (the same news
resent under another delivery id is a duplicate of the first, within a batch as across batches),
and a batch costs queries per batch, not per delivery, for news that moves no step.
"""

import copy
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.jira import inbox, views
from integrations.jira.inbox import content_key
from integrations.jira.models import JiraDelivery, JiraIssue
from integrations.jira.tasks import DRAIN_TASK, drain
from integrations.models import StepChange
from roadmap.models import StepStatus
from tests.integrations.helpers import step
from tests.integrations.jira.conftest import fixture_body, fixture_json, new_delivery_id, sign

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 12, 9, 0, tzinfo=UTC)


def news(key: str, minute: int, *, status="In Progress", category="indeterminate", labels=("backend",), kind="Task"):
    """A jira:issue_updated body of ACME's issue ``key``, updated at 08:``minute``."""
    body = fixture_json("jira_issue_updated__status_done")
    body["issue"]["key"] = key
    body["issue"]["id"] = str(20_000 + int(key.split("-")[1]))
    fields = body["issue"]["fields"]
    fields.update(
        updated=f"2026-03-12T08:{minute:02d}:00.000+0000",
        labels=list(labels),
        status={"name": status, "statusCategory": {"key": category}},
        issuetype={"name": kind},
    )
    body["changelog"]["id"] = f"{key}-{minute}"
    return body


def store(body: dict, *, received=NOW) -> JiraDelivery:
    """A delivery as the webhook stores it."""
    return JiraDelivery.objects.create(
        delivery_id=new_delivery_id(),
        event=body["webhookEvent"],
        issue_key=body["issue"]["key"],
        body=body,
        content_key=content_key(body),
        received_at=received,
    )


def outcomes() -> list[tuple[str, str]]:
    return list(JiraDelivery.objects.order_by("id").values_list("issue_key", "outcome"))


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_one_drain_applies_a_burst_in_order_once_and_marks_what_was_resent(acme, frozen):
    done = news("ACME-12", 10, status="Done", category="done", labels=["roadmap-slack-jira-onboarding"])
    burst = [
        store(news("ACME-12", 5, labels=["roadmap-slack-jira-onboarding"])),  # started
        store(done),  # then done
        store(copy.deepcopy(done)),  # the same news resent under another delivery id
        store(news("ACME-12", 1, status="To Do", category="new", labels=["roadmap-slack-jira-onboarding"])),  # older
        store(fixture_json("jira_issue_deleted__task")),  # handled on its own, in its place
        store(news("ACME-30", 7, kind="Bug", status="Open", category="new", labels=["smoke-test"])),
    ]

    assert inbox.drain() == len(burst)
    assert inbox.drain() == 0  # nothing left to take

    assert outcomes() == [
        ("ACME-12", "applied"),
        ("ACME-12", "applied"),
        ("ACME-12", "duplicate"),
        ("ACME-12", "ignored"),
        ("ACME-15", "applied"),
        ("ACME-30", "applied"),
    ]
    resent = JiraDelivery.objects.get(pk=burst[2].pk)
    assert resent.duplicate_of_id == burst[1].pk
    assert resent.detail.startswith(f"The same news as delivery {burst[1].delivery_id} (#{burst[1].pk}, applied)")
    onboarding = step(acme, "slack-jira-onboarding")
    assert onboarding.status == StepStatus.DONE
    assert [c.to_status for c in onboarding.history.filter(source="jira")] == ["in_progress", "done"]
    assert JiraIssue.objects.get(key="ACME-12").status_category == "done"  # the older news did not win
    assert JiraIssue.objects.get(key="ACME-30").step.code == "smoke-test-fixes"
    assert set(JiraDelivery.objects.values_list("attempts", flat=True)) == {1}


def test_news_resent_after_its_first_was_drained_is_a_duplicate_of_it(acme, frozen):
    first = store(news("ACME-12", 10, status="Done", category="done", labels=["roadmap-slack-jira-onboarding"]))
    inbox.drain()
    again = store(news("ACME-12", 10, status="Done", category="done", labels=["roadmap-slack-jira-onboarding"]))

    inbox.drain()

    assert (JiraDelivery.objects.get(pk=again.pk).duplicate_of_id, outcomes()[1][1]) == (first.pk, "duplicate")
    assert step(acme, "slack-jira-onboarding").history.filter(source="jira").count() == 1


def claims_turn() -> int:
    """The query a claim takes its turn with on PostgreSQL (an advisory lock); none on SQLite."""
    return 1 if connection.vendor == "postgresql" else 0


def drain_queries(count: int, first_minute: int) -> int:
    for n in range(count):
        store(news(f"ACME-{100 + n}", first_minute + n % 10, labels=["backend"]))
    with CaptureQueriesContext(connection) as queries:
        assert inbox.drain() == count
    return len(queries)


def test_a_batch_costs_the_same_queries_for_5_or_50_deliveries_that_move_no_step(acme, frozen):
    five = drain_queries(5, 10)
    fifty = drain_queries(50, 30)  # the same issues' later news, and 45 new ones

    # Per batch, not per delivery: the claim, reading the rows and the first of each news (1, and the
    # claims' turn on PostgreSQL), the issues' page (8), the outcomes, checking the claim is still ours
    # (1), and the savepoints of the claim's and the page's transactions (4); then the news for Slack:
    # the issues it is about (1).
    assert five == fifty == 15 + claims_turn()
    assert JiraDelivery.objects.filter(outcome="ignored").count() == 55  # linked to no step, recorded
    assert StepChange.objects.filter(source="jira").count() == 0


# Each delivery of a burst moves a step of its own integration; three of the five kinds are judged by a
# guard that reads its own tables: (step, to done?, what it reads).
MOVES = [
    ("slack-jira-onboarding", True, "nothing: TradingView's task, the partner hears it in Slack"),
    ("endpoints-implementation", False, "nothing: work started"),
    ("smoke-test-fixes", True, "the integration's bugs (no bug of the round open: done)"),
    ("production-deployment", True, "URL checks and sheets (nothing handed over: it waits)"),
    ("passing-autotests", True, "Jenkins jobs and each part's builds (every other one failing: it waits)"),
]
PASSING = "passing-autotests"


def link_autotests(integration, n: int, when):
    """A Jenkins job linked to each part of ``integration``, with a failed build, then a build that passed
    (every other integration: that failed too), then one running: the guard reads each part's runs."""
    from integrations.jenkins.models import JenkinsBuild, JenkinsJob

    last = "FAILURE" if (n // len(MOVES)) % 2 else "SUCCESS"
    for part in ("trading", "data"):
        job, _ = JenkinsJob.issue(integration=integration, part=part, job_name=f"{integration.jira_project_key}-{part}")
        for number, phase, status in ((1, "COMPLETED", "FAILURE"), (2, "COMPLETED", last), (3, "STARTED", "")):
            started = when + timedelta(hours=number)
            JenkinsBuild.objects.create(
                job=job,
                integration=integration,
                part=part,
                number=number,
                phase=phase,
                status=status,
                started_at=started,
                finished_at=started + timedelta(minutes=20) if status else None,
                updated_at=started,
            )


@pytest.fixture
def burst_integrations(pm, settings):
    """55 started integrations, each on a Jira project and a Slack channel of its own, with the steps before
    each move's step done (so that the guards, not the prerequisites, judge it); those moving the autotests'
    step have both parts' Jenkins jobs linked, with builds."""
    from integrations import plan
    from tests.factories import IntegrationFactory
    from tests.integrations.helpers import KICKOFF, at, ctx

    settings.SLACK_INTERNAL_CHANNEL = "CINTERNAL1"
    made = []
    with time_machine.travel(at(KICKOFF, 9), tick=False):
        for n in range(55):
            integration = IntegrationFactory(tv_pm=pm, jira_project_key=f"BU{n:02d}", slack_channel_id=f"CBURST{n:02d}")
            made.append(plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9))))
    for n, integration in enumerate(made):
        target = step(integration, MOVES[n % len(MOVES)][0])
        integration.steps.filter(position__lt=target.position).update(
            status=StepStatus.DONE, completed_at=at(KICKOFF, 10)
        )
        if target.code == PASSING:
            link_autotests(integration, n, at(KICKOFF, 11))
    return made


def moving(integration, n: int, minute: int) -> dict:
    code, done, _ = MOVES[n % len(MOVES)]
    body = news(f"ACME-{n + 1}", minute, labels=[f"roadmap-{code}"])
    body["issue"]["key"] = f"{integration.jira_project_key}-{n + 1}"
    body["issue"]["fields"]["project"] = {"key": integration.jira_project_key}
    if done:
        body["issue"]["fields"]["status"] = {"name": "Done", "statusCategory": {"key": "done"}}
    return body


def moving_drain_queries(integrations) -> int:
    for n, integration in enumerate(integrations):
        store(moving(integration, n, 10 + n % 40))
    with CaptureQueriesContext(connection) as queries:
        assert inbox.drain() == len(integrations)
    return len(queries)


def test_a_drain_of_5_or_50_deliveries_each_moving_a_step_costs_the_same_queries(burst_integrations, frozen):
    """Guarded moves included: the bugs, URL checks, sheets and Jenkins jobs the guards read are read once
    for the batch's integrations; the Slack notices and the Jira news written once for the batch."""
    from notifications.models import OutboxMessage

    five = moving_drain_queries(burst_integrations[:5])
    outbox = OutboxMessage.objects.count()
    fifty = moving_drain_queries(burst_integrations[5:])

    assert dict(Counter(JiraDelivery.objects.values_list("outcome", flat=True))) == {"applied": 39, "waiting": 16}
    moved = Counter(
        StepChange.objects.filter(source="jira").values_list("step__code", "to_status").order_by("step__code")
    )
    assert moved == {
        ("slack-jira-onboarding", "done"): 11,
        ("endpoints-implementation", "in_progress"): 11,
        ("smoke-test-fixes", "done"): 11,
        ("passing-autotests", "done"): 6,  # the other 5: a part's latest finished build failed
    }
    failing = JiraDelivery.objects.get(issue_key="BU09-5")  # the 10th integration: its builds failed
    assert (failing.outcome, failing.detail) == (
        "waiting",
        "autotests_failing: 2 · Partner · Passing REST API autotests cannot be done while the latest autotests in Jenkins have "
        "not passed: Trading autotests: build #2 FAILURE; Data autotests: build #2 FAILURE.",
    )
    assert OutboxMessage.objects.count() - outbox > 50  # every partner hears its news (and TradingView its steps)
    # Per batch, not per delivery or per guarded move: the claim with the rows and their news' firsts (3,
    # and the claims' turn on PostgreSQL), the page (the issues locked, new ones found, created and locked;
    # the integrations locked, their steps, tasks and history: 10), the guards' bugs, URL checks, sheets,
    # Jenkins jobs and their builds (5), the moves, their history and notices, the standing (15), the
    # outcomes (1), the news for Slack (6); each in one statement for all rows.
    assert five == fifty == 40 + claims_turn()


def test_a_batch_that_meets_another_worker_falls_back_to_one_delivery_at_a_time(acme, frozen, monkeypatch):
    from django.db import OperationalError

    def deadlock(*args, **kwargs):
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(inbox, "apply_issues", deadlock)
    store(news("ACME-12", 10, status="Done", category="done", labels=["roadmap-slack-jira-onboarding"]))
    store(news("ACME-13", 11, labels=["roadmap-endpoints-implementation"]))

    assert inbox.drain() == 2

    assert outcomes() == [("ACME-12", "applied"), ("ACME-13", "applied")]
    assert step(acme, "slack-jira-onboarding").status == StepStatus.DONE
    assert step(acme, "endpoints-implementation").status == StepStatus.IN_PROGRESS


def test_the_drain_task_takes_every_pending_delivery_in_batches(acme, frozen, monkeypatch):
    monkeypatch.setattr(inbox, "DRAIN_BATCH", 3)
    for n in range(7):
        store(news(f"ACME-{200 + n}", n))

    assert drain.name == DRAIN_TASK
    assert drain.apply().get() == 7
    assert JiraDelivery.objects.filter(outcome="pending").count() == 0


def test_the_drain_task_takes_what_came_in_while_it_applied_a_batch(acme, frozen, monkeypatch):
    real_drain, calls = inbox.drain, []

    def drain_while_news_comes_in(*args, **kwargs):
        taken = real_drain(*args, **kwargs)
        calls.append(taken)
        if len(calls) == 1:
            store(news("ACME-210", 20))  # stored while the first batch was being applied
        return taken

    monkeypatch.setattr(inbox, "drain", drain_while_news_comes_in)
    for n in range(2):
        store(news(f"ACME-{200 + n}", n))

    assert drain.apply().get() == 3  # not left for the next queued drain
    assert calls == [2, 1, 0]
    assert JiraDelivery.objects.filter(outcome="pending").count() == 0


# --- the hook queues one drain per burst ---------------------------------------------------------


@pytest.fixture
def queued(monkeypatch):
    """The drains the hook queues (not run): their countdowns."""
    countdowns = []
    monkeypatch.setattr(drain, "apply_async", lambda countdown=None, **kw: countdowns.append(countdown))
    return countdowns


def post(client, name="jira_issue_updated__status_done"):
    body = fixture_body(name)
    headers = {"X-Atlassian-Webhook-Identifier": new_delivery_id(), "X-Hub-Signature": sign(body)}
    return client.post("/hooks/jira/", data=body, content_type="application/json", headers=headers)


def test_a_burst_of_deliveries_queues_one_drain_that_starts_after_the_last(
    acme, client, jira_secret, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        responses = [post(client), post(client, "jira_issue_updated__labels"), post(client, "comment_created__task")]

    assert [r.status_code for r in responses] == [202, 202, 202]
    assert queued == [views.DRAIN_WINDOW.seconds]  # one drain, starting once the window has closed
    assert JiraDelivery.objects.filter(outcome="pending").count() == 3

    views.DRAIN_WINDOW.close()  # the window has passed: the next delivery queues a drain again
    with django_capture_on_commit_callbacks(execute=True):
        post(client, "jira_issue_created__task")
    assert len(queued) == 2


def test_the_one_drain_of_a_burst_takes_every_delivery_up_to_the_last(
    acme, client, jira_secret, queued, django_capture_on_commit_callbacks
):
    raws = [json.dumps(news(f"ACME-{300 + n}", n)).encode() for n in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        for raw in raws:
            headers = {"X-Atlassian-Webhook-Identifier": new_delivery_id(), "X-Hub-Signature": sign(raw)}
            assert (
                client.post("/hooks/jira/", data=raw, content_type="application/json", headers=headers).status_code
                == 202
            )
    assert len(queued) == 1  # the first delivery queued it; the four after it did not

    assert drain.apply().get() == 5  # the worker runs it once the window has closed: the last one too
    assert outcomes() == [(f"ACME-{300 + n}", "ignored") for n in range(5)]


def test_a_drain_whose_message_is_lost_leaves_the_burst_to_the_sweep(acme, client, jira_secret, queued, frozen):
    with time_machine.travel(NOW, tick=False):
        for name in ("jira_issue_updated__status_done", "jira_issue_updated__labels"):
            post(client, name)
    # The drain's message never arrives; beat's sweep finds both once they are older than its grace.
    with time_machine.travel(NOW + inbox.PENDING_GRACE - timedelta(seconds=1), tick=False):
        assert inbox.sweep() == 0
    with time_machine.travel(NOW + inbox.PENDING_GRACE + timedelta(seconds=1), tick=False):
        assert inbox.sweep() == 2
    assert [outcome for _, outcome in outcomes()] == ["applied", "applied"]


def test_a_redelivered_id_is_found_by_its_unique_key_without_a_lookup_first(acme, client, jira_secret, queued):
    body = fixture_body("jira_issue_updated__status_done")
    headers = {"X-Atlassian-Webhook-Identifier": "same-id", "X-Hub-Signature": sign(body)}
    first = client.post("/hooks/jira/", data=body, content_type="application/json", headers=headers)
    with CaptureQueriesContext(connection) as queries:
        again = client.post("/hooks/jira/", data=body, content_type="application/json", headers=headers)

    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json() == {"status": "duplicate", "delivery": "same-id"}
    assert JiraDelivery.objects.count() == 1
    assert len(queries) == 1  # one INSERT ... ON CONFLICT DO NOTHING, which inserted nothing
    assert "ON CONFLICT" in queries[0]["sql"]


def test_a_delivery_costs_one_insert(acme, client, jira_secret, queued):
    body = fixture_body("jira_issue_updated__status_done")
    headers = {"X-Atlassian-Webhook-Identifier": "one-insert", "X-Hub-Signature": sign(body)}
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/hooks/jira/", data=body, content_type="application/json", headers=headers)

    assert response.status_code == 202
    assert [
        q["sql"].split()[0] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ] == ["INSERT"]
