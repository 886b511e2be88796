"""The pull: cycles of the real ``jira`` client against a fake Jira Cloud site, and ``manage.py jira_pull``."""

import logging
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from integrations import plan
from integrations.guards import OWN_FEED_LINE
from integrations.jira import inbox
from integrations.jira.models import JiraConnection, JiraDelivery, JiraIssue
from integrations.jira.pull import backoff_seconds, pull_cycle
from integrations.models import Integration, StepChange
from notifications.models import OutboxMessage
from roadmap.models import StepStatus
from tests.factories import IntegrationFactory
from tests.fake_jira import SEARCH, configured_fake_jira, jira_issue, jira_time
from tests.integrations.helpers import KICKOFF, at, ctx, step

pytestmark = pytest.mark.django_db

NOW = at("2026-03-20", 10)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
WATERMARK = at("2026-03-20", 9) + 30 * MINUTE  # 09:30, before every issue of the scenario


@pytest.fixture
def fake_jira(settings):
    """The fake Jira Cloud site, the JIRA_* settings pointing at it."""
    with configured_fake_jira(settings) as fake:
        yield fake


def minutes_past_nine(n: int):
    return at("2026-03-20", 9) + n * MINUTE


def acme_issues():
    """ACME's changes between 09:40 and 09:48: two tasks done, one started, one done too early, one unlinked."""
    return [
        jira_issue("ACME-1", minutes_past_nine(40), status="Done", category="done", labels=["roadmap-slack-jira-onboarding"]),
        jira_issue("ACME-2", minutes_past_nine(42), status="Done", category="done", labels=["roadmap-autotests-configuration"]),
        jira_issue("ACME-3", minutes_past_nine(44), status="In Progress", category="indeterminate", labels=["roadmap-endpoints-implementation"]),
        jira_issue("ACME-4", minutes_past_nine(46), status="Done", category="done", labels=["roadmap-sandbox-access"]),
        jira_issue("ACME-5", minutes_past_nine(48)),
    ]  # fmt: skip


@pytest.fixture
def acme(started_integration):
    """The started integration, linked to the Jira project ACME."""
    started_integration.jira_project_key = "ACME"
    started_integration.save(update_fields=["jira_project_key"])
    return started_integration


@pytest.fixture
def jira(fake_jira, acme):
    """The fake Jira holding ACME's changes (and another project's), two issues a page."""
    fake_jira.issues = acme_issues() + [jira_issue("OTHER-1", minutes_past_nine(45), status="Done", category="done")]
    fake_jira.page_size = 2
    return fake_jira


def cycle(when=NOW, **kwargs) -> dict:
    """One pull cycle with the clock (ours and the fake Jira's) at ``when``."""
    with time_machine.travel(when, tick=False):
        return pull_cycle(**kwargs)


def set_watermark(moment):
    connection = JiraConnection.get()
    connection.watermark = moment
    connection.save(update_fields=["watermark"])


def connection() -> JiraConnection:
    return JiraConnection.get()


def counts(**expected) -> dict:
    base = {
        "pages": 0,
        "read": 0,
        "applied": 0,
        "waiting": 0,
        "ignored": 0,
        "malformed": 0,
        "unknown_projects": [],
        "skipped": "",
        "error": "",
    }
    return base | expected


def without(result: dict, *names) -> dict:
    return {k: v for k, v in result.items() if k not in ("projects", "watermark", "backing_off_until", *names)}


