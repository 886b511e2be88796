"""Steps that wait for hand-overs: production deployment for checked URLs and the sheet, beta
testing for beta testers; and the summary pages and the API show."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations import plan
from integrations.actions import step_actions
from integrations.handovers.models import Environment
from integrations.handovers.records import save_auth_sheet, set_beta_testers
from integrations.handovers.rules import handover_refusal, handover_summary, missing_handovers
from integrations.handovers.url_check import check_url
from integrations.models import Integration, StepChange
from integrations.steps import apply_action, complete_step
from roadmap.models import StepStatus
from roadmap.refusals import HandoverMissing, WaitingOnFeed
from tests.factories import IntegrationFactory
from tests.integrations.handovers.helpers import SHEET, hand_over_everything, passing_check
from tests.integrations.helpers import KICKOFF, STEP_CODES, at, ctx, days, on, step

pytestmark = pytest.mark.django_db

REQUEST = "request-production-urls"
DEPLOY = "production-deployment"
SMOKE = "smoke-testing"
BETA = "beta-testing"


def complete_before(integration, code, by):
    """Complete every step before ``code``, one a day from the day after kick-off."""
    for offset, earlier in enumerate(STEP_CODES[: STEP_CODES.index(code)], start=1):
        complete_step(step(integration, earlier), ctx(by, KICKOFF + days(offset)))


def complete_refusal(the_step, user):
    return next(a for a in step_actions(the_step, user) if a.name == "complete").refusal


@pytest.fixture
def at_deployment(started_integration, pm):
    complete_before(started_integration, DEPLOY, pm)
    return step(started_integration, DEPLOY)


def test_the_default_roadmap_names_its_hand_overs(started_integration):
    assert step(started_integration, REQUEST).handovers == ["staging_url"]
    assert step(started_integration, DEPLOY).handovers == ["production_urls", "auth_sheet"]
    assert step(started_integration, BETA).handovers == ["beta_testers"]
    assert handover_refusal(step(started_integration, "sandbox-access")) is None


def test_deployment_waits_for_checked_urls_and_the_sheet(at_deployment, partner_user):
    refusal = complete_refusal(at_deployment, partner_user)

    assert isinstance(refusal, HandoverMissing)
    assert "on the stage page" in refusal.message
    assert "The production URL of the trading part (https://broker.example.com/api) has not been checked yet." in (
        refusal.message
    )
    assert "The production URL of the data part" in refusal.message
    assert (
        "The authorisation sheet of the trading part lacks the client id, authorisation URI and token URI."
        in refusal.message
    )
    changes = StepChange.objects.count()

    with pytest.raises(HandoverMissing) as raised:
        apply_action(at_deployment, "complete", ctx(partner_user))

    assert raised.value.message == refusal.message
    assert raised.value.retryable and raised.value.http_status == 409
    assert step(at_deployment.integration, DEPLOY).status == StepStatus.NOT_STARTED
    assert StepChange.objects.count() == changes


def test_deployment_can_be_completed_once_everything_is_handed_over(at_deployment, partner_user, handover_servers):
    integration = at_deployment.integration
    check_url(integration, "trading", "production", handover_servers.good, by=partner_user)
    check_url(integration, "data", "production", handover_servers.no_cors, by=partner_user)  # data needs no CORS
    at_deployment.refresh_from_db()

    assert missing_handovers(at_deployment) == [
        "The authorisation sheet of the trading part lacks the client id, authorisation URI and token URI."
    ]

    save_auth_sheet(integration, "trading", {"client_id": SHEET["client_id"]}, by=partner_user)
    assert "lacks the authorisation URI and token URI" in complete_refusal(at_deployment, partner_user).message

    save_auth_sheet(integration, "trading", SHEET, by=partner_user)
    assert complete_refusal(at_deployment, partner_user) is None
    apply_action(at_deployment, "complete", ctx(partner_user))

    assert step(integration, DEPLOY).status == StepStatus.DONE


def test_a_failed_check_is_named_with_what_it_saw(at_deployment, pm, handover_servers):
    integration = at_deployment.integration
    hand_over_everything(integration)
    check_url(integration, "trading", "production", handover_servers.no_cors, by=pm)

    assert missing_handovers(step(integration, DEPLOY)) == [
        "The production URL of the trading part has not passed its check "
        "(CORS missing for https://www.tradingview.com)."
    ]


def test_a_url_handed_over_again_needs_a_new_passing_check(at_deployment, pm, handover_servers):
    integration = at_deployment.integration
    hand_over_everything(integration)
    assert handover_refusal(step(integration, DEPLOY)) is None

    # The partner moves production: the earlier check does not vouch for the new URL.
    integration.trading_production_url = "https://new.broker.example.com/api"
    integration.save()
    refusal = handover_refusal(step(integration, DEPLOY))
    assert "(https://new.broker.example.com/api) has not been checked yet" in refusal.message

    # A later failing check of the same URL also undoes a pass.
    passing_check(integration, "trading", url=handover_servers.server_error)
    assert handover_refusal(step(integration, DEPLOY)) is None
    check_url(integration, "trading", "production", handover_servers.server_error, by=pm)
    assert "has not passed its check (The server answered 503" in handover_refusal(step(integration, DEPLOY)).message


def test_the_request_for_production_urls_confirms_the_staging_url(started_integration, pm, handover_servers):
    """The seed: TradingView "asks the partner to confirm the staging URL"; its request is not done before."""
    integration = started_integration
    complete_before(integration, REQUEST, pm)
    integration.trading_staging_url = ""
    integration.save()
    request = step(integration, REQUEST)

    refusal = complete_refusal(request, pm)
    assert isinstance(refusal, HandoverMissing)
    assert "The staging URL of the trading part has not been confirmed." in refusal.message
    assert "data part" not in refusal.message
    with pytest.raises(HandoverMissing):
        apply_action(request, "complete", ctx(pm))

    check_url(integration, "trading", "staging", handover_servers.server_error, by=pm)
    refusal = complete_refusal(step(integration, REQUEST), pm)
    assert "The staging URL of the trading part has not passed its check (The server answered 503" in refusal.message

    check_url(integration, "trading", "staging", handover_servers.good, by=pm)
    apply_action(step(integration, REQUEST), "complete", ctx(pm))
    assert step(integration, REQUEST).status == StepStatus.DONE


def test_smoke_testing_waits_for_the_partners_own_feed_in_tradingview_production(started_integration, pm):
    """The seed: "a partner connecting its own data feed must first have the feed deployed to
    TradingView production": the checklist line is a gate on starting and on completing."""
    integration = started_integration
    hand_over_everything(integration)
    complete_before(integration, SMOKE, pm)
    Integration.objects.filter(pk=integration.pk).update(own_feed_in_production_on=None)
    smoke = step(integration, SMOKE)
    assert "Partner's own data feed deployed to TradingView production" in smoke.checklist

    offered = {a.name: a.refusal for a in step_actions(smoke, pm)}
    assert isinstance(offered["start"], WaitingOnFeed) and isinstance(offered["complete"], WaitingOnFeed)
    assert offered["start"].message == (
        f"{smoke} waits for the partner's own data feed to be deployed to TradingView production; record the day "
        "it went live on the integration (“own data feed in TradingView production since”)."
    )
    for action in ("start", "complete"):
        with pytest.raises(WaitingOnFeed) as raised:
            apply_action(step(integration, SMOKE), action, ctx(pm))
        assert raised.value.http_status == 409
    assert step(integration, SMOKE).status == StepStatus.NOT_STARTED

    Integration.objects.filter(pk=integration.pk).update(own_feed_in_production_on=KICKOFF + days(20))
    apply_action(step(integration, SMOKE), "start", ctx(pm))
    assert step(integration, SMOKE).status == StepStatus.IN_PROGRESS


