"""An integration without a TradingView PM, on every surface that shows or tells about it.

Integrations are created without a PM in the admin and through the API (the field is optional), so
every page, feed, export and message must work with ``tv_pm=None``: the integration page and the
portfolio (with its "No PM" filter, CSV and counts), the queue and the PM's calendar, insight, the
stage page and its list and calendar, the API, the admin, and Slack's notices, reminders, escalations
and weekly digest.
"""

import csv
import io
import json
from datetime import date

import pytest
from django.urls import reverse

from integrations import plan, steps
from integrations.api.models import ApiToken
from integrations.models import Integration
from integrations.stage.models import CalendarFeed
from notifications.digest import plan_weekly_digest
from notifications.models import OutboxMessage, SlackUser
from notifications.reminders import plan_reminders
from tests.default_plan import STEP_CODES
from tests.factories import IntegrationFactory
from tests.integrations.handovers.helpers import hand_over_everything
from tests.integrations.helpers import KICKOFF, at, ctx, on, step

pytestmark = pytest.mark.django_db

K = OutboxMessage.Kind
INTERNAL = "C0INTERNAL"
PARTNER_CHANNEL = "C0PARTNER"


@pytest.fixture
def orphan(settings, partner, pm):
    """Acme's integration with nobody as its PM or business manager, kicked off on 2026-03-02, its
    TradingView tasks done late, the partner's endpoints blocked, then 8 days overdue."""
    settings.SLACK_INTERNAL_CHANNEL = INTERNAL
    integration = IntegrationFactory(partner=partner, tv_pm=None, slack_channel_id=PARTNER_CHANNEL)
    with on(KICKOFF, 9):
        plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    with on("2026-03-09"):
        for code in ("slack-jira-onboarding", "autotests-configuration"):
            steps.complete_step(step(integration, code), ctx(pm, "2026-03-09"))
    with on("2026-03-20"):
        steps.block_step(step(integration, "endpoints-implementation"), ctx(pm, note="Waiting for API keys."))
    with on("2026-03-23"):
        steps.unblock_step(step(integration, "endpoints-implementation"), ctx(pm, note="Keys arrived."))
    integration.refresh_from_db()
    assert integration.tv_pm is None and integration.business_manager is None
    return integration


def test_the_dashboard_pages_show_an_integration_without_a_pm(client, pm, orphan):
    client.force_login(pm)
    with on("2026-04-09"):
        page = client.get(reverse("integration-page", args=[orphan.pk]))
        assert page.status_code == 200
        onboarding = step(orphan, "passing-autotests")
        action = client.post(
            reverse("step-action", args=[onboarding.pk, "block"]), {"note": "Jenkins down"}, HTTP_HX_REQUEST="true"
        )
        assert action.status_code == 200
        portfolio = client.get(reverse("portfolio"))
        assert portfolio.status_code == 200
        assert "No PM" in portfolio.content.decode()
        for query in ("pm=none", "pm=me", f"pm={pm.pk}", "sort=-updated", "state=all"):
            assert client.get(reverse("portfolio") + "?" + query).status_code == 200, query
        assert "Acme" in client.get(reverse("portfolio") + "?pm=none").content.decode()
        export = client.get(reverse("portfolio-csv") + "?pm=none")
        assert export.status_code == 200
        rows = list(csv.DictReader(io.StringIO(export.content.decode())))
        assert [(r["integration"], r["pm"]) for r in rows] == [(orphan.name, "")]
        assert client.get(reverse("my-queue")).status_code == 200
        assert client.get(reverse("insight")).status_code == 200
        assert client.get(reverse("insight") + "?pm=none").status_code == 200
        feed = client.get(reverse("my-queue")).context["calendar_url"]
        assert client.get(feed.split("testserver", 1)[-1]).status_code == 200


def test_the_stage_page_its_list_and_calendar_show_an_integration_without_a_pm(client, partner_user, pm, orphan):
    _, raw = CalendarFeed.issue(partner=orphan.partner)
    with on("2026-04-09"):
        client.force_login(partner_user)
        stage = client.get(reverse("stage-page", args=[orphan.pk]))
        assert stage.status_code == 200
        assert "your TradingView PM" not in stage.content.decode()
        assert client.get(reverse("stage-list"), follow=True).status_code == 200
        assert client.get(reverse("stage-calendar", args=[raw])).status_code == 200
        client.force_login(pm)  # staff preview the partner's page
        assert client.get(reverse("stage-page", args=[orphan.pk])).status_code == 200


