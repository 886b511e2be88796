"""Checking a handed-over URL: validation writes nothing; a check saves the URL and records the probe."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.handovers.models import UrlCheck
from integrations.handovers.url_check import check_url, latest_checks
from integrations.models import Integration
from tests.factories import IntegrationFactory
from tests.integrations.handovers.helpers import passing_check

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "part, url, message",
    [
        ("trading", "http://broker.example.com/api", "not an https:// URL"),
        ("trading", "ftp://broker.example.com/api", "not an https:// URL"),
        ("trading", "", "Give the base URL"),
        ("trading", "https://" + "a" * 200 + ".com", "longer than 200"),
        ("nonsense", "https://broker.example.com/api", "not a part"),
    ],
)
def test_a_bad_url_writes_nothing(integration, pm, part, url, message):
    before = integration.trading_production_url

    with pytest.raises(ValidationError) as raised:
        check_url(integration, part, "production", url, by=pm)

    assert message in raised.value.message_dict["url"][0]
    assert UrlCheck.objects.count() == 0
    integration.refresh_from_db()
    assert integration.trading_production_url == before


def test_a_url_for_a_part_the_integration_lacks_is_refused(pm):
    data_only = IntegrationFactory(stocks_data_only=True)

    with pytest.raises(ValidationError) as raised:
        check_url(data_only, "trading", "production", "https://broker.example.com/api", by=pm)

    assert "has no trading part" in raised.value.message_dict["url"][0]
    assert UrlCheck.objects.count() == 0


def test_a_check_saves_the_url_and_records_the_probe(integration, partner_user, handover_servers):
    check = check_url(integration, "trading", "production", f"  {handover_servers.good}  ", by=partner_user)

    integration.refresh_from_db()
    assert integration.trading_production_url == handover_servers.good
    assert check.pk and check.passed
    assert (check.part, check.environment, check.url) == ("trading", "production", handover_servers.good)
    assert check.checked_by == partner_user
    assert check.status_code == 401 and check.elapsed_ms is not None


def test_a_failing_check_is_recorded_too(integration, pm, handover_servers):
    check = check_url(integration, "trading", "staging", handover_servers.no_cors, by=pm)

    assert check.outcome == UrlCheck.Outcome.NO_CORS
    assert Integration.objects.get(pk=integration.pk).trading_staging_url == handover_servers.no_cors


def test_the_data_part_is_checked_without_cors(integration, pm, handover_servers):
    assert check_url(integration, "data", "production", handover_servers.no_cors, by=pm).passed


def test_latest_checks_keeps_the_latest_check_of_the_current_url_only(integration, pm, handover_servers):
    check_url(integration, "trading", "production", handover_servers.no_cors, by=pm)
    passed = check_url(integration, "trading", "production", handover_servers.good, by=pm)
    data = passing_check(integration, "data")
    staging_failure = check_url(integration, "trading", "staging", handover_servers.server_error, by=pm)
    integration.refresh_from_db()

    with CaptureQueriesContext(connection) as queries:
        latest = latest_checks(integration)

    assert len(queries) == 1
    assert latest == {
        ("trading", "production"): passed,
        ("data", "production"): data,
        ("trading", "staging"): staging_failure,
    }

    # Handing over another URL leaves it unchecked: an earlier check does not vouch for it.
    integration.trading_production_url = "https://other.example.com/api"
    assert ("trading", "production") not in latest_checks(integration)
