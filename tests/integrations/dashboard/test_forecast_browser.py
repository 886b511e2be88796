"""The launch odds in headless Chromium: the integration page shows the P50 and P85 with what drives
the risk, and the PM lets the partner see the P50 with one click (htmx), the history saying so; the
partner's stage page then shows it. The Jenkins half (a failure then a success moving the step, its
history saying jenkins) is ``test_jenkins_browser``.

Screenshots at 1440 and 390 px land in /tmp/forecast-more-*.png.
"""

import pytest
from django.utils.formats import date_format

from integrations.forecast import refresh_forecasts
from integrations.models import Integration
from tests.browser import needs_browser
from tests.integrations.dashboard.test_browser import login

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]
PHONE = {"width": 390, "height": 844}


def test_the_page_shows_the_odds_and_the_pm_shares_the_p50(page, pm, partner_user, started_integration):
    refresh_forecasts()
    stored = Integration.objects.get(pk=started_integration.pk)
    login(page, pm)
    page.goto(f"/integrations/{stored.pk}/")
    odds = page.locator("#launch-confidence")
    text = odds.inner_text()
    assert f"P50 {date_format(stored.forecast_p50, 'DATE_FORMAT')}" in text
    assert f"P85 {date_format(stored.forecast_p85, 'DATE_FORMAT')}" in text
    assert "Risk: " in text and "working days" in text
    assert "The partner does not see the P50 launch." in text
    page.locator("#summary").screenshot(path="/tmp/forecast-more-odds-1440.png")

    odds.locator("button", has_text="Show it to the partner").click()
    page.locator("#launch-confidence button", has_text="Hide it from the partner").wait_for()
    assert "The partner sees the P50 launch." in page.locator("#launch-confidence").inner_text()
    assert "The partner sees the P50 launch" in page.locator("#history").inner_text()  # swapped out of band
    assert Integration.objects.get(pk=stored.pk).partner_sees_forecast
    page.set_viewport_size(PHONE)
    page.goto(f"/integrations/{stored.pk}/#launch-confidence")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.locator("#launch-confidence").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/forecast-more-odds-390.png")

    page.context.clear_cookies()
    login(page, partner_user)
    page.goto(f"/partner/integrations/{stored.pk}/")
    assert date_format(stored.forecast_p50, "DATE_FORMAT") in page.locator("#likely-launch").inner_text()
    assert "P85" not in page.content()
    page.locator("#likely-launch").scroll_into_view_if_needed()
    page.screenshot(path="/tmp/forecast-more-stage-390.png")