def test_one_cycle_reads_every_page_applies_the_issues_and_moves_the_watermark(jira, acme):
    result = cycle()

    assert without(result) == counts(pages=3, read=5, applied=3, waiting=1, ignored=1)
    assert result["projects"] == 1
    assert step(acme, "slack-jira-onboarding").status == StepStatus.DONE
    assert step(acme, "autotests-configuration").status == StepStatus.DONE
    assert step(acme, "endpoints-implementation").status == StepStatus.IN_PROGRESS
    assert step(acme, "sandbox-access").status == StepStatus.NOT_STARTED  # its prerequisites are open
    change = step(acme, "slack-jira-onboarding").history.last()
    assert (change.source, change.by_name, change.at, change.note) == (
        "jira",
        "Jira",
        minutes_past_nine(40),
        "ACME-1 (Done) done in Jira.",
    )
    assert sorted(JiraIssue.objects.values_list("key", flat=True)) == ["ACME-1", "ACME-2", "ACME-3", "ACME-4", "ACME-5"]
    state = connection()
    assert state.watermark == minutes_past_nine(48) == result["watermark"]
    assert (state.last_pull_at, state.last_success_at, state.failing_since, state.retry_at) == (NOW, NOW, None, None)
    # The first cycle has no watermark: it reads everything of the linked projects, page by page.
    assert [s["jql"] for s in jira.searches()] == ['project in ("ACME") ORDER BY updated ASC'] * 3
    assert [s.get("nextPageToken") for s in jira.searches()] == [None, "page-2", "page-4"]
    assert jira.count() == 2 + 3  # serverInfo, field, three pages


def test_the_search_names_the_running_projects_and_the_minutes_since_the_watermark(jira, acme):
    IntegrationFactory(jira_project_key="BRK")
    IntegrationFactory(jira_project_key="BRK")  # two integrations of one project: named once
    IntegrationFactory(jira_project_key="OLD", state=Integration.State.LAUNCHED)
    IntegrationFactory(jira_project_key="")
    set_watermark(NOW - (16 * MINUTE + 30 * SECOND))

    result = cycle()

    assert result["projects"] == 2
    search = jira.searches()[0]
    # 16.5 minutes since the watermark, rounded up to 17, and 2 minutes of overlap.
    assert search["jql"] == 'project in ("ACME", "BRK") AND updated >= "-19m" ORDER BY updated ASC'
    assert search["fields"] == ["summary", "status", "labels", "issuetype", "project", "updated"]
    assert search["maxResults"] == 100
    # From 09:41: ACME-1 (09:40) is outside the window.
    assert result["read"] == 4


def test_a_cycle_with_nothing_new_costs_the_same_few_requests(jira):
    cycle()
    jira.forget_requests()

    changes = StepChange.objects.count()

    later = [cycle(NOW + 10 * MINUTE), cycle(NOW + 15 * MINUTE)]
    assert jira.count() == 2 * 2  # each: serverInfo and one search page; the field ids are known
    assert jira.count("/field") == 0
    assert [s["jql"] for s in jira.searches()] == [
        'project in ("ACME") AND updated >= "-24m" ORDER BY updated ASC',  # 22 minutes after 09:48, + 2
        'project in ("ACME") AND updated >= "-29m" ORDER BY updated ASC',
    ]
    # Only the overlap is read again (ACME-4 at 09:46, ACME-5 at 09:48), and it changes nothing.
    assert [(r["read"], r["applied"]) for r in later] == [(2, 0), (2, 0)]
    assert StepChange.objects.count() == changes
    assert connection().watermark == minutes_past_nine(48)
    assert connection().last_success_at == NOW + 15 * MINUTE


def quiet_changes(count: int, run: int) -> list[dict]:
    """``count`` issues of ACME and BETA changed after 09:30 that move no step: tasks still to do on a
    step not started, bugs of a testing round, issues linked to no step."""
    issues = []
    for n in range(count):
        updated = minutes_past_nine(31) + n * SECOND + run * MINUTE
        key = f"{'ACME' if n % 4 else 'BETA'}-{run * 1000 + n + 1}"
        if n % 3 == 0:
            issues.append(jira_issue(key, updated, labels=["roadmap-endpoints-implementation"]))
        elif n % 3 == 1:
            issues.append(jira_issue(key, updated, kind="Bug", status="Open", labels=["smoke-test"]))
        else:
            issues.append(jira_issue(key, updated, summary=f"Edited {run}"))
    return issues


def pull_queries(fake, issues, when) -> tuple[int, dict]:
    fake.issues = issues
    set_watermark(WATERMARK)
    with CaptureQueriesContext(db_connection) as queries:
        counts = cycle(when)
    return len(queries), counts


