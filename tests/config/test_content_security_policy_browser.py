"""The strict Content-Security-Policy in headless Chromium: the portfolio, an integration page
(with an htmx action), the stage page (with an htmx hand-over), the admin and the API's docs load
and work with no violation reported, neither as a ``securitypolicyviolation`` event nor in the console."""

import pytest
from django.utils import timezone

from tests.browser import needs_browser
from tests.integrations.helpers import step

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]

# Collects every violation the page reports; added before any of the page's own scripts runs.
LISTEN = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
def watched(page):
    """The page, and the CSP complaints of its console and its violation events so far."""
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.add_init_script(LISTEN)

    def violations():
        reported = page.evaluate("window.__violations || []")
        said = [text for text in console if "Content Security Policy" in text or "Refused to" in text]
        return reported + said

    return page, violations


def log_in(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct-horse-battery")
    page.locator("#id_password").press("Enter")
    page.wait_for_load_state("networkidle")


def visit(page, violations, path):
    response = page.goto(path)
    page.wait_for_load_state("networkidle")
    assert response.status == 200, path
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert violations() == [], path


def test_the_pms_pages_and_the_admin_report_no_violation(watched, pm, started_integration):
    page, violations = watched
    pm.is_superuser = True
    pm.save()
    visit(page, violations, "/accounts/login/")
    log_in(page, pm.username)
    assert violations() == []
    visit(page, violations, "/")
    visit(page, violations, "/queue/")
    visit(page, violations, "/insight/")
    visit(page, violations, f"/integrations/{started_integration.pk}/")
    # An htmx swap: htmx's own indicator styles must not be injected inline.
    onboarding = step(started_integration, "slack-jira-onboarding")
    page.click(f"#step-{onboarding.pk} button:has-text('Mark done')")
    page.wait_for_selector(f"#step-{onboarding.pk} summary:has-text('Reopen')")
    assert violations() == []
    for path in [
        "/admin/",
        "/admin/integrations/integration/",
        f"/admin/integrations/integration/{started_integration.pk}/change/",
        "/admin/integrations/magiclink/add/",
        "/admin/integrations/partner/",
        "/admin/roadmap/roadmaptemplate/",
        "/admin/integrations/jiradelivery/",
        "/admin/notifications/outboxmessage/",
        "/admin/axes/accessattempt/",
    ]:
        visit(page, violations, path)


def test_the_stage_page_reports_no_violation(watched, partner_user, started_integration):
    page, violations = watched
    log_in(page, partner_user.username)
    visit(page, violations, f"/partner/integrations/{started_integration.pk}/")
    page.fill("#beta-testers textarea", "trader_joe")
    page.click("#beta-testers button")
    page.locator("text=Beta testers saved: trader_joe.").wait_for()
    assert violations() == []


def test_the_magic_link_page_reports_no_violation(watched, partner_user, pm, started_integration):
    from datetime import timedelta

    from integrations.stage.models import MagicLink

    page, violations = watched
    _, raw = MagicLink.issue(user=partner_user, created_by=pm, expires_at=timezone.now() + timedelta(days=1))
    visit(page, violations, f"/partner/link/{raw}/")
    page.click("button:has-text('Continue to the page')")
    page.wait_for_load_state("networkidle")
    assert page.url.endswith(f"/partner/integrations/{started_integration.pk}/")
    assert violations() == []


def test_the_api_docs_render_under_their_own_policy(watched):
    page, violations = watched
    visit(page, violations, "/api/docs/")
    page.locator(".swagger-ui .information-container").wait_for()
    assert violations() == []
