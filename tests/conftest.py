"""Personas and ready-made integrations shared by the tests."""

import pytest
import time_machine

from integrations import plan
from integrations.models import PartnerUser
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory
from tests.handover_servers import handover_servers  # noqa: F401  (real servers on 127.0.0.1 for URL checks)
from tests.integrations.helpers import KICKOFF, at, ctx


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Hash the personas' passwords cheaply: PBKDF2 costs half a second a user."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def pm(db):
    """Alice, TradingView's project manager for the integration (a staff user)."""
    return UserFactory(username="alice", first_name="Alice", staff=True)


@pytest.fixture
def partner_dev(db):
    """A developer on the partner's side: a user of the product, but not staff."""
    return UserFactory(username="dev.bob", first_name="Bob")


@pytest.fixture
def partner_user(partner_dev, partner):
    """Bob as a member of the partner's team: he may act on its partner-side steps only."""
    PartnerUser.objects.create(user=partner_dev, partner=partner)
    return partner_dev


@pytest.fixture
def partner(db):
    return PartnerFactory(name="Acme Crypto Exchange", kind="exchange", time_zone="Europe/Berlin")


@pytest.fixture
def integration(partner, pm):
    """A data-and-trading crypto integration with its own feed, not yet kicked off."""
    return IntegrationFactory(partner=partner, tv_pm=pm)


@pytest.fixture
def started_integration(integration, pm):
    """``integration`` kicked off on Monday 2026-03-02 by the PM, from the web, its standing stored as of then."""
    with time_machine.travel(at(KICKOFF, 9), tick=False):
        return plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