def test_a_pull_costs_queries_per_page_not_per_issue(fake_jira, acme):
    """5 or 50 changed issues on one page that move no step: the same queries, new issues or known ones."""
    IntegrationFactory(jira_project_key="BETA")
    pull_queries(fake_jira, [], NOW)  # the field ids, read once a day

    new_five, five = pull_queries(fake_jira, quiet_changes(5, 0), NOW)
    new_fifty, fifty = pull_queries(fake_jira, quiet_changes(50, 1), NOW)
    again_five, _ = pull_queries(
        fake_jira,
        [dict(i, fields=dict(i["fields"], updated=jira_time(NOW))) for i in quiet_changes(5, 0)],
        NOW + MINUTE,
    )
    again_fifty, _ = pull_queries(
        fake_jira,
        [dict(i, fields=dict(i["fields"], updated=jira_time(NOW))) for i in quiet_changes(50, 1)],
        NOW + MINUTE,
    )

    assert (five["read"], fifty["read"]) == (5, 50)
    assert JiraIssue.objects.count() == 55
    assert StepChange.objects.filter(source="jira").count() == 0
    # The cycle: the connection, the projects, its start, the field ids (4); the page in its
    # savepoint: lock the known rows, find the new issues' integrations, create and lock them,
    # read the integrations, steps and tasks, write the rows (10); the watermark (2); the end (3).
    assert new_five == new_fifty == 19
    assert again_five == again_fifty == 16  # known issues: nothing to create


def test_only_issues_that_move_a_step_cost_queries_of_their_own(fake_jira, acme, pm):
    pull_queries(fake_jira, [], NOW)
    quiet, _ = pull_queries(fake_jira, quiet_changes(12, 0), NOW)
    moving = quiet_changes(12, 1)
    moving[3] = jira_issue(
        "ACME-1004",
        moving[3]["fields"]["updated"],
        status="In Progress",
        category="indeterminate",
        labels=["roadmap-endpoints-implementation"],
    )

    more, counts = pull_queries(fake_jira, moving, NOW)

    assert counts["read"] == counts["applied"] + counts["ignored"] == 9  # BETA is no project of ours
    assert step(acme, "endpoints-implementation").status == StepStatus.IN_PROGRESS
    assert [c.note for c in StepChange.objects.filter(source="jira")] == [
        "Work started in Jira: ACME-1004 (In Progress)."
    ]
    assert more > quiet  # the step change, its history and standing: for that one issue only
    assert JiraIssue.objects.get(key="ACME-1004").status_category == "indeterminate"


def started_with_jira(key: str, pm) -> Integration:
    """An integration kicked off as ``started_integration`` is, on the Jira project ``key``, with a Slack channel."""
    integration = IntegrationFactory(tv_pm=pm, jira_project_key=key, slack_channel_id=f"C{key}CHAN")
    with time_machine.travel(at(KICKOFF, 9), tick=False):
        return plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))


def moving_news(integrations, count: int) -> list[dict]:
    """``count`` issues after 09:30 that each move a step, taken in turn from ``integrations``: the first
    step done (TradingView's: the partner hears it, later deadlines move), the next ones started."""
    movable = [
        [
            s
            for s in i.steps.order_by("position")
            if s.status == StepStatus.NOT_STARTED and OWN_FEED_LINE not in s.checklist
        ]
        for i in integrations
    ]
    issues = []
    for n in range(count):
        integration, steps = integrations[n % len(integrations)], movable[n % len(integrations)]
        code = steps.pop(0).code
        done = code == "slack-jira-onboarding"
        issues.append(
            jira_issue(
                f"{integration.jira_project_key}-{n + 1}",
                minutes_past_nine(31) + n * SECOND,
                status="Done" if done else "In Progress",
                category="done" if done else "indeterminate",
                labels=[f"roadmap-{code}"],
            )
        )
    return issues


