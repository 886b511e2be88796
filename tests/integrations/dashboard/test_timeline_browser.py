"""The portfolio's timeline in headless Chromium with the demo portfolio (``seed_demo``): every running
integration drawn, sorted by health from its header links, and at 390 px the page never scrolls sideways
while the chart scrolls inside its card. Screenshots: /tmp/timeline-health-timeline-{1440,390}.png.
"""

from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from integrations.forecast import refresh_forecasts
from integrations.models import Integration
from tests.browser import needs_browser, reopen
from tests.factories import latest_default_template
from tests.integrations.dashboard.test_phone_browser import DESKTOP, PHONE, WIDE_ELEMENTS

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]


def test_the_demo_portfolio_in_time_at_1440_and_390_px(page):
    latest_default_template()  # the roadmap's data migration, flushed by a transactional test run before
    call_command("seed_demo", "--allow-outside-embedded", stdout=StringIO(), stderr=StringIO())
    refresh_forecasts()  # the daily refresh's P85, as beat writes it
    running = Integration.objects.running().count()
    assert running >= 5
    page.goto("/accounts/login/")
    page.fill("#id_username", settings.DEMO_USERNAME)
    page.fill("#id_password", settings.DEMO_PASSWORD)
    page.locator("#id_password").press("Enter")
    page.wait_for_load_state("networkidle")

    page.get_by_role("link", name="Timeline", exact=True).click()
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "Timeline"
    assert page.locator("table.portfolio-timeline tbody tr").count() == running
    assert page.locator("tbody svg line.today").count() == running
    assert page.locator("tbody svg rect.window").count() >= 1
    page.locator(".sorts a[data-sort='health']").click()
    page.wait_for_load_state("networkidle")
    marks = page.locator("tbody [data-health]").evaluate_all("els => els.map(e => e.dataset.health)")
    order = {"late": 0, "at_risk": 1, "on_track": 2}
    assert marks == sorted(marks, key=order.__getitem__) and len(marks) == running
    page.set_viewport_size(DESKTOP)
    page.screenshot(path="/tmp/timeline-health-timeline-1440.png", full_page=True)

    page.set_viewport_size(PHONE)
    reopen(page)
    page.screenshot(path="/tmp/timeline-health-timeline-390.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, page.evaluate(WIDE_ELEMENTS)
    scroller = page.locator(".timeline-scroll")
    assert page.evaluate("e => e.scrollWidth > e.clientWidth", scroller.element_handle())
    scroller.evaluate("e => { e.scrollLeft = 400; }")
    page.screenshot(path="/tmp/timeline-health-timeline-390-scrolled.png")
