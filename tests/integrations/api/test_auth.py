"""Who may call the API: sessions, Bearer tokens, the tokens that must not work, the admin, throttling.

The matrix below sends every read endpoint each persona of the contract: staff (session and
token) see everything, the partner's user its own partner only, another partner's user gets 404
on Acme's objects and lists without them, a user with no partner sees nothing, and anonymous,
revoked, expired, unknown and inactive users' tokens get 401.
"""

import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.api.models import ApiToken
from integrations.handovers.models import AuthorisationSheet, UrlCheck
from integrations.issued_tokens import token_digest
from integrations.models import Integration, IntegrationEvent, IntegrationStep, Partner, StepChange
from tests.factories import UserFactory
from tests.integrations.api.conftest import REJECTED, Caller, bearer, error_of, results, token_for
from tests.integrations.helpers import step

pytestmark = pytest.mark.django_db


def acme_paths(integration) -> dict[str, str]:
    """Every object endpoint of Acme's integration a reader may GET."""
    first = step(integration, "endpoints-implementation")
    return {
        "partner": f"partners/{integration.partner_id}/",
        "integration": f"integrations/{integration.pk}/",
        "steps": f"integrations/{integration.pk}/steps/",
        "step": f"steps/{first.pk}/",
        "history": f"integrations/{integration.pk}/history/",
        "jira": f"steps/{first.pk}/jira/",
        "handovers": f"integrations/{integration.pk}/handovers/",
    }


LISTS = ["partners/", "integrations/"]


# --- 401 for everyone who is not somebody ----------------------------------------------------


@pytest.mark.parametrize("persona", REJECTED, indirect=True)
def test_rejected_callers_get_401_everywhere(persona, world):
    for path in [*LISTS, "outbox/", *acme_paths(world).values()]:
        response = persona.get(path)
        error_of(response, 401, "not_authenticated")


@pytest.mark.parametrize("persona", ["revoked_api", "expired_api", "unknown_api", "inactive_api"], indirect=True)
def test_bad_tokens_are_told_to_use_bearer(persona, world):
    response = persona.get("integrations/")
    error_of(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def every_write(integration, partner) -> list[tuple[str, str, dict]]:
    """(method, path, body) of every endpoint that changes something, with a body that would do."""
    tv, theirs = step(integration, "slack-jira-onboarding"), step(integration, "endpoints-implementation")
    base = f"integrations/{integration.pk}"
    return [
        ("post", "partners/", {"name": "Sneaky Ltd"}),
        ("patch", f"partners/{partner.pk}/", {"notes": "changed"}),
        (
            "post",
            "integrations/",
            {
                "partner": partner.pk,
                "parts": "data",
                "data_types": ["crypto"],
                "data_source": "own_feed",
                "data_auth": "fixed_token",
            },
        ),
        ("patch", f"{base}/", {"spec_version": "9.9"}),
        ("post", f"{base}/replan/", {"kickoff_on": "2026-12-07", "reason": "moved"}),
        ("post", f"{base}/pause/", {"note": "stop"}),
        ("post", f"{base}/resume/", {"note": "go"}),
        *[("post", f"steps/{s.pk}/{a}/", {"note": "x"}) for s in (tv, theirs) for a in ("start", "complete", "block")],
        ("post", f"{base}/handovers/urls/", {"part": "data", "environment": "staging", "url": "https://127.0.0.1/"}),
        ("put", f"{base}/handovers/beta-testers/", {"usernames": ["sneaky_tv"]}),
        ("put", f"{base}/handovers/sheets/trading/", {"client_id": "sneaky"}),
    ]


def snapshot(integration) -> tuple:
    return (
        list(Partner.objects.order_by("pk").values()),
        list(Integration.objects.order_by("pk").values()),
        list(IntegrationStep.objects.order_by("pk").values()),
        StepChange.objects.count(),
        IntegrationEvent.objects.count(),
        UrlCheck.objects.count(),
        AuthorisationSheet.objects.count(),
    )


@pytest.mark.parametrize("persona", REJECTED, indirect=True)
def test_rejected_callers_change_nothing(persona, world, partner):
    before = snapshot(world)
    for method, path, data in every_write(world, partner):
        error_of(getattr(persona, method)(path, data), 401, "not_authenticated")
    assert snapshot(world) == before


@pytest.mark.parametrize("persona", ["other_partner_api", "plain_api"], indirect=True)
def test_outsiders_change_nothing_of_acme(persona, world, partner):
    before = snapshot(world)
    for method, path, data in every_write(world, partner):
        response = getattr(persona, method)(path, data)
        # 404 hides Acme's objects; staff-only endpoints may answer 403 before looking.
        assert response.status_code in (403, 404), (path, response.status_code)
        assert response.json()["code"] in ("permission_denied", "not_found"), path
    assert snapshot(world) == before


@pytest.mark.parametrize("persona", ["staff_session", "staff_api"], indirect=True)
def test_staff_writes_through_session_and_token(persona, world, partner):
    for method, path, data in every_write(world, partner):
        if path.endswith(("resume/", "/start/", "/complete/", "/block/")) or "handovers" in path:
            continue  # their outcomes depend on order; test_steps and test_handovers cover them
        response = getattr(persona, method)(path, data)
        assert response.status_code in (200, 201), (path, response.status_code, response.content[:300])


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer ", "Token abc", "Basic Zm9vOmJhcg==", "Bearer a b", "bearer " + "x" * 5000, "Bearer \x00"],
)
def test_malformed_authorization_headers_are_401_not_500(header, world):
    response = Client(headers={"Authorization": header}).get("/api/v1/integrations/")
    error_of(response, 401, "not_authenticated")


