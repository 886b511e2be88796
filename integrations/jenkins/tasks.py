"""Celery tasks of the Jenkins plug-in: thin wrappers that take ids and call plain functions."""

from celery import shared_task

from integrations.jenkins import inbox

PROCESS_DELIVERY_TASK = "integrations.jenkins_process_delivery"
SWEEP_TASK = "integrations.jenkins_sweep"


@shared_task(name=PROCESS_DELIVERY_TASK)
def process_delivery(delivery_id: int):
    """Apply one stored Jenkins delivery; a no-op if another worker claimed it or it is done."""
    return inbox.process(delivery_id)


@shared_task(name=SWEEP_TASK)
def sweep():
    """Apply deliveries left behind (never queued, worker killed)."""
    return inbox.sweep()
