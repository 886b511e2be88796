"""The integration page shows the P50 and P85 launch beside the rule-based forecast, with the sentence."""

import pytest
from django.urls import reverse

from integrations.forecast import refresh_forecasts
from integrations.models import Integration
from tests.integrations.helpers import on

pytestmark = pytest.mark.django_db


def test_the_page_shows_p50_p85_and_what_drives_the_risk(client, pm, started_integration):
    with on("2026-03-10"):
        refresh_forecasts()
        client.force_login(pm)
        html = client.get(reverse("integration-page", args=[started_integration.pk])).content.decode()
    stored = Integration.objects.get(pk=started_integration.pk)
    part = html[html.index('id="launch-confidence"') :][:800]
    assert f"P50 {stored.forecast_p50.day} {stored.forecast_p50:%b %Y}" in part
    assert f"P85 {stored.forecast_p85.day} {stored.forecast_p85:%b %Y}" in part
    assert "Risk: " in part and "no history yet" in part
    assert "does not see the P50" in part


def test_before_a_forecast_the_page_says_so(client, pm, started_integration):
    client.force_login(pm)
    html = client.get(reverse("integration-page", args=[started_integration.pk])).content.decode()
    assert "not forecast yet" in html[html.index('id="launch-confidence"') :][:400]


def test_the_portfolio_sorts_by_p85_from_stored_columns_in_the_same_queries(client, pm, settings):
    from datetime import date

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.integrations.dashboard.test_portfolio import portfolio_of

    settings.JIRA_ENABLED = True
    settings.SLACK_ENABLED = True
    portfolio_of(5, pm)
    ids = list(Integration.objects.order_by("pk").values_list("pk", flat=True))
    for n, pk in enumerate(ids):
        # The last made gets the earliest P85: the sort is not the order they were made in.
        Integration.objects.filter(pk=pk).update(forecast_p50=date(2026, 6, 1), forecast_p85=date(2026, 6, 30 - n))
    client.force_login(pm)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("portfolio"), {"sort": "p85"})
    assert [row.integration.pk for row in response.context["rows"]] == ids[::-1]
    assert len(captured) == 8  # as many as the portfolio's default sort (test_portfolio)
    html = response.content.decode()
    assert "Launch P85" in html and "26 Jun 2026" in html
