"""One rule for every session a magic link opened: it lives only as long as the link.

Every request (the pages, their htmx partials, the API with a session) passes here after the
session and the user are known. A session whose link was revoked or has expired is logged out,
and the request is answered as ended: the API with a 401 in its own JSON shape, htmx with a
redirect to the page that says so (htmx swaps no 4xx), every other page with that page (410).
Only the ways to sign in again (the log-in page, a magic link) go on, as the anonymous visitor
the request now is. A session opened with a password is never touched.
"""

from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve, reverse

from integrations.stage.access import link_ended

API_PREFIX = "/api/"
# Where a visitor whose session ended signs in again: these go on, anonymous.
SIGN_IN_VIEWS = {"login", "stage-magic-link"}
SESSION_ENDED_MESSAGE = (
    "The magic link this session was opened with has expired or was revoked. Ask your TradingView PM for a new link."
)


class MagicLinkSessionMiddleware:
    """After ``AuthenticationMiddleware``: ends the sessions whose magic link ended."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and link_ended(request):
            logout(request)
            if not self._goes_on(request):
                return self._ended(request)
        return self.get_response(request)

    @staticmethod
    def _goes_on(request) -> bool:
        if request.path_info.startswith(API_PREFIX):
            # With a token, the token is the credential, not the session.
            return bool(request.headers.get("Authorization"))
        try:
            return resolve(request.path_info).url_name in SIGN_IN_VIEWS
        except Resolver404:
            return False

    @staticmethod
    def _ended(request):
        if request.path_info.startswith(API_PREFIX):
            response = JsonResponse({"code": "session_ended", "message": SESSION_ENDED_MESSAGE}, status=401)
            response["WWW-Authenticate"] = "Bearer"
            return response
        response = render(request, "stage/link_ended.html", {"session_ended": True}, status=410)
        if request.headers.get("HX-Request"):
            response["HX-Redirect"] = reverse("stage-session-ended")
        return response
