"""A NUL character in a request is refused with a 400 that says so, wherever the text comes in.

PostgreSQL refuses NUL in text (a search, a filter, a note would be a 500 there); no field of
the product accepts one, so the request is refused before any view reads it: in the query
string, the path, the form fields, and the API's JSON (``integrations.api.parsers``).
"""

import json

import pytest
from django.test import Client
from django.urls import reverse

from integrations.models import StepChange
from tests.integrations.helpers import KICKOFF, on, step

NUL_MESSAGE = "The request contains a NUL character, which no field accepts."


def refused_page(response):
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert NUL_MESSAGE in response.content.decode()


def refused_api(response):
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"code": "invalid", "message": NUL_MESSAGE}


@pytest.fixture
def staff_client(pm) -> Client:
    client = Client()
    client.force_login(pm)
    return client


@pytest.fixture
def partner_client(partner_user) -> Client:
    client = Client()
    client.force_login(partner_user)
    return client


def test_a_stage_block_note_with_a_nul_is_refused_and_nothing_changes(partner_client, started_integration):
    endpoints = step(started_integration, "endpoints-implementation")
    rows = StepChange.objects.count()

    with on(KICKOFF):
        response = partner_client.post(
            reverse("stage-step-action", args=[endpoints.pk, "block"]), {"note": "waiting\x00for keys"}
        )

    refused_page(response)
    assert step(started_integration, "endpoints-implementation").status == endpoints.status
    assert StepChange.objects.count() == rows


def test_the_dashboard_search_with_a_nul_is_refused(staff_client, started_integration):
    refused_page(staff_client.get("/?q=%00"))
    refused_page(staff_client.get("/?q=acme%00"))


def test_an_admin_search_with_a_nul_is_refused(staff_client, started_integration):
    refused_page(staff_client.get("/admin/integrations/integration/?q=%00"))


def test_an_api_filter_with_a_nul_is_refused_in_the_apis_shape(pm, started_integration):
    client = Client()
    client.force_login(pm)

    refused_api(client.get("/api/v1/integrations/?q=%00"))
    refused_api(client.get("/api/v1/integrations/?pm=%00"))


def test_a_nul_in_the_apis_json_is_refused_the_same_way(pm, started_integration):
    client = Client()
    client.force_login(pm)
    onboarding = step(started_integration, "slack-jira-onboarding")

    for body in ({"note": "a\x00b"}, {"no\x00te": "x"}, {"note": ["a", {"b": "c\x00"}]}):
        with on(KICKOFF):
            response = client.post(
                f"/api/v1/steps/{onboarding.pk}/block/", json.dumps(body), content_type="application/json"
            )
        refused_api(response)
    assert step(started_integration, "slack-jira-onboarding").status == onboarding.status


def test_a_nul_in_the_path_or_a_field_name_is_refused(staff_client, partner_client, started_integration):
    refused_page(partner_client.get("/partner/integrations/%00/"))
    endpoints = step(started_integration, "endpoints-implementation")
    refused_page(
        partner_client.post(reverse("stage-step-action", args=[endpoints.pk, "block"]), {"no\x00te": "x", "note": "y"})
    )


def test_a_nul_in_an_url_encoded_form_field_is_refused(partner_client, started_integration):
    # The test client sends multipart forms; browsers send most forms URL-encoded.
    endpoints = step(started_integration, "endpoints-implementation")
    response = partner_client.post(
        reverse("stage-step-action", args=[endpoints.pk, "block"]),
        "note=a%00b",
        content_type="application/x-www-form-urlencoded",
    )
    refused_page(response)


def test_text_that_only_looks_like_a_nul_passes(staff_client, started_integration):
    # "%2500" is the text "%00", not the character.
    assert staff_client.get("/?q=%2500").status_code == 200
    assert staff_client.get("/?q=acme").status_code == 200
