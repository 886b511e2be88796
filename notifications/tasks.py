"""Celery tasks of the notifications app: thin wrappers that call plain functions."""

from celery import shared_task
from django.core.cache import cache

from notifications import delivery, reminders, replies, slack_users

DELIVER_TASK = "notifications.deliver_outbox"
PLAN_REMINDERS_TASK = "notifications.plan_reminders"
REPLY_TASK = "notifications.reply_in_slack"
REPLY_RETRIES = 3  # a response_url is good for 30 minutes; a few tries seconds apart are plenty
FOLLOW_UP_KEY = "notifications:deliver-outbox:follow-up"
FOLLOW_UP_GRACE_SECONDS = 60  # a follow-up lost with its message frees the key after this; beat runs meanwhile


@shared_task(name=DELIVER_TASK, bind=True)
def deliver_outbox(self, follow_up: bool = False):
    """Deliver the outbox rows that are due; each row is claimed, so two workers never send one twice.

    Then queue itself for when there is work again (``delivery.next_run_in``), so a backlog moves at
    Slack's pace rather than beat's. One follow-up waits at a time (a cache key), so beat's ticks
    during a backlog do not start chains of their own.
    """
    if follow_up:
        cache.delete(FOLLOW_UP_KEY)
    counts = {}
    try:
        counts = delivery.deliver_due()
        return counts
    finally:
        wait = delivery.next_run_in(counts)
        eager = self.app.conf.task_always_eager  # eager, a follow-up would run now, inside this one
        if (
            wait is not None
            and not eager
            and cache.add(FOLLOW_UP_KEY, 1, wait.total_seconds() + FOLLOW_UP_GRACE_SECONDS)
        ):
            deliver_outbox.apply_async(kwargs={"follow_up": True}, countdown=wait.total_seconds())


@shared_task(name=PLAN_REMINDERS_TASK)
def plan_reminders():
    """Write today's reminders into the outbox (idempotent: once per step, kind and day).

    First finds new PMs on Slack by e-mail, so today's mentions and digest can name them.
    """
    slack_users.link_by_email()
    return reminders.plan_reminders()


@shared_task(name=REPLY_TASK, bind=True, max_retries=REPLY_RETRIES)
def reply_in_slack(self, url: str, body: dict):
    """Post the answer to a click to its ``response_url``; try again a few times while Slack cannot take it."""
    try:
        replies.post_reply(url, body)
    except replies.NotTaken as error:
        raise self.retry(exc=error, countdown=2 ** (self.request.retries + 1)) from None
