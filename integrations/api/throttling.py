"""How often one caller may call: per token, or per user for a session; the rate is a setting.

The rate is read on every request (``settings.API_THROTTLE_RATE``), not when the class is
defined, so changing the setting takes effect without a restart of the class machinery.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from integrations.api.models import ApiToken


class PerCallerThrottle(SimpleRateThrottle):
    scope = "api"

    def __init__(self):
        # Deliberately no super().__init__(): it reads the rate from DRF's settings at creation.
        pass

    def allow_request(self, request, view):
        self.rate = settings.API_THROTTLE_RATE
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"address-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
