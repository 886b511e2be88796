"""Every partner-facing URL: another partner's objects are not found, anonymous users log in first,
and a partner cannot act on TradingView's tasks."""

import pytest
from django.urls import reverse

from integrations.models import TeamMember
from integrations.stage.models import CalendarFeed
from tests.factories import TeamMemberFactory
from tests.integrations.helpers import step
from tests.integrations.stage.support import other_partner_user

pytestmark = pytest.mark.django_db


def urls_of(integration, member, feed, partner_step):
    """Each partner-facing URL on ``integration``'s objects, with the method and data it takes."""
    pk = integration.pk
    return [
        ("get", reverse("stage-page", args=[pk]), {}),
        ("post", reverse("stage-step-action", args=[partner_step.pk, "complete"]), {}),
        ("post", reverse("stage-step-action", args=[partner_step.pk, "start"]), {}),
        (
            "post",
            reverse("stage-handover-url", args=[pk]),
            {"part": "trading", "environment": "production", "url": "https://example.com/api"},
        ),
        ("post", reverse("stage-beta-testers", args=[pk]), {"beta_testers": "alice_tv"}),
        ("post", reverse("stage-auth-sheet", args=[pk, "trading"]), {"sheet-trading-client_id": "abc"}),
        ("post", reverse("stage-team-add", args=[pk]), {"member-new-name": "Mallory", "member-new-role": "qa"}),
        (
            "post",
            reverse("stage-team-edit", args=[pk, member.pk]),
            {f"member-{member.pk}-name": "Mallory", f"member-{member.pk}-role": "qa"},
        ),
        ("post", reverse("stage-team-remove", args=[pk, member.pk]), {}),
        ("post", reverse("stage-calendar-create", args=[pk]), {}),
        ("post", reverse("stage-calendar-revoke", args=[pk, feed.pk]), {}),
    ]


@pytest.fixture
def bobs(started_integration, pm):
    member = TeamMemberFactory(integration=started_integration, name="Bob's QA", role="qa")
    feed, _ = CalendarFeed.issue(partner=started_integration.partner)
    return urls_of(started_integration, member, feed, step(started_integration, "endpoints-implementation"))


def test_another_partner_gets_404_on_every_url_and_nothing_changes(client, bobs, started_integration):
    eve, _ = other_partner_user()
    client.force_login(eve)
    for method, url, data in bobs:
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (method, url, response.status_code)
    started_integration.refresh_from_db()
    assert step(started_integration, "endpoints-implementation").status == "not_started"
    assert started_integration.beta_testers == ""
    assert started_integration.trading_production_url == "https://broker.example.com/api"
    assert TeamMember.objects.filter(integration=started_integration).get().name == "Bob's QA"
    assert CalendarFeed.objects.get().revoked_at is None
    assert CalendarFeed.objects.count() == 1
    assert not started_integration.auth_sheets.exists() and not started_integration.url_checks.exists()


def test_a_user_with_no_partner_gets_404_too(client, bobs):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="nobody"))
    for method, url, data in bobs:
        assert getattr(client, method)(url, data).status_code == 404, url


def test_anonymous_users_are_sent_to_log_in_on_every_url(client, bobs):
    login = reverse("login")
    for method, url, data in [*bobs, ("get", reverse("stage-list"), {})]:
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, url
        assert response["Location"].startswith(login + "?next="), url


def test_the_list_shows_only_the_partners_own_integrations(client, partner_user, started_integration, pm):
    from tests.factories import IntegrationFactory

    second = IntegrationFactory(partner=started_integration.partner, name="Acme Futures")
    _, foreign = other_partner_user()
    client.force_login(partner_user)
    html = client.get(reverse("stage-list")).content.decode()
    assert reverse("stage-page", args=[started_integration.pk]) in html
    assert reverse("stage-page", args=[second.pk]) in html
    assert reverse("stage-page", args=[foreign.pk]) not in html and "Other Broker" not in html


def test_a_partner_with_one_integration_goes_straight_to_it(client, partner_user, started_integration):
    client.force_login(partner_user)
    response = client.get(reverse("stage-list"))
    assert response.status_code == 302
    assert response["Location"] == reverse("stage-page", args=[started_integration.pk])


def test_a_partner_cannot_act_on_a_tradingview_task(client, partner_user, started_integration):
    onboarding = step(started_integration, "slack-jira-onboarding")
    client.force_login(partner_user)
    response = client.post(reverse("stage-step-action", args=[onboarding.pk, "complete"]), follow=True)
    assert response.status_code == 403  # the page, with the refusal's message
    assert "only TradingView can change it" in response.content.decode()
    assert step(started_integration, "slack-jira-onboarding").status == "not_started"
    # Nor take an action only TradingView takes, on its own step.
    endpoints = step(started_integration, "endpoints-implementation")
    response = client.post(
        reverse("stage-step-action", args=[endpoints.pk, "not_applicable"]), {"note": "skip"}, follow=True
    )
    assert "Only TradingView can mark a step not applicable" in response.content.decode()
    assert step(started_integration, "endpoints-implementation").status == "not_started"


def test_partner_users_do_not_see_the_pm_pages(client, partner_user, started_integration):
    client.force_login(partner_user)
    assert client.get(reverse("portfolio")).status_code == 403
    assert client.get(reverse("integration-page", args=[started_integration.pk])).status_code == 403


def test_logging_in_lands_staff_on_the_portfolio_and_partners_on_their_stage(client, pm, partner_user):
    client.force_login(pm)
    assert client.get(reverse("stage-home"))["Location"] == reverse("portfolio")
    client.force_login(partner_user)
    assert client.get(reverse("stage-home"))["Location"] == reverse("stage-list")
    response = client.post(reverse("login"), {"username": "dev.bob", "password": "correct-horse-battery"})
    assert response["Location"] == reverse("stage-home")
