"""Celery tasks of the integrations app: thin wrappers that call plain functions."""

import logging
import socket

from celery import shared_task

from integrations.forecast import refresh_forecasts
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
def refresh_standings(everything: bool = False):
    """Bring the stored standing of the running integrations whose day changed since up to today.

    Beat sends this every quarter of an hour, so each integration is refreshed just after
    midnight in each zone it counts in (``TIME_ZONE``, its partner's); ``everything`` refreshes
    every running integration (as beat starts: the rules may have changed with the code).
    Idempotent: running it twice on one day writes the same values. Then the launch forecasts
    not yet computed today (all of them with ``everything``), from the standing just written.
    """
    count = refresh_running(new_day_only=not everything)
    log.info("standing.refreshed count=%s", count)
    forecast = refresh_forecasts(stale_only=not everything)
    log.info("forecast.refreshed count=%s", forecast)
    return count
