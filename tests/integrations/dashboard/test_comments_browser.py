"""The integration page's comment threads and the "when?" of an action, in headless Chromium at
1440 and 390 px: the PM opens a step's thread, posts an internal comment with htmx, and the thread
stays open with it marked; the page never scrolls sideways on a phone.

Screenshots: /tmp/pm-actions-comments-1440.png, /tmp/pm-actions-comments-390.png, /tmp/pm-actions-when-1440.png.
"""

import pytest

from integrations.comments import post_comment
from tests.browser import needs_browser, reopen
from tests.integrations.dashboard.test_browser import login
from tests.integrations.helpers import step

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}


def test_the_pm_posts_an_internal_comment_and_reads_the_thread(page, pm, partner_user, started_integration):
    onboarding = step(started_integration, "slack-jira-onboarding")
    post_comment(onboarding, partner_user, 'Our Slack admin is away until Thursday <b>sorry</b> & "thanks"')
    login(page, pm)
    page.set_viewport_size(DESKTOP)
    page.goto(f"/integrations/{started_integration.pk}/")

    thread = page.locator(f"#comments-{onboarding.pk}")
    thread.locator("summary").click()
    assert 'Our Slack admin is away until Thursday <b>sorry</b> & "thanks"' in thread.inner_text()
    thread.locator("textarea").fill("@alice chase their admin on Wednesday")
    thread.locator("input[name=internal]").check()
    thread.locator("button:has-text('Post')").click()
    page.wait_for_selector(f"#comments-{onboarding.pk}[open] .comment.internal")
    thread = page.locator(f"#comments-{onboarding.pk}")
    assert "Comments (2)" in thread.locator("summary").inner_text()
    assert "internal" in thread.locator(".comment.internal").inner_text()
    page.locator("#steps").screenshot(path="/tmp/pm-actions-comments-1440.png")

    # The "when?" of an action: a date and a reason, folded until asked for.
    when = page.locator(f"#step-{onboarding.pk} td.actions details.when").first
    when.locator("summary").click()
    assert when.locator("input[name=at]").is_visible()
    page.locator(f"#step-{onboarding.pk}").screenshot(path="/tmp/pm-actions-when-1440.png")

    page.set_viewport_size(PHONE)
    reopen(page)
    page.locator(f"#comments-{onboarding.pk} summary").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator(f"#step-{onboarding.pk}").screenshot(path="/tmp/pm-actions-comments-390.png")
