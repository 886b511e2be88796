"""Celery tasks of the notifications app: thin wrappers that call plain functions."""

from celery import shared_task

from notifications import delivery, reminders, replies, slack_users

DELIVER_TASK = "notifications.deliver_outbox"
PLAN_REMINDERS_TASK = "notifications.plan_reminders"
REPLY_TASK = "notifications.reply_in_slack"
REPLY_RETRIES = 3  # a response_url is good for 30 minutes; a few tries seconds apart are plenty


@shared_task(name=DELIVER_TASK)
def deliver_outbox():
    """Deliver the outbox rows that are due; each row is claimed, so two workers never send one twice."""
    return delivery.deliver_due()


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