def test_smoke_testing_of_a_mapped_exchange_feed_waits_for_no_feed(pm, partner):
    integration = IntegrationFactory(partner=partner, stocks_data_only=True)
    plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    hand_over_everything(integration)
    for offset, earlier in enumerate(STEP_CODES[: STEP_CODES.index(SMOKE)], start=1):
        if step(integration, earlier).status != StepStatus.NOT_APPLICABLE:
            complete_step(step(integration, earlier), ctx(pm, KICKOFF + days(offset)))

    assert integration.own_feed_in_production_on is None
    assert "Partner's own data feed deployed to TradingView production" not in step(integration, SMOKE).checklist
    apply_action(step(integration, SMOKE), "start", ctx(pm))
    assert step(integration, SMOKE).status == StepStatus.IN_PROGRESS


def test_a_staging_url_is_required_by_no_partner_step(at_deployment):
    integration = at_deployment.integration
    integration.trading_staging_url = integration.data_staging_url = ""
    integration.save()
    hand_over_everything(integration)

    assert handover_refusal(step(integration, DEPLOY)) is None


def test_an_authorisation_needing_no_sheet_is_satisfied_without_one(pm, partner):
    integration = IntegrationFactory(
        partner=partner, trading_auth=Integration.TradingAuth.PASSWORD_BEARER, data_auth=Integration.DataAuth.NONE
    )
    with on(KICKOFF, 9):
        plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    passing_check(integration, "trading")
    passing_check(integration, "data")

    assert missing_handovers(step(integration, DEPLOY)) == []


