"""The partner's hand-overs through the API: the summary, URL checks, beta testers, authorisation sheets.

Handing over a URL answers 202 with the pending check and a link to read it; the worker runs the
check (here ``run_pending_checks``, the task in this process). The URLs used here resolve to
loopback, which the check refuses before any connection (``private_address``), so no test
touches the network but those that use the test servers on 127.0.0.1.
"""

import time

import pytest

from integrations.handovers.models import AuthorisationSheet, UrlCheck
from integrations.models import Integration, IntegrationStep
from roadmap.models import StepStatus
from tests.factories import IntegrationFactory
from tests.integrations.api.conftest import error_of, names_field
from tests.integrations.handovers.helpers import run_pending_checks
from tests.integrations.helpers import KICKOFF, STEP_CODES, at, step

pytestmark = pytest.mark.django_db

LOOPBACK = "https://127.0.0.1/tradingview"


def test_summary_of_a_fresh_integration(staff_api, world):
    response = staff_api.get(f"integrations/{world.pk}/handovers/")
    assert response.status_code == 200
    body = response.json()
    assert [p["part"] for p in body["parts"]] == ["trading", "data"]
    trading = body["parts"][0]
    assert trading["production_url"] == world.trading_production_url and trading["production_check"] is None
    assert trading["sheet_missing"] == ["client_id", "authorization_uri", "token_uri"]
    assert body["beta_testers"] == [] and body["complete"] is False
    assert set(body["missing"]) == {"request-production-urls", "production-deployment", "beta-testing"}


def hand_over(caller, integration, url=LOOPBACK, part="trading", environment="production"):
    return caller.post(
        f"integrations/{integration.pk}/handovers/urls/", {"part": part, "environment": environment, "url": url}
    )


@pytest.mark.parametrize("persona", ["staff_api", "partner_api"], indirect=True)
def test_a_url_is_accepted_for_checking_then_read_by_its_link(persona, world):
    response = hand_over(persona, world)

    assert response.status_code == 202, response.content
    check = UrlCheck.objects.get(integration=world)
    body = response.json()
    assert body["outcome"] == check.outcome == "checking"
    assert body["passed"] is False and body["finished_at"] is None
    assert body["url"] == LOOPBACK
    link = f"/api/v1/integrations/{world.pk}/handovers/urls/{check.pk}/"
    assert body["link"] == link
    assert response["Location"].endswith(link)
    world.refresh_from_db()
    assert world.trading_production_url == LOOPBACK

    # Pending until the worker has run it; then the link reads the result.
    assert persona.get(link).json()["outcome"] == "checking"
    run_pending_checks()
    read = persona.get(link)
    assert read.status_code == 200
    assert read.json()["outcome"] == "private_address" and read.json()["finished_at"]
    assert LOOPBACK in str(persona.get(f"integrations/{world.pk}/handovers/").json())


def test_the_hand_over_answers_at_once_and_makes_no_request(partner_api, world, handover_servers):
    """The slow server would hold a check five seconds: the API must not wait for it."""
    started = time.monotonic()
    response = hand_over(partner_api, world, handover_servers.slow)
    elapsed = time.monotonic() - started

    assert response.status_code == 202, response.content
    assert elapsed < 2, f"the hand-over took {elapsed:.1f} s"
    assert handover_servers.connections("slow") == 0
    assert response.json()["outcome"] == "checking"


def test_another_partners_check_is_404(partner_api, other_partner_api, world):
    check_id = hand_over(partner_api, world).json()["id"]
    link = f"integrations/{world.pk}/handovers/urls/{check_id}/"
    error_of(other_partner_api.get(link), 404, "not_found")
    error_of(partner_api.get(f"integrations/{world.pk}/handovers/urls/{check_id + 1000}/"), 404, "not_found")


