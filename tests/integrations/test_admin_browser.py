"""The PM's main flow in the admin, driven in headless Chromium against a live server.

Kick off an integration, see its standing, complete a step, and be refused (with the reason on
the page) when completing a step before its prerequisites.
"""

import os
import shutil

import pytest
from django.db import connections

from integrations.models import Integration, IntegrationStep, StepChange

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not shutil.which(CHROMIUM) and not os.environ.get("REQUIRE_BROWSER"),
        reason="needs Debian's chromium (apt-get install -y chromium); .ci/run installs it",
    ),
]


@pytest.fixture
def page(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test makes
    # between page actions are still synchronous, and Django must be told so.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        context = browser.new_context(base_url=live_server.url)
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        # With Playwright's loop running, the ORM calls made by the test got connections of
        # their own (Django keeps them per async context); close them before the loop stops,
        # or PostgreSQL cannot drop the test database at the end of the run.
        connections.close_all()
        browser.close()


def login(page, username):
    page.goto("/admin/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def test_pm_kicks_off_and_moves_steps_in_the_admin(page, pm, integration):
    pm.is_superuser = True
    pm.save()
    login(page, "alice")
    assert page.locator("text=Background jobs").is_visible()

    page.goto("/admin/integrations/integration/")
    page.click(f"text={integration.name}")
    page.click("a:has-text('Kick off')")
    page.fill("input[name=kickoff_on]", "2026-11-02")
    page.click("input[type=submit][value='Kick off']")
    page.wait_for_selector("ul.messagelist")
    assert "Kicked off" in page.locator("ul.messagelist").inner_text()
    integration.refresh_from_db()
    assert str(integration.kickoff_on) == "2026-11-02"
    assert integration.steps.count() == 15

    # Completing a step whose prerequisites are open is refused, with the reason on the page.
    blocked = IntegrationStep.objects.get(integration=integration, code="passing-autotests")
    page.goto(f"/admin/integrations/integrationstep/{blocked.pk}/change/")
    page.click("a:has-text('Complete')")
    page.click("input[type=submit][value='Complete']")
    error = page.locator("ul.messagelist .error").inner_text()
    assert "cannot be completed before the steps it depends on are done" in error
    blocked.refresh_from_db()
    assert blocked.status == "not_started"

    # Completing the onboarding works and shows in the step's history.
    onboarding = IntegrationStep.objects.get(integration=integration, code="slack-jira-onboarding")
    page.goto(f"/admin/integrations/integrationstep/{onboarding.pk}/change/")
    page.click("a:has-text('Complete')")
    page.click("input[type=submit][value='Complete']")
    assert "Completed" in page.locator("ul.messagelist").inner_text()
    onboarding.refresh_from_db()
    assert onboarding.status == "done"
    change = StepChange.objects.filter(step=onboarding).last()
    assert (change.source, change.by, change.to_status) == ("web", pm, "done")

    # The changelist filters on who holds the ball.
    page.goto("/admin/integrations/integration/?ball_side=both")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert integration.name in rows.first.inner_text()
    page.goto("/admin/integrations/integration/?ball_side=tradingview")
    assert page.locator("#result_list tbody tr").count() == 0
    assert Integration.objects.get(pk=integration.pk).ball_side == "both"

    page.goto(f"/admin/integrations/integration/{integration.pk}/change/")
    standing = page.locator("text=Forecast launch").first
    assert standing.is_visible()
    page.screenshot(path=os.environ.get("SCREENSHOT_PATH", "/tmp/admin-integration.png"), full_page=True)
