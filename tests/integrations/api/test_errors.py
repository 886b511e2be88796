"""Bad input never writes and never gives a 500: every 4xx is ``{"code", "message"[, "fields"]}``."""

import json

import pytest
from django.test import Client

from integrations.models import Integration, IntegrationStep, Partner, StepChange
from tests.integrations.api.conftest import error_of, names_field
from tests.integrations.helpers import step

pytestmark = pytest.mark.django_db

MEGABYTE = "x" * 1_000_000


def written(integration) -> tuple:
    """Every row a write could touch, to compare before and after a refused request."""
    return (
        list(Integration.objects.order_by("pk").values()),
        list(Partner.objects.order_by("pk").values()),
        list(IntegrationStep.objects.filter(integration=integration).order_by("pk").values()),
        StepChange.objects.count(),
    )


@pytest.mark.parametrize(
    "data, field",
    [
        ({"note": 42}, "note"),
        ({"note": ["a", "b"]}, "note"),
        ({"note": {"text": "a"}}, "note"),
        ({"note": "x" * 2001}, "note"),
        ({"note": MEGABYTE}, "note"),
        ({"note": "fine", "by": "somebody else"}, "by"),
        ({"note": "fine", "at": "yesterday"}, "at"),
    ],
)
def test_bad_action_bodies_are_400(staff_api, world, data, field):
    before = written(world)
    body = error_of(staff_api.post(f"steps/{step(world, 'slack-jira-onboarding').pk}/block/", data), 400, "invalid")
    assert field in body["fields"], body
    assert body["fields"][field] and all(isinstance(m, str) for m in body["fields"][field])
    assert written(world) == before


def test_the_partner_of_an_integration_never_changes(staff_api, world, other_partner):
    before = written(world)
    body = error_of(staff_api.patch(f"integrations/{world.pk}/", {"partner": other_partner.pk}), 400, "invalid")
    assert body["fields"]["partner"] == ["Unknown field."]
    assert written(world) == before


def test_the_pm_must_be_staff(staff_api, world, partner_user):
    before = written(world)
    body = error_of(staff_api.patch(f"integrations/{world.pk}/", {"tv_pm": partner_user.pk}), 400, "invalid")
    assert names_field(body, "tv_pm"), body
    assert body["fields"]["tv_pm"] == [f"User {partner_user.pk} is not a TradingView staff user; the PM must be staff."]
    assert written(world) == before


def test_unknown_field_is_named(staff_api, world):
    body = error_of(
        staff_api.patch(f"integrations/{world.pk}/", {"spec_version": "2.0", "colour": "red"}), 400, "invalid"
    )
    assert body["fields"]["colour"] == ["Unknown field."]
    world.refresh_from_db()
    assert world.spec_version == "1.9"


@pytest.mark.parametrize(
    "data, field",
    [
        ({"spec_version": 2}, "spec_version"),
        ({"spec_version": MEGABYTE}, "spec_version"),
        ({"parts": "everything"}, "parts"),
        ({"data_types": "crypto"}, "data_types"),
        ({"data_types": ["tulips"]}, "data_types"),
        ({"trading_production_url": "http://broker.example.com"}, "trading_production_url"),
        ({"trading_production_url": "javascript:alert(1)"}, "trading_production_url"),
        ({"trading_production_url": "https://" + "a" * 2000 + ".com"}, "trading_production_url"),
        ({"tv_pm": "alice"}, "tv_pm"),
        ({"tv_pm": 999999}, "tv_pm"),
        ({"name": None}, "name"),
        ({"jira_project_key": "x" * 300}, "jira_project_key"),
        ({"slack_channel_id": "#general!"}, "slack_channel_id"),
        ({"template": 1}, "template"),  # create-only
        ({"beta_testers": "x_tv"}, "beta_testers"),  # a hand-over, through its own endpoint
    ],
)
def test_bad_integration_edits_are_400_and_write_nothing(staff_api, world, data, field):
    before = written(world)
    body = error_of(staff_api.patch(f"integrations/{world.pk}/", data), 400, "invalid")
    assert names_field(body, field), body
    assert written(world) == before


@pytest.mark.parametrize(
    "data, field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": MEGABYTE}, "name"),
        ({"name": "Acme Crypto Exchange"}, "name"),  # taken
        ({"name": "Nova", "kind": "bank"}, "kind"),
        ({"name": "Nova", "website": "not a site"}, "website"),
        ({"name": "Nova", "id": 5}, "id"),
    ],
)
def test_bad_partners_are_400_and_write_nothing(staff_api, world, data, field):
    before = written(world)
    body = error_of(staff_api.post("partners/", data), 400, "invalid")
    assert names_field(body, field), body
    assert written(world) == before


LEAVE_OUT = object()


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"partner": LEAVE_OUT}, "partner"),
        ({"partner": 999999}, "partner"),
        ({"partner": "acme"}, "partner"),
        ({"parts": LEAVE_OUT}, "parts"),
        ({"kickoff_on": "tomorrow"}, "kickoff_on"),
        ({"kickoff_on": "2026-02-30"}, "kickoff_on"),
        ({"template": 999999}, "template"),
        ({"data_types": ["crypto", "crypto", "tulips"]}, "data_types"),
        ({"state": "launched"}, "state"),
    ],
)
def test_bad_integration_creations_are_400_and_write_nothing(staff_api, world, partner, changes, field):
    data = {"partner": partner.pk, "parts": "data", "data_types": ["crypto"], "data_source": "own_feed", **changes}
    data = {name: value for name, value in data.items() if value is not LEAVE_OUT}
    before = written(world)
    body = error_of(staff_api.post("integrations/", data), 400, "invalid")
    assert names_field(body, field), body
    assert written(world) == before


