"""Celery tasks of the Jira sync: thin wrappers that take ids and call plain functions."""

from celery import shared_task

from integrations.jira import inbox
from integrations.jira import pull as jira_pull

PROCESS_DELIVERY_TASK = "integrations.jira_process_delivery"
SWEEP_TASK = "integrations.jira_sweep"
PULL_TASK = "integrations.jira_pull"


@shared_task(name=PROCESS_DELIVERY_TASK)
def process_delivery(delivery_id: int):
    """Process one stored webhook delivery; a no-op if another worker claimed it or it is done."""
    return inbox.process(delivery_id)


@shared_task(name=SWEEP_TASK)
def sweep():
    """Process deliveries left behind (never queued, worker killed) and waiting ones now due."""
    return inbox.sweep()


@shared_task(name=PULL_TASK)
def pull():
    """One pull cycle: issues of the linked projects updated since the watermark."""
    return jira_pull.pull_cycle()
