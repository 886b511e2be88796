"""The PM sends stuck Slack messages again from the integration's page, in headless Chromium.

Screenshots at 1440 and 390 px land in /tmp/survive-outbox-<width>.png; on a phone the page does
not scroll sideways.
"""

import pytest
from django.urls import reverse

from notifications.models import OutboxMessage
from tests.browser import needs_browser
from tests.integrations.dashboard.test_browser import login
from tests.integrations.dashboard.test_phone_browser import DESKTOP, PHONE, WIDE_ELEMENTS
from tests.integrations.helpers import at
from tests.notifications.conftest import PARTNER_CHANNEL
from tests.notifications.rows import queued

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]
S = OutboxMessage.State
SEEN = (
    "May already be posted: Slack's answer was lost at 11:00 on Tue 03 Mar (RemoteDisconnected: Remote end closed "
    "connection without response); Slack could not be read back (Slack answered: missing_scope (HTTP 200).): "
    "check the channel before resending."
)


def stuck(integration, n: int, **fields) -> OutboxMessage:
    message = queued(
        f"browser:{n}",
        OutboxMessage.Kind.REPLANNED,
        text="The plan moved <b>a week</b>",
        integration=integration,
        channel=PARTNER_CHANNEL,
    )
    OutboxMessage.objects.filter(pk=message.pk).update(state=S.FAILED, attempts=1, **fields)
    return message


def test_the_pm_resends_a_message_that_may_be_posted_after_ticking_the_box(page, pm, started_integration):
    lost = stuck(started_integration, 1, last_error=SEEN, unknown_since=at("2026-03-03", 11))
    refused = stuck(started_integration, 2, last_error="Slack refused it: channel_not_found.")
    login(page, pm)
    page.goto(reverse("integration-page", args=[started_integration.pk]) + "#slack-title")
    section = page.locator("#jira-slack")
    assert "Slack's answer was lost at 3 Mar 2026, 11:00; could not be read back." in section.inner_text()

    page.set_viewport_size(DESKTOP)
    section.screenshot(path="/tmp/survive-outbox-1440.png")
    page.set_viewport_size(PHONE)
    section.screenshot(path="/tmp/survive-outbox-390.png")
    page.screenshot(path="/tmp/survive-outbox-page-390.png", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, (width, page.evaluate(WIDE_ELEMENTS))

    resend = page.get_by_role("button", name="Resend after checking the channel")
    resend.click()  # the tick box is required: the browser does not send the form
    assert OutboxMessage.objects.get(pk=lost.pk).state == S.FAILED
    page.get_by_label("I checked the channel: this message is not there.").check()
    resend.click()
    page.wait_for_load_state("networkidle")
    assert "will be posted again now" in page.locator(".messages").inner_text()
    assert OutboxMessage.objects.get(pk=lost.pk).state == S.PENDING

    page.get_by_role("button", name="Retry now").click()
    page.wait_for_load_state("networkidle")
    assert "is due again now" in page.locator(".messages").inner_text()
    assert OutboxMessage.objects.get(pk=refused.pk).state == S.PENDING
