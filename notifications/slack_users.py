"""Finding a TradingView user on Slack by e-mail, once: mentions and the digest need their Slack id.

``SlackUser`` is the cache: a PM can link one by hand in the admin, and ``link_by_email`` fills in
the staff users who have an e-mail and no link yet, asking Slack's ``users.lookupByEmail``. It runs
before the day's reminders are planned (the task, not the pure planning, talks to Slack), so a
network call never happens inside a change's transaction.
"""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError

from notifications.delivery import slack_client
from notifications.models import SlackUser

log = logging.getLogger(__name__)


def link_by_email(client=None, limit: int = 200) -> int:
    """Link up to ``limit`` unlinked staff users to their Slack accounts by e-mail; returns how many."""
    if not settings.SLACK_ENABLED:
        return 0
    if client is None:
        client = slack_client()
    from slack_sdk.errors import SlackApiError, SlackClientError

    users = (
        get_user_model()
        .objects.filter(is_staff=True, is_active=True, slack_account__isnull=True)
        .exclude(email="")
        .order_by("pk")[:limit]
    )
    linked = 0
    for user in users:
        try:
            answer = client.users_lookupByEmail(email=user.email)
        except SlackApiError as error:
            if error.response.get("error") != "users_not_found":
                log.warning("slack.lookup_failed user=%s error=%s", user.pk, error.response.get("error"))
            continue
        except SlackClientError as error:  # time-outs, connection errors: the next run tries again
            log.warning("slack.lookup_failed user=%s error=%s", user.pk, error)
            return linked
        try:
            SlackUser.objects.create(user=user, slack_user_id=answer["user"]["id"])
            linked += 1
        except IntegrityError:
            log.warning("slack.lookup_taken user=%s slack_user=%s", user.pk, answer["user"]["id"])
    return linked