@pytest.mark.parametrize(
    "data, field",
    [
        ({"part": "trading", "environment": "production", "url": "http://broker.example.com"}, "url"),
        ({"part": "trading", "environment": "production", "url": "not a url"}, "url"),
        ({"part": "trading", "environment": "production", "url": "https://" + "a" * 600 + ".com"}, "url"),
        ({"part": "trading", "environment": "production", "url": ""}, "url"),
        ({"part": "options", "environment": "production", "url": LOOPBACK}, "part"),
        ({"part": "trading", "environment": "moon", "url": LOOPBACK}, "environment"),
        ({"part": "trading", "environment": "production", "url": 42}, "url"),
        ({"part": "trading", "environment": "production"}, "url"),
        ({"part": "trading", "environment": "production", "url": LOOPBACK, "verify": False}, "verify"),
    ],
)
def test_bad_url_checks_are_400_and_write_nothing(staff_api, world, data, field):
    before = Integration.objects.filter(pk=world.pk).values().get()
    body = error_of(staff_api.post(f"integrations/{world.pk}/handovers/urls/", data), 400, "invalid")
    assert names_field(body, field), body
    assert not UrlCheck.objects.exists()
    assert Integration.objects.filter(pk=world.pk).values().get() == before


def test_url_of_a_part_the_integration_lacks_is_400(staff_api, pm, partner):
    data_only = IntegrationFactory(partner=partner, tv_pm=pm, stocks_data_only=True, name="Acme stocks")
    response = staff_api.post(
        f"integrations/{data_only.pk}/handovers/urls/",
        {"part": "trading", "environment": "production", "url": LOOPBACK},
    )
    error_of(response, 400, "invalid")
    assert not UrlCheck.objects.exists()


def test_beta_testers(partner_api, world):
    response = partner_api.put(
        f"integrations/{world.pk}/handovers/beta-testers/", {"usernames": ["alice_tv", "bob_tv"]}
    )
    assert response.status_code == 200, response.content
    assert response.json()["usernames"] == ["alice_tv", "bob_tv"]
    world.refresh_from_db()
    assert world.beta_tester_list == ["alice_tv", "bob_tv"]


@pytest.mark.parametrize(
    "usernames",
    [[], ["ok_name", "ok_name"], ["bad name with spaces"], "alice_tv", [42], [f"user{n}" for n in range(51)], None],
)
def test_bad_beta_testers_are_400_and_write_nothing(staff_api, world, usernames):
    body = error_of(
        staff_api.put(f"integrations/{world.pk}/handovers/beta-testers/", {"usernames": usernames}), 400, "invalid"
    )
    assert names_field(body, "usernames"), body
    world.refresh_from_db()
    assert world.beta_testers == ""


def test_auth_sheet(partner_api, world, partner_user):
    sheet = {
        "client_id": "tv-client",
        "authorization_uri": "https://auth.acme.example.com/authorize",
        "token_uri": "https://auth.acme.example.com/token",
        "ip_addresses": "203.0.113.7\n198.51.100.0/24",
    }
    response = partner_api.put(f"integrations/{world.pk}/handovers/sheets/trading/", sheet)
    assert response.status_code == 200, response.content
    saved = AuthorisationSheet.objects.get(integration=world, part="trading")
    assert (saved.client_id, saved.token_uri, saved.updated_by) == ("tv-client", sheet["token_uri"], partner_user)
    assert response.json()["client_id"] == "tv-client" and response.json()["part"] == "trading"


@pytest.mark.parametrize(
    "data, field",
    [
        ({"authorization_uri": "http://auth.acme.example.com"}, "authorization_uri"),
        ({"ip_addresses": "300.1.1.1"}, "ip_addresses"),
        ({"client_secret": "hunter2"}, "client_secret"),
        ({"client_id": "has spaces"}, "client_id"),
        ({"client_id": "x" * 201}, "client_id"),
        ({"token_uri": ["https://a.example.com"]}, "token_uri"),
    ],
)
def test_bad_sheets_are_400_and_write_nothing(staff_api, world, data, field):
    body = error_of(staff_api.put(f"integrations/{world.pk}/handovers/sheets/trading/", data), 400, "invalid")
    assert names_field(body, field), body
    assert not AuthorisationSheet.objects.exists()


def test_sheet_of_an_unknown_part_is_404(staff_api, world):
    error_of(staff_api.put(f"integrations/{world.pk}/handovers/sheets/options/", {"client_id": "x"}), 404, "not_found")


@pytest.mark.parametrize("persona", ["other_partner_api", "plain_api"], indirect=True)
def test_outsiders_get_404_on_acme_handovers(persona, world):
    base = f"integrations/{world.pk}/handovers"
    error_of(persona.get(f"{base}/"), 404, "not_found")
    error_of(
        persona.post(f"{base}/urls/", {"part": "trading", "environment": "production", "url": LOOPBACK}),
        404,
        "not_found",
    )
    error_of(persona.put(f"{base}/beta-testers/", {"usernames": ["x_tv"]}), 404, "not_found")
    error_of(persona.put(f"{base}/sheets/trading/", {"client_id": "x"}), 404, "not_found")
    world.refresh_from_db()
    assert world.beta_testers == "" and not UrlCheck.objects.exists() and not AuthorisationSheet.objects.exists()


