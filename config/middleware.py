"""Refuse a request that carries a NUL character: no field of the product accepts one.

PostgreSQL cannot hold NUL in text, so a NUL that reached a search, a filter or a note would be a
500 there (SQLite takes it silently). One check, before any view reads the request: the path, the
query string and the form fields (names and values). JSON bodies are their reader's to check
(the API's parser answers the same code and message; Jira's webhook says what it cannot store),
so this never reads a body that is not a form, nor any body under the API (which reads JSON only
and answers a form with 415). Imports only Django.
"""

from django.http import HttpResponseBadRequest, JsonResponse

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
