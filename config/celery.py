"""The Celery app: worker and beat read their settings from Django's (``CELERY_*``).

The worker's consumer (``CELERY_WORKER_CONSUMER``) is Celery's own, made to survive a broker that
drops: with Celery and kombu 5.7, when Redis goes while messages are delivered but not yet
acknowledged (every running task, ``acks_late``), the consumer first collects the broken
connection (which detaches its transport), then closes it; the close restores the unacknowledged
messages through the detached transport and raises ``AttributeError: 'NoneType' object has no
attribute 'hostname'``, which ``ignore_errors`` lets through: "Unrecoverable error", the worker
exits. Here that close gives up quietly instead; the consumer reconnects as it does after any
connection error. Redis keeps those messages in its unacknowledged set and hands them out again
after the visibility timeout; the product's own work waits as rows in the database meanwhile.
"""

import logging
import os

from celery import Celery
from celery.signals import beat_init, worker_init
from celery.worker.consumer import Consumer
from kombu.transport import TRANSPORT_ALIASES

# ``filesystem://`` (the embedded broker) is kombu's transport writing each message whole before a
# worker can take it (config/broker_folder.py); any other URL keeps its own transport.
TRANSPORT_ALIASES["filesystem"] = "config.broker_folder:Transport"

logger = logging.getLogger(__name__)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("roadmap")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@beat_init.connect
@worker_init.connect
def stop_without_secret_key(**kwargs):
    """A production worker or beat without SECRET_KEY stops at start, as the web server does."""
    from django.core.exceptions import ImproperlyConfigured

    from config.secret_key import require_secret_key

    try:
        require_secret_key()
    except ImproperlyConfigured as missing:
        raise SystemExit(str(missing)) from None  # Celery logs and ignores a signal handler's exceptions


class BrokerLossTolerantConsumer(Consumer):
    """Celery's consumer, whose close of a connection the broker dropped cannot stop the worker.

    The same detached transport fails the acknowledgement of a task that finishes after the drop
    (its channel builds a new Redis client from the transport's ``client``, now None): counted
    among the connection errors, that is logged as "Couldn't ack" and the task's message waits in
    Redis for redelivery (the product's tasks are idempotent over its rows) instead of stopping the
    worker as an "Unrecoverable error". Those errors also make the consumer reconnect rather than exit.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.connection_errors = (*self.connection_errors, AttributeError)

    def on_connection_error_after_connected(self, exc):
        connection = self.connection
        if connection is not None:
            close = connection.close

            def close_what_is_left():
                try:
                    close()
                except AttributeError as error:  # the restore through a detached transport, see above
                    logger.warning("Broker connection lost; its unacknowledged messages wait in Redis: %r", error)

            connection.close = close_what_is_left
        return super().on_connection_error_after_connected(exc)


# The production worker's command line (after ``python -m``), as README's production start gives it.
WORKER_COMMAND = ("celery", "-A", "config", "worker", "--loglevel=INFO")
