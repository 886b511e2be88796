"""The hand-overs' admin screens: URL checks read-only and filterable; sheets under the sheet's rules."""

import pytest
from django.urls import reverse

from integrations.handovers.models import AuthorisationSheet, UrlCheck
from tests.integrations.handovers.helpers import passing_check

pytestmark = pytest.mark.django_db


def test_url_checks_are_listed_filtered_by_outcome_and_cannot_be_changed(admin_client, integration):
    passed = passing_check(integration, "trading")
    UrlCheck.objects.create(
        integration=integration, part="data", environment="staging", url="https://x.example.com", outcome="timeout"
    )
    url = reverse("admin:integrations_urlcheck_changelist")

    listed = admin_client.get(url, {"outcome__exact": "ok"})
    page = admin_client.get(reverse("admin:integrations_urlcheck_change", args=[passed.pk]))

    assert listed.status_code == 200
    assert list(listed.context["cl"].result_list) == [passed]
    assert page.status_code == 200 and not page.context["has_change_permission"]
    assert admin_client.get(reverse("admin:integrations_urlcheck_add")).status_code == 403


def test_the_sheet_admin_applies_the_sheets_rules(admin_client, integration):
    url = reverse("admin:integrations_authorisationsheet_add")
    form = {
        "integration": integration.pk,
        "part": "trading",
        "client_id": "tv-client",
        "authorization_uri": "http://broker.example.com/authorize",
        "token_uri": "https://broker.example.com/token",
        "ip_addresses": "not-an-ip",
    }

    refused = admin_client.post(url, form)
    saved = admin_client.post(
        url, {**form, "authorization_uri": "https://broker.example.com/authorize", "ip_addresses": "203.0.113.7"}
    )

    errors = refused.context["adminform"].form.errors
    assert "not an https:// URL" in errors["authorization_uri"][0]
    assert "Not an IP address" in errors["ip_addresses"][0]
    assert saved.status_code == 302
    sheet = AuthorisationSheet.objects.get()
    assert sheet.authorization_uri == "https://broker.example.com/authorize" and sheet.updated_by.is_superuser
