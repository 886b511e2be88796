"""Deployment checks of the settings the product's own links depend on.

``SITE_URL`` is where every link the product sends out points (Slack's "Open" buttons, the digest):
production has no default for it, since a guess (``http://127.0.0.1:8000``) sends people nowhere,
and it must be https. ``check --deploy`` reports it (``config.E002``); the embedded and DEBUG modes,
on plain http on 127.0.0.1, are left alone.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core import checks

SITE_URL_E002 = (
    "SITE_URL must be the product's public https address, e.g. https://roadmap.example.com: "
    "Slack's buttons and the digest link to it."
)


@checks.register(checks.Tags.security, deploy=True)
def site_url_check(app_configs=None, **kwargs):
    if settings.EMBEDDED or settings.DEBUG:
        return []
    site_url = (settings.SITE_URL or "").strip()
    try:
        parts = urlsplit(site_url)
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        got = f" (it is {site_url!r})" if site_url else " (it is not set)"
        return [checks.Error(SITE_URL_E002 + got, id="config.E002")]
    return []
