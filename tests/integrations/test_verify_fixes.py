"""The seed: "TradingView checks the fixes". The partner marks a fixing step done; until TradingView
verifies the fixes the ball is TradingView's and what depends on the step waits for the check."""

import pytest
from django.urls import reverse

from integrations.actions import step_actions
from integrations.models import IntegrationEvent
from integrations.standing import standing
from integrations.steps import apply_action, complete_step
from roadmap.models import StepStatus
from roadmap.refusals import InvalidTransition, NotAllowed, PrerequisitesOpen
from roadmap.standing import awaiting_check
from tests.integrations.handovers.helpers import hand_over_everything
from tests.integrations.helpers import KICKOFF, STEP_CODES, ctx, days, on, step

pytestmark = pytest.mark.django_db

FIXES = "smoke-test-fixes"
NEXT = "final-testing-1"


@pytest.fixture
def fixes(started_integration, pm):
    """Every step before the smoke-test fixes done by the PM, one a day."""
    hand_over_everything(started_integration)
    for offset, code in enumerate(STEP_CODES[: STEP_CODES.index(FIXES)], start=1):
        complete_step(step(started_integration, code), ctx(pm, KICKOFF + days(offset)))
    return step(started_integration, FIXES)


def offered(the_step, user) -> dict:
    return {a.name: a.refusal for a in step_actions(the_step, user)}


def test_the_partner_marking_its_fixes_done_hands_the_ball_to_tradingview_to_check_them(fixes, partner_user, pm):
    integration = fixes.integration
    with on(KICKOFF + days(12)):
        apply_action(fixes, "complete", ctx(partner_user, KICKOFF + days(12)))
        now = standing(integration)

    done = step(integration, FIXES)
    assert done.status == StepStatus.DONE and done.checking_since is not None and awaiting_check(done)
    assert now.ball.side == "tradingview"
    assert [s.code for s in now.ball.tradingview] == [FIXES]
    integration.refresh_from_db()
    assert integration.ball_side == "tradingview"
    # What depends on the fixes waits for the check.
    final = step(integration, NEXT)
    refusal = offered(final, pm)["complete"]
    assert isinstance(refusal, PrerequisitesOpen)
    assert "Fixing possible issues (smoke tests) (done, TradingView is checking the fixes)" in refusal.message
    assert isinstance(offered(final, pm)["start"], type(None))  # starting is not held by prerequisites
    # The partner cannot verify its own fixes; TradingView's staff can.
    assert isinstance(offered(done, partner_user)["verify"], NotAllowed)
    assert offered(done, pm)["verify"] is None


def test_tradingview_verifying_the_fixes_records_who_and_lets_final_testing_go_on(fixes, partner_user, pm, client):
    integration = fixes.integration
    with on(KICKOFF + days(12)):
        apply_action(fixes, "complete", ctx(partner_user, KICKOFF + days(12)))
    client.force_login(pm)

    with on(KICKOFF + days(13)):
        response = client.post(reverse("step-action", args=[fixes.pk, "verify"]), follow=True)
        now = standing(integration)

    assert response.status_code == 200
    assert f"{fixes} fixes verified." in response.content.decode()
    verified = step(integration, FIXES)
    assert verified.verified_by == pm and verified.verified_at is not None and not awaiting_check(verified)
    event = IntegrationEvent.objects.get(integration=integration, kind=IntegrationEvent.Kind.FIXES_VERIFIED)
    assert (event.by, event.to_value) == (pm, verified.title)
    assert [s.code for s in now.ball.tradingview] == [NEXT]
    apply_action(step(integration, NEXT), "complete", ctx(pm, KICKOFF + days(14)))
    assert step(integration, NEXT).status == StepStatus.DONE

    # Nothing left to verify: a second verification is refused.
    with pytest.raises(InvalidTransition):
        apply_action(step(integration, FIXES), "verify", ctx(pm, KICKOFF + days(14)))


def test_a_partner_cannot_verify_fixes_on_the_page_nor_through_the_service(fixes, partner_user, client):
    integration = fixes.integration
    apply_action(fixes, "complete", ctx(partner_user, KICKOFF + days(12)))
    client.force_login(partner_user)

    assert client.post(reverse("step-action", args=[fixes.pk, "verify"])).status_code == 403
    response = client.post(reverse("stage-step-action", args=[fixes.pk, "verify"]))
    assert response.status_code in (403, 302, 200)
    with pytest.raises(NotAllowed):
        apply_action(step(integration, FIXES), "verify", ctx(partner_user, KICKOFF + days(13)))
    assert awaiting_check(step(integration, FIXES))
    assert not IntegrationEvent.objects.filter(kind=IntegrationEvent.Kind.FIXES_VERIFIED).exists()


def test_the_stage_page_says_tradingview_is_checking_the_fixes(fixes, partner_user, client):
    apply_action(fixes, "complete", ctx(partner_user, KICKOFF + days(12)))
    client.force_login(partner_user)

    page = client.get(reverse("stage-page", args=[fixes.integration_id])).content.decode()

    assert "TradingView is checking your fixes" in page


def test_the_integration_page_offers_verify_fixes_to_the_pm(fixes, partner_user, pm, client):
    apply_action(fixes, "complete", ctx(partner_user, KICKOFF + days(12)))
    client.force_login(pm)

    page = client.get(reverse("integration-page", args=[fixes.integration_id])).content.decode()

    assert reverse("step-action", args=[fixes.pk, "verify"]) in page
    assert "Verify fixes" in page


def test_tradingview_marking_the_fixes_done_has_checked_them(fixes, pm):
    apply_action(fixes, "complete", ctx(pm, KICKOFF + days(12)))

    done = step(fixes.integration, FIXES)
    assert (done.verified_by, awaiting_check(done)) == (pm, False)


def test_reopening_verified_fixes_needs_a_new_check(fixes, partner_user, pm):
    integration = fixes.integration
    apply_action(fixes, "complete", ctx(pm, KICKOFF + days(12)))
    apply_action(step(integration, FIXES), "reopen", ctx(pm, KICKOFF + days(13), note="A fix regressed."))
    assert (step(integration, FIXES).verified_at, step(integration, FIXES).checking_since) == (None, None)

    apply_action(step(integration, FIXES), "complete", ctx(partner_user, KICKOFF + days(14)))

    assert awaiting_check(step(integration, FIXES))


def test_a_step_set_done_without_the_partner_marking_it_awaits_no_check(fixes):
    """Only the partner's side marking its fixes done asks for TradingView's check: a step written done
    otherwise (history entered by hand, data from before the check existed) holds nothing up."""
    type(fixes).objects.filter(pk=fixes.pk).update(status=StepStatus.DONE)

    assert not awaiting_check(step(fixes.integration, FIXES))
    assert offered(step(fixes.integration, NEXT), fixes.integration.tv_pm)["complete"] is None


def test_the_admin_offers_verify_fixes_on_the_step_while_they_await_the_check(fixes, partner_user, pm, client):
    apply_action(fixes, "complete", ctx(partner_user, KICKOFF + days(12)))
    pm.is_superuser = True
    pm.save()
    client.force_login(pm)
    page = reverse("admin:integrations_integrationstep_change", args=[fixes.pk])

    links = dict(client.get(page).context["operation_links"])
    assert "Verify fixes" in links
    client.post(links["Verify fixes"], follow=True)

    assert step(fixes.integration, FIXES).verified_by == pm
    assert "Verify fixes" not in dict(client.get(page).context["operation_links"])
