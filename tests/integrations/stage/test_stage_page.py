"""The stage page's content: where the partner is, what it owes and by when, and nothing internal."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations import plan
from integrations.jira.models import JiraIssue, StatusCategory
from integrations.models import Integration
from integrations.stage.page import MANUAL_URL, REST_API_SPEC_URL
from integrations.stage.views import LIST_PAGE_SIZE
from integrations.steps import block_step
from tests.factories import IntegrationFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on, step
from tests.integrations.stage.support import complete

pytestmark = pytest.mark.django_db


def url(integration):
    return reverse("stage-page", args=[integration.pk])


def test_the_partner_sees_what_it_owes_and_by_when_in_its_time_zone(client, partner_user, started_integration, pm):
    with on("2026-03-04"):
        complete(started_integration, ["slack-jira-onboarding", "autotests-configuration"], pm)
    client.force_login(partner_user)
    with on("2026-03-10"):
        response = client.get(url(started_integration))
    html = response.content.decode()
    assert response.status_code == 200
    owed = html[html.index('id="owed"') : html.index('id="tradingview"')]
    # The partner's endpoints are due Monday 30 March, 14 working days (20 days) after Tuesday 10 March.
    assert "Endpoints implementation" in owed or "endpoints" in owed.lower()
    assert "30 Mar 2026" in owed and "end of day, Europe/Berlin" in owed
    assert "14 working days left" in owed
    assert "We have finished this step" in owed
    # Where they are, whose court, and TradingView's part.
    assert 'id="current-step">Step 2 of 7' in html or 'id="current-step">Step' in html
    assert '<span class="badge partner">You</span>' in html[html.index('id="ball"') :][:200]
    assert "Nothing right now: TradingView waits for you." in html


def test_overdue_is_counted_in_the_partners_days(client, partner_user, started_integration, pm):
    with on("2026-03-04"):
        complete(started_integration, ["slack-jira-onboarding", "autotests-configuration"], pm)
    client.force_login(partner_user)
    # 23:00 UTC on 1 April is already 2 April in Berlin: the third working day past the 30 March
    # deadline there, the second in UTC.
    with on("2026-04-01", 23):
        html = client.get(url(started_integration)).content.decode()
    owed = html[html.index('id="owed"') : html.index('id="tradingview"')]
    assert "3 working days overdue" in owed


def test_the_page_shows_tradingviews_task_resources_channels_and_the_roadmap(client, partner_user, started_integration):
    started_integration.jira_project_key = "ACME"
    started_integration.slack_channel_id = "C024BE91L"
    started_integration.save()
    client.force_login(partner_user)
    with on(KICKOFF):
        html = client.get(url(started_integration)).content.decode()
    tv = html[html.index('id="tradingview"') : html.index('id="roadmap"')]
    assert "Slack/Jira onboarding" in tv and "5 Mar 2026" in tv
    assert MANUAL_URL in html and REST_API_SPEC_URL in html
    assert "you target version <strong>1.9</strong>" in html
    assert "project <strong>ACME</strong>" in html and "channel <strong>C024BE91L</strong>" in html
    assert html.count('class="side-partner ours') == 8  # the partner's own steps, emphasised
    assert "launch window 18 May – 25 May 2026" in html


def test_internal_fields_never_reach_the_partner(client, partner_user, started_integration, pm):
    partner = started_integration.partner
    partner.notes = "INTERNAL: hard to work with"
    partner.save()
    client.force_login(partner_user)
    html = client.get(url(started_integration)).content.decode()
    assert "INTERNAL" not in html
    assert "/admin/" not in html
    assert "Portfolio" not in html and "My queue" not in html
    assert "Outbox" not in html and "Slack and e-mail" not in html


def test_the_open_bugs_of_the_round_being_fixed_are_listed_by_key_and_status(
    client, partner_user, started_integration, pm
):
    with on("2026-03-04"):
        complete(started_integration, ["slack-jira-onboarding", "autotests-configuration"], pm)
    # Walk to smoke-test-fixes: a partner step that waits for its round's bugs.
    started_integration.trading_production_url = ""
    started_integration.save()
    fixing = step(started_integration, "smoke-test-fixes")
    from integrations.models import IntegrationStep

    for s in IntegrationStep.objects.filter(integration=started_integration, position__lt=fixing.position):
        s.status = "done"
        s.completed_at = at("2026-03-20")
        s.save()
    JiraIssue.objects.create(
        integration=started_integration,
        key="ACME-7",
        is_bug=True,
        step=fixing,
        status_name="In Progress",
        status_category=StatusCategory.INDETERMINATE,
        testing_round="smoke-test",
    )
    JiraIssue.objects.create(
        integration=started_integration,
        key="ACME-8",
        is_bug=True,
        step=fixing,
        status_name="Done",
        status_category=StatusCategory.DONE,
        testing_round="smoke-test",
    )
    JiraIssue.objects.create(
        integration=started_integration,
        key="ACME-9",
        is_bug=True,
        step=fixing,
        status_name="Open",
        status_category=StatusCategory.NEW,
        deleted=True,
    )
    client.force_login(partner_user)
    with on("2026-03-25"):
        html = client.get(url(started_integration)).content.decode()
    bugs = html[html.index('id="bugs"') : html.index('id="resources"')]
    assert "ACME-7" in bugs and "In Progress" in bugs
    assert "ACME-8" not in bugs and "ACME-9" not in bugs
    owed = html[html.index('id="owed"') : html.index('id="tradingview"')]
    assert "cannot be done while bugs" in owed


def test_empty_states_say_what_is_going_on(client, partner_user, integration, pm):
    client.force_login(partner_user)
    html = client.get(url(integration)).content.decode()
    assert "Not kicked off yet" in html
    assert 'id="owed"' not in html


def test_a_paused_integration_says_so(client, partner_user, started_integration, pm):
    with on("2026-03-04"):
        plan.pause(started_integration, ctx(pm, note="Waiting for the licence"))
    client.force_login(partner_user)
    with on("2026-03-06"):
        html = client.get(url(started_integration)).content.decode()
    assert "Paused since 4 Mar 2026" in html


def test_staff_preview_the_page_with_a_banner(client, pm, started_integration):
    client.force_login(pm)
    html = client.get(url(started_integration)).content.decode()
    assert "Preview as partner." in html


def test_query_count_is_the_same_for_one_and_five_integrations(
    client, partner_user, partner, started_integration, pm, django_assert_num_queries
):
    client.force_login(partner_user)
    client.get(url(started_integration))  # warm the session and the template cache
    list_url = reverse("stage-list")
    with CaptureQueriesContext(connection) as one_page:
        client.get(url(started_integration))
    with CaptureQueriesContext(connection) as one_list:
        assert client.get(list_url).status_code == 302  # exactly one: straight to it
    for _ in range(4):
        with on(KICKOFF, 9):
            plan.start_integration(IntegrationFactory(partner=partner, tv_pm=pm), KICKOFF, ctx(pm))
    assert Integration.objects.filter(partner=partner).count() == 5
    with django_assert_num_queries(len(one_page.captured_queries)):
        client.get(url(started_integration))
    # With five the list renders instead of redirecting: at the same cost, and no more with eight.
    with CaptureQueriesContext(connection) as five_list:
        assert client.get(list_url).status_code == 200
    for _ in range(3):
        with on(KICKOFF, 9):
            plan.start_integration(IntegrationFactory(partner=partner, tv_pm=pm), KICKOFF, ctx(pm))
    with django_assert_num_queries(len(five_list.captured_queries)):
        assert client.get(list_url).status_code == 200
    assert len(five_list.captured_queries) == len(one_list.captured_queries)


def test_staff_preview_list_comes_a_page_at_a_time(client, pm, partner):
    IntegrationFactory.create_batch(LIST_PAGE_SIZE + 1, partner=partner, tv_pm=pm)
    client.force_login(pm)
    first = client.get(reverse("stage-list")).content.decode()
    second = client.get(reverse("stage-list"), {"page": 2}).content.decode()

    assert first.count('href="/partner/integrations/') == LIST_PAGE_SIZE
    assert second.count('href="/partner/integrations/') == 1
    assert f"Page 1 of 2 · {LIST_PAGE_SIZE + 1} integrations" in first


def test_a_pms_note_on_a_tradingview_step_never_reaches_the_stage_page(client, partner_user, started_integration, pm):
    with on(KICKOFF):
        block_step(step(started_integration, "slack-jira-onboarding"), ctx(pm, note="INTERNAL: legal holds it"))
        block_step(step(started_integration, "autotests-configuration"), ctx(pm, note="INTERNAL: vendor late"))
    client.force_login(partner_user)

    with on(KICKOFF):
        html = client.get(url(started_integration)).content.decode()

    assert "INTERNAL" not in html
    assert "Slack/Jira onboarding" in html  # the step itself is there, without the note


def test_the_business_manager_and_technical_contact_are_named_with_their_email(
    client, partner_user, started_integration
):
    from tests.factories import UserFactory

    started_integration.business_manager = UserFactory(
        username="bm.carol", first_name="Carol", last_name="<b>Ng</b>", email="carol@tradingview.example", staff=True
    )
    started_integration.tech_contact = UserFactory(
        username="tech.dave", first_name="", email="dave@tradingview.example", staff=True
    )
    started_integration.save()
    client.force_login(partner_user)
    with on("2026-03-10"):
        html = client.get(url(started_integration)).content.decode()
    contacts = html[html.index('id="contacts"') :][:800]
    assert "Business manager" in contacts and "Technical contact" in contacts
    assert '<a href="mailto:carol@tradingview.example">Carol &lt;b&gt;Ng&lt;/b&gt;</a>' in contacts
    assert '<a href="mailto:dave@tradingview.example">tech.dave</a>' in contacts


def test_without_a_business_manager_or_technical_contact_the_page_names_nobody(
    client, partner_user, started_integration
):
    client.force_login(partner_user)
    with on("2026-03-10"):
        html = client.get(url(started_integration)).content.decode()
    assert 'id="contacts"' not in html
