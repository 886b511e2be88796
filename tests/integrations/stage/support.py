"""Partners, integrations and a quick walk along the roadmap for the stage tests."""

from integrations.models import PartnerUser
from integrations.steps import apply_action
from tests.default_plan import STEP_CODES
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory
from tests.integrations.helpers import ctx, step

# The steps before "production-deployment", in the order the roadmap allows them to be done.
BEFORE_DEPLOYMENT = STEP_CODES[: STEP_CODES.index("production-deployment")]


def complete(integration, codes, by):
    """Mark ``codes`` done in order, as ``by`` (a staff user), from the web."""
    for code in codes:
        apply_action(step(integration, code), "complete", ctx(by))


def other_partner_user(username="eve.other", partner_name="Other Broker Ltd"):
    """A user of another partner, with an integration of its own."""
    partner = PartnerFactory(name=partner_name, time_zone="America/New_York")
    user = UserFactory(username=username)
    PartnerUser.objects.create(user=user, partner=partner)
    return user, IntegrationFactory(partner=partner)
