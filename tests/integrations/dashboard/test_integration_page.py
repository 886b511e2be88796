"""One integration's page: its header, timeline, steps with actions, history, Jira, Slack and plan forms."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations.handovers.records import set_beta_testers
from integrations.jira.models import JiraIssue
from integrations.models import Integration, IntegrationEvent, PartnerUser, StepChange
from integrations.stage.models import MagicLink
from notifications.models import OutboxMessage
from tests.factories import PartnerFactory, UserFactory
from tests.integrations.helpers import KICKOFF, at, step

pytestmark = pytest.mark.django_db


def url(integration):
    return reverse("integration-page", args=[integration.pk])


def action_url(s, name):
    return reverse("step-action", args=[s.pk, name])


@pytest.fixture
def staff_client(client, pm):
    client.force_login(pm)
    return client


def test_anonymous_users_are_sent_to_log_in(client, started_integration):
    response = client.get(url(started_integration))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_partner_user_is_refused_the_page(client, partner_user, started_integration):
    client.force_login(partner_user)
    assert client.get(url(started_integration)).status_code == 403
    onboarding = step(started_integration, "slack-jira-onboarding")
    assert client.post(action_url(onboarding, "complete")).status_code == 403
    assert step(started_integration, "slack-jira-onboarding").status == "not_started"


def test_the_page_shows_the_standing_timeline_and_steps(staff_client, started_integration):
    html = staff_client.get(url(started_integration)).content.decode()
    assert "Acme Crypto Exchange" in html
    assert "Ball in court" in html and "Both sides" in html
    assert "Forecast launch" in html and "Baseline launch" in html
    assert "<dd>25 May 2026" in html  # the planned and baseline launch
    assert "window 18 May 2026 – 25 May 2026" in html
    assert "kicked off 2 Mar 2026" in html
    assert "<svg" in html and '<title id="timeline-svg-title">Timeline of' in html
    assert "1 · TradingView · Slack/Jira onboarding" in html
    # A step whose prerequisites are open offers no button, only what it waits for.
    assert "waits for: 1 · TradingView · Slack/Jira onboarding" in html
    assert "cannot be done before the steps it depends on" not in html
    # The kick-off is in the history.
    assert "Kicked off on 2 Mar 2026" in html


def test_completing_a_step_moves_the_ball_and_records_who(staff_client, pm, started_integration):
    onboarding = step(started_integration, "slack-jira-onboarding")
    autotests = step(started_integration, "autotests-configuration")
    staff_client.post(action_url(onboarding, "complete"))
    response = staff_client.post(action_url(autotests, "complete"), follow=True)
    assert response.redirect_chain[-1][0] == url(started_integration) + "#steps"
    assert "2 · TradingView · REST API autotests configuration marked done." in response.content.decode()
    change = StepChange.objects.filter(step=autotests).last()
    assert (change.source, change.by, change.to_status) == ("web", pm, "done")
    started_integration.refresh_from_db()
    assert started_integration.ball_side == "partner"


def test_an_htmx_action_returns_the_steps_and_the_header_out_of_band(staff_client, started_integration):
    onboarding = step(started_integration, "slack-jira-onboarding")
    response = staff_client.post(action_url(onboarding, "complete"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="steps"')
    assert '<section id="summary" class="summary" aria-labelledby="summary-title" hx-swap-oob="true">' in html
    assert 'id="timeline"' in html and 'id="history"' in html
    assert "marked done." in html
    assert "<html" not in html


def test_a_refused_action_says_why_and_changes_nothing(staff_client, started_integration):
    passing = step(started_integration, "passing-autotests")
    response = staff_client.post(action_url(passing, "complete"), follow=True)
    assert "cannot be done before the steps it depends on" in response.content.decode()
    assert step(started_integration, "passing-autotests").status == "not_started"


def test_an_action_that_needs_a_reason_is_refused_without_one(staff_client, started_integration):
    onboarding = step(started_integration, "slack-jira-onboarding")
    response = staff_client.post(action_url(onboarding, "block"), {"note": ""}, follow=True)
    assert response.status_code == 400  # the page, with the refusal's message
    assert "Say why the step is blocked." in response.content.decode()
    assert step(started_integration, "slack-jira-onboarding").status == "not_started"
    response = staff_client.post(action_url(onboarding, "block"), {"note": "Waiting on Slack admin"}, follow=True)
    assert step(started_integration, "slack-jira-onboarding").status == "blocked"
    assert "Waiting on Slack admin" in response.content.decode()


def test_an_unknown_action_is_not_found(staff_client, started_integration):
    onboarding = step(started_integration, "slack-jira-onboarding")
    assert staff_client.post(action_url(onboarding, "explode")).status_code == 404


def test_replanning_needs_a_valid_date_and_a_reason(staff_client, started_integration):
    replan = reverse("integration-replan", args=[started_integration.pk])
    response = staff_client.post(replan, {"replan-kickoff_on": "not a date", "replan-note": "New start"})
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()
    response = staff_client.post(replan, {"replan-kickoff_on": "9999-12-31", "replan-note": "New start"})
    assert response.status_code == 400
    assert "9999-12-31" in response.content.decode()
    response = staff_client.post(replan, {"replan-kickoff_on": "2026-12-07", "replan-note": ""})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    started_integration.refresh_from_db()
    assert started_integration.kickoff_on == KICKOFF
    assert not started_integration.events.filter(kind=IntegrationEvent.Kind.REPLANNED).exists()

    response = staff_client.post(replan, {"replan-kickoff_on": "2026-12-07", "replan-note": "New team"}, follow=True)
    assert "Re-planned" in response.content.decode()
    started_integration.refresh_from_db()
    assert started_integration.kickoff_on == date(2026, 12, 7)


def test_pause_and_resume_and_their_refusals(staff_client, started_integration):
    pause = reverse("integration-pause", args=[started_integration.pk])
    resume = reverse("integration-resume", args=[started_integration.pk])
    response = staff_client.post(resume, {"resume-note": ""}, follow=True)
    assert "is not paused" in response.content.decode()
    response = staff_client.post(pause, {"pause-note": "Partner on holiday"}, follow=True)
    assert "Paused" in response.content.decode()
    assert Integration.objects.get(pk=started_integration.pk).state == "paused"
    # While paused, one banner says so instead of a refusal per step.
    assert response.content.decode().count("Paused: resume to act on steps.") == 1
    response = staff_client.post(pause, {"pause-note": ""}, follow=True)
    assert response.status_code == 200
    assert "Only a running integration can be paused" in response.content.decode()
    staff_client.post(resume, {"resume-note": "Back"})
    assert Integration.objects.get(pk=started_integration.pk).state == "active"


def test_jira_issues_outbox_and_team_line_up(staff_client, started_integration):
    smoke = step(started_integration, "smoke-test-fixes")
    JiraIssue.objects.create(
        integration=started_integration,
        key="ACME-7",
        summary="Quotes lag",
        is_bug=True,
        testing_round="smoke",
        status_name="In Progress",
        status_category="indeterminate",
        step=smoke,
    )
    JiraIssue.objects.create(
        integration=started_integration,
        key="ACME-8",
        summary="Fixed",
        is_bug=True,
        testing_round="smoke",
        status_name="Done",
        status_category="done",
        step=smoke,
    )
    OutboxMessage.objects.create(reason_key="r1", kind="reminder", integration=started_integration, text="Due soon")
    html = staff_client.get(url(started_integration)).content.decode()
    assert "<strong>smoke</strong>: 1 open — ACME-7 (In Progress)" in html
    assert "ACME-8" not in html
    assert "Reminder before the deadline" in html
    assert "Lacks 1 more project manager, 2 more developers, 2 more QA specialists" in html


def _grow(integration, pm, start, n):
    """``n`` more history rows, Jira issues and outbox messages."""
    onboarding = step(integration, "slack-jira-onboarding")
    for i in range(start, start + n):
        StepChange.objects.create(
            step=onboarding,
            from_status="not_started",
            to_status="not_started",
            source="web",
            by=pm,
            note=f"note {i}",
            at=at(KICKOFF, 10),
        )
        JiraIssue.objects.create(
            integration=integration,
            key=f"ACME-{100 + i}",
            is_bug=i % 2 == 0,
            testing_round="final",
            status_category="new",
            step=onboarding,
        )
        OutboxMessage.objects.create(reason_key=f"k{i}", kind="reminder", integration=integration, text="x")


def _queries(client, integration) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url(integration)).status_code == 200
    return len(queries)


def test_the_page_costs_the_same_queries_with_1_or_20_rows(staff_client, pm, started_integration):
    _grow(started_integration, pm, 0, 1)
    one = _queries(staff_client, started_integration)
    _grow(started_integration, pm, 1, 19)
    twenty = _queries(staff_client, started_integration)
    assert one == twenty
    # 14, the history rows that blocked its blocked steps (one query, however many), the Jenkins jobs,
    # who of the partner signs in, and the steps' comments (one query, however many)
    assert twenty == 18


def test_the_page_shows_the_partners_hand_overs_and_links_to_its_stage_page(
    staff_client, admin_client, started_integration, partner_user
):

    set_beta_testers(started_integration, "trader_joe")

    MagicLink.issue(user=partner_user)
    elsewhere = PartnerUser.objects.create(user=UserFactory(username="eve"), partner=PartnerFactory(name="Other"))
    MagicLink.issue(user=elsewhere.user)
    page = staff_client.get(url(started_integration)).content.decode()

    assert reverse("stage-page", args=[started_integration.pk]) in page
    assert "Beta testers: trader_joe" in page
    assert "The production URL of the trading part (https://broker.example.com/api) has not been checked yet" in page
    links = admin_client.get(
        reverse("admin:integrations_magiclink_changelist")
        + f"?user__partner_account__partner__id__exact={started_integration.partner_id}"
    )
    assert links.status_code == 200 and "1 magic link" in links.content.decode()


# --- sharing a note with the partner ----------------------------------------------------------------


def test_a_tradingview_steps_note_form_offers_to_share_it_and_the_partners_does_not(staff_client, started_integration):
    html = staff_client.get(url(started_integration)).content.decode()
    onboarding = step(started_integration, "slack-jira-onboarding")
    endpoints = step(started_integration, "endpoints-implementation")

    tv_form = html[html.index(f'action="{action_url(onboarding, "block")}"') :]
    assert 'name="shared_with_partner"' in tv_form[: tv_form.index("</form>")]
    partner_form = html[html.index(f'action="{action_url(endpoints, "block")}"') :]
    assert 'name="shared_with_partner"' not in partner_form[: partner_form.index("</form>")]
    pause_form = html[html.index('id="plan"') :]
    assert 'name="pause-shared_with_partner"' in pause_form


def test_a_pm_shares_a_note_with_the_partner_from_the_integration_page(staff_client, started_integration):
    onboarding = step(started_integration, "slack-jira-onboarding")
    autotests = step(started_integration, "autotests-configuration")

    staff_client.post(
        action_url(onboarding, "block"), {"note": "Waiting for your Slack handle", "shared_with_partner": "on"}
    )
    staff_client.post(action_url(autotests, "block"), {"note": "PM: vendor is late"})
    staff_client.post(
        reverse("integration-pause", args=[started_integration.pk]),
        {"pause-note": "Holiday on both sides", "pause-shared_with_partner": "on"},
    )

    assert StepChange.objects.get(step=onboarding, to_status="blocked").shared_with_partner
    assert not StepChange.objects.get(step=autotests, to_status="blocked").shared_with_partner
    assert IntegrationEvent.objects.get(integration=started_integration, kind="paused").shared_with_partner
    history = staff_client.get(url(started_integration)).content.decode()
    history = history[history.index('id="history"') :]
    row = history[history.index("PM: vendor is late") - 600 : history.index("PM: vendor is late") + 200]
    assert "TradingView only" in row
    row = history[
        history.index("Waiting for your Slack handle") - 600 : history.index("Waiting for your Slack handle") + 200
    ]
    assert "The partner reads it" in row
