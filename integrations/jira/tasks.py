"""Celery tasks of the Jira sync: thin wrappers that take ids and call plain functions."""

import time

from celery import shared_task

from integrations.jira import inbox
from integrations.jira import pull as jira_pull

PROCESS_DELIVERY_TASK = "integrations.jira_process_delivery"
DRAIN_TASK = "integrations.jira_drain"
# One drain runs for at most this long, then queues the next and ends (well inside the soft time limit).
DRAIN_SECONDS = 60
SWEEP_TASK = "integrations.jira_sweep"
PULL_TASK = "integrations.jira_pull"


@shared_task(name=PROCESS_DELIVERY_TASK)
def process_delivery(delivery_id: int):
    """Process one stored webhook delivery; a no-op if another worker claimed it or it is done."""
    return inbox.process(delivery_id)


@shared_task(name=DRAIN_TASK)
def drain():
    """Process the pending deliveries in batches until none is left (the webhook queues one per burst).

    A batch smaller than a full one is not the end of a burst: what came in while it was applied is
    taken at once, not when the next queued drain starts, so the worker stays on a burst while it
    lasts and its batches grow with the intake."""
    started, done = time.monotonic(), 0
    while True:
        taken = inbox.drain()
        done += taken
        if not taken:
            return done
        if time.monotonic() - started > DRAIN_SECONDS:
            drain.delay()  # more than a minute's worth: the next drain goes on, this worker is free again
            return done


@shared_task(name=SWEEP_TASK)
def sweep():
    """Process deliveries left behind (never queued, worker killed) and waiting ones now due."""
    return inbox.sweep()


@shared_task(name=PULL_TASK)
def pull():
    """One pull cycle: issues of the linked projects updated since the watermark."""
    return jira_pull.pull_cycle()