@pytest.mark.parametrize(
    "path, data",
    [
        ("replan/", {"kickoff_on": "not a date", "reason": "why"}),
        ("replan/", {"kickoff_on": 20260302, "reason": "why"}),
        ("replan/", {"kickoff_on": "2026-12-07", "reason": MEGABYTE}),
        ("pause/", {"note": MEGABYTE}),
        ("pause/", {"note": "x", "until": "2027-01-01"}),
    ],
)
def test_bad_plan_changes_are_400(staff_api, world, path, data):
    before = written(world)
    body = error_of(staff_api.post(f"integrations/{world.pk}/{path}", data), 400, "invalid")
    assert body["fields"]
    assert written(world) == before


def test_malformed_json_is_400_parse_error(staff_api, world):
    before = written(world)
    response = staff_api.client.post(
        f"/api/v1/steps/{step(world, 'slack-jira-onboarding').pk}/start/", "{not json", content_type="application/json"
    )
    error_of(response, 400, "parse_error")
    assert written(world) == before


@pytest.mark.parametrize("body", ["[]", '"start"', "null", "42"])
def test_a_body_that_is_not_an_object_is_400(staff_api, world, body):
    before = written(world)
    response = staff_api.client.post(
        f"/api/v1/steps/{step(world, 'slack-jira-onboarding').pk}/block/", body, content_type="application/json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] in ("invalid", "parse_error")
    assert written(world) == before


def test_a_body_larger_than_a_request_may_carry_is_a_json_413(staff_api, world, settings):
    """Past DATA_UPLOAD_MAX_MEMORY_SIZE Django refused the body with its bare HTML "Bad Request (400)"
    page, not the API's JSON, and logged it as an error."""
    before = written(world)
    note = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = staff_api.client.post(
        f"/api/v1/steps/{step(world, 'slack-jira-onboarding').pk}/start/",
        json.dumps({"note": note}),
        content_type="application/json",
    )
    body = error_of(response, 413, "too_large")
    assert (
        body["message"]
        == f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes, the most a request may carry."
    )
    assert written(world) == before


def test_form_bodies_are_415(staff_api, world):
    before = written(world)
    response = staff_api.client.post(
        f"/api/v1/steps/{step(world, 'slack-jira-onboarding').pk}/start/", {"note": "x"}
    )  # multipart, as a browser form would send
    error_of(response, 415, "unsupported_media_type")
    assert written(world) == before


def test_asking_for_xml_is_406(staff_api, world):
    error_of(staff_api.get("integrations/", headers={"Accept": "application/xml"}), 406, "not_acceptable")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/nothing/", "/api/v1/integrations/999999/", "/api/v1/integrations/abc/", "/api/v1/steps/0/", "/api/v2/"],
)
def test_unknown_urls_are_json_404(staff_api, path):
    error_of(staff_api.get(path), 404, "not_found")


def test_wrong_method_is_405(staff_api, world):
    error_of(staff_api.delete(f"integrations/{world.pk}/"), 405, "method_not_allowed")
    error_of(staff_api.put("integrations/", {}), 405, "method_not_allowed")
    assert Integration.objects.filter(pk=world.pk).exists()


def test_huge_query_strings_are_handled(staff_api, world):
    response = staff_api.get("integrations/", {"q": "x" * 10_000})
    assert response.status_code in (200, 400)
    assert json.loads(response.content)


def test_a_session_needs_csrf_for_changes(pm, world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(pm)
    before = written(world)
    response = client.post(
        f"/api/v1/steps/{step(world, 'slack-jira-onboarding').pk}/start/", "{}", content_type="application/json"
    )
    error_of(response, 403, "permission_denied")
    assert written(world) == before


# PostgreSQL refuses NUL characters in text: they must be turned away as bad input, not reach it.
@pytest.mark.parametrize(
    "params",
    [
        {"q": "acme\x00"},
        {"sort": "\x00"},
        {"pm": "\x00"},
        {"page": "1\x00"},
        {"state": "\x00"},
        {"pm": "9" * 30},  # beyond any integer column
        {"pm": "٣"},  # a digit to str.isdigit(), not to the database
        {"sort": "-"},
        {"q": "%_\\'\""},
    ],
)
def test_odd_filter_values_are_not_a_server_error(staff_api, world, params):
    response = staff_api.get("integrations/", params)
    assert response.status_code in (200, 400), response.content
    assert response.json()


@pytest.mark.parametrize(
    "path, data",
    [
        ("steps/{step}/block/", {"note": "stuck\x00"}),
        ("integrations/{integration}/pause/", {"note": "a\x00b"}),
        ("integrations/{integration}/handovers/beta-testers/", {"usernames": ["bob\x00"]}),
        ("integrations/{integration}/handovers/sheets/trading/", {"client_id": "id\x00"}),
        (
            "integrations/{integration}/handovers/urls/",
            {"part": "data", "environment": "staging", "url": "https://a\x00.com"},
        ),
        ("partners/", {"name": "Nul\x00 Ltd"}),
    ],
)
def test_nul_characters_in_bodies_are_400(staff_api, world, path, data):
    before = written(world)
    url = path.format(step=step(world, "slack-jira-onboarding").pk, integration=world.pk)
    send = staff_api.put if "handovers/beta" in path or "sheets" in path else staff_api.post
    error_of(send(url, data), 400, "invalid")
    assert written(world) == before


def test_nul_characters_in_patches_are_400(staff_api, world):
    before = written(world)
    error_of(staff_api.patch(f"integrations/{world.pk}/", {"spec_version": "1\x00"}), 400, "invalid")
    assert written(world) == before


def test_enormous_page_numbers_are_404_not_500(staff_api, world):
    error_of(staff_api.get("integrations/", {"page": str(10**40)}), 404, "not_found")
