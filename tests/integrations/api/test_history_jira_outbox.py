"""The integration's history, a step's Jira issues and bugs, and the outbox (staff only)."""

from datetime import date

import pytest

from integrations import plan, steps
from integrations.jira.models import JiraIssue
from integrations.models import IntegrationEvent, StepChange
from notifications.models import OutboxMessage
from tests.integrations.api.conftest import error_of, names_field, results
from tests.integrations.helpers import at, ctx, on, step

pytestmark = pytest.mark.django_db


# --- history ------------------------------------------------------------------------------------


def test_history_is_newest_first_with_steps_and_events(staff_api, world, pm):
    with on("2026-03-03", 10):
        steps.start_step(step(world, "slack-jira-onboarding"), ctx(pm, at("2026-03-03", 10)))
    with on("2026-03-04", 10):
        plan.pause(world, ctx(pm, at("2026-03-04", 10), note="Partner holiday"))
    rows = results(staff_api.get(f"integrations/{world.pk}/history/"))
    assert len(rows) >= 3  # the kick-off, the start, the pause (and the steps planned at kick-off)
    moments = [r["at"] for r in rows]
    assert moments == sorted(moments, reverse=True)
    assert "Partner holiday" in str(rows[0]) and "paused" in str(rows[0])
    assert "in_progress" in str(rows[1])


def test_history_pages(staff_api, world, pm):
    total = staff_api.get(f"integrations/{world.pk}/history/").json()["count"]
    assert total >= 2
    first = staff_api.get(f"integrations/{world.pk}/history/", {"page_size": 1}).json()
    assert len(first["results"]) == 1 and first["next"]
    error_of(staff_api.get(f"integrations/{world.pk}/history/", {"page": 999}), 404, "not_found")


def test_partner_reads_its_history_not_others(partner_api, world, other_integration):
    assert results(partner_api.get(f"integrations/{world.pk}/history/"))
    error_of(partner_api.get(f"integrations/{other_integration.pk}/history/"), 404, "not_found")


def test_history_hides_no_internal_notes_of_the_partner(partner_api, world, partner):
    partner.notes = "Internal: renegotiating fees."
    partner.save()
    assert "renegotiating" not in partner_api.get(f"integrations/{world.pk}/history/").content.decode()


# --- Jira ---------------------------------------------------------------------------------------------


def jira_of(integration):
    fixes = step(integration, "smoke-test-fixes")
    JiraIssue.objects.create(integration=integration, step=fixes, key="ACME-1", summary="Fix symbol search")
    JiraIssue.objects.create(
        integration=integration,
        step=fixes,
        key="ACME-2",
        is_bug=True,
        status_category="new",
        testing_round="smoke-test",
    )
    JiraIssue.objects.create(
        integration=integration,
        step=fixes,
        key="ACME-3",
        is_bug=True,
        status_category="done",
        testing_round="smoke-test",
    )
    return fixes


def test_step_jira_splits_tasks_and_bugs(staff_api, world):
    fixes = jira_of(world)
    body = staff_api.get(f"steps/{fixes.pk}/jira/").json()
    assert [i["key"] for i in body["issues"]] == ["ACME-1"]
    assert sorted(b["key"] for b in body["bugs"]) == ["ACME-2", "ACME-3"]


def test_step_jira_of_another_partner_is_404(partner_api, other_partner_api, world):
    fixes = jira_of(world)
    assert partner_api.get(f"steps/{fixes.pk}/jira/").status_code == 200
    error_of(other_partner_api.get(f"steps/{fixes.pk}/jira/"), 404, "not_found")


def test_step_jira_empty(staff_api, world):
    body = staff_api.get(f"steps/{step(world, 'slack-jira-onboarding').pk}/jira/").json()
    assert body == {"issues": [], "bugs": []}


# --- outbox -----------------------------------------------------------------------------------------------


def outbox(world, other_integration):
    OutboxMessage.objects.all().delete()
    OutboxMessage.objects.create(reason_key="a", kind="reminder", integration=world, text="Reminder")
    OutboxMessage.objects.create(reason_key="b", kind="overdue", integration=world, text="Late", state="failed")
    OutboxMessage.objects.create(
        reason_key="c", kind="reminder", integration=other_integration, text="Zeta", state="sent"
    )


def test_outbox_lists_and_filters(staff_api, world, other_integration):
    outbox(world, other_integration)
    assert len(results(staff_api.get("outbox/"))) == 3
    assert [r["text"] for r in results(staff_api.get("outbox/", {"state": "failed"}))] == ["Late"]
    assert sorted(r["text"] for r in results(staff_api.get("outbox/", {"kind": "reminder"}))) == ["Reminder", "Zeta"]
    assert [r["text"] for r in results(staff_api.get("outbox/", {"integration": other_integration.pk}))] == ["Zeta"]


@pytest.mark.parametrize("name, value", [("state", "lost"), ("kind", "carrier-pigeon"), ("integration", "x")])
def test_outbox_invalid_filters_are_400(staff_api, world, name, value):
    body = error_of(staff_api.get("outbox/", {name: value}), 400, "invalid")
    assert names_field(body, name), body