def test_beta_testing_waits_for_beta_testers(started_integration, pm, partner_user):
    hand_over_everything(started_integration)
    Integration.objects.filter(pk=started_integration.pk).update(beta_testers="")
    complete_before(started_integration, BETA, pm)
    beta = step(started_integration, BETA)

    refusal = complete_refusal(beta, partner_user)
    assert isinstance(refusal, HandoverMissing)
    assert "No beta testers have been named" in refusal.message
    with pytest.raises(HandoverMissing):
        apply_action(beta, "complete", ctx(partner_user))

    set_beta_testers(started_integration, "trader_joe", by=partner_user)
    apply_action(beta, "complete", ctx(partner_user))

    assert step(started_integration, BETA).status == StepStatus.DONE


# --- the summary ---------------------------------------------------------------------------------


def test_the_summary_gives_each_part_its_urls_checks_and_sheet(started_integration, pm, handover_servers):
    integration = started_integration
    staging = check_url(integration, "trading", "staging", handover_servers.no_cors, by=pm)
    production = check_url(integration, "trading", "production", handover_servers.good, by=pm)
    save_auth_sheet(integration, "trading", {"client_id": "tv"}, by=pm)
    integration.refresh_from_db()

    summary = handover_summary(integration)

    trading, data = summary.parts
    assert (trading.part, data.part) == ("trading", "data")
    assert (trading.staging_check, trading.production_check) == (staging, production)
    assert trading.production_url_passed and not data.production_url_passed
    assert trading.sheet_fields == ["client_id", "authorization_uri", "token_uri"]
    assert trading.sheet.client_id == "tv" and trading.sheet_missing == ["authorization_uri", "token_uri"]
    assert not data.needs_sheet and data.sheet is None and data.production_check is None
    assert summary.beta_testers == []
    assert set(summary.missing) == {REQUEST, DEPLOY, BETA}
    assert summary.missing[DEPLOY] == [
        "The production URL of the data part (https://data.broker.example.com/api) has not been checked yet.",
        "The authorisation sheet of the trading part lacks the authorisation URI and token URI.",
    ]
    assert not summary.complete and summary.part(Environment.PRODUCTION) is None


def test_the_summary_takes_a_fixed_number_of_queries(started_integration, pm):
    integration = Integration.objects.get(pk=started_integration.pk)
    with CaptureQueriesContext(connection) as before:
        handover_summary(integration)
    hand_over_everything(integration)
    for _ in range(5):
        passing_check(integration, "trading")
    integration = Integration.objects.get(pk=started_integration.pk)

    with CaptureQueriesContext(connection) as after:
        summary = handover_summary(integration)

    assert summary.complete
    assert len(after) == len(before) == 3


def test_the_summary_is_complete_only_when_nothing_shown_is_missing(integration, pm, client):
    """Before the kick-off no step asks yet, but the card shows URLs not handed over and a sheet
    lacking its fields: it must not say that nothing is missing."""
    Integration.objects.filter(pk=integration.pk).update(trading_production_url="", data_production_url="")
    integration.refresh_from_db()
    summary = handover_summary(integration)
    assert not summary.complete
    assert "The production URL of the trading part has not been handed over." in summary.outstanding
    assert any("authorisation sheet of the trading part lacks" in s for s in summary.outstanding)
    assert "No beta testers have been named (their TradingView usernames)." in summary.outstanding

    client.force_login(pm)
    card = client.get(f"/integrations/{integration.pk}/").content.decode()
    card = card[card.index('id="handovers"') :]
    card = card[: card.index("</section>")]
    assert "Nothing the roadmap asks for is missing" not in card
    assert "The production URL of the trading part has not been handed over." in card

    Integration.objects.filter(pk=integration.pk).update(
        trading_production_url="https://broker.example.com/api", data_production_url="https://data.example.com/api"
    )
    integration.refresh_from_db()
    hand_over_everything(integration)
    summary = handover_summary(integration)
    assert summary.complete and summary.outstanding == []
