"""A PM's day one in headless Chromium: from nothing, a new partner and its integration made and
kicked off with the dashboard's form (the plan shown first), a person of the partner invited, and
the partner opening the e-mailed magic link onto its stage page.

Screenshots at 1440 and 390 px land in /tmp/pmday-*.png.
"""

import re

import pytest
from django.core import mail

from integrations.models import Integration, PartnerUser
from tests.browser import needs_browser, reopen
from tests.factories import UserFactory, latest_default_template

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def shoot(page, name):
    """Screenshots at 1440 and 390 px; at 390 the page itself must not scroll sideways."""
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=f"/tmp/pmday-{name}-1440.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=f"/tmp/pmday-{name}-390.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(DESKTOP)
    return width


def test_a_pm_brings_a_new_partner_in_from_nothing(page):
    latest_default_template()  # installed again if an earlier transactional test emptied the tables
    pm = UserFactory(username="priya", first_name="Priya", last_name="Shah", staff=True)
    page.goto("/accounts/login/")
    page.fill("#id_username", pm.username)
    page.fill("#id_password", "correct-horse-battery")
    page.locator("#id_password").press("Enter")
    page.wait_for_load_state("networkidle")

    # The empty portfolio leads to the form.
    page.click("text=New integration")
    page.wait_for_selector("h1:has-text('New integration')")
    page.select_option("#id_partner", "")
    page.fill("#id_new_partner_name", "Nimbus Markets")
    page.fill("#id_new_partner_time_zone", "Asia/Singapore")
    page.select_option("#id_parts", "both")
    page.check("input[name=data_types][value=crypto]")
    page.select_option("#id_data_source", "own_feed")
    page.select_option("#id_data_auth", "fixed_token")
    page.select_option("#id_trading_auth", "oauth2_code")
    page.fill("#id_slack_channel_id", "bad channel")
    page.fill("#id_jira_project_key", "NIM")
    page.click("button:has-text('Show the plan')")
    # Refused: the reason at the field, everything typed still there, nothing made.
    page.wait_for_selector("#field-slack_channel_id .field-error")
    assert page.input_value("#id_new_partner_name") == "Nimbus Markets"
    assert not Integration.objects.exists()
    page.fill("#id_slack_channel_id", "C0NIMBUS1")
    page.click("button:has-text('Show the plan')")
    page.wait_for_selector("#planned")
    assert page.locator("#planned tbody tr").count() == 17
    assert "Planned launch" in page.locator("#planned").inner_text()
    assert not Integration.objects.exists()  # shown, not made
    assert shoot(page, "new-integration") <= 390

    page.click("button:has-text('Create and kick off')")
    page.wait_for_selector("#access")
    integration = Integration.objects.get(partner__name="Nimbus Markets")
    assert integration.is_started and integration.tv_pm == pm
    assert "created and kicked off" in page.locator(".messages").inner_text()

    # Invite a person of the partner's team: e-mailed, and shown once to the PM.
    page.fill("#id_invite-name", "Mei Tanaka")
    page.fill("#id_invite-email", "mei@nimbus.example.com")
    page.click("button:has-text('Invite and e-mail a link')")
    page.wait_for_selector("#access tbody tr:has-text('Mei Tanaka')")
    shown = page.locator(".messages").inner_text()
    url = re.search(r"http://\S+/partner/link/[\w-]+/", shown).group(0)
    assert url in mail.outbox[-1].body and mail.outbox[-1].to == ["mei@nimbus.example.com"]
    assert "never" in page.locator("#access tbody tr:has-text('Mei Tanaka')").inner_text()
    page.locator("#access").screenshot(path="/tmp/pmday-access-card-1440.png")
    width = shoot(page, "integration")
    page.set_viewport_size(PHONE)
    access = page.locator("#access").bounding_box()
    assert access["x"] >= 0 and access["x"] + access["width"] <= 390  # the card fits; its table scrolls inside
    page.locator("#access").screenshot(path="/tmp/pmday-access-card-390.png")
    page.set_viewport_size(DESKTOP)
    print(f"integration page scrollWidth at 390 px: {width}")

    # The PM lets the partner's team invite colleagues from its stage page.
    page.click("button:has-text('Let its team invite colleagues')")
    page.wait_for_selector("text=team may now invite colleagues")

    # The partner, in a browser of its own, opens the link and lands on its stage page.
    partner = page.context.browser.new_context(base_url=page.url.split("/integrations/")[0], viewport=DESKTOP)
    mei = partner.new_page()
    mei.goto(url)
    mei.click("button:has-text('Continue to the page')")
    mei.wait_for_selector("#summary-title")
    assert "Nimbus Markets" in mei.locator("#summary-title").inner_text()
    assert mei.url.endswith(f"/partner/integrations/{integration.pk}/")
    assert "You owe next" in mei.content()
    assert mei.locator("#invite").is_visible()
    assert shoot(mei, "stage") <= 390
    mei.set_viewport_size(PHONE)
    mei.locator("#team").screenshot(path="/tmp/pmday-stage-team-390.png")
    partner.close()

    # The PM sees when she came.
    reopen(page)
    row = page.locator("#access tbody tr:has-text('Mei Tanaka')").inner_text()
    assert "never" not in row
    assert PartnerUser.objects.get(user__email="mei@nimbus.example.com").user.last_login is not None