def test_fresh_if_match_on_a_handover_applies(partner_api, world):
    fresh = partner_api.get(f"integrations/{world.pk}/")["ETag"]
    response = partner_api.put(
        f"integrations/{world.pk}/handovers/beta-testers/", {"usernames": ["early_tv"]}, headers={"If-Match": fresh}
    )
    assert response.status_code == 200, response.content
    world.refresh_from_db()
    assert world.beta_tester_list == ["early_tv"]
    assert partner_api.get(f"integrations/{world.pk}/handovers/").json()["beta_testers"] == ["early_tv"]


def test_stale_if_match_on_a_handover_writes_nothing(staff_api, world):
    stale = staff_api.get(f"integrations/{world.pk}/")["ETag"]
    assert staff_api.patch(f"integrations/{world.pk}/", {"spec_version": "2.0"}).status_code == 200
    response = staff_api.put(
        f"integrations/{world.pk}/handovers/beta-testers/", {"usernames": ["late_tv"]}, headers={"If-Match": stale}
    )
    error_of(response, 412, "precondition_failed")
    world.refresh_from_db()
    assert world.beta_testers == ""


def test_handovers_unlock_production_deployment(partner_api, world):
    """The sheet alone is not enough: the production URLs must pass their check too."""

    for code in STEP_CODES[: STEP_CODES.index("production-deployment")]:
        IntegrationStep.objects.filter(integration=world, code=code).update(
            status=StepStatus.DONE, completed_at=at(KICKOFF, 15)
        )
    partner_api.put(
        f"integrations/{world.pk}/handovers/sheets/trading/",
        {"client_id": "c", "authorization_uri": "https://a.example.com/a", "token_uri": "https://a.example.com/t"},
    )
    target = step(world, "production-deployment")
    body = error_of(partner_api.post(f"steps/{target.pk}/complete/", {}), 409, "handover_missing")
    assert "URL" in body["message"] or "url" in body["message"]


def test_a_url_being_checked_is_not_handed_over_yet(partner_api, world, handover_servers):
    """``handover_missing`` holds while the check runs, and lifts only once it has passed."""
    for code in STEP_CODES[: STEP_CODES.index("production-deployment")]:
        IntegrationStep.objects.filter(integration=world, code=code).update(
            status=StepStatus.DONE, completed_at=at(KICKOFF, 15)
        )
    partner_api.put(
        f"integrations/{world.pk}/handovers/sheets/trading/",
        {"client_id": "c", "authorization_uri": "https://a.example.com/a", "token_uri": "https://a.example.com/t"},
    )
    for part in ("trading", "data"):
        assert hand_over(partner_api, world, handover_servers.good, part=part).status_code == 202
    target = step(world, "production-deployment")

    body = error_of(partner_api.post(f"steps/{target.pk}/complete/", {}), 409, "handover_missing")
    assert "is being checked" in body["message"]

    run_pending_checks()
    assert partner_api.post(f"steps/{target.pk}/complete/", {}).status_code == 200


@pytest.mark.parametrize(
    "method, path, data",
    [
        ("put", "beta-testers/", {"usernames": ["first_tv"]}),
        ("put", "sheets/trading/", {"client_id": "first-client"}),
        ("post", "urls/", {"part": "data", "environment": "staging", "url": LOOPBACK}),
    ],
)
def test_a_handover_changes_the_etag_so_a_second_writer_is_412(staff_api, partner_api, world, method, path, data):
    """Two people read the integration; the first hands over; the second, with the ETag it read, is refused."""
    read = partner_api.get(f"integrations/{world.pk}/")["ETag"]
    url = f"integrations/{world.pk}/handovers/{path}"
    assert getattr(partner_api, method)(url, data, headers={"If-Match": read}).status_code in (200, 202)
    assert staff_api.get(f"integrations/{world.pk}/")["ETag"] != read
    error_of(getattr(staff_api, method)(url, data, headers={"If-Match": read}), 412, "precondition_failed")
