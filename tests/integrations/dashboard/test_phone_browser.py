"""Every page at 390 px in headless Chromium: the page itself never scrolls sideways
(``document.documentElement.scrollWidth <= 390``); wide tables, the timeline and insight's charts
scroll inside their card.

Screenshots at 1440 and 390 px land in /tmp/chase-<page>-<width>.png.
"""

from datetime import date

import pytest

from integrations import plan
from integrations.models import PartnerUser
from integrations.steps import complete_step
from tests.browser import needs_browser
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory, latest_default_template
from tests.integrations.dashboard.test_browser import login
from tests.integrations.helpers import at, ctx, step

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


# How many lines the text of the page's title takes (one rectangle per line box).
TITLE_LINES = """() => {
  const range = document.createRange();
  range.selectNodeContents(document.querySelector('.page-head h1'));
  return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size;
}"""


@pytest.mark.parametrize("url", ["/", "/timeline/"])
def test_a_list_pages_title_keeps_its_word_whole_on_a_phone(page, pm, url):
    """Beside its buttons, "Portfolio" was broken into "Portfo" and "lio": the buttons go below it instead."""
    login(page, pm)
    page.set_viewport_size(PHONE)
    page.goto(url)
    assert page.evaluate(TITLE_LINES) == 1
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


@pytest.fixture
def unbroken_name(worked_integration):
    """A partner name with no place to break a line (a pasted URL, a run of letters): pages must
    still wrap it rather than scroll sideways on a phone."""
    partner = worked_integration.partner
    name = '=HYPERLINK("https://acme-crypto-exchange.example/brokers/integration","Acme")' + "X" * 40
    partner.name = worked_integration.name = name
    partner.save(update_fields=["name"])
    worked_integration.save(update_fields=["name"])
    return worked_integration


def test_a_name_without_spaces_fits_a_phone_on_the_pm_pages(page, pm, unbroken_name):
    login(page, pm)
    pages = {"portfolio-unbroken": "/", "integration-unbroken": f"/integrations/{unbroken_name.pk}/"}
    widths = {name: page_width_on_a_phone(page, url, name) for name, url in pages.items()}
    assert widths == dict.fromkeys(pages, 390)


def test_a_name_without_spaces_fits_a_phone_on_the_stage_page(page, partner_user, unbroken_name):
    login(page, partner_user)
    pages = {"stage-unbroken": f"/partner/integrations/{unbroken_name.pk}/"}
    widths = {name: page_width_on_a_phone(page, url, name) for name, url in pages.items()}
    assert widths == dict.fromkeys(pages, 390)


@pytest.fixture
def moved_for_a_holiday(pm, partner_dev):
    """A partner in Los Angeles kicked off on Monday 14 Sep 2026: its first deadline, week 4, falls on
    Columbus Day and moves, and the deadline cell says so ("moved from 12 Oct: Columbus Day in United
    States"), a long line for a phone; Bob is on its team."""
    partner = PartnerFactory(name="Dunmore FX", time_zone="America/Los_Angeles", country="US")
    PartnerUser.objects.create(user=partner_dev, partner=partner)
    integration = IntegrationFactory(partner=partner, tv_pm=pm)
    return plan.start_integration(integration, date(2026, 9, 14), ctx(pm, at(date(2026, 9, 14), 9)))


def test_a_deadline_moved_for_a_holiday_fits_a_phone(page, pm, partner_dev, moved_for_a_holiday):
    login(page, pm)
    page.goto(f"/integrations/{moved_for_a_holiday.pk}/")
    assert "moved from 12 Oct: Columbus Day in United States" in page.locator("#steps").inner_text()
    assert page_width_on_a_phone(page, f"/integrations/{moved_for_a_holiday.pk}/", "holiday-integration") == 390
    page.context.clear_cookies()
    login(page, partner_dev)
    assert page_width_on_a_phone(page, f"/partner/integrations/{moved_for_a_holiday.pk}/", "holiday-stage") == 390


@pytest.mark.parametrize("invited", [False, True], ids=["nobody-invited", "one-invited"])
def test_the_integration_page_never_scrolls_sideways_on_a_desktop(page, pm, worked_integration, invited):
    """A long partner name (and a long name of one of its people) kept the sign-in card's table on one
    line: the table scrolls inside its card, but the hidden "Actions" heading, placed against the page,
    widened the whole page to 1,900 px at 1440."""
    partner = worked_integration.partner
    partner.name = 'Omega <script> *bold* <!channel> =HYPERLINK("https://x.example") שלום עולם ' * 2
    partner.save(update_fields=["name"])
    if invited:
        person = UserFactory(username="aroha@omega.example.com", first_name="Aroha " + "Whakamārama " * 10)
        PartnerUser.objects.create(user=person, partner=partner)
    login(page, pm)
    page.set_viewport_size(DESKTOP)
    page.goto(f"/integrations/{worked_integration.pk}/")
    page.screenshot(path=f"/tmp/chase-integration-long-names-{invited}-1440.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440


def test_a_long_account_name_in_the_top_bar_fits_a_phone(page, worked_integration):
    """The top bar names who is signed in; a name without a space (here the login, an e-mail address,
    for a person with no name given) kept the stage page 1,200 px wide on a phone."""
    person = UserFactory(username="aroha.ngatawhakamarama.integrationteam@omegaexchange.example.com")
    PartnerUser.objects.create(user=person, partner=worked_integration.partner)
    login(page, person)
    pages = {"stage-long-login": f"/partner/integrations/{worked_integration.pk}/"}
    widths = {name: page_width_on_a_phone(page, url, name) for name, url in pages.items()}
    assert widths == dict.fromkeys(pages, 390)
