"""Steps: the list and detail (with the caller's actions), and each action through the API.

Actions go through ``integrations.steps.apply_action``; the API adds who may (staff on any step,
the partner's user on its own partner-side steps), the refusals' status and code, and If-Match.
"""

import pytest

from integrations import plan
from integrations.jira.models import JiraIssue
from integrations.models import ChangeSource, IntegrationStep, StepChange
from roadmap.models import StepStatus
from tests.integrations.api.conftest import error_of, results
from tests.integrations.helpers import KICKOFF, STEP_CODES, at, ctx, on, step

pytestmark = pytest.mark.django_db

# A TradingView step with no prerequisites, a partner step with none, and one waiting on both.
TV_STEP, PARTNER_STEP, WAITING_STEP = "slack-jira-onboarding", "endpoints-implementation", "passing-autotests"


def recorded(integration) -> tuple:
    """What an action writes: every step's status and each step's history, to compare before and after."""
    return (
        list(IntegrationStep.objects.filter(integration=integration).order_by("pk").values_list("pk", "status")),
        StepChange.objects.filter(step__integration=integration).count(),
    )


def set_status(integration, code, status, **fields):
    """Put a step in ``status`` directly, as if done long ago (a done step has its completion time)."""
    if status == StepStatus.DONE:
        fields.setdefault("completed_at", at(KICKOFF, 15))
    IntegrationStep.objects.filter(integration=integration, code=code).update(status=status, **fields)


# --- lists and detail ---------------------------------------------------------------------------


def test_steps_list_in_plan_order(staff_api, world):
    rows = results(staff_api.get(f"integrations/{world.pk}/steps/"))
    assert [r["code"] for r in rows] == STEP_CODES
    assert {r["side"] for r in rows} == {"tradingview", "partner"}


def test_step_detail_lists_the_callers_actions(staff_api, partner_api, world):
    target = step(world, PARTNER_STEP)
    staff = staff_api.get(f"steps/{target.pk}/").json()
    assert staff["code"] == PARTNER_STEP and staff["status"] == "not_started" and staff["updated_at"]
    names = {a["name"] for a in staff["actions"]}
    assert {"start", "complete", "block", "not_applicable"} <= names
    partner = partner_api.get(f"steps/{target.pk}/").json()
    allowed = {a["name"] for a in partner["actions"] if a["allowed"]}
    refused = {a["name"]: a for a in partner["actions"] if not a["allowed"]}
    assert {"start", "complete", "block"} <= allowed
    assert refused["not_applicable"]["refusal"]["code"] == "not_allowed"


def test_actions_show_the_refusal_of_a_waiting_step(partner_api, world):
    body = partner_api.get(f"steps/{step(world, WAITING_STEP).pk}/").json()
    complete = next(a for a in body["actions"] if a["name"] == "complete")
    assert complete["allowed"] is False
    assert complete["refusal"]["code"] == "prerequisites_open" and complete["refusal"]["message"]


def test_partner_sees_tv_steps_but_may_not_act(partner_api, world):
    body = partner_api.get(f"steps/{step(world, TV_STEP).pk}/").json()
    assert body["actions"] and not any(a["allowed"] for a in body["actions"])
    assert {a["refusal"]["code"] for a in body["actions"]} == {"not_allowed"}


def test_step_etag_and_304(staff_api, world):
    target = step(world, TV_STEP)
    response = staff_api.get(f"steps/{target.pk}/")
    assert response["ETag"]
    assert staff_api.get(f"steps/{target.pk}/", headers={"If-None-Match": response["ETag"]}).status_code == 304


