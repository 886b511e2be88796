"""Personas for the REST API tests: who calls, with a session or a Bearer token, and how.

Every persona is a ``Caller``: a Django test client that sends JSON and, for tokens, the
``Authorization: Bearer`` header. The personas are those of the contract: staff (session and
token), the partner's own user, another partner's user, a user with no partner, anonymous,
and the tokens that must not work (revoked, expired, an inactive user's).
"""

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from integrations import plan
from integrations.api.models import ApiToken
from integrations.models import PartnerUser
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on

API = "/api/v1"


class Caller:
    """A client of the API: ``get``/``post``/``patch``/``put``/``delete`` with JSON bodies."""

    def __init__(self, client: Client, raw_token: str = ""):
        self.client = client
        self.raw_token = raw_token

    def _send(self, method, path, data=None, headers=None, **extra):
        # Absolute links (a list's "next") are followed as given.
        url = path if path.startswith(("/", "http://", "https://")) else f"{API}/{path}"
        kwargs = {"headers": headers or {}, **extra}
        if data is not None and method != "get":
            kwargs.setdefault("content_type", "application/json")
            kwargs["data"] = json.dumps(data) if kwargs["content_type"] == "application/json" else data
        elif data is not None:
            kwargs["data"] = data
        return getattr(self.client, method)(url, **kwargs)

    def get(self, path, params=None, **extra):
        return self._send("get", path, params, **extra)

    def post(self, path, data=None, **extra):
        return self._send("post", path, {} if data is None else data, **extra)

    def patch(self, path, data=None, **extra):
        return self._send("patch", path, {} if data is None else data, **extra)

    def put(self, path, data=None, **extra):
        return self._send("put", path, {} if data is None else data, **extra)

    def delete(self, path, **extra):
        return self._send("delete", path, None, **extra)


def bearer(raw: str) -> Client:
    return Client(headers={"Authorization": f"Bearer {raw}"})


def token_for(user, **fields) -> tuple[ApiToken, str]:
    return ApiToken.issue(user=user, name=fields.pop("name", "tests"), **fields)


def caller_for(user, **fields) -> Caller:
    row, raw = token_for(user, **fields)
    return Caller(bearer(raw), raw)


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """The throttle counts requests in the cache, keyed by user or token id; ids come back between tests."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def other_partner(db):
    return PartnerFactory(name="Zeta Brokerage", kind="broker", time_zone="Asia/Tokyo", notes="Zeta: internal only")


@pytest.fixture
def other_integration(other_partner, pm):
    """Zeta's integration, kicked off the same Monday as Acme's."""
    integration = IntegrationFactory(partner=other_partner, tv_pm=pm, name="Zeta REST")
    with on(KICKOFF, 9):
        return plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))


@pytest.fixture
def world(started_integration, other_integration, partner, other_partner):
    """Two partners, each with a running integration: Acme's (``partner_user``'s) and Zeta's."""
    return started_integration


@pytest.fixture
def other_partner_user(other_partner):
    user = UserFactory(username="carol.zeta", first_name="Carol")
    PartnerUser.objects.create(user=user, partner=other_partner)
    return user


@pytest.fixture
def plain_user(db):
    """Logged-in somebody: neither staff nor on a partner's team."""
    return UserFactory(username="dave.nobody", first_name="Dave")


@pytest.fixture
def staff_session(pm) -> Caller:
    client = Client()
    client.force_login(pm)
    return Caller(client)


@pytest.fixture
def staff_api(pm) -> Caller:
    return caller_for(pm, name="staff script")


@pytest.fixture
def partner_api(partner_user) -> Caller:
    return caller_for(partner_user, name="acme ci")


@pytest.fixture
def other_partner_api(other_partner_user) -> Caller:
    return caller_for(other_partner_user, name="zeta ci")


@pytest.fixture
def plain_api(plain_user) -> Caller:
    return caller_for(plain_user)


@pytest.fixture
def anonymous_api(db) -> Caller:
    return Caller(Client())


@pytest.fixture
def revoked_api(pm) -> Caller:
    row, raw = token_for(pm, name="revoked")
    row.revoke()
    return Caller(bearer(raw), raw)


@pytest.fixture
def expired_api(pm) -> Caller:
    row, raw = token_for(pm, name="expired", expires_at=timezone.now() - timedelta(minutes=1))
    return Caller(bearer(raw), raw)


@pytest.fixture
def inactive_api(db) -> Caller:
    user = UserFactory(username="erin.gone", staff=True, is_active=False)
    return caller_for(user, name="inactive")


@pytest.fixture
def unknown_api(db) -> Caller:
    return Caller(bearer("not-a-token-anybody-issued"), "not-a-token-anybody-issued")


# The personas whose every request is refused with 401, whatever the endpoint.
REJECTED = ["anonymous_api", "revoked_api", "expired_api", "inactive_api", "unknown_api"]


@pytest.fixture
def persona(request):
    """The Caller named by an indirect parametrisation: ``@pytest.mark.parametrize("persona", [...], indirect=True)``."""
    return request.getfixturevalue(request.param)


def error_of(response, status: int, code: str) -> dict:
    """The JSON error body of ``response`` after checking its status and stable code."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body.get("message"), str) and body["message"], body
    return body


def names_field(body: dict, field: str) -> bool:
    """Whether an ``invalid`` body's ``fields`` names ``field`` (or an item of it: "data_types.0")."""
    return any(name == field or name.startswith((f"{field}.", f"{field}[")) for name in body.get("fields", {}))


def results(response) -> list:
    assert response.status_code == 200, (response.status_code, response.content[:500])
    body = response.json()
    assert set(body) >= {"count", "next", "previous", "results"}, body
    return body["results"]
