"""Hand-overs on the stage page: base URLs checked against real servers, beta testers, the sheet,
and the step they hold until they are complete."""

import pytest
from django.urls import reverse

from integrations.handovers.models import UrlCheck
from tests.integrations.helpers import step
from tests.integrations.stage.support import BEFORE_DEPLOYMENT, complete

pytestmark = pytest.mark.django_db


@pytest.fixture
def at_deployment(started_integration, pm):
    """The integration with every step before the production deployment done."""
    complete(started_integration, BEFORE_DEPLOYMENT, pm)
    return started_integration


def hand_over(client, integration, part, environment, url):
    return client.post(
        reverse("stage-handover-url", args=[integration.pk]),
        {"part": part, "environment": environment, "url": url},
        follow=True,
    )


def test_url_checks_and_the_step_they_hold(client, partner_user, at_deployment, handover_servers):  # noqa: F811
    integration = at_deployment
    client.force_login(partner_user)
    deployment = step(integration, "production-deployment")
    page = client.get(reverse("stage-page", args=[integration.pk])).content.decode()
    assert "Before “Production deployment” can be finished:" in page or "can be finished:" in page
    assert "has not been checked yet" in page

    # http:// is refused before any request is made; nothing is written.
    response = hand_over(client, integration, "trading", "production", handover_servers.plain_http)
    assert response.status_code == 400
    assert "TradingView requires HTTPS" in response.content.decode()
    assert not UrlCheck.objects.exists()

    # A server without CORS: handed over, the failed check shown with its time.
    response = hand_over(client, integration, "trading", "production", handover_servers.no_cors)
    html = response.content.decode()
    assert "its check failed" in html and "CORS missing" in html
    assert UrlCheck.objects.get().outcome == "no_cors"

    # The step cannot be finished yet, and says what is missing.
    response = client.post(reverse("stage-step-action", args=[deployment.pk, "complete"]), follow=True)
    assert "cannot be done before the partner hands over" in response.content.decode()
    assert step(integration, "production-deployment").status != "done"

    # Good servers for both parts, and the trading sheet: now it can be finished.
    hand_over(client, integration, "trading", "production", handover_servers.good)
    response = hand_over(client, integration, "data", "production", handover_servers.good)
    assert "it passed" in response.content.decode()
    response = client.post(
        reverse("stage-auth-sheet", args=[integration.pk, "trading"]),
        {
            "sheet-trading-client_id": "acme-tv",
            "sheet-trading-authorization_uri": "https://acme.example.com/oauth/authorize",
            "sheet-trading-token_uri": "https://acme.example.com/oauth/token",
            "sheet-trading-ip_addresses": "203.0.113.7",
        },
        follow=True,
    )
    assert "Trading authorisation sheet saved." in response.content.decode()
    response = client.post(reverse("stage-step-action", args=[deployment.pk, "complete"]), follow=True)
    assert "marked done: TradingView has been told" in response.content.decode()
    assert step(integration, "production-deployment").status == "done"


def test_the_sheet_refuses_a_plain_http_uri_and_writes_nothing(client, partner_user, started_integration):
    client.force_login(partner_user)
    response = client.post(
        reverse("stage-auth-sheet", args=[started_integration.pk, "trading"]),
        {"sheet-trading-client_id": "acme", "sheet-trading-token_uri": "http://acme.example.com/token"},
    )
    assert response.status_code == 400
    assert "TradingView requires HTTPS" in response.content.decode()
    assert not started_integration.auth_sheets.exists()


def test_beta_testers_are_saved_or_refused_with_the_reason(client, partner_user, started_integration):
    client.force_login(partner_user)
    url = reverse("stage-beta-testers", args=[started_integration.pk])
    response = client.post(url, {"beta_testers": "good_name\nbad name!"})
    assert response.status_code == 400
    assert "Not a TradingView username" in response.content.decode()
    started_integration.refresh_from_db()
    assert started_integration.beta_testers == ""
    response = client.post(url, {"beta_testers": "trader_joe\nquant.ann"}, follow=True)
    assert "Beta testers saved: trader_joe, quant.ann." in response.content.decode()
    started_integration.refresh_from_db()
    assert started_integration.beta_tester_list == ["trader_joe", "quant.ann"]
