"""Celery tasks of the hand-overs: thin wrappers that take ids and call ``checking``."""

import logging

from celery import shared_task

from integrations.handovers import checking

CHECK_TASK = "integrations.handovers_check_url"
REQUEUE_TASK = "integrations.handovers_requeue_checks"

log = logging.getLogger(__name__)


@shared_task(name=CHECK_TASK)
def check_handed_over_url(check_id: int):
    """Run one pending URL check; a no-op if it is done or another worker is running it."""
    return checking.run_check(check_id)


@shared_task(name=REQUEUE_TASK)
def requeue_stale_checks():
    """Queue again the checks left pending (message lost, worker killed); beat sends this every minute."""
    ids = checking.stale_check_ids()
    for check_id in ids:
        queue_check(check_id)
    if ids:
        log.info("handovers.url_checks_requeued count=%s", len(ids))
    return len(ids)


def queue_check(check_id: int):
    """Queue a pending check's run; when the broker is down, the re-queue will find it pending."""
    try:
        check_handed_over_url.delay(check_id)
    except Exception:  # kombu and redis raise many kinds; the row is stored either way
        log.exception("handovers.url_check_enqueue_failed id=%s: left pending for the re-queue", check_id)