def test_outbox_is_read_only(staff_api, world, other_integration):
    outbox(world, other_integration)
    assert staff_api.post("outbox/", {"text": "spam"}).status_code == 405
    assert OutboxMessage.objects.count() == 3


def test_paging_through_history_gives_each_row_once_in_the_same_order(staff_api, world, pm):
    """The kick-off writes many rows at the same moment: pages must still split one fixed order."""
    with on("2026-03-03", 10):
        steps.start_step(step(world, "slack-jira-onboarding"), ctx(pm, at("2026-03-03", 10)))
    path = f"integrations/{world.pk}/history/"
    whole = [(r["kind"], r["id"]) for r in results(staff_api.get(path, {"page_size": 200}))]
    paged, url = [], f"/api/v1/{path}?page_size=3"
    while url:
        body = staff_api.get(url).json()
        paged += [(r["kind"], r["id"]) for r in body["results"]]
        url = body["next"]
    assert paged == whole
    assert (
        len(set(whole))
        == len(whole)
        == StepChange.objects.filter(step__integration=world).count()
        + (IntegrationEvent.objects.filter(integration=world).count())
    )


# --- which notes the partner reads ---------------------------------------------------------------


def test_the_partner_reads_notes_on_its_steps_and_shared_ones_not_tradingviews_own(partner_api, staff_api, world, pm):
    with on("2026-03-03", 10):
        steps.block_step(step(world, "slack-jira-onboarding"), ctx(pm, at("2026-03-03", 10), note="PM: legal holds it"))
        steps.block_step(
            step(world, "autotests-configuration"),
            ctx(pm, at("2026-03-03", 10), note="Shared: we wait for your Slack handle", shared_with_partner=True),
        )
        steps.block_step(
            step(world, "endpoints-implementation"), ctx(pm, at("2026-03-03", 10), note="Your sandbox keys expired")
        )
    with on("2026-03-04", 10):
        plan.pause(world, ctx(pm, at("2026-03-04", 10), note="PM: pausing while fees are renegotiated"))

    partner_sees = partner_api.get(f"integrations/{world.pk}/history/?page_size=200").content.decode()
    staff_sees = staff_api.get(f"integrations/{world.pk}/history/?page_size=200").content.decode()

    assert "legal holds it" not in partner_sees and "legal holds it" in staff_sees
    assert "fees are renegotiated" not in partner_sees and "fees are renegotiated" in staff_sees
    assert "we wait for your Slack handle" in partner_sees
    assert "Your sandbox keys expired" in partner_sees
    # The rows stay: only the note is TradingView's.
    partner_rows = results(partner_api.get(f"integrations/{world.pk}/history/?page_size=200"))
    staff_rows = results(staff_api.get(f"integrations/{world.pk}/history/?page_size=200"))
    assert len(partner_rows) == len(staff_rows)
    blocked = next(
        r
        for r in partner_rows
        if r["step"] and r["step"]["code"] == "slack-jira-onboarding" and r["to_status"] == "blocked"
    )
    assert blocked["note"] == ""


def test_the_reason_of_a_replan_is_the_partners_to_read(partner_api, world, pm):
    with on("2026-03-04", 10):
        plan.replan(world, date(2026, 3, 9), ctx(pm, at("2026-03-04", 10), note="New start agreed on the call"))

    rows = results(partner_api.get(f"integrations/{world.pk}/history/?page_size=200"))

    assert any(r["event"] == "replanned" and r["note"] == "New start agreed on the call" for r in rows)


def test_a_tradingview_steps_blocked_reason_follows_the_same_rule(partner_api, staff_api, world, pm):
    onboarding, autotests = step(world, "slack-jira-onboarding"), step(world, "autotests-configuration")
    with on("2026-03-03", 10):
        steps.block_step(onboarding, ctx(pm, at("2026-03-03", 10), note="PM: legal holds it"))
        steps.block_step(
            autotests, ctx(pm, at("2026-03-03", 10), note="Waiting for your handle", shared_with_partner=True)
        )

    def reasons(caller):
        listed = {s["code"]: s["blocked_reason"] for s in results(caller.get(f"integrations/{world.pk}/steps/"))}
        detail = caller.get(f"steps/{onboarding.pk}/").json()["blocked_reason"]
        return listed["slack-jira-onboarding"], detail, listed["autotests-configuration"]

    assert reasons(partner_api) == ("", "", "Waiting for your handle")
    assert reasons(staff_api) == ("PM: legal holds it", "PM: legal holds it", "Waiting for your handle")


def test_a_tradingview_steps_not_applicable_note_follows_the_same_rule(partner_api, world, pm):
    onboarding = step(world, "slack-jira-onboarding")
    with on("2026-03-03", 10):
        steps.change_status(onboarding, "not_applicable", ctx(pm, at("2026-03-03", 10), note="PM: they are too small"))

    assert partner_api.get(f"steps/{onboarding.pk}/").json()["applicability_note"] == ""
    assert "too small" not in partner_api.get(f"integrations/{world.pk}/steps/").content.decode()