def test_a_token_expiring_later_works_until_then(pm, world, time_machine):
    row, raw = token_for(pm, expires_at=timezone.now() + timezone.timedelta(hours=1))
    api = Caller(bearer(raw))
    assert api.get("integrations/").status_code == 200
    time_machine.move_to(timezone.now() + timezone.timedelta(hours=2))
    error_of(api.get("integrations/"), 401, "not_authenticated")


def test_use_of_a_token_is_recorded(pm, world):
    row, raw = token_for(pm)
    assert row.last_used_at is None
    assert Caller(bearer(raw)).get("integrations/").status_code == 200
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_deactivating_a_user_stops_its_token(pm, world):
    row, raw = token_for(pm)
    api = Caller(bearer(raw))
    assert api.get("integrations/").status_code == 200
    pm.is_active = False
    pm.save()
    error_of(api.get("integrations/"), 401, "not_authenticated")


# --- staff see everything ---------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["staff_session", "staff_api"], indirect=True)
def test_staff_read_every_endpoint(persona, world, other_integration):
    for path in [*LISTS, "outbox/", *acme_paths(world).values(), *acme_paths(other_integration).values()]:
        assert persona.get(path).status_code == 200, path
    assert {row["id"] for row in results(persona.get("integrations/"))} == {world.pk, other_integration.pk}
    names = {row["name"] for row in results(persona.get("partners/"))}
    assert {"Acme Crypto Exchange", "Zeta Brokerage"} <= names


def test_staff_see_partner_notes(staff_api, world, other_partner):
    body = staff_api.get(f"partners/{other_partner.pk}/").json()
    assert body["notes"] == "Zeta: internal only"


# --- a partner's user: its own partner only ---------------------------------------------------


def test_partner_user_reads_its_own_objects(partner_api, world):
    for name, path in acme_paths(world).items():
        assert partner_api.get(path).status_code == 200, name


def test_partner_user_lists_only_its_own(partner_api, world, other_integration, partner):
    assert [row["id"] for row in results(partner_api.get("integrations/"))] == [world.pk]
    assert [row["id"] for row in results(partner_api.get("partners/"))] == [partner.pk]
    assert results(partner_api.get("integrations/", {"state": "all"})) == results(partner_api.get("integrations/"))


def test_partner_user_never_sees_notes(partner_api, world, partner):
    partner.notes = "Acme pays late; internal."
    partner.save()
    for path in ["partners/", f"partners/{partner.pk}/", f"integrations/{world.pk}/", "integrations/"]:
        response = partner_api.get(path)
        assert response.status_code == 200, path
        assert "Acme pays late" not in response.content.decode(), path
    assert "notes" not in partner_api.get(f"partners/{partner.pk}/").json()