# --- each action, staff and partner ------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["staff_api", "staff_session"], indirect=True)
def test_staff_start_then_complete_a_tv_step(persona, world, pm):
    target = step(world, TV_STEP)
    response = persona.post(f"steps/{target.pk}/start/", {"note": "On it"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "in_progress" and response["ETag"]
    response = persona.post(f"steps/{target.pk}/complete/", {})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "done"
    changes = StepChange.objects.filter(step=target).exclude(from_status="").order_by("at", "pk")
    assert [(c.to_status, c.source, c.by) for c in changes] == [
        ("in_progress", ChangeSource.API, pm),
        ("done", ChangeSource.API, pm),
    ]
    assert changes[0].note == "On it"


def test_staff_block_unblock_not_applicable_reopen(staff_api, world):
    target = step(world, TV_STEP)
    path = f"steps/{target.pk}"
    assert staff_api.post(f"{path}/block/", {"note": "Waiting for Slack admin"}).json()["status"] == "blocked"
    assert step(world, TV_STEP).blocked_reason == "Waiting for Slack admin"
    assert staff_api.post(f"{path}/unblock/", {"note": "Admin answered"}).json()["status"] == "in_progress"
    response = staff_api.post(f"{path}/not_applicable/", {"note": "Partner uses email"})
    assert response.status_code == 200 and response.json()["status"] == "not_applicable"
    response = staff_api.post(f"{path}/reopen/", {"note": "They joined Slack after all"})
    assert response.status_code == 200 and response.json()["status"] == "not_started"


def test_partner_starts_blocks_unblocks_and_completes_its_step(partner_api, world, partner_user):
    path = f"steps/{step(world, PARTNER_STEP).pk}"
    assert partner_api.post(f"{path}/start/", {}).json()["status"] == "in_progress"
    assert partner_api.post(f"{path}/block/", {"note": "Need the spec"}).json()["status"] == "blocked"
    assert partner_api.post(f"{path}/unblock/", {"note": "Got it"}).json()["status"] == "in_progress"
    response = partner_api.post(f"{path}/complete/", {"note": "Deployed to staging"})
    assert response.status_code == 200 and response.json()["status"] == "done"
    last = StepChange.objects.filter(step__code=PARTNER_STEP, step__integration=world).latest("at", "pk")
    assert (last.by, last.source, last.note) == (partner_user, ChangeSource.API, "Deployed to staging")


@pytest.mark.parametrize("action", ["reopen", "not_applicable"])
def test_partner_may_not_take_tradingviews_actions(partner_api, world, action):
    target = step(world, PARTNER_STEP)
    if action == "reopen":
        set_status(world, PARTNER_STEP, StepStatus.DONE)
    before = recorded(world)
    error_of(partner_api.post(f"steps/{target.pk}/{action}/", {"note": "please"}), 403, "not_allowed")
    assert recorded(world) == before


@pytest.mark.parametrize("action", ["start", "complete", "block", "not_applicable"])
def test_partner_on_a_tradingview_step_is_403_not_allowed(partner_api, world, action):
    before = recorded(world)
    error_of(partner_api.post(f"steps/{step(world, TV_STEP).pk}/{action}/", {"note": "x"}), 403, "not_allowed")
    assert recorded(world) == before


@pytest.mark.parametrize("persona", ["other_partner_api", "plain_api"], indirect=True)
def test_outsiders_get_404_on_acme_steps(persona, world):
    before = recorded(world)
    for code in (PARTNER_STEP, TV_STEP):
        error_of(persona.post(f"steps/{step(world, code).pk}/start/", {}), 404, "not_found")
    assert recorded(world) == before


def test_unknown_action_is_404(staff_api, world):
    error_of(staff_api.post(f"steps/{step(world, TV_STEP).pk}/launch/", {}), 404, "not_found")


def test_actions_are_post_only(staff_api, world):
    error_of(staff_api.get(f"steps/{step(world, TV_STEP).pk}/start/"), 405, "method_not_allowed")
    error_of(staff_api.delete(f"steps/{step(world, TV_STEP).pk}/"), 405, "method_not_allowed")


# --- refusals ---------------------------------------------------------------------------------------------


def test_complete_with_open_prerequisites_is_409(partner_api, world):
    before = recorded(world)
    body = error_of(partner_api.post(f"steps/{step(world, WAITING_STEP).pk}/complete/", {}), 409, "prerequisites_open")
    assert "autotests" in body["message"].lower() or "endpoints" in body["message"].lower()
    assert recorded(world) == before


@pytest.mark.parametrize("note", [None, "", "   "])
def test_block_without_a_note_is_400_reason_required(staff_api, world, note):
    before = recorded(world)
    data = {} if note is None else {"note": note}
    error_of(staff_api.post(f"steps/{step(world, TV_STEP).pk}/block/", data), 400, "reason_required")
    assert recorded(world) == before


def test_action_that_does_not_apply_is_409(staff_api, world):
    before = recorded(world)
    error_of(staff_api.post(f"steps/{step(world, TV_STEP).pk}/unblock/", {"note": "x"}), 409, "invalid_transition")
    assert recorded(world) == before


def test_paused_integration_is_409_not_running(staff_api, partner_api, world, pm):
    plan.pause(world, ctx(pm, note="holiday"))
    before = recorded(world)
    error_of(staff_api.post(f"steps/{step(world, TV_STEP).pk}/start/", {}), 409, "not_running")
    error_of(partner_api.post(f"steps/{step(world, PARTNER_STEP).pk}/start/", {}), 409, "not_running")
    assert recorded(world) == before


def test_an_integration_not_kicked_off_has_no_steps(staff_api, integration):
    assert results(staff_api.get(f"integrations/{integration.pk}/steps/")) == []


def test_complete_production_deployment_without_handovers_is_409(partner_api, world):
    for code in STEP_CODES[: STEP_CODES.index("production-deployment")]:
        set_status(world, code, StepStatus.DONE)
    before = recorded(world)
    body = error_of(
        partner_api.post(f"steps/{step(world, 'production-deployment').pk}/complete/", {}), 409, "handover_missing"
    )
    assert body["message"]
    assert recorded(world) == before


def test_complete_fixes_with_open_bugs_is_409(staff_api, world):
    for code in STEP_CODES[: STEP_CODES.index("smoke-test-fixes")]:
        set_status(world, code, StepStatus.DONE)
    fixes = step(world, "smoke-test-fixes")
    assert fixes.jira_bug_labels == ["smoke-test"]
    JiraIssue.objects.create(
        integration=world, step=fixes, key="ACME-7", is_bug=True, status_category="new", testing_round="smoke-test"
    )
    before = recorded(world)
    error_of(staff_api.post(f"steps/{fixes.pk}/complete/", {}), 409, "open_bugs")
    assert recorded(world) == before


# --- If-Match -----------------------------------------------------------------------------------------------


def test_stale_if_match_is_412_and_writes_nothing(staff_api, world):
    target = step(world, TV_STEP)
    stale = staff_api.get(f"steps/{target.pk}/")["ETag"]
    assert staff_api.post(f"steps/{target.pk}/block/", {"note": "Slack down"}).status_code == 200
    before = recorded(world)
    row_before = IntegrationStep.objects.filter(pk=target.pk).values().get()
    response = staff_api.post(f"steps/{target.pk}/unblock/", {"note": "up"}, headers={"If-Match": stale})
    error_of(response, 412, "precondition_failed")
    assert recorded(world) == before
    assert IntegrationStep.objects.filter(pk=target.pk).values().get() == row_before


def test_fresh_if_match_applies_and_gives_a_new_etag(partner_api, world):
    target = step(world, PARTNER_STEP)
    fresh = partner_api.get(f"steps/{target.pk}/")["ETag"]
    response = partner_api.post(f"steps/{target.pk}/start/", {}, headers={"If-Match": fresh})
    assert response.status_code == 200, response.content
    assert response["ETag"] and response["ETag"] != fresh
    assert step(world, PARTNER_STEP).status == "in_progress"
    # The ETag the action answered with is the one a read gives now.
    assert partner_api.get(f"steps/{target.pk}/")["ETag"] == response["ETag"]


def test_if_match_star_and_lists_of_etags(staff_api, world):
    target = step(world, TV_STEP)
    fresh = staff_api.get(f"steps/{target.pk}/")["ETag"]
    response = staff_api.post(f"steps/{target.pk}/start/", {}, headers={"If-Match": f'"nope", {fresh}'})
    assert response.status_code == 200, response.content


def test_a_step_action_changes_the_integrations_etag(staff_api, world):
    """The integration's detail shows its current step's status: a cached copy must not get a 304."""
    read = staff_api.get(f"integrations/{world.pk}/")
    assert read.json()["standing"]["current_step"]["status"] == "not_started"
    assert staff_api.post(f"steps/{step(world, TV_STEP).pk}/start/", {}).status_code == 200
    again = staff_api.get(f"integrations/{world.pk}/", headers={"If-None-Match": read["ETag"]})
    assert again.status_code == 200
    assert again.json()["standing"]["current_step"]["status"] == "in_progress"
    assert again["ETag"] != read["ETag"]


def test_a_note_of_2000_characters_is_kept_whole(staff_api, world):
    note = "n" * 2000
    assert staff_api.post(f"steps/{step(world, TV_STEP).pk}/block/", {"note": note}).status_code == 200
    assert step(world, TV_STEP).blocked_reason == note


def test_the_launch_cannot_be_marked_not_applicable(staff_api, world):
    launch = step(world, "open-to-all-users")
    body = staff_api.get(f"steps/{launch.pk}/").json()
    assert "not_applicable" not in {a["name"] for a in body["actions"]}
    before = recorded(world)
    error_of(staff_api.post(f"steps/{launch.pk}/not_applicable/", {"note": "skip"}), 409, "invalid_transition")
    assert recorded(world) == before


def test_completing_the_launch_ends_the_integration(staff_api, world):
    for code in STEP_CODES[:-1]:
        set_status(world, code, StepStatus.DONE)
    launch = step(world, "open-to-all-users")
    response = staff_api.post(f"steps/{launch.pk}/complete/", {"note": "Live for everyone"})
    assert response.status_code == 200, response.content
    body = staff_api.get(f"integrations/{world.pk}/").json()
    assert body["state"] == "launched" and body["launched_on"]
    # An ended integration's steps no longer change; lists default to running integrations.
    error_of(staff_api.post(f"steps/{launch.pk}/reopen/", {"note": "oops"}), 409, "integration_ended")
    assert world.pk not in [r["id"] for r in results(staff_api.get("integrations/"))]
    assert world.pk in [r["id"] for r in results(staff_api.get("integrations/", {"state": "launched"}))]


def test_a_step_finished_earlier_is_entered_with_when_it_happened_and_why(partner_api, world):
    target = step(world, PARTNER_STEP)
    with on("2026-03-16", 9):  # Monday: "we finished on Friday"
        response = partner_api.post(
            f"steps/{target.pk}/complete/", {"at": "2026-03-13T16:00:00Z", "note": "Finished Friday, entered Monday."}
        )
    assert response.status_code == 200, response.content
    done = StepChange.objects.get(step=target, to_status="done")
    assert (done.at, done.entered_at, done.note) == (
        at("2026-03-13", 16),
        at("2026-03-16", 9),
        "Finished Friday, entered Monday.",
    )
    target.refresh_from_db()
    assert target.completed_at == at("2026-03-13", 16)


def test_a_back_dated_step_action_is_refused_without_a_reason_or_in_the_future_and_writes_nothing(partner_api, world):
    target = step(world, PARTNER_STEP)
    before = recorded(world)
    url = f"steps/{target.pk}/start/"
    with on("2026-03-16", 9):
        error_of(partner_api.post(url, {"at": "2026-03-13T16:00:00Z"}), 400, "reason_required")
        error_of(partner_api.post(url, {"at": "2026-03-17T16:00:00Z", "note": "x"}), 400, "invalid_input")
        error_of(partner_api.post(url, {"at": "friday", "note": "x"}), 400, "invalid")
    assert recorded(world) == before
