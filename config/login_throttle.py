"""The throttle on password guessing, with django-axes: the pieces the product sets itself.

Axes counts failed log-ins (the site's log-in page and the admin's, both through
``authenticate(request, ...)``) in the database and locks, for ``AXES_COOLOFF_TIME``, both the
account (from every address) and the address (for every account) once either reaches
``AXES_FAILURE_LIMIT``. What is set here:

- ``client_address``: the caller's address, from the header the TLS proxy sets when
  ``CLIENT_ADDRESS_HEADER`` names one (otherwise every caller would be the proxy, and one
  address's lock would lock everyone out);
- ``LoginAttempts``: a success clears the failures of the account that signed in, and only
  those; axes would also clear the address's, so a partner could go on guessing at a PM's
  password by signing in as itself every few guesses;
- ``ThrottledLogins``: axes' check, skipped when ``authenticate`` is called without a request
  (code, the shell, a management command): that is not a log-in from the outside;
- ``lockout_response``: the page that says what happened and when to try again (429).
"""

import ipaddress

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.shortcuts import render


def client_address(request) -> str | None:
    """The right-most address of ``CLIENT_ADDRESS_HEADER`` (the one the proxy in front added), or
    ``REMOTE_ADDR`` when no header is configured or it holds no address."""
    header = settings.CLIENT_ADDRESS_HEADER
    if header:
        candidate = request.META.get(header, "").split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            pass
    return request.META.get("REMOTE_ADDR")


class LoginAttempts(AxesDatabaseHandler):
    def reset_user_attempts(self, request, credentials=None) -> int:
        """On a successful log-in: forget the failures against this account, from any address."""
        username = get_client_username(request, credentials)
        if not username:
            return 0
        count, _ = AccessAttempt.objects.filter(username=username).delete()
        return count


class ThrottledLogins(AxesStandaloneBackend):
    """First in ``AUTHENTICATION_BACKENDS``: refuses a locked account or address before the password is checked."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_response(request, original_response=None, credentials=None):
    minutes = max(1, round(get_cool_off(request).total_seconds() / 60))
    return render(
        request,
        "registration/locked_out.html",
        {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
