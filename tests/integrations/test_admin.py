"""The integrations admin: lists at a constant query count, operations that refuse with reasons."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from integrations import plan
from integrations.models import ChangeSource, Integration, IntegrationEvent
from tests.factories import IntegrationFactory, UserFactory
from tests.integrations.helpers import KICKOFF, at, step

CHANGELIST = "/admin/integrations/integration/"


@pytest.fixture
def admin_client(client, pm):
    pm.is_superuser = True
    pm.save()
    client.force_login(pm)
    return client


def kicked_off(n, pm):
    for _ in range(n):
        integration = IntegrationFactory(tv_pm=pm)
        plan.start_integration(integration, KICKOFF, source=ChangeSource.WEB, by=pm, at=at(KICKOFF, 9))


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.django_db
def test_changelist_query_count_does_not_grow_with_rows(admin_client, pm, django_assert_num_queries):
    kicked_off(2, pm)
    with django_assert_num_queries(6):
        assert admin_client.get(CHANGELIST).status_code == 200
    kicked_off(8, pm)
    with django_assert_num_queries(6):
        response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 10


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", 3),
        ("ball_side=both", 2),
        ("ball_side=partner", 0),
        ("overdue=yes", 2),
        ("overdue=no", 1),
        ("data_type=crypto", 2),
        ("data_type=stocks", 1),
        ("state=paused", 1),
    ],
)
def test_changelist_filters(admin_client, pm, query, expected):
    kicked_off(2, pm)  # crypto, kicked off 2026-03-02: everything is overdue by now
    stocks = IntegrationFactory(stocks_data_only=True, tv_pm=pm)
    plan.start_integration(stocks, KICKOFF, source=ChangeSource.WEB, by=pm, at=at(KICKOFF, 9))
    plan.pause(stocks, source=ChangeSource.WEB, by=pm, at=at("2026-03-10"))
    response = admin_client.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 200
    assert response.context["cl"].result_count == expected


@pytest.mark.django_db
def test_kick_off_from_the_change_page(admin_client, pm, integration):
    url = reverse("admin:integrations_integration_operation", args=[integration.pk, "kick_off"])
    bad = admin_client.post(url, {"kickoff_on": "2026-13-01"})
    assert bad.status_code == 200
    assert "Enter a valid date." in bad.content.decode()
    assert integration.steps.count() == 0

    response = admin_client.post(url, {"kickoff_on": "2026-03-02", "note": "Signed on Friday."})
    assert response.status_code == 302
    integration.refresh_from_db()
    assert str(integration.kickoff_on) == "2026-03-02"
    event = IntegrationEvent.objects.get(integration=integration)
    assert (event.kind, event.source, event.by, event.note) == ("kicked_off", "web", pm, "Signed on Friday.")

    again = admin_client.post(url, {"kickoff_on": "2026-03-09"}, follow=True)
    assert any("re-plan it with a new kick-off date instead" in m for m in messages_of(again))


@pytest.mark.django_db
def test_completing_before_prerequisites_shows_why_and_changes_nothing(admin_client, started_integration):
    passing = step(started_integration, "passing-autotests")
    url = reverse("admin:integrations_integrationstep_operation", args=[passing.pk, "complete"])
    response = admin_client.post(url, follow=True)
    assert response.status_code == 200
    [message] = messages_of(response)
    assert "cannot be completed before the steps it depends on are done" in message
    assert "REST API autotests configuration (TradingView, not started)" in message
    passing.refresh_from_db()
    assert passing.status == "not_started"
    assert passing.history.count() == 1


@pytest.mark.django_db
def test_block_needs_a_reason(admin_client, started_integration):
    onboarding = step(started_integration, "slack-jira-onboarding")
    url = reverse("admin:integrations_integrationstep_operation", args=[onboarding.pk, "block"])
    response = admin_client.post(url, {"reason": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    admin_client.post(url, {"reason": "Waiting for the partner's Slack workspace invite."})
    onboarding.refresh_from_db()
    assert (onboarding.status, onboarding.blocked_reason) == (
        "blocked",
        "Waiting for the partner's Slack workspace invite.",
    )


@pytest.mark.django_db
def test_http_production_url_is_refused_on_save(admin_client, integration):
    url = reverse("admin:integrations_integration_change", args=[integration.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    data.update(
        partner=integration.partner.pk,
        template=integration.template.pk,
        data_types=["crypto"],
        trading_production_url="http://broker.example.com/api",
        **{f"{prefix}-TOTAL_FORMS": "0" for prefix in ("team", "steps", "events")},
        **{f"{prefix}-INITIAL_FORMS": "0" for prefix in ("team", "steps", "events")},
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "TradingView requires HTTPS" in " ".join(errors["trading_production_url"])
    integration.refresh_from_db()
    assert integration.trading_production_url == "https://broker.example.com/api"


@pytest.mark.django_db
def test_pages_answer_for_every_model(admin_client, started_integration):
    pages = [
        "/admin/",
        CHANGELIST,
        reverse("admin:integrations_integration_change", args=[started_integration.pk]),
        reverse("admin:integrations_partner_changelist"),
        reverse("admin:integrations_partner_change", args=[started_integration.partner.pk]),
        reverse("admin:integrations_integrationstep_changelist"),
        reverse("admin:integrations_integrationstep_change", args=[step(started_integration, "sandbox-access").pk]),
        reverse("admin:integrations_heartbeat_changelist"),
        reverse("admin:roadmap_roadmaptemplate_changelist"),
        reverse("admin:roadmap_roadmaptemplate_change", args=[started_integration.template.pk]),
    ]
    for page in pages:
        assert admin_client.get(page).status_code == 200, page


@pytest.mark.django_db
def test_non_staff_cannot_use_the_admin(client):
    client.force_login(UserFactory(username="outsider"))
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert Integration.objects.count() == 0
