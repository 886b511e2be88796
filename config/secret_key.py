"""The one rule about SECRET_KEY in production: the processes that sign with it refuse to start without it.

A key generated per machine or container would differ between web processes and invalidate
sessions and signed values (calendar links, magic links). So outside the embedded demo the key
comes only from the environment, and when it is missing the web server (``config.wsgi``,
``config.asgi``), the Celery worker and beat stop at start with ``MISSING``, and ``check
--deploy`` reports it. Commands that never sign anything (``makemigrations``, ``migrate``,
``collectstatic``) still run, so a deployment can prepare its database first.
"""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

MISSING = (
    "SECRET_KEY is not set: set SECRET_KEY (one shared value for every web process) "
    "or run the embedded demo with `make run`."
)


def require_secret_key():
    """Stop the process, saying what to do, when production runs without a SECRET_KEY."""
    if settings.SECRET_KEY_MISSING:
        raise ImproperlyConfigured(MISSING)


@checks.register(checks.Tags.security, deploy=True)
def secret_key_check(app_configs=None, **kwargs):
    if settings.SECRET_KEY_MISSING:
        return [checks.Error(MISSING, id="config.E001")]
    return []
