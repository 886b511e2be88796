"""The integration's page shows a stuck Slack message and sends it again, as the admin does.

A failed message says so and offers "Retry now". One whose Slack answer was lost and that Slack
could not show (no history scope) says when the answer was lost and what was seen, and offers only
"Resend after checking the channel", whose tick box is required. Staff only, POST, CSRF.
"""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from notifications import delivery
from notifications.models import OutboxMessage
from tests.integrations.helpers import at
from tests.notifications.conftest import PARTNER_CHANNEL
from tests.notifications.rows import queued

S = OutboxMessage.State
DAY = "2026-03-03"
HOSTILE = "<script>alert(1)</script> Plan moved"
pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(started_integration):
    started_integration.slack_channel_id = PARTNER_CHANNEL
    started_integration.save(update_fields=["slack_channel_id"])
    return started_integration


def row(acme, n=1, **kwargs) -> OutboxMessage:
    return queued(
        f"page:{n}",
        OutboxMessage.Kind.REPLANNED,
        integration=acme,
        channel=PARTNER_CHANNEL,
        not_before=at(DAY, 9),
        **kwargs,
    )


def fresh(message):
    message.refresh_from_db()
    return message


def page(client, acme) -> str:
    html = client.get(reverse("integration-page", args=[acme.pk])).content.decode()
    return html[html.index('id="slack-title"') :]


def may_be_posted(acme, fake_slack) -> OutboxMessage:
    """Slack took the post but its answer was lost (11:00), and the channel cannot be read back."""
    message = row(acme, text=HOSTILE)
    fake_slack.fail_next(methods=("chat.postMessage",), drop=True)
    fake_slack.history_error = "missing_scope"
    delivery.deliver_due(now=at(DAY, 11))
    delivery.deliver_due(now=fresh(message).not_before)
    assert fresh(message).state == S.FAILED and delivery.needs_check(message)
    return message


def test_a_message_that_may_be_posted_is_resent_only_once_the_channel_was_checked(client, pm, acme, fake_slack):
    message = may_be_posted(acme, fake_slack)
    client.force_login(pm)

    shown = page(client, acme)
    assert "May already be posted." in shown
    assert "Slack's answer was lost at 3 Mar 2026, 11:00; could not be read back." in shown
    assert "missing_scope" in shown  # what was seen
    assert "Resend after checking the channel" in shown and "Retry now" not in shown
    assert "<script>alert" not in shown  # Slack's and partners' text is escaped

    resend = reverse("outbox-resend", args=[message.pk])
    response = client.post(resend, {})
    assert response.status_code == 400
    assert "Tick “I checked the channel” first" in response.content.decode()
    assert fresh(message).state == S.FAILED  # nothing changed
    assert client.post(reverse("outbox-retry", args=[message.pk])).status_code == 409  # not "Retry now" either
    assert fresh(message).state == S.FAILED

    response = client.post(resend, {"checked": "on"})
    assert response.status_code == 302 and response.url.endswith("#slack-title")
    message = fresh(message)
    assert message.state == S.PENDING and message.unknown_since is None
    delivery.deliver_due(now=message.not_before + timedelta(seconds=2))
    assert fresh(message).state == S.SENT and len(fake_slack.posts()) == 2  # posted again, as the PM chose


def test_a_plain_failed_message_offers_retry_now(client, pm, acme, fake_slack):
    message = row(acme, text="Plan moved")
    fake_slack.fail_next(methods=("chat.postMessage",), error="channel_not_found")
    delivery.deliver_due(now=at(DAY, 11))
    assert fresh(message).state == S.FAILED and not delivery.needs_check(message)
    client.force_login(pm)

    shown = page(client, acme)
    assert "Slack refused it: channel_not_found." in shown
    assert "Retry now" in shown and "Resend after checking" not in shown

    response = client.post(reverse("outbox-retry", args=[message.pk]))
    assert response.status_code == 302
    message = fresh(message)
    assert message.state == S.PENDING and message.attempts == 0
    delivery.deliver_due(now=message.not_before + timedelta(seconds=1))
    assert fresh(message).state == S.SENT
    assert client.post(reverse("outbox-retry", args=[message.pk])).status_code == 409  # sent: nothing to retry


def test_only_staff_may_send_again_by_post_with_csrf(client, pm, partner_user, acme, fake_slack):
    message = may_be_posted(acme, fake_slack)
    resend, retry = reverse("outbox-resend", args=[message.pk]), reverse("outbox-retry", args=[message.pk])
    assert client.post(resend, {"checked": "on"}).status_code == 302 and "login" in client.post(retry).url
    client.force_login(partner_user)
    assert client.post(resend, {"checked": "on"}).status_code == 403
    client.force_login(pm)
    assert client.get(resend).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(pm)
    assert strict.post(resend, {"checked": "on"}).status_code == 403
    assert fresh(message).state == S.FAILED