def test_a_page_of_step_moves_costs_the_same_queries_for_5_or_20_moves(fake_jira, pm, settings):
    """A page whose news moves 5 or 20 steps of two integrations: the same queries (the integrations locked
    and read once, the moves written together, each integration's standing refreshed once)."""
    settings.SLACK_INTERNAL_CHANNEL = "CINTERNAL1"
    first, second = (
        [started_with_jira(key, pm) for key in ("ACME", "BETA")],
        [started_with_jira(key, pm) for key in ("GAMA", "DELT")],
    )
    pull_queries(fake_jira, [], NOW)  # the field ids, read once a day
    outbox = OutboxMessage.objects.count()

    five, five_counts = pull_queries(fake_jira, moving_news(first, 5), NOW)
    five_outbox = OutboxMessage.objects.count() - outbox
    twenty, twenty_counts = pull_queries(fake_jira, moving_news(second, 20), NOW + MINUTE)

    assert (five_counts["applied"], twenty_counts["applied"]) == (5, 20)
    assert StepChange.objects.filter(source="jira", step__integration__in=first).count() == 5
    assert StepChange.objects.filter(source="jira", step__integration__in=second).count() == 20
    assert (
        five_outbox > 0 and OutboxMessage.objects.count() - outbox - five_outbox == five_outbox
    )  # the first steps done
    assert StepChange.objects.filter(note__startswith="Deadline moved", step__integration__in=second).exists()
    # 39 before the hand-over notice told the launch from the steps it has (a query per integration whose
    # TradingView task was done without opening a partner step).
    assert five == twenty == 37


def test_requests_per_cycle_do_not_grow_with_the_number_of_integrations(fake_jira):
    fake_jira.page_size = 2
    fake_jira.issues = [jira_issue(f"P0{n % 2}-{n}", minutes_past_nine(40 + n)) for n in range(6)]
    for n in range(2):
        IntegrationFactory(jira_project_key=f"P{n:02d}")

    two = cycle()
    requests_for_two = fake_jira.count()
    for n in range(2, 20):
        IntegrationFactory(jira_project_key=f"P{n:02d}")
    set_watermark(None)
    fake_jira.forget_requests()
    twenty = cycle()

    assert (two["projects"], twenty["projects"]) == (2, 20)
    assert two["read"] == twenty["read"] == 6
    assert requests_for_two == 2 + 3  # serverInfo, field, 3 pages of 2 issues
    assert fake_jira.count() == 1 + 3  # serverInfo, 3 pages: the field ids are known since the first cycle
    assert fake_jira.searches()[0]["jql"].startswith('project in ("P00", "P01", "P02", ')


def test_a_server_error_keeps_the_watermark_and_backs_off_without_marking_the_connection_failing(jira, acme):
    set_watermark(WATERMARK)
    jira.fail_next(500, path=SEARCH)

    result = cycle()

    assert result["error"] == "Jira answered 500 (searching issues): Fake Jira answers 500."
    assert (result["pages"], result["read"]) == (0, 0)
    state = connection()
    assert state.watermark == WATERMARK
    assert (state.consecutive_failures, state.failing_since, state.retry_at) == (1, None, NOW + 30 * SECOND)
    assert not state.is_failing
    assert state.failure_reason == (
        "2026-03-20 10:00:00 UTC: Jira answered 500 (searching issues): Fake Jira answers 500. "
        "Next try after 2026-03-20 10:00:30 UTC."
    )
    assert state.last_pull_at == NOW and state.last_success_at is None
    assert step(acme, "slack-jira-onboarding").status == StepStatus.NOT_STARTED

    # Before retry_at the cycle does not ask Jira at all.
    jira.forget_requests()
    waiting = cycle(NOW + 10 * SECOND)
    assert waiting["skipped"].startswith("Waiting until 2026-03-20 10:00:30 UTC before asking Jira again: ")
    assert jira.count() == 0

    recovered = cycle(NOW + 31 * SECOND)
    assert (recovered["error"], recovered["read"], recovered["applied"]) == ("", 5, 3)
    state = connection()
    assert state.watermark == minutes_past_nine(48)
    assert (state.consecutive_failures, state.failing_since, state.failure_reason, state.retry_at) == (
        0,
        None,
        "",
        None,
    )
    assert state.last_success_at == NOW + 31 * SECOND
    assert step(acme, "slack-jira-onboarding").status == StepStatus.DONE


