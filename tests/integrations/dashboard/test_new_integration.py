"""A new integration from the dashboard: the form, the planned dates shown first, then created and
kicked off in one go; what is refused leaves nothing behind and keeps what was typed."""

from datetime import date

import pytest
import time_machine
from django.urls import reverse

from integrations import plan
from integrations.models import Integration, IntegrationStep, Partner
from tests.factories import latest_default_template
from tests.integrations.helpers import at

pytestmark = pytest.mark.django_db

URL = "/integrations/new/"
TODAY = date(2026, 3, 2)  # a Monday


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(at(TODAY, 10), tick=False):
        yield


@pytest.fixture
def staff_client(client, pm):
    client.force_login(pm)
    return client


def fields(**changes):
    data = {
        "partner": "",
        "new_partner_name": "Nimbus Markets",
        "new_partner_time_zone": "Asia/Singapore",
        "parts": "both",
        "data_types": ["crypto", "forex"],
        "data_source": "own_feed",
        "data_auth": "fixed_token",
        "trading_auth": "oauth2_code",
        "slack_channel_id": "C024BE91L",
        "jira_project_key": "NIM",
        "kickoff_on": "2026-03-02",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def counts():
    return Partner.objects.count(), Integration.objects.count(), IntegrationStep.objects.count()


def test_the_portfolio_links_to_the_form_and_only_staff_open_it(client, staff_client, partner_user):
    assert reverse("integration-new") == URL
    assert URL in staff_client.get("/").content.decode()
    assert staff_client.get(URL).status_code == 200
    client.force_login(partner_user)
    assert client.get(URL).status_code == 403


def test_showing_the_plan_writes_nothing_and_gives_the_kick_offs_dates(staff_client, pm):
    before = counts()
    response = staff_client.post(URL, fields(tv_pm=pm.pk))
    assert response.status_code == 200
    assert counts() == before
    html = response.content.decode()
    assert 'name="confirm"' in html and "The plan for a kick-off on 2 Mar 2026" in html
    planned = response.context["planned"]
    # The same dates the kick-off records.
    # The new partner keeps Singapore's holidays (from its time zone): Labour Day, Friday 1 May 2026,
    # gives the round-2 fixes Monday 4 and Tuesday 5 May.
    probe = Integration(
        partner=Partner(name="x", time_zone="Asia/Singapore", country="SG"),
        template=latest_default_template(),
        parts="both",
        data_types=["crypto", "forex"],
        data_source="own_feed",
    )
    assert [(p.template_step.code, p.due_date) for p in planned] == [
        (p.template_step.code, p.due_date) for p in plan.preview(probe, TODAY, TODAY)
    ]
    launch = planned[-1].due_date
    assert f"Planned launch <strong>{launch.day} {launch:%b %Y}</strong>" in html
    assert 'value="Nimbus Markets"' in html  # what was typed stays


def test_confirming_creates_the_partner_and_the_integration_and_kicks_it_off(staff_client, pm):
    preview = staff_client.post(URL, fields(tv_pm=pm.pk)).context["planned"]
    response = staff_client.post(URL, fields(tv_pm=pm.pk, confirm="1"))
    integration = Integration.objects.get(partner__name="Nimbus Markets")
    assert response.status_code == 302
    assert response["Location"] == reverse("integration-page", args=[integration.pk]) + "#access"
    assert integration.partner.time_zone == "Asia/Singapore"
    assert integration.kickoff_on == TODAY and integration.tv_pm == pm
    assert (integration.slack_channel_id, integration.jira_project_key) == ("C024BE91L", "NIM")
    assert integration.data_types == ["crypto", "forex"]
    steps = list(integration.steps.order_by("position"))
    assert [(s.code, s.planned_due_date) for s in steps] == [(p.template_step.code, p.due_date) for p in preview]
    assert integration.events.filter(kind="kicked_off", by=pm, source="web").exists()


def test_the_confirmation_says_the_kick_off_and_planned_launch_as_people_read_dates(staff_client, pm):
    response = staff_client.post(URL, fields(tv_pm=pm.pk, confirm="1"), follow=True)
    [message] = [str(m) for m in response.context["messages"]]
    launch = Integration.objects.get(partner__name="Nimbus Markets").baseline_launch_on
    assert "created and kicked off on 2 Mar 2026: planned launch " in message
    assert f"planned launch {launch.day} {launch:%b %Y}. Invite" in message


def test_an_existing_partner_is_chosen_not_duplicated(staff_client, partner, pm):
    response = staff_client.post(
        URL,
        fields(
            partner=partner.pk,
            new_partner_name="",
            parts="trading",
            data_types=[],
            data_source="",
            data_auth="",
            confirm="1",
        ),
    )
    assert response.status_code == 302
    integration = Integration.objects.get(partner=partner)
    assert integration.parts == "trading" and integration.is_started
    assert Partner.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"new_partner_name": ""}, "new_partner_name", "Choose the partner, or give the new partner"),
        ({"new_partner_name": "acme crypto exchange"}, "new_partner_name", "is already a partner"),
        ({"new_partner_time_zone": "Mars/Olympus"}, "new_partner_time_zone", "is not a known time zone"),
        ({"parts": "trading"}, "data_types", "no data part"),
        ({"data_source": ""}, "data_source", "own feed or exchange mapping"),
        ({"trading_auth": ""}, "trading_auth", "trading part"),
        ({"slack_channel_id": "general"}, "slack_channel_id", "A Slack channel id looks like"),
        ({"kickoff_on": "2031-01-01"}, "kickoff_on", "more than 3 years from today"),
        ({"kickoff_on": "next week"}, "kickoff_on", "Enter a valid date"),
    ],
)
def test_refusals_keep_what_was_typed_and_write_nothing(staff_client, partner, changes, field, message):
    before = counts()
    for confirm in ("", "1"):
        response = staff_client.post(URL, fields(confirm=confirm, **changes))
        assert response.status_code == 400
        form = response.context["form"]
        assert message in " ".join(form.errors.get(field, [])), form.errors
        html = response.content.decode()
        assert 'name="confirm"' not in html  # no plan shown, nothing to confirm
        assert 'value="NIM"' in html
    assert counts() == before


def test_without_the_roadmap_template_the_form_says_so_instead_of_failing(staff_client, pm):
    from roadmap.models import RoadmapTemplate

    RoadmapTemplate.objects.all().delete()
    response = staff_client.post(URL, fields(tv_pm=pm.pk))
    assert response.status_code == 400
    assert "The default roadmap template is not installed" in response.content.decode()
