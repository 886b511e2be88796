"""Celery tasks of the integrations app: thin wrappers that call plain functions."""

import logging
import socket

from celery import shared_task

from integrations.models import Heartbeat
from integrations.standing import refresh_running

HEARTBEAT_TASK = "integrations.heartbeat"
REFRESH_STANDINGS_TASK = "integrations.refresh_standings"

log = logging.getLogger(__name__)


@shared_task(name=HEARTBEAT_TASK)
def heartbeat():
    """Record that a worker is running; beat sends this every HEARTBEAT_SECONDS."""
    Heartbeat.beat("worker", detail=socket.gethostname())


@shared_task(name=REFRESH_STANDINGS_TASK)
def refresh_standings():
    """Bring every running integration's stored standing up to today; beat sends this daily.

    Idempotent: running it twice on one day writes the same values.
    """
    count = refresh_running()
    log.info("standing.refreshed count=%s", count)
    return count
