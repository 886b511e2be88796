"""Hand-overs on the stage page: base URLs checked against real servers, beta testers, the sheet,
and the step they hold until they are complete.

A handed-over URL is checked by the worker, never in the web request: here the queued check is
run by ``run_pending_checks`` (the task, in this process) where the worker would run it.
"""

import time

import pytest
from django.urls import reverse

from integrations.handovers.models import UrlCheck
from tests.integrations.handovers.helpers import run_pending_checks
from tests.integrations.helpers import step
from tests.integrations.stage.support import BEFORE_DEPLOYMENT, complete, other_partner_user

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


def hand_over_and_check(client, integration, part, environment, url):
    """Hand over, let the worker's task run the check, and read the stage page again."""
    hand_over(client, integration, part, environment, url)
    assert run_pending_checks(), "no check was queued"
    return client.get(reverse("stage-page", args=[integration.pk]))


def poll(client, integration, checks):
    return client.get(
        reverse("stage-handover-checks", args=[integration.pk]),
        {"pending": ",".join(str(c.pk) for c in checks)},
        headers={"HX-Request": "true"},
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

    # A server without CORS: handed over and checked by the worker; the failed check is shown.
    response = hand_over(client, integration, "trading", "production", handover_servers.no_cors)
    assert f"Checking {handover_servers.no_cors}" in response.content.decode()
    assert UrlCheck.objects.get().outcome == "checking"
    run_pending_checks()
    html = client.get(reverse("stage-page", args=[integration.pk])).content.decode()
    assert "CORS missing" in html and "Checking…" not in html
    assert UrlCheck.objects.get().outcome == "no_cors"

    # The step cannot be finished yet, and says what is missing.
    response = client.post(reverse("stage-step-action", args=[deployment.pk, "complete"]), follow=True)
    assert "cannot be done before the partner hands over" in response.content.decode()
    assert step(integration, "production-deployment").status != "done"

    # Good servers for both parts, and the trading sheet: now it can be finished.
    hand_over_and_check(client, integration, "trading", "production", handover_servers.good)
    response = hand_over_and_check(client, integration, "data", "production", handover_servers.good)
    assert "Passed" in response.content.decode()
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


# --- the check runs in the worker, and the card follows it -------------------------------------


def test_handing_over_answers_at_once_and_makes_no_request(client, partner_user, started_integration, handover_servers):
    """The slow server would hold a check five seconds: the page must not wait for it."""
    client.force_login(partner_user)

    started = time.monotonic()
    response = hand_over(client, started_integration, "trading", "production", handover_servers.slow)
    elapsed = time.monotonic() - started

    assert elapsed < 2, f"the hand-over took {elapsed:.1f} s"
    assert handover_servers.connections("slow") == 0
    check = UrlCheck.objects.get()
    assert (check.outcome, check.url, check.checked_by) == ("checking", handover_servers.slow, partner_user)
    started_integration.refresh_from_db()
    assert started_integration.trading_production_url == handover_servers.slow
    html = response.content.decode()
    assert f"Checking {handover_servers.slow}" in html
    assert "Checking…" in html and 'hx-trigger="every' in html


def test_the_card_polls_while_a_check_is_pending_and_shows_the_result(
    client, partner_user, started_integration, handover_servers
):
    client.force_login(partner_user)
    hand_over(client, started_integration, "data", "production", handover_servers.good)
    check = UrlCheck.objects.get()

    # Still pending: nothing to swap.
    response = poll(client, started_integration, [check])
    assert response.status_code == 204

    run_pending_checks()
    response = poll(client, started_integration, [check])
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="handovers"' in html and "Passed" in html
    assert 'hx-trigger="every' not in html  # done: the card stops polling


def test_polling_another_partners_card_is_404(client, started_integration, handover_servers):
    eve, _ = other_partner_user()
    client.force_login(eve)
    assert poll(client, started_integration, []).status_code == 404


def test_a_page_without_a_pending_check_does_not_poll(client, partner_user, started_integration):
    client.force_login(partner_user)
    html = client.get(reverse("stage-page", args=[started_integration.pk])).content.decode()
    assert 'id="handovers"' in html and 'hx-trigger="every' not in html
