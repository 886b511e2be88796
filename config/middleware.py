"""Refuse a request that carries a NUL character: no field of the product accepts one.

PostgreSQL cannot hold NUL in text, so a NUL that reached a search, a filter or a note would be a
500 there (SQLite takes it silently). One check, before any view reads the request: the path, the
query string and the form fields (names and values). JSON bodies are their reader's to check
(the API's parser answers the same code and message; Jira's webhook says what it cannot store),
so this never reads a body that is not a form, nor any body under the API (which reads JSON only
and answers a form with 415).

``HooksMiddleware``: the hooks under ``/hooks/`` (Jira's, Jenkins' and Slack's requests to the
product) are answered by their view straight after the middlewares above it, without those below.
Imports only Django.
"""

from functools import lru_cache

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.urls import Resolver404, get_urlconf, resolve

NUL = "\x00"
NUL_MESSAGE = "The request contains a NUL character, which no field accepts."
# The API's code for bad input: under API_PREFIX the answer is its JSON error shape.
NUL_CODE = "invalid"
API_PREFIX = "/api/"
FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(query) -> bool:
    return any(NUL in key or any(NUL in value for value in values) for key, values in query.lists())


def carries_nul(request) -> bool:
    """Whether the path, the query string or a form field of ``request`` holds a NUL."""
    if NUL in request.path or _has_nul(request.GET):
        return True
    if request.method != "POST" or request.content_type not in FORMS or request.path.startswith(API_PREFIX):
        return False
    return _has_nul(request.POST)


def refusal(request):
    if request.path.startswith(API_PREFIX):
        return JsonResponse({"code": NUL_CODE, "message": NUL_MESSAGE}, status=400)
    return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")


class RefuseNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if carries_nul(request):
            return refusal(request)
        return self.get_response(request)


# --- the hooks: no sessions, users, CSRF nor messages -----------------------------------------

HOOKS_PREFIX = "/hooks/"


@lru_cache(maxsize=64)
def hook_match(path: str, urlconf: str | None):
    """``resolve(path)`` under ``urlconf``, kept: a hook is called on the same few paths again and again,
    and walking the URL patterns was a tenth of a delivery's own time. A path no URL matches raises
    Resolver404 each time (nothing kept); 64 entries bound what stray paths can keep."""
    return resolve(path, urlconf)


class HooksMiddleware:
    """Answer a request to a hook (a path under ``/hooks/`` that the URLs know) with its view at
    once, skipping every middleware listed after this one.

    A hook is called by a machine that signs or tokens each request (Jira's HMAC, Jenkins' job
    token, Slack's v0 signature): it reads no session, no signed-in user, no CSRF token, no
    messages, no htmx header. Each of those middlewares costs a hook's request for nothing, and a
    webhook answers as fast as its one committed INSERT allows. What comes before this one still
    runs: https and HSTS, the security headers, NUL refusal. The host is checked against
    ``ALLOWED_HOSTS`` here, as ``CommonMiddleware`` does for every other request.

    A hook view must therefore not read ``request.user``, ``request.session`` or messages, nor need
    a view middleware (its exceptions still become the 500 page, as elsewhere). A path under
    ``/hooks/`` that no URL matches goes through the whole stack (``APPEND_SLASH`` and the 404).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path_info.startswith(HOOKS_PREFIX):
            return self.get_response(request)
        try:
            match = hook_match(request.path_info, get_urlconf() or settings.ROOT_URLCONF)
        except Resolver404:
            return self.get_response(request)
        request.get_host()  # DisallowedHost (400) for a host not in ALLOWED_HOSTS
        request.resolver_match = match
        return match.func(request, *match.args, **match.kwargs)
