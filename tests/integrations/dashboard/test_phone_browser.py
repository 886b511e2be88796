"""Every page at 390 px in headless Chromium: the page itself never scrolls sideways
(``document.documentElement.scrollWidth <= 390``); wide tables, the timeline and insight's charts
scroll inside their card.

Screenshots at 1440 and 390 px land in /tmp/chase-<page>-<width>.png.
"""

import pytest

from integrations.steps import complete_step
from tests.browser import needs_browser
from tests.factories import latest_default_template
from tests.integrations.dashboard.test_browser import login
from tests.integrations.helpers import ctx, step

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


# The elements that stick out of the page and are not inside a scrolling box: said when a page fails.
WIDE_ELEMENTS = """() => {
  const width = document.documentElement.clientWidth, out = [];
  for (const e of document.querySelectorAll('body *')) {
    if (e.getBoundingClientRect().right <= width + 1 && e.scrollWidth <= e.clientWidth + 1) continue;
    let p = e.parentElement, inside = false;
    while (p) { if (getComputedStyle(p).overflowX !== 'visible') { inside = true; break; } p = p.parentElement; }
    if (!inside) out.push(`${e.tagName.toLowerCase()}#${e.id}.${e.className} ${e.scrollWidth}`);
  }
  return out.slice(-5);
}"""


def page_width_on_a_phone(page, url, name):
    response = page.goto(url)
    assert response is not None and response.status < 500, url
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=f"/tmp/chase-{name}-1440.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=f"/tmp/chase-{name}-390.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    return width if width <= 390 else (width, page.evaluate(WIDE_ELEMENTS))


@pytest.fixture
def worked_integration(started_integration, pm):
    """A long partner name and a few steps done, so the timeline, history and insight have rows."""
    partner = started_integration.partner
    partner.name = "Acme Crypto Exchange International Holdings (Europe) Limited"
    partner.save(update_fields=["name"])
    for code in ("slack-jira-onboarding", "autotests-configuration", "endpoints-implementation"):
        complete_step(step(started_integration, code), ctx(pm))
    return started_integration


def test_every_pm_page_fits_a_phone(page, pm, worked_integration):
    latest_default_template()  # the new-integration form needs it after a transactional test
    login(page, pm)
    pages = {
        "portfolio": "/",
        "integration": f"/integrations/{worked_integration.pk}/",
        "queue": "/queue/",
        "insight": "/insight/",
        "new-integration": "/integrations/new/",
        "error-404": "/no-such-page/",
    }
    widths = {name: page_width_on_a_phone(page, url, name) for name, url in pages.items()}
    assert widths == dict.fromkeys(pages, 390)
    # The wide parts scroll inside their card: the timeline keeps a readable size.
    page.goto(f"/integrations/{worked_integration.pk}/")
    assert page.locator("#timeline svg").bounding_box()["width"] > 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_every_partner_page_fits_a_phone(page, partner_user, worked_integration):
    page.set_viewport_size(PHONE)
    page.goto("/accounts/login/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path="/tmp/chase-login-390.png", full_page=True)
    login(page, partner_user)
    pages = {
        "stage-list": "/partner/",
        "stage": f"/partner/integrations/{worked_integration.pk}/",
        "error-403": "/queue/",
    }
    widths = {name: page_width_on_a_phone(page, url, name) for name, url in pages.items()}
    assert widths == dict.fromkeys(pages, 390)