def test_the_back_off_doubles_with_each_failure_up_to_an_hour(jira):
    jira.fail_next(503, times=2, path=SEARCH)

    cycle()
    cycle(NOW + 30 * SECOND)

    state = connection()
    assert state.consecutive_failures == 2
    assert state.failing_since is None  # Jira is busy: nothing for a person to fix
    assert state.retry_at == NOW + 30 * SECOND + 60 * SECOND
    assert [backoff_seconds(n) for n in range(8)] == [30, 60, 120, 240, 480, 960, 1920, 3600]
    assert backoff_seconds(1000) == 3600


def test_a_timeout_keeps_the_watermark_and_backs_off(jira, settings):
    settings.JIRA_TIMEOUT_SECONDS = 0.5
    set_watermark(WATERMARK)
    jira.stall_next(10, path=SEARCH)

    result = cycle()

    assert result["error"] == "Jira did not answer within 0.5 s (searching issues)."
    state = connection()
    assert (state.watermark, state.consecutive_failures, state.retry_at) == (WATERMARK, 1, NOW + 30 * SECOND)
    assert "Jira did not answer within 0.5 s" in state.failure_reason


def test_rate_limiting_waits_as_long_as_jira_asks(jira):
    set_watermark(WATERMARK)
    jira.fail_next(429, path=SEARCH, after=1, retry_after=120)  # on the second page

    result = cycle()

    assert (result["pages"], result["read"], result["error"]) == (
        1,
        2,
        "Jira is rate limiting (429); it asked to wait 120 s.",
    )
    state = connection()
    assert state.retry_at == NOW + 120 * SECOND
    assert state.failure_reason == (
        "2026-03-20 10:00:00 UTC: Jira is rate limiting (429); it asked to wait 120 s. "
        "Next try after 2026-03-20 10:02:00 UTC."
    )
    assert (state.is_failing, state.watermark) == (False, minutes_past_nine(42))  # page 1 is kept
    assert cycle(NOW + 119 * SECOND)["skipped"]
    assert cycle(NOW + 120 * SECOND)["error"] == ""


def test_refused_credentials_mark_the_connection_failing_until_a_cycle_succeeds(jira, settings, acme):
    set_watermark(WATERMARK)
    settings.JIRA_API_TOKEN = "revoked-token"

    result = cycle()

    assert result["error"] == "Jira refused the credentials (401): check JIRA_USER and JIRA_API_TOKEN."
    assert jira.count() == 1  # serverInfo, refused
    state = connection()
    assert state.is_failing
    assert (state.failing_since, state.consecutive_failures, state.retry_at) == (NOW, 1, NOW + 30 * SECOND)
    assert state.failure_reason == (
        "2026-03-20 10:00:00 UTC: Jira refused the credentials (401): check JIRA_USER and JIRA_API_TOKEN. "
        "Next try after 2026-03-20 10:00:30 UTC."
    )
    assert state.watermark == WATERMARK

    settings.JIRA_API_TOKEN = jira.token  # a person fixed the token
    recovered = cycle(NOW + 5 * MINUTE)

    assert recovered["applied"] == 3
    state = connection()
    assert not state.is_failing
    assert (state.failure_reason, state.consecutive_failures, state.retry_at) == ("", 0, None)
    assert state.last_success_at == NOW + 5 * MINUTE


def test_refused_access_marks_the_connection_failing(jira):
    jira.fail_next(403, path=SEARCH)

    result = cycle()

    assert result["error"].startswith("Jira refused access (403)")
    assert (connection().failing_since, connection().consecutive_failures) == (NOW, 1)


def test_a_busy_jira_neither_starts_nor_ends_a_failure(jira, settings):
    settings.JIRA_API_TOKEN = "revoked-token"
    cycle()
    settings.JIRA_API_TOKEN = jira.token
    jira.fail_next(429, path=SEARCH, retry_after=60)

    cycle(NOW + MINUTE)

    state = connection()
    assert (state.failing_since, state.consecutive_failures) == (NOW, 2)  # still failing since the 401
    assert "rate limiting (429)" in state.failure_reason


