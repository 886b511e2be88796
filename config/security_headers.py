"""The security headers Django does not set itself.

- ``Content-Security-Policy`` on every answer: ``CONTENT_SECURITY_POLICY``, strict (only the
  site's own scripts, styles and images; no inline script, style or handler; no framing), or the
  policy ``CONTENT_SECURITY_POLICY_BY_VIEW`` gives the view that answered (by URL name).
- ``Cache-Control: private, no-store`` on every answer to a signed-in user (a session or an API
  token), so neither a shared cache nor the browser's back button keeps what only they may see.
"""

from django.conf import settings

NO_STORE = "private, no-store"


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            match = getattr(request, "resolver_match", None)
            response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY_BY_VIEW.get(
                match.view_name if match else None, settings.CONTENT_SECURITY_POLICY
            )
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = NO_STORE
        return response
