"""The API's health mark: staff read it on the list and the detail; a partner's users do not (it reads the P85)."""

import pytest

from integrations.models import Integration
from integrations.stored_standing import Health
from tests.integrations.api.conftest import results

pytestmark = pytest.mark.django_db


def test_staff_read_the_health_mark_on_the_list_and_the_detail(staff_api, world):
    Integration.objects.filter(pk=world.pk).update(health=Health.AT_RISK)
    listed = {row["id"]: row["standing"]["health"] for row in results(staff_api.get("integrations/"))}
    assert listed[world.pk] == "at_risk"
    detail = staff_api.get(f"integrations/{world.pk}/").json()
    assert detail["standing"]["health"] in {"late", "at_risk", "on_track"}  # live standing, stored P85


def test_a_partners_user_does_not_read_it(partner_api, world):
    Integration.objects.filter(pk=world.pk).update(health=Health.AT_RISK)
    [row] = [row for row in results(partner_api.get("integrations/")) if row["id"] == world.pk]
    assert row["standing"]["health"] is None
    assert partner_api.get(f"integrations/{world.pk}/").json()["standing"]["health"] is None
