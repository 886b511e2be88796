"""What ``manage.py check --deploy`` refuses in production besides Django's own checks.

Two switches exist for development and the tests only: ``HANDOVER_CHECK_ALLOW_PRIVATE`` lets the
hand-over URL checks reach private, loopback and link-local addresses (a partner could then make
the server probe the internal network), and ``JIRA_WEBHOOK_ALLOW_UNSIGNED`` accepts Jira
deliveries without a signature (anyone could move steps). Either one set is an error. Registered
by importing this module (``IntegrationsConfig.ready``), as ``config.secret_key`` is.
"""

from django.conf import settings
from django.core import checks

ALLOW_PRIVATE = (
    "HANDOVER_CHECK_ALLOW_PRIVATE is on: hand-over URL checks may reach private addresses, so a "
    "partner could make the server probe the internal network. Unset it in production."
)
ALLOW_UNSIGNED = (
    "JIRA_WEBHOOK_ALLOW_UNSIGNED is on: unsigned Jira deliveries are accepted, so anyone could move "
    "steps. Unset it and set JIRA_WEBHOOK_SECRET in production."
)


@checks.register(checks.Tags.security, deploy=True)
def development_switches_check(app_configs=None, **kwargs):
    errors = []
    if settings.HANDOVER_CHECK_ALLOW_PRIVATE:
        errors.append(checks.Error(ALLOW_PRIVATE, id="config.E010"))
    if settings.JIRA_WEBHOOK_ALLOW_UNSIGNED:
        errors.append(checks.Error(ALLOW_UNSIGNED, id="config.E011"))
    return errors
