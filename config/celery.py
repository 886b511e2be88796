"""The Celery app: worker and beat read their settings from Django's (``CELERY_*``)."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init

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