def test_the_field_ids_are_read_once_a_day_and_kept_in_the_database(jira):
    cycle()
    assert jira.count("/field") == 1
    state = connection()
    assert (state.field_ids["Sprint"], state.field_ids["type"], state.fields_read_at) == (
        "customfield_10020",
        "issuetype",
        NOW,
    )

    jira.forget_requests()
    cycle(NOW + 23 * 60 * MINUTE)  # another worker, another client: the ids come from the database
    assert (jira.count("/field"), jira.count()) == (0, 1 + 1)  # serverInfo and the one page of the window

    jira.forget_requests()
    cycle(NOW + 24 * 60 * MINUTE)  # a day on: read again
    assert jira.count("/field") == 1
    assert connection().fields_read_at == NOW + 24 * 60 * MINUTE


def test_a_project_jira_does_not_know_is_left_out_for_a_day(jira, acme):
    IntegrationFactory(jira_project_key="GONE")
    jira.known_projects = {"ACME", "OTHER"}
    cycle()
    state = connection()
    assert (state.unknown_projects, state.projects_checked_at) == (["GONE"], NOW)

    jira.forget_requests()
    later = cycle(NOW + 10 * MINUTE)

    assert later["unknown_projects"] == ["GONE"]  # still said, for the command to warn
    assert [s["jql"] for s in jira.searches()] == ['project in ("ACME") AND updated >= "-24m" ORDER BY updated ASC']
    assert jira.count() == 1 + 1  # serverInfo, one page: neither the field list nor a refused search

    # The project is created in Jira; a day after the last check every key is put to Jira again.
    jira.known_projects.add("GONE")
    jira.forget_requests()
    next_day = cycle(NOW + 24 * 60 * MINUTE)

    assert next_day["unknown_projects"] == []
    assert jira.searches()[0]["jql"].startswith('project in ("ACME", "GONE") AND ')
    assert (connection().unknown_projects, connection().projects_checked_at) == ([], NOW + 24 * 60 * MINUTE)


def test_a_new_project_key_jira_does_not_know_is_learnt_at_once(jira, acme):
    cycle()
    IntegrationFactory(jira_project_key="TYPO")
    jira.known_projects = {"ACME"}

    result = cycle(NOW + 10 * MINUTE)

    assert (result["unknown_projects"], result["error"]) == (["TYPO"], "")
    assert connection().unknown_projects == ["TYPO"]
    assert connection().projects_checked_at == NOW + 10 * MINUTE  # every key was put to Jira
    jira.forget_requests()
    cycle(NOW + 20 * MINUTE)
    assert [s["jql"][:26] for s in jira.searches()] == ['project in ("ACME") AND up']


def test_a_failure_on_page_two_keeps_what_page_one_applied(jira, acme):
    jira.fail_next(500, path=SEARCH, after=1)

    result = cycle()

    assert without(result) == counts(
        pages=1, read=2, applied=2, error="Jira answered 500 (searching issues): Fake Jira answers 500."
    )
    assert connection().watermark == minutes_past_nine(42)  # ACME-2, the newest of page 1
    assert step(acme, "autotests-configuration").status == StepStatus.DONE
    assert step(acme, "endpoints-implementation").status == StepStatus.NOT_STARTED

    jira.forget_requests()
    cycle(NOW + 31 * SECOND)

    # 18.5 minutes after 09:42 (rounded up to 19) and the overlap: ACME-1 and ACME-2 are read again, harmlessly.
    assert jira.searches()[0]["jql"] == 'project in ("ACME") AND updated >= "-21m" ORDER BY updated ASC'
    assert connection().watermark == minutes_past_nine(48)
    assert step(acme, "endpoints-implementation").status == StepStatus.IN_PROGRESS
    assert step(acme, "slack-jira-onboarding").history.filter(source="jira").count() == 1


def test_with_jira_off_the_cycle_says_so_and_sends_nothing(jira, settings):
    settings.JIRA_ENABLED = False

    result = cycle()

    assert result["skipped"] == "Jira is not configured (JIRA_URL, JIRA_USER, JIRA_API_TOKEN)."
    assert jira.count() == 0
    assert not JiraConnection.objects.filter(last_pull_at__isnull=False).exists()


