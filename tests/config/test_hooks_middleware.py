"""The hooks under /hooks/ skip the session, user, CSRF, message and htmx middlewares
(``config.middleware.HooksMiddleware``): a machine's signed request needs none of them, and each
costs the webhook's answer. What runs before them still does: the host check, NUL refusal, the
security headers."""

import sys
import types

import pytest
from django.http import JsonResponse
from django.test import Client, override_settings
from django.urls import include, path

SKIPPED = ["session", "user", "csrf_processing_done", "_messages", "htmx"]


def probe(request):
    """What the middlewares left on the request."""
    return JsonResponse({name: hasattr(request, name) for name in SKIPPED})


probe_urls = types.ModuleType("hooks_middleware_probe_urls")
probe_urls.urlpatterns = [
    path("hooks/probe/", probe, name="hook-probe"),
    path("probe/", probe, name="page-probe"),
    path("", include("config.urls")),
]
sys.modules[probe_urls.__name__] = probe_urls

pytestmark = [pytest.mark.django_db, pytest.mark.urls(probe_urls.__name__)]


def test_a_hook_is_answered_without_sessions_users_csrf_messages_or_htmx():
    response = Client().post("/hooks/probe/", data=b"{}", content_type="application/json")

    assert response.status_code == 200
    assert response.json() == dict.fromkeys(SKIPPED, False)
    assert "Content-Security-Policy" in response  # the middlewares before it still run
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies


def test_any_other_page_still_goes_through_every_middleware():
    response = Client().get("/probe/")

    assert response.json() == dict.fromkeys(SKIPPED, True)


def test_a_hook_on_a_host_that_is_not_allowed_is_refused():
    with override_settings(ALLOWED_HOSTS=["product.example"]):
        response = Client().post("/hooks/probe/", data=b"{}", content_type="application/json")

    assert response.status_code == 400


def test_a_nul_in_a_hook_path_is_refused_before_the_hook():
    response = Client().get("/hooks/probe/?q=%00")

    assert response.status_code == 400
    assert b"NUL character" in response.content


def test_a_hook_path_no_url_matches_goes_through_the_whole_stack():
    assert Client().get("/hooks/probe").status_code == 301  # APPEND_SLASH, as before
    assert Client().get("/hooks/nothing-here/").status_code == 404


def test_a_hook_path_is_resolved_once_then_kept(monkeypatch):
    from config import middleware

    middleware.hook_match.cache_clear()
    walks = []
    real = middleware.resolve
    monkeypatch.setattr(middleware, "resolve", lambda path, urlconf: walks.append(path) or real(path, urlconf))

    for _ in range(3):
        assert Client().post("/hooks/probe/", data=b"{}", content_type="application/json").status_code == 200
    for _ in range(2):
        assert Client().post("/hooks/nothing-here/", data=b"{}", content_type="application/json").status_code == 404

    # The hook's path walked once; a path no URL matches walked each time, never kept.
    assert walks == ["/hooks/probe/", "/hooks/nothing-here/", "/hooks/nothing-here/"]