def test_partner_user_gets_404_on_another_partners_objects(partner_api, world, other_integration):
    for path in acme_paths(other_integration).values():
        error_of(partner_api.get(path), 404, "not_found")


@pytest.mark.parametrize("persona", ["other_partner_api", "plain_api"], indirect=True)
def test_outsiders_get_404_on_acme_objects(persona, world):
    for path in acme_paths(world).values():
        error_of(persona.get(path), 404, "not_found")


def test_a_user_without_partner_sees_empty_lists(plain_api, world):
    for path in LISTS:
        assert results(plain_api.get(path)) == [], path


def test_another_partners_user_lists_only_its_own(other_partner_api, world, other_integration, other_partner):
    assert [row["id"] for row in results(other_partner_api.get("integrations/"))] == [other_integration.pk]
    assert [row["id"] for row in results(other_partner_api.get("partners/"))] == [other_partner.pk]


@pytest.mark.parametrize("persona", ["partner_api", "other_partner_api", "plain_api"], indirect=True)
def test_outbox_is_staff_only(persona, world):
    error_of(persona.get("outbox/"), 403, "permission_denied")


@pytest.mark.parametrize("persona", ["partner_api", "other_partner_api", "plain_api"], indirect=True)
def test_staff_only_writes_are_refused_to_non_staff(persona, world, partner):
    partners, integrations = Partner.objects.count(), Integration.objects.count()
    error_of(persona.post("partners/", {"name": "Sneaky Ltd"}), 403, "permission_denied")
    error_of(
        persona.post("integrations/", {"partner": partner.pk, "name": "Sneaky", "parts": "data"}),
        403,
        "permission_denied",
    )
    for response in (
        persona.patch(f"partners/{partner.pk}/", {"notes": "hacked"}),
        persona.patch(f"integrations/{world.pk}/", {"spec_version": "9.9"}),
        persona.post(f"integrations/{world.pk}/pause/", {"note": "stop"}),
        persona.post(f"integrations/{world.pk}/replan/", {"reason": "move", "kickoff_on": "2026-04-06"}),
    ):
        # Staff-only endpoints are 403; an outsider may instead get the 404 that hides Acme.
        assert response.status_code in (403, 404), response.content
        assert response.json()["code"] in ("permission_denied", "not_found")
    partner.refresh_from_db()
    world.refresh_from_db()
    assert (Partner.objects.count(), Integration.objects.count()) == (partners, integrations)
    assert partner.notes == "" and world.spec_version == "1.9" and world.state == "active"
    assert world.kickoff_on.isoformat() == "2026-03-02"


def test_partner_user_is_403_on_staff_only_writes_to_its_own_integration(partner_api, world, partner):
    error_of(partner_api.patch(f"integrations/{world.pk}/", {"spec_version": "9.9"}), 403, "permission_denied")
    error_of(partner_api.patch(f"partners/{partner.pk}/", {"notes": "x"}), 403, "permission_denied")
    error_of(partner_api.post(f"integrations/{world.pk}/pause/", {"note": "x"}), 403, "permission_denied")


# --- tokens in the admin ------------------------------------------------------------------------


def add_token_in_admin(client, user, name="release dashboard"):
    response = client.post(
        reverse("admin:integrations_apitoken_add"),
        {"user": user.pk, "name": name, "expires_at_0": "", "expires_at_1": ""},
        follow=True,
    )
    assert response.status_code == 200
    return response


@pytest.fixture(params=["staff", "superuser"])
def admin_user(request, db):
    """Any active staff member may issue and revoke tokens, not only superusers."""
    return UserFactory(username=f"admin-{request.param}", staff=True, is_superuser=request.param == "superuser")