def test_without_a_running_project_nothing_is_asked(fake_jira, integration):
    integration.jira_project_key = "ACME"
    integration.state = Integration.State.CANCELLED
    integration.save()

    result = cycle()

    assert result["skipped"] == "No running integration has a Jira project key."
    assert fake_jira.count() == 0


def test_malformed_issues_are_logged_and_skipped(jira, acme, caplog):
    jira.issues[1]["fields"]["labels"] = "roadmap-autotests-configuration"  # a string, not a list

    with caplog.at_level(logging.WARNING, logger="integrations.jira.pull"):
        result = cycle()

    assert without(result) == counts(pages=3, read=5, applied=2, waiting=1, ignored=1, malformed=1)
    assert "jira.pull.malformed key=ACME-2 reason=The labels of ACME-2 are not a list of strings." in caplog.text
    assert not JiraIssue.objects.filter(key="ACME-2").exists()
    assert step(acme, "slack-jira-onboarding").status == StepStatus.DONE
    assert connection().watermark == minutes_past_nine(48)


def test_a_waiting_issue_is_left_to_the_inbox_which_applies_it_once_the_roadmap_can(fake_jira, acme, pm):
    with time_machine.travel(at("2026-03-19", 12), tick=False):
        plan.pause(acme, ctx(pm, at("2026-03-19", 12)))
    fake_jira.issues = acme_issues()[:1]  # ACME-1 done at 09:40, while the integration is paused

    result = cycle()

    assert (result["waiting"], result["applied"]) == (1, 0)
    assert step(acme, "slack-jira-onboarding").status == StepStatus.NOT_STARTED
    delivery = JiraDelivery.objects.get()
    assert delivery.delivery_id == "pull:ACME-1:2026-03-20T09:40:00.000+0000"
    assert (delivery.event, delivery.issue_key, delivery.outcome) == ("jira:issue_updated", "ACME-1", "waiting")
    assert (delivery.not_before, delivery.attempts) == (NOW + MINUTE, 1)
    assert delivery.detail.startswith("Read by the pull; not_running: ")
    assert connection().watermark == minutes_past_nine(40)  # the pull moves on

    cycle(NOW + 5 * MINUTE)  # read again in the overlap: still one delivery
    assert JiraDelivery.objects.count() == 1

    with time_machine.travel(NOW + 10 * MINUTE, tick=False):
        plan.resume(acme, ctx(pm, NOW + 10 * MINUTE))
        assert inbox.sweep() == 1

    delivery.refresh_from_db()
    assert delivery.outcome == "applied"
    assert step(acme, "slack-jira-onboarding").status == StepStatus.DONE


def test_a_project_jira_does_not_know_does_not_stop_the_others(jira, acme, caplog):
    IntegrationFactory(jira_project_key="GONE")
    jira.known_projects = {"ACME", "OTHER"}

    with caplog.at_level(logging.WARNING, logger="integrations.jira.pull"):
        result = cycle()

    assert (result["unknown_projects"], result["read"], result["error"]) == (["GONE"], 5, "")
    assert [s["jql"] for s in jira.searches()[:2]] == [
        'project in ("ACME", "GONE") ORDER BY updated ASC',
        'project in ("ACME") ORDER BY updated ASC',
    ]
    assert not connection().is_failing
    assert "jira.pull.unknown_projects keys=GONE" in caplog.text


def test_a_site_that_is_not_jira_cloud_is_a_failure_saying_so(jira):
    jira.deployment_type = "Server"

    result = cycle()

    assert "is not a Jira Cloud site" in result["error"]
    assert connection().is_failing
    assert "only Jira Cloud is supported" in connection().failure_reason


def test_a_backfill_reads_all_of_one_integrations_project_and_leaves_the_watermark(jira, acme):
    IntegrationFactory(jira_project_key="OTHER")
    set_watermark(minutes_past_nine(47))
    pages = []

    result = cycle(full=True, integration=acme, progress=lambda c: pages.append((c["pages"], c["read"])))

    assert [s["jql"] for s in jira.searches()] == ['project in ("ACME") ORDER BY updated ASC'] * 3
    assert pages == [(1, 2), (2, 4), (3, 5)]
    assert (result["read"], result["applied"]) == (5, 3)
    assert connection().watermark == minutes_past_nine(47)
    assert connection().last_success_at == NOW