def test_the_api_creates_lists_and_shows_integrations_without_a_pm(client, pm, partner, orphan):
    _, raw = ApiToken.issue(user=pm, name="tests")
    headers = {"Authorization": f"Bearer {raw}"}
    body = {
        "partner": partner.pk,
        "name": "Acme spot",
        "parts": "data",
        "data_types": ["crypto"],
        "data_source": "own_feed",
        "data_auth": "fixed_token",
    }
    with on("2026-04-09"):
        created = client.post(
            "/api/v1/integrations/", json.dumps(body), content_type="application/json", headers=headers
        )
        assert created.status_code == 201, created.content
        assert created.json()["tv_pm"] is None
        nulled = client.post(
            "/api/v1/integrations/",
            json.dumps({**body, "name": "Acme kicked off", "tv_pm": None, "kickoff_on": "2026-04-06"}),
            content_type="application/json",
            headers=headers,
        )
        assert nulled.status_code == 201, nulled.content
        for path in (
            "/api/v1/integrations/",
            "/api/v1/integrations/?pm=none",
            f"/api/v1/integrations/{orphan.pk}/",
            f"/api/v1/integrations/{orphan.pk}/steps/",
            f"/api/v1/integrations/{orphan.pk}/history/",
        ):
            response = client.get(path, headers=headers)
            assert response.status_code == 200, path
        listed = client.get("/api/v1/integrations/?pm=none", headers=headers).json()["results"]
        assert {row["tv_pm"] for row in listed} == {None}
        assert len(listed) == 3


def test_the_admin_creates_lists_and_changes_integrations_without_a_pm(admin_client, partner, orphan):
    add = reverse("admin:integrations_integration_add")
    form = admin_client.get(add).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    data.update(
        partner=partner.pk,
        name="Acme futures",
        parts="trading",
        trading_auth="password_bearer",
        tv_pm="",
        **{f"{prefix}-TOTAL_FORMS": "0" for prefix in ("team", "steps")},
        **{f"{prefix}-INITIAL_FORMS": "0" for prefix in ("team", "steps")},
    )
    response = admin_client.post(add, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Integration.objects.get(name="Acme futures").tv_pm is None
    changelist = reverse("admin:integrations_integration_changelist")
    pages = [
        changelist,
        changelist + "?tv_pm__id__exact=",
        changelist + "?o=7",  # sorted by the PM column
        reverse("admin:integrations_integration_change", args=[orphan.pk]),
        reverse("admin:integrations_integration_history", args=[orphan.pk]),
        reverse("admin:integrations_integration_operation", args=[orphan.pk, "pause"]),
        reverse("admin:integrations_integration_operation", args=[orphan.pk, "cancel_integration"]),
        reverse("admin:integrations_integrationstep_changelist"),
        reverse("admin:integrations_integrationstep_change", args=[step(orphan, "endpoints-implementation").pk]),
    ]
    with on("2026-04-09"):
        for page in pages:
            assert admin_client.get(page).status_code == 200, page


def test_slack_tells_and_reminds_about_an_integration_without_a_pm(pm, orphan):
    SlackUser.objects.create(user=pm, slack_user_id="U0ALICE")
    # The partner's endpoints, due Monday 30 March, are 8 days overdue on Wednesday 8 April: escalated.
    day = date(2026, 3, 2)
    while day <= date(2026, 4, 8):
        with on(day, 6):
            plan_reminders(day)
        day = date.fromordinal(day.toordinal() + 1)
    escalation = OutboxMessage.objects.get(kind=K.ESCALATION)
    assert escalation.channel == INTERNAL
    assert "The partner's step is late; time to call them." in escalation.text
    assert OutboxMessage.objects.filter(kind=K.OVERDUE, channel=PARTNER_CHANNEL).exists()
    assert OutboxMessage.objects.filter(kind=K.BLOCKED).count() == 1
    with on("2026-03-30", 6):
        plan_weekly_digest(date(2026, 3, 30))  # nobody's digest holds it, and nothing fails
    assert not OutboxMessage.objects.filter(kind=K.DIGEST).exists()
    # Re-planned, then every step done: the launch is told and mailed.
    with on("2026-04-09"):
        plan.replan(orphan, date(2026, 4, 13), ctx(pm, note="Restart after the keys."))
    hand_over_everything(orphan)
    with on("2026-04-10"):
        for code in STEP_CODES:
            if step(orphan, code).is_open:
                steps.complete_step(step(orphan, code), ctx(pm))
    orphan.refresh_from_db()
    assert orphan.state == Integration.State.LAUNCHED
    assert OutboxMessage.objects.filter(kind=K.LAUNCHED).count() == 2
