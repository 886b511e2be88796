"""What Jira's news does to the roadmap: issue facts, which step an issue belongs to, and its status."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from integrations.jira import issues
from integrations.jira.issues import Handled, IssueFacts, MalformedIssue, apply_issue, parse_jira_time
from integrations.jira.models import JiraIssue
from integrations.jira.rules import open_bugs_refusal
from integrations.steps import change_status, complete_step
from roadmap.models import StepStatus
from roadmap.refusals import OpenBugs
from tests.integrations.handovers.helpers import hand_over_everything
from tests.integrations.helpers import ctx, step

pytestmark = pytest.mark.django_db


def issue_json(
    key="ACME-1", status="Done", category="done", labels=(), kind="Task", updated="2026-03-20T10:00:00.000+0000"
):
    return {
        "id": key.split("-")[1],
        "key": key,
        "fields": {
            "project": {"key": key.split("-")[0]},
            "summary": f"Work for {key}",
            "issuetype": {"name": kind},
            "labels": list(labels),
            "status": {"name": status, "statusCategory": {"key": category}},
            "updated": updated,
        },
    }


def facts(**kwargs) -> IssueFacts:
    return IssueFacts.from_json(issue_json(**kwargs))


@pytest.fixture
def acme(started_integration):
    started_integration.jira_project_key = "ACME"
    started_integration.save(update_fields=["jira_project_key"])
    return started_integration


def test_jira_times_are_read_with_their_offset():
    assert parse_jira_time("2025-01-15T11:00:00.123+0100") == datetime(
        2025, 1, 15, 11, 0, 0, 123000, tzinfo=timezone(timedelta(hours=1))
    )
    assert parse_jira_time("2025-01-15T11:00:00+0000") == datetime(2025, 1, 15, 11, tzinfo=UTC)
    assert parse_jira_time(None) is None
    with pytest.raises(MalformedIssue, match="not a Jira time"):
        parse_jira_time("yesterday")


@pytest.mark.parametrize(
    ("issue", "message"),
    [
        ({}, "needs its 'key'"),
        ({"key": "ACME-1", "fields": []}, "fields of ACME-1 are not an object"),
        ({"key": "ACME-1", "fields": {"labels": "ux"}}, "labels of ACME-1 are not a list"),
    ],
)
def test_malformed_issues_are_refused_with_what_is_wrong(issue, message):
    with pytest.raises(MalformedIssue, match=message):
        IssueFacts.from_json(issue)


@pytest.mark.parametrize(
    ("theirs", "outcome", "status"),
    [
        ("2026-03-20T11:00:00.000+0000", Handled.IGNORED, "In Progress"),  # theirs is newer: it stays
        ("2026-03-20T09:00:00.000+0000", Handled.APPLIED, "Done"),  # ours is newer: it wins
    ],
    ids=["theirs-newer", "ours-newer"],
)
def test_an_issue_another_worker_created_after_we_looked_is_taken_not_created_twice(
    acme, monkeypatch, theirs, outcome, status
):
    """The issue is new when this worker looks; another worker's row for it is written before this one's."""
    integration_for = issues._integration_for

    def another_worker_writes_first(project_key):
        other = facts(status="In Progress", category="indeterminate", labels=["roadmap-slack-jira-onboarding"])
        JiraIssue.objects.create(
            integration=acme,
            key="ACME-1",
            status_name=other.status_name,
            status_category=other.status_category,
            labels=list(other.labels),
            updated_at=parse_jira_time(theirs),
        )
        return integration_for(project_key)

    monkeypatch.setattr(issues, "_integration_for", another_worker_writes_first)

    result = apply_issue(facts(labels=["roadmap-slack-jira-onboarding"]))

    assert result.state == outcome
    assert JiraIssue.objects.filter(key="ACME-1").count() == 1
    assert JiraIssue.objects.get(key="ACME-1").status_name == status


def test_a_done_task_completes_its_step_in_jiras_name_and_time(acme):
    outcome = apply_issue(facts(labels=["roadmap-slack-jira-onboarding"]), who="Mia Krystof")

    assert outcome.state == Handled.APPLIED
    onboarding = step(acme, "slack-jira-onboarding")
    assert onboarding.status == StepStatus.DONE
    change = onboarding.history.last()
    assert (change.source, change.by_name, change.at) == ("jira", "Mia Krystof", datetime(2026, 3, 20, 10, tzinfo=UTC))
    assert change.note == "ACME-1 (Done) done in Jira."


def test_a_step_with_several_tasks_is_done_when_all_are(acme):
    apply_issue(facts(key="ACME-1", labels=["roadmap-slack-jira-onboarding"]))
    # A second task arrives open: the step goes back to work, naming it.
    apply_issue(
        facts(
            key="ACME-2",
            status="In Progress",
            category="indeterminate",
            labels=["roadmap-slack-jira-onboarding"],
            updated="2026-03-21T09:00:00.000+0000",
        )
    )
    onboarding = step(acme, "slack-jira-onboarding")
    assert onboarding.status == StepStatus.IN_PROGRESS
    assert onboarding.history.last().note == "Reopened in Jira: ACME-2 (In Progress)."

    apply_issue(facts(key="ACME-2", labels=["roadmap-slack-jira-onboarding"], updated="2026-03-22T09:00:00.000+0000"))
    assert step(acme, "slack-jira-onboarding").status == StepStatus.DONE


def test_work_started_in_jira_starts_the_step(acme):
    apply_issue(facts(status="In Progress", category="indeterminate", labels=["roadmap-endpoints-implementation"]))
    assert step(acme, "endpoints-implementation").status == StepStatus.IN_PROGRESS


def test_an_older_event_never_moves_a_step_back(acme):
    apply_issue(facts(labels=["roadmap-slack-jira-onboarding"], updated="2026-03-20T10:00:00.000+0000"))

    older = apply_issue(
        facts(
            status="To Do",
            category="new",
            labels=["roadmap-slack-jira-onboarding"],
            updated="2026-03-19T10:00:00.000+0000",
        )
    )

    assert older.state == Handled.IGNORED and "Older than what is known of ACME-1" in older.detail
    assert step(acme, "slack-jira-onboarding").status == StepStatus.DONE
    assert JiraIssue.objects.get(key="ACME-1").status_category == "done"


def test_done_in_jira_before_the_prerequisites_waits_and_applies_later(acme, pm):
    waiting = apply_issue(facts(labels=["roadmap-passing-autotests"]))
    assert waiting.state == Handled.WAITING
    assert waiting.detail.startswith("prerequisites_open: ")
    assert step(acme, "passing-autotests").status == StepStatus.NOT_STARTED

    for code in ("autotests-configuration", "endpoints-implementation"):
        complete_step(step(acme, code), ctx(pm, "2026-03-20"))
    again = apply_issue(facts(labels=["roadmap-passing-autotests"]))  # the same news, applied again

    assert again.state == Handled.APPLIED
    assert step(acme, "passing-autotests").status == StepStatus.DONE


def test_issues_of_unknown_projects_or_without_a_step_are_ignored(acme):
    assert apply_issue(facts(key="OTHER-1")).state == Handled.IGNORED
    unlinked = apply_issue(facts(key="ACME-7", labels=["backend"]))
    assert unlinked.state == Handled.IGNORED and "linked to no step" in unlinked.detail
    assert JiraIssue.objects.get(key="ACME-7").step is None  # recorded, for a PM to link


def test_a_link_made_in_the_admin_wins_over_labels(acme):
    apply_issue(facts(status="To Do", category="new", labels=["roadmap-slack-jira-onboarding"]))
    issue = JiraIssue.objects.get(key="ACME-1")
    issue.step, issue.linked_in_admin = step(acme, "autotests-configuration"), True
    issue.save()

    apply_issue(facts(labels=["roadmap-slack-jira-onboarding"], updated="2026-03-21T10:00:00.000+0000"))

    assert step(acme, "autotests-configuration").status == StepStatus.DONE
    assert step(acme, "slack-jira-onboarding").status == StepStatus.NOT_STARTED


def test_a_template_maps_its_own_status_names(acme):
    acme.template.jira_status_map = {"Ready for QA": "done"}
    acme.template.save(update_fields=["jira_status_map"])

    apply_issue(facts(status="Ready for QA", category="indeterminate", labels=["roadmap-slack-jira-onboarding"]))

    assert step(acme, "slack-jira-onboarding").status == StepStatus.DONE


def test_a_deleted_task_no_longer_holds_its_step(acme):
    apply_issue(facts(key="ACME-1", labels=["roadmap-slack-jira-onboarding"]))
    apply_issue(
        facts(
            key="ACME-2",
            status="To Do",
            category="new",
            labels=["roadmap-slack-jira-onboarding"],
            updated="2026-03-21T09:00:00.000+0000",
        )
    )
    assert step(acme, "slack-jira-onboarding").status == StepStatus.IN_PROGRESS

    apply_issue(
        facts(
            key="ACME-2",
            status="To Do",
            category="new",
            labels=["roadmap-slack-jira-onboarding"],
            updated="2026-03-22T09:00:00.000+0000",
        ),
        deleted=True,
    )

    assert step(acme, "slack-jira-onboarding").status == StepStatus.DONE


def test_each_final_testing_round_s_bugs_hold_that_round_s_fixes(acme):
    apply_issue(facts(key="ACME-51", status="Open", category="new", kind="Bug", labels=["final-test-1"]))
    apply_issue(
        facts(key="ACME-52", status="In Progress", category="indeterminate", kind="Bug", labels=["final-test-2"])
    )

    assert JiraIssue.objects.get(key="ACME-51").step.code == "final-testing-fixes-1"
    assert JiraIssue.objects.get(key="ACME-52").step.code == "final-testing-fixes"
    round_1 = open_bugs_refusal(step(acme, "final-testing-fixes-1")).message
    round_2 = open_bugs_refusal(step(acme, "final-testing-fixes")).message
    assert round_1.endswith("ACME-51 (Open).") and "ACME-52" not in round_1
    assert round_2.endswith("ACME-52 (In Progress).") and "ACME-51" not in round_2

    # Round 1's bug fixed: its fixes are free, round 2's still held.
    apply_issue(
        facts(
            key="ACME-51", status="Done", category="done", kind="Bug", labels=["final-test-1"],
            updated="2026-03-21T10:00:00.000+0000",
        )
    )  # fmt: skip
    assert open_bugs_refusal(step(acme, "final-testing-fixes-1")) is None
    assert open_bugs_refusal(step(acme, "final-testing-fixes")) is not None


def test_bugs_of_a_testing_round_hold_the_fixing_step_and_ux_bugs_the_closed_release(acme, pm):
    apply_issue(
        facts(key="ACME-42", status="In Progress", category="indeterminate", kind="Bug", labels=["smoke-test", "ux"])
    )
    apply_issue(facts(key="ACME-43", status="Open", category="new", kind="Bug", labels=["final-test-2"]))

    bug = JiraIssue.objects.get(key="ACME-42")
    assert (bug.step.code, bug.testing_round, bug.affects_ux) == ("smoke-test-fixes", "smoke-test", True)
    assert JiraIssue.objects.get(key="ACME-43").step.code == "final-testing-fixes"
    fixes = step(acme, "smoke-test-fixes")
    refusal = open_bugs_refusal(fixes)
    assert isinstance(refusal, OpenBugs) and refusal.code == "open_bugs" and refusal.retryable
    assert "ACME-42 (In Progress)" in refusal.message and "ACME-43" not in refusal.message
    assert "ACME-42" in open_bugs_refusal(step(acme, "closed-release")).message
    assert open_bugs_refusal(step(acme, "final-testing-fixes")).message.endswith("ACME-43 (Open).")

    # Fixed in Jira: nothing holds them any more.
    apply_issue(
        facts(
            key="ACME-42",
            status="Done",
            category="done",
            kind="Bug",
            labels=["smoke-test", "ux"],
            updated="2026-03-21T10:00:00.000+0000",
        )
    )
    assert open_bugs_refusal(fixes) is None
    assert open_bugs_refusal(step(acme, "closed-release")) is None


def test_no_one_completes_a_fixing_step_while_its_bugs_are_open(acme, pm):
    steps_before_fixes = [
        "slack-jira-onboarding",
        "autotests-configuration",
        "endpoints-implementation",
        "passing-autotests",
        "sandbox-access",
        "sandbox-development",
        "request-production-urls",
        "production-deployment",
        "smoke-testing",
    ]
    hand_over_everything(acme)
    for code in steps_before_fixes:
        complete_step(step(acme, code), ctx(pm, "2026-04-15"))
    apply_issue(facts(key="ACME-42", status="Open", category="new", kind="Bug", labels=["smoke-test"]))

    with pytest.raises(OpenBugs, match="ACME-42"):
        change_status(step(acme, "smoke-test-fixes"), StepStatus.DONE, ctx(pm, "2026-04-16"))
    assert step(acme, "smoke-test-fixes").status == StepStatus.NOT_STARTED


def test_fields_left_out_of_the_json_are_unknown_not_empty():
    said = IssueFacts.from_json({"key": "ACME-1", "fields": {"labels": [], "summary": "", "status": {}}})
    unsaid = IssueFacts.from_json({"key": "ACME-1", "fields": {"updated": "2026-03-20T10:00:00.000+0000"}})

    assert (said.labels, said.summary, said.status_name, said.issue_type) == ((), "", "", None)
    assert said.unsaid == ("issue type",)
    assert (unsaid.labels, unsaid.summary, unsaid.status_name, unsaid.status_category) == (None, None, None, None)
    assert unsaid.unsaid == ("labels", "issue type", "status")
    completed = unsaid.completed_by(facts(status="In Progress", category="indeterminate", labels=["ux"], kind="Bug"))
    assert (completed.labels, completed.issue_type, completed.status_name, completed.status_category) == (
        ("ux",),
        "Bug",
        "In Progress",
        "indeterminate",
    )
    assert completed.updated == unsaid.updated  # the news stays the delivery's own


def test_what_a_later_json_leaves_out_is_kept_as_known(acme):
    apply_issue(facts(key="ACME-42", status="Open", category="new", kind="Bug", labels=["smoke-test", "ux"]))

    outcome = apply_issue(
        IssueFacts.from_json(
            {"key": "ACME-42", "fields": {"summary": "Renamed", "updated": "2026-03-21T10:00:00.000+0000"}}
        )
    )

    assert outcome.state == Handled.APPLIED
    bug = JiraIssue.objects.get(key="ACME-42")
    assert (bug.summary, bug.labels, bug.issue_type, bug.status_name, bug.status_category) == (
        "Renamed",
        ["smoke-test", "ux"],
        "Bug",
        "Open",
        "new",
    )
    assert (bug.step.code, bug.is_bug, bug.affects_ux) == ("smoke-test-fixes", True, True)
    assert open_bugs_refusal(step(acme, "smoke-test-fixes")).message.endswith("ACME-42 (Open).")


def test_long_values_are_cut_to_what_is_stored_and_a_long_key_is_refused():
    long = IssueFacts.from_json(
        {"id": "9" * 40, "key": "ACME-1", "fields": {"issuetype": {"name": "T" * 80}, "status": {"name": "S" * 150}}}
    )
    assert (len(long.jira_id), len(long.issue_type), len(long.status_name)) == (32, 60, 100)
    with pytest.raises(MalformedIssue, match="too long to be a Jira issue key"):
        IssueFacts.from_json({"key": "ACME-" + "1" * 40})


@pytest.mark.parametrize("status_map", [["Ready for QA"], {"Ready for QA": "finished"}, {3: "done"}])
def test_a_template_refuses_a_status_map_jira_cannot_follow(acme, status_map):
    from django.core.exceptions import ValidationError

    acme.template.jira_status_map = status_map
    with pytest.raises(ValidationError, match="Map Jira status names to a category"):
        acme.template.full_clean()


def test_a_ux_bug_without_a_round_label_is_said_to_hold_the_closed_release_not_to_be_linked_to_no_step(acme):
    ux_bug = facts(key="ACME-50", status="Open", category="new", kind="Bug", labels=["ux"])

    one = apply_issue(ux_bug)
    [in_a_page] = issues.apply_issues([facts(key="ACME-51", status="Open", category="new", kind="Bug", labels=["ux"])])

    for outcome, key in ((one, "ACME-50"), (in_a_page, "ACME-51")):
        assert "linked to no step" not in outcome.detail
        assert outcome.detail == f"{key} (Open) is a bug affecting the UX: it holds Closed release while it is open."
        assert outcome.state == Handled.APPLIED
    refusal = open_bugs_refusal(step(acme, "closed-release"))
    assert "ACME-50 (Open)" in str(refusal) and "ACME-51 (Open)" in str(refusal)


def test_a_bug_of_no_round_that_does_not_affect_the_ux_is_still_linked_to_no_step(acme):
    outcome = apply_issue(facts(key="ACME-52", status="Open", category="new", kind="Bug", labels=["backend"]))
    assert outcome.state == Handled.IGNORED and "linked to no step" in outcome.detail