def test_the_watermark_never_moves_back(jira):
    set_watermark(NOW - MINUTE)

    result = cycle(full=True)  # every project, from the start: all older than the watermark

    assert result["read"] == 5
    assert connection().watermark == NOW - MINUTE


def test_force_asks_jira_while_backing_off(jira):
    jira.fail_next(500, path=SEARCH)
    cycle()

    assert cycle(NOW + SECOND)["skipped"]
    forced = cycle(NOW + SECOND, force=True)

    assert (forced["skipped"], forced["read"]) == ("", 5)
    assert not connection().is_failing


def run_command(*args, when=NOW) -> str:
    out = StringIO()
    with time_machine.travel(when, tick=False):
        call_command("jira_pull", *args, stdout=out)
    return out.getvalue()


def test_the_command_runs_one_cycle_and_says_what_it_did(jira):
    output = run_command()

    assert output.splitlines() == [
        "Read 5 issue(s) of 1 Jira project(s) in 3 page(s): 3 applied, 1 waiting, 1 ignored, 0 malformed.",
        "Read up to 2026-03-20 09:48:00 UTC.",
    ]


def test_the_command_backfills_one_integration_page_by_page(jira, acme):
    set_watermark(minutes_past_nine(47))

    output = run_command("--full", "--integration", str(acme.pk))

    assert output.splitlines() == [
        f"Back-filling {acme} from the Jira project ACME.",
        "  page 1: 2 issues read so far (2 applied, 0 waiting, 0 ignored)",
        "  page 2: 4 issues read so far (3 applied, 1 waiting, 0 ignored)",
        "  page 3: 5 issues read so far (3 applied, 1 waiting, 1 ignored)",
        "Read 5 issue(s) of 1 Jira project(s) in 3 page(s): 3 applied, 1 waiting, 1 ignored, 0 malformed.",
        "Done.",
    ]
    assert connection().watermark == minutes_past_nine(47)


def test_the_command_warns_of_projects_jira_does_not_know(jira):
    IntegrationFactory(jira_project_key="GONE")
    jira.known_projects = {"ACME"}

    output = run_command()

    assert "Jira knows no project GONE (or may not show it to jira-bot@tradingview.example)" in output


def test_the_command_refuses_when_jira_is_not_configured(jira, settings):
    settings.JIRA_ENABLED = False

    with pytest.raises(CommandError, match="Jira is not configured: set JIRA_URL, JIRA_USER and JIRA_API_TOKEN"):
        run_command()
    assert jira.count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--integration", "{acme}"], "--integration goes with --full"),
        (["--full", "--integration", "999999"], "No integration has the id 999999"),
        (["--full", "--integration", "{unlinked}"], "has no Jira project key"),
    ],
)
def test_the_command_refuses_what_it_cannot_do(jira, acme, args, message):
    unlinked = IntegrationFactory()
    args = [a.format(acme=acme.pk, unlinked=unlinked.pk) for a in args]

    with pytest.raises(CommandError, match=message):
        run_command(*args)
    assert jira.count() == 0


def test_the_command_fails_loudly_when_jira_fails_and_keeps_what_was_read(jira):
    jira.fail_next(502, path=SEARCH, after=1)

    with pytest.raises(CommandError, match=r"The pull stopped: Jira answered 502 .* What was read before is kept\."):
        run_command()
    assert connection().watermark == minutes_past_nine(42)


def test_the_command_says_when_it_waits_for_the_back_off(jira):
    jira.fail_next(500, path=SEARCH)
    cycle()

    output = run_command(when=NOW + 10 * SECOND)

    assert output.startswith("Nothing pulled. Waiting until 2026-03-20 10:00:30 UTC before asking Jira again: ")
    assert output.rstrip().endswith("(--force asks Jira now.)")
    assert run_command("--force", when=NOW + 10 * SECOND).startswith("Read 5 issue(s)")
