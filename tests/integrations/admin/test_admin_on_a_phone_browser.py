"""The admin pages the project customises fit a phone: at 390 px nothing scrolls sideways.

An integration's page (its team, its steps, its history), a step's, a partner's and the roadmap template's,
in headless Chromium: the page is no wider than the screen, and no box in it scrolls sideways (its inline
tables read as cards instead). The lists keep Django's own scrolling table. Screenshots at 1440 and 390 px
land in /tmp/admin-phone-<page>-<width>.png.
"""

import os

import pytest

from integrations.models import PartnerUser
from tests.browser import WIDTH, needs_browser
from tests.factories import TeamMemberFactory, UserFactory
from tests.integrations.admin.test_integrations_browser import login, portfolio
from tests.integrations.helpers import step

SCREENSHOTS = os.environ.get("SCREENSHOT_DIR", "/tmp")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": WIDTH, "height": 900}
# The page's width, and every box in the content that scrolls sideways, with how much it holds.
SIDEWAYS = """() => ({
    page: document.documentElement.scrollWidth,
    boxes: [...document.querySelectorAll('#content-main *')]
        .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
        .filter(e => e.scrollWidth > e.clientWidth + 1 && e.tagName !== 'TEXTAREA')
        .map(e => `${e.tagName}#${e.id}.${e.className} ${e.scrollWidth}/${e.clientWidth}`),
})"""

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]


def test_the_customised_admin_pages_fit_a_390_px_phone(page, pm):
    made = portfolio(pm)
    acme = made["Acme Crypto Exchange"]
    TeamMemberFactory(
        integration=acme, role="developer", name="Mariana Kowalczyk-Oyelaran", email="mariana@acme.example"
    )
    PartnerUser.objects.create(user=UserFactory(username="dev.acme", email="dev@acme.example"), partner=acme.partner)
    login(page, pm)
    pages = {
        "integration": f"/admin/integrations/integration/{acme.pk}/change/",
        "step": f"/admin/integrations/integrationstep/{step(acme, 'sandbox-development').pk}/change/",
        "partner": f"/admin/integrations/partner/{acme.partner_id}/change/",
        "template": f"/admin/roadmap/roadmaptemplate/{acme.template_id}/change/",
    }
    measured = {}
    for name, url in pages.items():
        page.set_viewport_size(DESKTOP)
        page.goto(url)
        page.screenshot(path=f"{SCREENSHOTS}/admin-phone-{name}-1440.png", full_page=True)
        page.set_viewport_size(PHONE)
        page.goto(url)
        page.screenshot(path=f"{SCREENSHOTS}/admin-phone-{name}-390.png", full_page=True)
        measured[name] = page.evaluate(SIDEWAYS)
    assert measured == {name: {"page": 390, "boxes": []} for name in pages}

    # On a phone each value reads under its column's name.
    page.goto(pages["integration"])
    team = page.locator("#team-group tr.form-row.has_original").first
    assert team.locator("td.field-email").evaluate("e => getComputedStyle(e, '::before').content") == '"Email"'
    assert page.locator("#team-group thead").is_hidden()
    assert page.locator("#steps-group td.field-status_text").first.is_visible()
