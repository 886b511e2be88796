"""One format for dates ("27 Nov 2026") and one for date-times ("27 Nov 2026, 21:05"), in the
pages and the admin (config/formats/en_GB/formats.py); machine formats stay ISO."""

from datetime import date, datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from integrations import plan
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on


def test_the_formats():
    moment = timezone.make_aware(datetime(2026, 11, 27, 21, 5))
    assert date_format(date(2026, 11, 27)) == "27 Nov 2026"
    assert date_format(date(2026, 11, 27), "SHORT_DATE_FORMAT") == "27 Nov 2026"
    assert date_format(moment, "DATETIME_FORMAT") == "27 Nov 2026, 21:05"
    assert date_format(moment, "SHORT_DATETIME_FORMAT") == "27 Nov 2026, 21:05"


@pytest.fixture
def started(pm):
    integration = IntegrationFactory(partner=PartnerFactory(name="Acme Broker"), tv_pm=pm)
    with on(KICKOFF, 9):
        return plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))


@pytest.mark.django_db
def test_my_queue_and_the_admin_write_dates_the_one_way(client, pm, started):
    pm.is_superuser = True
    pm.save(update_fields=["is_superuser"])
    client.force_login(pm)
    with on(date(2026, 3, 6)):
        queue = client.get(reverse("my-queue")).content.decode()
        admin_page = client.get(reverse("admin:integrations_integration_change", args=[started.pk])).content.decode()
        csv_body = client.get(reverse("portfolio-csv")).content.decode()
    assert "5 Mar 2026" in queue and "2026-03-05" not in queue and "Thu 5 Mar<" not in queue
    assert "deadline 5 Mar 2026" in admin_page  # the standing panel
    assert "a.m." not in admin_page and "p.m." not in admin_page and "/03/2026" not in admin_page
    assert "2026-" in csv_body  # the export stays ISO
