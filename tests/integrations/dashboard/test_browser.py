"""One integration's page in headless Chromium: a PM completes a task, is refused another, uses the keyboard.

Screenshots land in var/screenshots/integration-*.png.
"""

from pathlib import Path

import pytest
from django.conf import settings

from tests.browser import needs_browser
from tests.integrations.helpers import step

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
SCREENSHOTS.mkdir(parents=True, exist_ok=True)

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]


def login(page, user):
    """Log in at /accounts/login/ when the dashboard's login page is there, else at the admin's."""
    response = page.goto("/accounts/login/")
    if response is None or response.status != 200 or not page.locator("#id_username").count():
        page.goto("/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "correct-horse-battery")
    page.locator("#id_password").press("Enter")
    page.wait_for_load_state("networkidle")


def test_pm_completes_a_task_and_the_ball_moves_to_the_partner(page, pm, started_integration):
    login(page, pm)
    page.goto(f"/integrations/{started_integration.pk}/")
    assert "Both sides" in page.locator("#ball").inner_text()

    # The timeline renders as an SVG with one row a step and its title.
    svg = page.locator("#timeline svg")
    assert svg.is_visible()
    assert page.locator("#timeline svg g.row").count() == 17
    assert svg.bounding_box()["width"] > 800
    page.locator("#timeline").screenshot(path=str(SCREENSHOTS / "integration-timeline.png"))

    # A step that waits for others offers no button, and says in one line what it waits for.
    passing = step(started_integration, "passing-autotests")
    assert page.locator(f"#step-{passing.pk} td.actions button").count() == 0
    assert "waits for: " in page.locator(f"#step-{passing.pk} .offer-line").inner_text()

    # Completing the onboarding with the mouse (htmx swaps the steps and the header in place).
    onboarding = step(started_integration, "slack-jira-onboarding")
    page.click(f"#step-{onboarding.pk} button:has-text('Mark done')")
    page.wait_for_selector(f"#step-{onboarding.pk} summary:has-text('Reopen')")
    assert "1 · TradingView · Slack/Jira onboarding marked done." in page.locator("#steps .messages").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "integration-page.png"), full_page=True)

    # The second TradingView task with the keyboard only: Tab to its "Mark done" and press Enter.
    autotests = step(started_integration, "autotests-configuration")
    target = f"Mark done: {autotests}"
    page.locator("body").focus()
    page.keyboard.press("Tab")
    for _ in range(120):
        if page.evaluate("document.activeElement && document.activeElement.getAttribute('aria-label')") == target:
            break
        page.keyboard.press("Tab")
    else:
        pytest.fail("Tab never reached the 'Mark done' button")
    page.keyboard.press("Enter")
    page.wait_for_selector(f"#step-{autotests.pk} summary:has-text('Reopen')")
    page.locator("#ball", has_text="The partner").wait_for()
    assert "The partner" in page.locator("#ball").inner_text()
    assert step(started_integration, "autotests-configuration").status == "done"
    page.screenshot(path=str(SCREENSHOTS / "integration-after.png"), full_page=True)
    page.locator(f"#step-{passing.pk}").screenshot(path=str(SCREENSHOTS / "integration-step-row.png"))

    # Without htmx (a plain form post) the page reloads with the message at the top.
    page.goto(f"/integrations/{started_integration.pk}/")
    assert "Kicked off on 2 Mar 2026" in page.locator("#history").inner_text()
    assert "Not started → Done" in page.locator("#history").inner_text()
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENSHOTS / "integration-phone.png"), full_page=True)


def test_a_pm_goes_from_the_late_list_to_a_task_and_every_page_renders(page, pm):
    """Log in, filter to the late integrations, open one, complete TradingView's task; queue and insight render."""
    from integrations import plan
    from tests.factories import IntegrationFactory, PartnerFactory
    from tests.integrations.helpers import KICKOFF, at, ctx

    late = IntegrationFactory(partner=PartnerFactory(name="Late Broker"), tv_pm=pm)
    plan.start_integration(late, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    onboarding = step(late, "slack-jira-onboarding")

    login(page, pm)
    page.goto("/")
    page.screenshot(path=str(SCREENSHOTS / "portfolio.png"), full_page=True)
    page.click("a[data-count='late']")
    page.wait_for_load_state("networkidle")
    assert "overdue=1" in page.url
    page.click("text=Late Broker")
    page.wait_for_load_state("networkidle")
    assert "Both sides" in page.locator("#ball").inner_text()

    page.click(f"#step-{onboarding.pk} button:has-text('Mark done')")
    page.wait_for_selector(f"#step-{onboarding.pk} summary:has-text('Reopen')")
    page.screenshot(path=str(SCREENSHOTS / "integration-after-late.png"), full_page=True)

    page.goto("/queue/")
    assert page.locator("h1").inner_text().strip() == "My queue"
    page.screenshot(path=str(SCREENSHOTS / "queue.png"), full_page=True)
    page.goto("/insight/")
    assert page.locator("svg").count() >= 3  # the charts render
    page.screenshot(path=str(SCREENSHOTS / "insight.png"), full_page=True)
