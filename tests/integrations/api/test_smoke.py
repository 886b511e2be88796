"""H3's smoke checks of the API's plumbing: the error shape at its edges, the docs page, CSRF.

The API's behaviour is tested at length by the other modules of this folder; these cover what
the builder checked by hand: the catch-all 404, the docs with no CDN, a session's CSRF check,
JSON only, and a step's actions as a partner's user sees them.
"""

import json

from django.test import Client

from tests.integrations.helpers import step


def test_unknown_paths_under_api_are_json_404s(db):
    for path in ("/api/", "/api/v2/partners/", "/api/v1/nothing-here/", "/api/v1/partners"):
        response = Client().get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found", path


def test_anonymous_is_401_with_a_bearer_challenge(db):
    response = Client().get("/api/v1/integrations/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["code"] == "not_authenticated"


def test_docs_page_serves_swagger_from_our_own_static_files(db):
    page = Client().get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html and "drf_spectacular_sidecar" in html
    assert "cdn." not in html and "unpkg" not in html
    schema = Client().get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/steps/{id}/complete/" in schema["paths"]


def test_a_session_must_send_its_csrf_token_for_changes(pm, world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(pm)
    url = f"/api/v1/integrations/{world.pk}/"
    assert client.get(url).status_code == 200
    response = client.patch(url, json.dumps({"spec_version": "2.0"}), content_type="application/json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    world.refresh_from_db()
    assert world.spec_version == "1.9"


def test_only_json_bodies_are_read(staff_api, world):
    url = f"integrations/{world.pk}/pause/"
    form = staff_api.post(url, "note=x", content_type="application/x-www-form-urlencoded")
    assert (form.status_code, form.json()["code"]) == (415, "unsupported_media_type")
    broken = staff_api.client.post(f"/api/v1/{url}", "{not json", content_type="application/json")
    assert (broken.status_code, broken.json()["code"]) == (400, "parse_error")
    world.refresh_from_db()
    assert world.state == "active"


def test_a_partner_user_sees_why_it_may_not_act_on_a_tradingview_step(partner_api, world):
    onboarding = step(world, "slack-jira-onboarding")
    actions = {a["name"]: a for a in partner_api.get(f"steps/{onboarding.pk}/").json()["actions"]}
    assert actions and not any(a["allowed"] for a in actions.values())
    assert {a["refusal"]["code"] for a in actions.values()} == {"not_allowed"}
    refused = partner_api.post(f"steps/{onboarding.pk}/complete/", {})
    assert (refused.status_code, refused.json()["code"]) == (403, "not_allowed")