def test_admin_creates_a_token_shown_once_that_works(client, admin_user, partner_user, world):
    client.force_login(admin_user)
    response = add_token_in_admin(client, partner_user)
    texts = [str(m) for m in get_messages(response.wsgi_request)] or [m.message for m in response.context["messages"]]
    shown = " ".join(texts)
    row = ApiToken.objects.get(user=partner_user)
    raw = next(t for t in re.findall(r"[A-Za-z0-9_\-]{40,}", shown) if token_digest(t) == row.token_hash)
    assert row.created_by == admin_user and row.name == "release dashboard"
    # Only the hash is stored: the raw token is in no column.
    assert raw not in str(list(ApiToken.objects.values_list()))
    assert row.prefix == raw[:8]
    # It works, as the partner user.
    api = Caller(bearer(raw))
    assert [r["id"] for r in results(api.get("integrations/"))] == [world.pk]
    # Shown once: neither the change page nor the list shows it again.
    for url in (
        reverse("admin:integrations_apitoken_change", args=[row.pk]),
        reverse("admin:integrations_apitoken_changelist"),
    ):
        page = client.get(url)
        assert page.status_code == 200
        assert raw not in page.content.decode()
        assert row.token_hash not in page.content.decode()


def test_admin_revoke_action_stops_the_token(client, admin_user, pm, world):
    row, raw = token_for(pm)
    api = Caller(bearer(raw))
    assert api.get("integrations/").status_code == 200
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:integrations_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [row.pk]},
        follow=True,
    )
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.state == "revoked"
    error_of(api.get("integrations/"), 401, "not_authenticated")
    listing = client.get(reverse("admin:integrations_apitoken_changelist")).content.decode()
    assert row.prefix in listing and "revoked" in listing
    assert row.token_hash not in listing


def test_admin_token_pages_are_staff_only(client, partner_user):
    client.force_login(partner_user)
    response = client.get(reverse("admin:integrations_apitoken_add"))
    assert response.status_code == 302  # to the admin's log-in
    assert ApiToken.objects.count() == 0


# --- throttling ---------------------------------------------------------------------------------


def test_throttled_after_the_rate(settings, staff_api, world):
    settings.API_THROTTLE_RATE = "3/min"
    for _ in range(3):
        assert staff_api.get("integrations/").status_code == 200
    response = staff_api.get("integrations/")
    body = error_of(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert re.search(r"retry in \d+ s", body["message"]), body


def test_throttle_counts_per_token(settings, pm, partner_user, world):
    settings.API_THROTTLE_RATE = "2/min"
    first, second = Caller(bearer(token_for(pm)[1])), Caller(bearer(token_for(partner_user)[1]))
    for _ in range(2):
        assert first.get("integrations/").status_code == 200
    assert first.get("integrations/").status_code == 429
    assert second.get("integrations/").status_code == 200


def test_throttle_counts_sessions_per_user(settings, staff_session, world):
    settings.API_THROTTLE_RATE = "2/min"
    assert staff_session.get("integrations/").status_code == 200
    assert staff_session.get("integrations/").status_code == 200
    error_of(staff_session.get("integrations/"), 429, "throttled")


def test_an_inactive_users_session_is_401(pm, world):
    client = Client()
    client.force_login(pm)
    pm.is_active = False
    pm.save()
    error_of(Caller(client).get("integrations/"), 401, "not_authenticated")


def test_a_user_taken_off_the_partners_team_sees_nothing(partner_api, partner_user, world):
    assert results(partner_api.get("integrations/"))
    partner_user.partner_account.delete()
    assert results(partner_api.get("integrations/")) == []
    error_of(partner_api.get(f"integrations/{world.pk}/"), 404, "not_found")


def test_a_partner_users_session_sees_what_its_token_does(partner_user, world, other_integration):
    client = Client()
    client.force_login(partner_user)
    session = Caller(client)
    assert [r["id"] for r in results(session.get("integrations/"))] == [world.pk]
    error_of(session.get(f"integrations/{other_integration.pk}/"), 404, "not_found")
    error_of(session.get("outbox/"), 403, "permission_denied")


def test_a_session_change_with_its_csrf_token_goes_through(pm, world):
    """The pages' htmx sends the CSRF token in a header; that is all a session change needs."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(pm)
    client.get(reverse("login"))  # sets the CSRF cookie, as any page does
    token = client.cookies["csrftoken"].value
    target = step(world, "slack-jira-onboarding")
    response = client.post(
        f"/api/v1/steps/{target.pk}/start/", "{}", content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200, response.content
    assert step(world, "slack-jira-onboarding").status == "in_progress"
