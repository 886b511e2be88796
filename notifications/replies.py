"""Answering a click in Slack: the reply is posted to the click's ``response_url``.

Slack ignores the body of the HTTP answer to a block action, so the product answers an empty 200
at once and a task (``notifications.tasks.reply_in_slack``) posts the reply to the payload's
``response_url`` (good for 5 posts in 30 minutes): an ephemeral refusal only the clicker sees, or
``replace_original`` with the message as the step now stands.

The payload is signed, but it still names the URL the product will POST to; so only an https URL
on a host of ``SLACK_RESPONSE_URL_HOSTS`` (``hooks.slack.com``) is used, never one with a user or
password in it. Plain http is taken only for a loopback host that the setting lists (the tests'
fake Slack on 127.0.0.1).
"""

import ipaddress
import logging
from urllib.parse import urlsplit

from django.conf import settings

logger = logging.getLogger(__name__)

LOOPBACK_NAMES = {"localhost"}


class NotTaken(Exception):
    """Slack did not take the reply, for now (no connection, a time-out, a 5xx or a 429): try again."""


def response_url(payload: dict) -> str | None:
    """The payload's ``response_url`` when the product may post to it, else None (and why is logged)."""
    url = payload.get("response_url")
    if not isinstance(url, str) or not url:
        return None
    if not allowed(url):
        logger.warning("slack.reply.refused_url host=%r", _host(url))
        return None
    return url


def allowed(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a malformed port raises here
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if not host or parts.username is not None or parts.password is not None:
        return False
    if host not in {h.lower() for h in settings.SLACK_RESPONSE_URL_HOSTS}:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and _loopback(host))


def _loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def post_reply(url: str, body: dict) -> None:
    """POST ``body`` to ``url`` with slack_sdk's client for response URLs; ``NotTaken`` when worth trying again.

    A 4xx other than 429 (an expired or used-up URL) is logged and dropped: the change it reports
    stands, and the step's first message shows it.
    """
    from slack_sdk.webhook import WebhookClient

    if not allowed(url):  # the task's arguments passed through the broker: checked again
        logger.warning("slack.reply.refused_url host=%r", _host(url))
        return
    client = WebhookClient(url, timeout=settings.SLACK_TIMEOUT_SECONDS, retry_handlers=[])
    try:
        response = client.send_dict(body)
    except Exception as error:  # noqa: BLE001 - urllib, socket and http.client errors
        raise NotTaken(f"{type(error).__name__}: {error}") from error
    if response.status_code == 429 or response.status_code >= 500:
        raise NotTaken(f"HTTP {response.status_code}")
    if response.status_code >= 400:
        logger.warning("slack.reply.dropped status=%s body=%r", response.status_code, (response.body or "")[:200])
        return
    logger.info("slack.reply.sent status=%s", response.status_code)
