"""Headers every answer carries: a strict Content-Security-Policy on every page (the API's docs
page alone has its own, for Swagger UI's inline script), and ``Cache-Control: private, no-store``
on everything a signed-in user is shown, so no shared or back-button cache keeps it."""

import pytest
from django.urls import reverse

from integrations.api.models import ApiToken

pytestmark = pytest.mark.django_db

STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
    "form-action 'self'; base-uri 'self'; object-src 'none'"
)


def directives(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in policy.split(";") if part.strip()}


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/", "/partner/link/not-a-token/", "/no-such-page/"])
def test_anonymous_pages_have_the_strict_policy(client, path):
    assert client.get(path)["Content-Security-Policy"] == STRICT


def test_signed_in_pages_are_private_and_not_stored(client, pm, partner_user, started_integration):
    client.force_login(pm)
    for path in [reverse("portfolio"), reverse("integration-page", args=[started_integration.pk]), "/admin/"]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response["Cache-Control"] == "private, no-store", path
        assert response["Content-Security-Policy"] == STRICT, path
    client.force_login(partner_user)
    response = client.get(reverse("stage-page", args=[started_integration.pk]))
    assert response["Cache-Control"] == "private, no-store"
    assert response["Content-Security-Policy"] == STRICT


def test_the_api_answers_signed_in_callers_with_no_store(client, partner_user, started_integration):
    client.force_login(partner_user)
    assert client.get("/api/v1/integrations/")["Cache-Control"] == "private, no-store"
    _, raw = ApiToken.issue(user=partner_user)
    by_token = client.__class__().get("/api/v1/integrations/", headers={"Authorization": f"Bearer {raw}"})
    assert by_token.status_code == 200
    assert by_token["Cache-Control"] == "private, no-store"


def test_the_api_docs_page_alone_allows_swagger_uis_inline_script_and_style(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    policy = directives(response)
    assert policy["script-src"] == "script-src 'self' 'unsafe-inline'"
    assert policy["style-src"] == "style-src 'self' 'unsafe-inline'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'" and policy["object-src"] == "object-src 'none'"
    # The schema it reads is JSON under the strict policy like everything else.
    assert client.get("/api/schema/")["Content-Security-Policy"] == STRICT


def test_no_template_has_inline_script_style_or_handlers():
    """What the strict policy would block, kept out at the source (templates and Python-made HTML)."""
    import re
    from pathlib import Path

    from django.conf import settings

    root = Path(settings.BASE_DIR)
    files = [*root.glob("templates/**/*.html"), *root.glob("integrations/**/*.py"), *root.glob("notifications/**/*.py")]
    inline = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style[\s>]|\sstyle=|\son[a-z]+=|hx-on|javascript:", re.I)
    found = [
        f"{path.relative_to(root)}: {match.group(0)}" for path in files for match in inline.finditer(path.read_text())
    ]
    assert found == []
