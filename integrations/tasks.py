"""Celery tasks of the integrations app: thin wrappers that call plain functions."""

import socket

from celery import shared_task

from integrations.models import Heartbeat

HEARTBEAT_TASK = "integrations.heartbeat"


@shared_task(name=HEARTBEAT_TASK)
def heartbeat():
    """Record that a worker is running; beat sends this every HEARTBEAT_SECONDS."""
    Heartbeat.beat("worker", detail=socket.gethostname())
