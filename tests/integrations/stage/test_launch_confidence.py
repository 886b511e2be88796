"""The partner's stage page shows the P50 launch only when TradingView's PM allows it, never the P85."""

import pytest
from django.urls import reverse

from integrations.forecast import refresh_forecasts
from integrations.models import Integration
from tests.integrations.helpers import on

pytestmark = pytest.mark.django_db


def stage_html(client, partner_user, integration):
    client.force_login(partner_user)
    return client.get(reverse("stage-page", args=[integration.pk])).content.decode()


def test_the_partner_does_not_see_the_forecast_by_default(client, partner_user, started_integration):
    with on("2026-03-10"):
        refresh_forecasts()
        html = stage_html(client, partner_user, started_integration)
    assert Integration.objects.get(pk=started_integration.pk).forecast_p50 is not None
    assert 'id="likely-launch"' not in html
    assert "P85" not in html


def test_the_partner_sees_the_p50_when_the_pm_allows_it(client, partner_user, started_integration):
    Integration.objects.filter(pk=started_integration.pk).update(partner_sees_forecast=True)
    with on("2026-03-10"):
        refresh_forecasts()
        html = stage_html(client, partner_user, started_integration)
    stored = Integration.objects.get(pk=started_integration.pk)
    assert f'id="likely-launch">{stored.forecast_p50.day} {stored.forecast_p50:%b %Y}' in html
    assert "P85" not in html and stored.forecast_risk not in html
