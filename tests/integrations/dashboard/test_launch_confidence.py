"""The integration page shows the P50 and P85 launch beside the rule-based forecast, with the sentence."""

import pytest
from django.urls import reverse
from django.utils.formats import date_format

from integrations.forecast import refresh_forecasts
from integrations.models import Integration, IntegrationEvent
from tests.integrations.helpers import on

pytestmark = pytest.mark.django_db


def test_the_page_shows_p50_p85_and_what_drives_the_risk(client, pm, started_integration):
    with on("2026-03-10"):
        refresh_forecasts()
        client.force_login(pm)
        html = client.get(reverse("integration-page", args=[started_integration.pk])).content.decode()
    stored = Integration.objects.get(pk=started_integration.pk)
    part = html[html.index('id="launch-confidence"') :][:800]
    assert f"P50 {date_format(stored.forecast_p50, 'DATE_FORMAT')}" in part
    assert f"P85 {date_format(stored.forecast_p85, 'DATE_FORMAT')}" in part
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


def switch(client, integration, shown, htmx=True):
    headers = {"HX-Request": "true"} if htmx else {}
    return client.post(reverse("integration-forecast-shown", args=[integration.pk]), {"shown": shown}, headers=headers)


def test_the_pm_lets_the_partner_see_the_p50_then_stops_from_the_page(client, pm, partner_user, started_integration):
    with on("2026-03-10"):
        refresh_forecasts()
        client.force_login(pm)
        answer = switch(client, started_integration, "on")
        html = answer.content.decode()
        stored = Integration.objects.get(pk=started_integration.pk)
        assert stored.partner_sees_forecast
        assert 'id="launch-confidence"' in html and "Hide it from the partner" in html
        assert 'id="history" aria-labelledby="history-title" hx-swap-oob="true"' in html
        assert "The partner sees the P50 launch" in html
        client.force_login(partner_user)
        stage = client.get(reverse("stage-page", args=[stored.pk])).content.decode()
        assert f'id="likely-launch">{date_format(stored.forecast_p50, "DATE_FORMAT")}' in stage
        client.force_login(pm)
        switch(client, started_integration, "off")
        client.force_login(partner_user)
        stage = client.get(reverse("stage-page", args=[stored.pk])).content.decode()
        assert 'id="likely-launch"' not in stage
    rows = IntegrationEvent.objects.filter(integration=stored, kind=IntegrationEvent.Kind.FORECAST_SHOWN).order_by("id")
    assert [(r.to_value, r.by) for r in rows] == [("shown", pm), ("hidden", pm)]
    assert not any(r.shared_with_partner for r in rows)


def test_switching_to_what_already_holds_writes_no_row(client, pm, started_integration):
    client.force_login(pm)
    answer = switch(client, started_integration, "off", htmx=False)
    assert answer.status_code == 302
    assert not IntegrationEvent.objects.filter(kind=IntegrationEvent.Kind.FORECAST_SHOWN).exists()


def test_a_bad_switch_is_refused_with_a_message(client, pm, started_integration):
    client.force_login(pm)
    answer = switch(client, started_integration, "maybe")
    assert answer.status_code == 400 and b"shown=on or shown=off" in answer.content
    assert not Integration.objects.get(pk=started_integration.pk).partner_sees_forecast


def test_only_staff_switch_it(client, partner_user, started_integration):
    client.force_login(partner_user)
    answer = switch(client, started_integration, "on")
    assert answer.status_code in (302, 403)
    assert not Integration.objects.get(pk=started_integration.pk).partner_sees_forecast
