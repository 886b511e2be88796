"""A session opened by a magic link lives only as long as the link, on every way in: the stage
pages, their htmx partials and the API with the session. After the link is revoked or has
expired, the session is logged out and the request refused (the page: 410; the API: 401 JSON),
and nothing is written."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from integrations.stage.access import LINK_SESSION_KEY
from integrations.stage.models import MagicLink
from roadmap.models import StepStatus
from tests.integrations.helpers import step

pytestmark = pytest.mark.django_db

ENDINGS = ["revoked", "expired"]


@pytest.fixture
def link(partner_user, pm):
    row, _ = MagicLink.issue(user=partner_user, created_by=pm, expires_at=timezone.now() + timedelta(days=7))
    return row


def signed_in_by(client, link):
    """``client`` with a session opened by ``link``, as the magic-link view leaves it."""
    client.force_login(link.user)
    session = client.session
    session[LINK_SESSION_KEY] = link.pk
    session.save()
    return client


def end(link, how):
    """End ``link``; returns the time-machine traveller to run the request under (expiry)."""
    if how == "revoked":
        link.revoke()
        return time_machine.travel(timezone.now(), tick=True)
    return time_machine.travel(link.expires_at + timedelta(minutes=1), tick=False)


def assert_signed_out(client):
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("how", ENDINGS)
def test_the_stage_page_says_the_session_ended(client, link, started_integration, how):
    signed_in_by(client, link)
    page = reverse("stage-page", args=[started_integration.pk])
    assert client.get(page).status_code == 200
    with end(link, how):
        response = client.get(page)
    assert response.status_code == 410
    assert "Your session has ended" in response.content.decode()
    assert_signed_out(client)


@pytest.mark.parametrize("how", ENDINGS)
def test_the_api_read_is_401_json(client, link, started_integration, how):
    signed_in_by(client, link)
    assert client.get("/api/v1/integrations/").status_code == 200
    with end(link, how):
        response = client.get("/api/v1/integrations/")
    assert response.status_code == 401
    body = response.json()
    assert body["code"] == "session_ended" and "new link" in body["message"]
    assert_signed_out(client)


@pytest.mark.parametrize("how", ENDINGS)
def test_the_api_write_is_401_and_writes_nothing(client, link, started_integration, how):
    signed_in_by(client, link)
    path = f"/api/v1/integrations/{started_integration.pk}/handovers/beta-testers/"
    with end(link, how):
        response = client.put(path, json.dumps({"usernames": ["sneaky_tv"]}), content_type="application/json")
    assert response.status_code == 401
    assert response.json()["code"] == "session_ended"
    started_integration.refresh_from_db()
    assert started_integration.beta_testers == ""
    assert_signed_out(client)


@pytest.mark.parametrize("how", ENDINGS)
def test_an_htmx_partial_is_refused_and_the_browser_sent_to_the_ended_page(client, link, started_integration, how):
    signed_in_by(client, link)
    theirs = step(started_integration, "endpoints-implementation")
    before = theirs.status
    with end(link, how):
        response = client.post(
            reverse("stage-step-action", args=[theirs.pk, "start"]), {"note": ""}, headers={"HX-Request": "true"}
        )
    assert response.status_code == 410
    # htmx swaps no 4xx: it follows HX-Redirect to a page that says what happened.
    ended = response["HX-Redirect"]
    assert "Your session has ended" in client.get(ended).content.decode()
    theirs.refresh_from_db()
    assert theirs.status == before != StepStatus.IN_PROGRESS
    assert_signed_out(client)


def test_the_session_stays_ended(client, link, started_integration):
    signed_in_by(client, link)
    link.revoke()
    page = reverse("stage-page", args=[started_integration.pk])
    assert client.get(page).status_code == 410
    assert client.get(page)["Location"].startswith(reverse("login"))
    assert client.get("/api/v1/integrations/").json()["code"] == "not_authenticated"


def test_a_new_link_signs_in_again_after_the_old_one_ended(client, link, started_integration, partner_user):
    signed_in_by(client, link)
    link.revoke()
    _, raw = MagicLink.issue(user=partner_user, expires_at=timezone.now() + timedelta(days=7))
    # The ended session is logged out on the way, and the new link's page is shown, not the 410.
    response = client.get(reverse("stage-magic-link", args=[raw]))
    assert response.status_code in (200, 302)
    assert "Your session has ended" not in response.content.decode()


def test_a_live_link_session_works_on_the_api(client, link, started_integration):
    signed_in_by(client, link)
    path = f"/api/v1/integrations/{started_integration.pk}/handovers/beta-testers/"
    response = client.put(path, json.dumps({"usernames": ["bob_tv"]}), content_type="application/json")
    assert response.status_code == 200, response.content
