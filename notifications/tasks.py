"""Celery tasks of the notifications app: thin wrappers that call plain functions."""

import os
import signal
import threading
import uuid
from contextlib import contextmanager

from billiard.process import current_process
from celery import shared_task
from django.core.cache import cache

from notifications import delivery, reminders, replies, slack_users

DELIVER_TASK = "notifications.deliver_outbox"
PLAN_REMINDERS_TASK = "notifications.plan_reminders"
REPLY_TASK = "notifications.reply_in_slack"
REPLY_RETRIES = 3  # a response_url is good for 30 minutes; a few tries seconds apart are plenty
FOLLOW_UP_KEY = "notifications:deliver-outbox:follow-up"
# A follow-up lost with its message (a broker restart) holds the chain this long past its time; then
# beat's next tick starts a new one.
FOLLOW_UP_GRACE_SECONDS = 10


@shared_task(name=DELIVER_TASK, bind=True)
def deliver_outbox(self, follow_up: str = ""):
    """Deliver the outbox rows that are due; each row is claimed, so two workers never send one twice.

    Then queue itself for when there is work again (``delivery.next_run_in``), so a backlog moves at
    Slack's pace rather than beat's. One chain of follow-ups at a time: the follow-up waiting holds
    a token in the cache; beat's tick starts a chain only when none waits, and a follow-up whose
    token was replaced ends its chain.
    """
    counts = {}
    try:
        with _stopped_by_sigterm():
            counts = delivery.deliver_due()
        return counts
    finally:
        wait = delivery.next_run_in(counts)
        eager = self.app.conf.task_always_eager  # eager, a follow-up would run now, inside this one
        waiting = cache.get(FOLLOW_UP_KEY)
        if wait is not None and not eager and waiting in (None, follow_up or None):
            token = uuid.uuid4().hex
            cache.set(FOLLOW_UP_KEY, token, wait.total_seconds() + FOLLOW_UP_GRACE_SECONDS)
            deliver_outbox.apply_async(kwargs={"follow_up": token}, countdown=wait.total_seconds())
        elif follow_up and waiting == follow_up:
            cache.delete(FOLLOW_UP_KEY)  # the chain ends here


@contextmanager
def _stopped_by_sigterm():
    """In a pool process, SIGTERM (a task cancelled when the broker dropped) first ends the delivery
    run as its time limit does, so the row being sent is due again rather than left "sending"; then
    the process dies of it as it would have."""
    in_pool = current_process().name.startswith("ForkPoolWorker")
    if not in_pool or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise delivery.Stopped("SIGTERM")

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    except delivery.Stopped:
        signal.signal(signal.SIGTERM, previous)
        os.kill(os.getpid(), signal.SIGTERM)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


@shared_task(name=PLAN_REMINDERS_TASK)
def plan_reminders():
    """Write the reminders of the recipients whose reminder hour has come (hourly; once per step, kind and day).

    First finds new PMs on Slack by e-mail, so today's mentions and digest can name them.
    """
    slack_users.link_by_email()
    return reminders.sweep_reminders()


@shared_task(name=REPLY_TASK, bind=True, max_retries=REPLY_RETRIES)
def reply_in_slack(self, url: str, body: dict):
    """Post the answer to a click to its ``response_url``; try again a few times while Slack cannot take it."""
    try:
        replies.post_reply(url, body)
    except replies.NotTaken as error:
        raise self.retry(exc=error, countdown=2 ** (self.request.retries + 1)) from None
