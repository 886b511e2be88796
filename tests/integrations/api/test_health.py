"""The API's health mark: staff read it on the list and the detail; a partner's users do not (it reads the P85)."""

from datetime import date, timedelta

import pytest

from integrations.models import Integration
from tests.integrations.api.conftest import results
from tests.integrations.helpers import on

pytestmark = pytest.mark.django_db

TUESDAY = date(2026, 3, 3)  # the day after the kick-off: nothing owed is late yet


def at_risk(integration):
    """A P85 a week after the planned launch: at risk while nothing owed is late."""
    Integration.objects.filter(pk=integration.pk).update(forecast_p85=integration.planned_launch_on + timedelta(days=7))


def test_staff_read_the_health_mark_on_the_list_and_the_detail(staff_api, world):
    at_risk(world)
    with on(TUESDAY):
        listed = {row["id"]: row["standing"]["health"] for row in results(staff_api.get("integrations/"))}
        detail = staff_api.get(f"integrations/{world.pk}/").json()
    assert listed[world.pk] == "at_risk"
    assert detail["standing"]["health"] == "at_risk"  # the live standing with the stored P85
    with on(date(2026, 3, 9)):  # the first deadlines have ended
        assert staff_api.get(f"integrations/{world.pk}/").json()["standing"]["health"] == "late"


def test_a_partners_user_does_not_read_it(partner_api, world):
    at_risk(world)
    with on(TUESDAY):
        [row] = [row for row in results(partner_api.get("integrations/")) if row["id"] == world.pk]
        assert row["standing"]["health"] is None
        assert partner_api.get(f"integrations/{world.pk}/").json()["standing"]["health"] is None
