"""What Jira's news does to the roadmap: issue facts, which step an issue belongs to, and its status."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
import time_machine

from integrations import plan
from integrations.jira import issues
from integrations.jira.issues import Handled, IssueFacts, MalformedIssue, apply_issue, parse_jira_time
from integrations.jira.models import JiraIssue
from integrations.jira.rules import open_bugs_refusal
from integrations.models import Integration, StepChange
from integrations.steps import change_status, complete_step
from notifications.models import OutboxMessage
from roadmap.models import StepStatus
from roadmap.refusals import OpenBugs
from tests.default_plan import STEP_CODES
from tests.factories import IntegrationFactory
from tests.integrations.handovers.helpers import hand_over_everything
from tests.integrations.helpers import KICKOFF, at, ctx, step

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


STEPS_BEFORE_THE_FIXES = STEP_CODES[: STEP_CODES.index("smoke-test-fixes")]


def test_no_one_completes_a_fixing_step_while_its_bugs_are_open(acme, pm):
    hand_over_everything(acme)
    for code in STEPS_BEFORE_THE_FIXES:
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


def started_on_jira(key: str, pm):
    """An integration kicked off as ``started_integration`` is, on the Jira project ``key``, with a Slack channel."""
    integration = IntegrationFactory(tv_pm=pm, jira_project_key=key, slack_channel_id=f"C{key}CHAN")
    with time_machine.travel(at(KICKOFF, 9), tick=False):
        return plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))


# A page's news, in order: (number, step code, status, status category); one a minute from 09:40.
A_PAGE = [
    (1, "autotests-configuration", "Done", "done"),  # TradingView's task done, late: the partner hears it
    (2, "endpoints-implementation", "Done", "done"),  # the partner's: passing the autotests is theirs now
    (3, "passing-autotests", "In Progress", "indeterminate"),  # started
    (4, "autotests-configuration", "In Progress", "indeterminate"),  # a second task: the step reopens
    (5, "sandbox-access", "Done", "done"),  # too early: waits for its prerequisites
    (6, "slack-jira-onboarding", "Done", "done"),
]


def page_of(key: str, rows=A_PAGE) -> list[IssueFacts]:
    return [
        facts(
            key=f"{key}-{n}",
            status=status,
            category=category,
            labels=[f"roadmap-{code}"],
            updated=f"2026-03-20T09:{39 + n}:00.000+0000",
        )
        for n, code, status, category in rows
    ]


def what_happened(integration) -> dict:
    """The integration's history (status changes, deadline moves), steps, stored standing and outbox, with its
    own names taken out."""
    key = integration.jira_project_key

    def own_names_out(text: str) -> str:
        for own in (str(integration), integration.partner.name, key, f"/{integration.pk}/", f"={integration.pk}"):
            text = text.replace(own, "OWN")
        return text

    history = StepChange.objects.filter(step__integration=integration).exclude(from_status="").order_by("at", "id")
    rows = [
        (c.step.code, c.from_status, c.to_status, c.at, c.note.replace(key, "KEY"), c.from_due, c.to_due, c.by_name)
        for c in history
    ]
    stored = ("ball_side", "next_due_on", "next_deadline_at", "forecast_launch_on", "delay_partner_days", "health")
    return {
        "status changes": [row for row in rows if row[1] != row[2]],
        "deadline moves": [row for row in rows if row[1] == row[2]],
        "steps": [
            (s.code, s.status, s.due_date, s.started_at, s.completed_at, s.reopened_at, s.checking_since)
            for s in integration.steps.order_by("position")
        ],
        "standing": [getattr(Integration.objects.get(pk=integration.pk), name) for name in stored],
        "current step": Integration.objects.get(pk=integration.pk).current_step.code,
        "outbox": sorted(
            (m.kind, m.channel == integration.slack_channel_id, m.step.code if m.step else "", own_names_out(m.text))
            for m in OutboxMessage.objects.filter(integration=integration)
        ),
    }


@pytest.mark.parametrize("rows", [A_PAGE[:1], A_PAGE], ids=["one-move", "moves-reopen-and-a-wait"])
def test_a_page_moves_its_steps_as_one_issue_after_another_would(pm, settings, rows):
    """``apply_issues`` moves a page's steps in memory and writes them together: the same history, steps,
    standing and notices as ``apply_issue`` for one issue after another."""
    settings.SLACK_INTERNAL_CHANNEL = "CINTERNAL1"
    one_by_one, together = started_on_jira("ACME", pm), started_on_jira("BETA", pm)
    hand_over_everything(one_by_one)
    hand_over_everything(together)
    before = OutboxMessage.objects.count()

    with time_machine.travel(at("2026-03-20", 10), tick=False):
        singly = [apply_issue(f) for f in page_of("ACME", rows)]
        in_a_page = issues.apply_issues(page_of("BETA", rows))

    assert [(h.state, h.detail.replace("ACME", "KEY")) for h in singly] == [
        (h.state, h.detail.replace("BETA", "KEY").replace(str(together), str(one_by_one))) for h in in_a_page
    ]
    assert OutboxMessage.objects.count() > before
    page, singly = what_happened(together), what_happened(one_by_one)
    if len(rows) == 1:
        assert page == singly
    else:
        # A deadline moved by one change and moved back by a later one of the same page is not recorded:
        # each integration's standing is stored once per page, its net moves recorded. The page's notices
        # give the deadlines as the page leaves them (30 Mar), not as one change left them for a while (14 Apr).
        moves, moves_singly = page.pop("deadline moves"), singly.pop("deadline moves")
        assert set(moves) < set(moves_singly)
        assert [m[0] for m in moves_singly if m not in moves] == ["passing-autotests"]
        texts = {m[3] for m in page["outbox"]} ^ {m[3] for m in singly["outbox"]}
        assert {text.replace("Tue 14 Apr", "Mon 30 Mar") for text in texts} == {m[3] for m in page["outbox"]} & texts
        page["outbox"], singly["outbox"] = [m[:3] for m in page["outbox"]], [m[:3] for m in singly["outbox"]]
        assert page == singly


def test_a_bug_closed_earlier_in_a_page_no_longer_holds_a_fix_done_later_in_it(acme, pm):
    """The completion guards read the open bugs from the database: a page writes the bug's news before a move."""
    hand_over_everything(acme)
    for code in STEPS_BEFORE_THE_FIXES:
        complete_step(step(acme, code), ctx(pm, "2026-04-15"))
    bug = {"key": "ACME-42", "kind": "Bug", "labels": ["smoke-test"]}
    issues.apply_issues([facts(**bug, status="Open", category="new", updated="2026-04-16T09:00:00.000+0000")])

    outcomes = issues.apply_issues(
        [
            facts(
                key="ACME-44",
                status="In Progress",
                category="indeterminate",
                labels=["roadmap-final-testing-1"],
                updated="2026-04-16T10:00:00.000+0000",
            ),  # a move first: the page's integrations are read and locked
            facts(**bug, status="Done", category="done", updated="2026-04-16T10:01:00.000+0000"),
            facts(key="ACME-43", labels=["roadmap-smoke-test-fixes"], updated="2026-04-16T10:02:00.000+0000"),
        ]
    )

    assert [o.state for o in outcomes] == [Handled.APPLIED] * 3
    assert step(acme, "final-testing-1").status == StepStatus.IN_PROGRESS
    assert step(acme, "smoke-test-fixes").status == StepStatus.DONE
