"""What the top of an integration says, the same on the integration page, the stage page and the portfolio row:
its launch window as the plan now stands, whether and why it ended (or was never kicked off), what is blocked
(by whom, why, since when) and when a person or Jira last changed it.

Each scenario runs on the default plan kicked off on Monday 2026-03-02 (planned launch 2026-05-25, window
2026-05-18 - 2026-05-25).
"""

import html as html_lib
import re
from datetime import date, datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from integrations import plan, steps
from integrations.models import ChangeSource, Integration, StepChange
from integrations.read_models.headline import launch_window, window_weeks
from integrations.read_models.portfolio import Filters, Row, filter_portfolio
from integrations.standing import refresh_running, standing
from tests.default_plan import STEP_CODES
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.handovers.helpers import hand_over_everything
from tests.integrations.helpers import KICKOFF, at, ctx, on, step

pytestmark = pytest.mark.django_db


def page(client, user, integration, name="integration-page", query=""):
    client.force_login(user)
    response = client.get(reverse(name, args=[integration.pk]) + query)
    assert response.status_code == 200
    return html_lib.unescape(response.content.decode()).replace("\xa0", " ")


def portfolio(client, user, query="state=all"):
    client.force_login(user)
    response = client.get(reverse("portfolio") + "?" + query)
    assert response.status_code == 200
    return html_lib.unescape(response.content.decode()).replace("\xa0", " ")


def section(html, start, end):
    return html[html.index(start) : html.index(end, html.index(start))]


def row_of(html, integration):
    return section(html, f'id="integration-{integration.pk}"', "</tr>")


# --- 9. the launch window moves with a pause ------------------------------------------------------


@pytest.fixture
def paused(started_integration, pm):
    """Paused on Tuesday 2026-03-10; two weeks later (ten working days) the plan's launch has moved from
    2026-05-25 to 2026-06-08, as the daily refresh stores it. TradingView's first tasks, due 2026-03-05,
    were 3 working days late when it paused: the forecast is 2026-06-11."""
    with on("2026-03-10"):
        plan.pause(started_integration, ctx(pm, note="Waiting for the partner's licence"))
    with on("2026-03-24", 1):
        refresh_running()
    return started_integration


def test_the_launch_window_moves_with_the_planned_launch_of_a_paused_integration(paused):
    with on("2026-03-24"):
        now = standing(paused)
        window = launch_window(now.planned_launch, window_weeks(list(paused.steps.order_by("position"))[-1]))
        [listed] = filter_portfolio(Filters(), None, at("2026-03-24"))
        row = Row.of(listed, at("2026-03-24"))
    assert now.planned_launch == date(2026, 6, 8)
    assert (window.start, window.end) == (date(2026, 6, 1), date(2026, 6, 8))
    assert row.window == window
    assert row.past_window_days == window.days_past(now.forecast_launch) == 3


def test_every_page_shows_the_moved_window_and_none_the_old_one(client, pm, partner_user, paused):
    with on("2026-03-24"):
        dashboard = page(client, pm, paused)
        stage = page(client, partner_user, paused, "stage-page")
        listed = row_of(portfolio(client, pm), paused)
    header = section(dashboard, 'id="summary"', "</section>")
    assert '8 Jun 2026 <span class="muted">(window 1 Jun 2026 – 8 Jun 2026, weeks 11–12)' in header
    assert "Launch window 1 Jun 2026 – 8 Jun 2026" in section(dashboard, 'id="timeline"', "</section>")
    assert "launch window 1 Jun – 8 Jun 2026" in section(stage, 'id="summary"', "</section>")
    assert "Launch window 1 Jun 2026 – 8 Jun 2026" in section(stage, 'id="timeline"', "</section>")
    assert "planned 8 Jun (window 1 Jun – 8 Jun)" in listed
    assert "3 working days past the 11–12 week window" in listed
    for html in (dashboard, stage, listed):  # the window the plan gave before the pause is gone
        assert "window 2026-05-18" not in html and "window 18 May" not in html and "(window 18 May" not in html


def test_every_demo_integration_shows_one_launch_window_on_every_page(client, settings):
    """The demo (one integration paused 12 days before it was seeded) a week after seeding, refreshed that night."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with on("2026-11-25", 9):
        call_command("seed_demo", stdout=StringIO())
    with on("2026-12-02", 1):
        refresh_running()
    staff = get_user_model().objects.get(username=settings.DEMO_USERNAME)
    with on("2026-12-02"):
        listed = portfolio(client, staff)
        shown = 0
        for integration in Integration.objects.filter(kickoff_on__isnull=False):
            dashboard = page(client, staff, integration)
            stage = page(client, staff, integration, "stage-page")
            planned, start, end = re.search(
                r"<dt>Planned launch</dt><dd>(\d+ \w+ \d+) <span class=\"muted\">\(window (\d+ \w+ \d+) – (\d+ \w+ \d+),",
                dashboard,
            ).groups()
            assert end == planned, integration
            start, end = (datetime.strptime(day, "%d %b %Y").date() for day in (start, end))
            assert f"launch window {start:%-d %b} – {end:%-d %b %Y}" in stage, integration
            assert f"Launch window {start:%-d %b %Y} – {end:%-d %b %Y}" in section(
                dashboard, 'id="timeline"', "</section>"
            )
            if integration.is_running:
                assert f"planned {end:%-d %b} (window {start:%-d %b} – {end:%-d %b})" in row_of(listed, integration)
            shown += 1
    assert shown == Integration.objects.filter(kickoff_on__isnull=False).count() >= 10


# --- 10. ended and not kicked off: what, when, why; no forecast -------------------------------------


@pytest.fixture
def cancelled(started_integration, pm):
    with on("2026-03-20", 15):
        plan.cancel(started_integration, ctx(pm, note="The partner chose another vendor."))
    return started_integration


def test_a_cancelled_integration_says_when_why_and_by_whom_and_forecasts_nothing(client, pm, cancelled):
    with on("2026-04-01"):
        dashboard = page(client, pm, cancelled)
        listed = row_of(portfolio(client, pm), cancelled)
    header = section(dashboard, 'id="summary"', "</section>")
    assert "Cancelled on 20 Mar 2026 by alice: The partner chose another vendor." in header
    assert "on plan" not in header.lower()
    timeline = section(dashboard, 'id="timeline"', "</section>")
    assert "forecast 20" not in timeline  # no step is drawn with a forecast date
    assert "Open when cancelled" in timeline
    assert "Cancelled 20 Mar 2026" in listed and "The partner chose another vendor." in listed
    assert "All steps settled" not in listed and "On plan" not in listed


def test_the_partner_reads_when_it_was_cancelled_and_the_reason_only_when_shared(client, partner_user, pm, partner):
    kept, shared = (IntegrationFactory(partner=partner, name=name, tv_pm=pm) for name in ("Spot", "Futures"))
    for integration in (kept, shared):
        with on(KICKOFF, 9):
            plan.start_integration(integration, KICKOFF, ctx(pm))
    with on("2026-03-20", 15):
        plan.cancel(kept, ctx(pm, note="INTERNAL: budget cut"))
        plan.cancel(shared, ctx(pm, note="Your licence was not granted.", shared_with_partner=True))
    with on("2026-04-01"):
        kept_page, shared_page = (page(client, partner_user, i, "stage-page") for i in (kept, shared))
    assert "cancelled on 20 Mar 2026" in kept_page
    assert "INTERNAL" not in kept_page
    assert "cancelled on 20 Mar 2026: Your licence was not granted." in shared_page
    for html in (kept_page, shared_page):
        assert "forecast 20" not in section(html, 'id="roadmap"', "</section>")
        assert "forecast 20" not in section(html, 'id="timeline"', "</section>")
        assert 'id="owed"' not in html  # nothing is owed on a cancelled integration


def test_a_launched_integration_says_when(client, pm, partner_user, started_integration):
    hand_over_everything(started_integration)
    with on("2026-05-20"):
        for code in STEP_CODES:
            steps.complete_step(step(started_integration, code), ctx(pm))
    started_integration.refresh_from_db()
    assert started_integration.launched_on == date(2026, 5, 20)
    with on("2026-06-01"):
        dashboard = page(client, pm, started_integration)
        listed = row_of(portfolio(client, pm), started_integration)
    summary = section(dashboard, 'id="summary"', "</section>")
    assert "Launched on 20 May 2026" in summary
    assert "Launched 20 May 2026" in listed and "All steps settled" not in listed
    # Once launched the launch is a fact: no forecast of it, no odds waiting to be worked out.
    assert section(summary, 'id="launched"', "</dd>").endswith('20 May 2026 <span class="badge ok">on plan</span>')
    assert "Forecast launch" not in summary and "not forecast yet" not in summary


def test_an_integration_not_kicked_off_says_so_and_what_to_do(client, pm, integration):
    kick_off = reverse("admin:integrations_integration_operation", args=[integration.pk, "kick_off"])
    with on("2026-03-04"):
        dashboard = page(client, pm, integration)
        listed = row_of(portfolio(client, pm), integration)
    header = section(dashboard, 'id="summary"', "</section>")
    assert "Not kicked off yet: nothing is planned, due or late until it is." in header
    assert f'href="{kick_off}"' in header
    assert "on plan" not in header.lower()
    assert "Not kicked off" in listed and f'href="{kick_off}"' in listed
    assert "On plan" not in listed


# --- 11. last activity: the last change a person or Jira made --------------------------------------


@pytest.fixture
def quiet_and_busy(pm):
    """Quiet: kicked off on 2026-03-02 09:00 and left alone. Busy: the same, then a step marked done on
    2026-03-20 14:00, a step blocked on 2026-03-23 10:00 and Jira starting one on 2026-03-24 08:00. The
    system moves a deadline and the daily refresh runs on 2026-03-25 at 01:00."""
    made = {}
    for name in ("Quiet Broker", "Busy Broker"):
        integration = IntegrationFactory(partner=PartnerFactory(name=name), tv_pm=pm)
        with on(KICKOFF, 9):
            made[name] = plan.start_integration(integration, KICKOFF, ctx(pm))
    busy = made["Busy Broker"]
    with on("2026-03-20", 14):
        steps.complete_step(step(busy, "slack-jira-onboarding"), ctx(pm))
    with on("2026-03-23", 10):
        steps.block_step(step(busy, "autotests-configuration"), ctx(pm, note="Jenkins is down."))
    with on("2026-03-24", 8):
        steps.start_step(step(busy, "endpoints-implementation"), ctx(source=ChangeSource.JIRA, by_name="jira"))
    onboarding = step(busy, "slack-jira-onboarding")
    StepChange.objects.create(
        step=onboarding, from_status="done", to_status="done", source="system", note="moved", at=at("2026-03-25", 1)
    )
    with on("2026-03-25", 1):
        refresh_running()
    for integration in made.values():
        integration.save()  # whatever else touches the row (the admin, a migration) is no activity either
    return made["Quiet Broker"], busy


def test_last_activity_is_the_last_change_a_person_or_jira_made(client, pm, quiet_and_busy):
    quiet, busy = quiet_and_busy
    with on("2026-03-25", 12):
        rows = {i.pk: i.last_activity for i in filter_portfolio(Filters(), pm, at("2026-03-25", 12))}
        listed = portfolio(client, pm, "")
        dashboard = page(client, pm, busy)
    assert rows == {quiet.pk: at(KICKOFF, 9), busy.pk: at("2026-03-24", 8)}
    busy_row, quiet_row = row_of(listed, busy), row_of(listed, quiet)
    assert '<time datetime="2026-03-24T08:00:00+00:00"' in busy_row and ">1 day, 4 hours ago</time>" in busy_row
    assert '<time datetime="2026-03-02T09:00:00+00:00"' in quiet_row and ">3 weeks, 2 days ago</time>" in quiet_row
    header = section(dashboard, 'id="summary"', "</section>")
    assert "Last activity" in header and '<time datetime="2026-03-24T08:00:00+00:00">' in header


def test_sorting_by_last_activity_finds_the_quiet_integrations(client, pm, quiet_and_busy):
    quiet, busy = quiet_and_busy
    with on("2026-03-25", 12):
        oldest_first = [i.pk for i in filter_portfolio(Filters(sort="activity"), pm)]
        newest_first = [i.pk for i in filter_portfolio(Filters(sort="-activity"), pm)]
        listed = portfolio(client, pm, "sort=activity")
    assert oldest_first == [quiet.pk, busy.pk]
    assert newest_first == [busy.pk, quiet.pk]
    assert listed.index("Quiet Broker") < listed.index("Busy Broker")
    assert 'href="?sort=-activity"' in listed  # the "Last activity" header sorts by it


# --- 12. blocked: at the top, by whom, why, since when ---------------------------------------------


@pytest.fixture
def blocked(started_integration, pm, partner_dev, partner_user):
    """The partner's developer blocks the endpoints on Friday 2026-03-20 10:00; the PM blocks TradingView's
    sandbox access the same day at 11:00 with a note the partner must not read."""
    with on("2026-03-04"):
        for code in ("slack-jira-onboarding", "autotests-configuration"):
            steps.complete_step(step(started_integration, code), ctx(pm))
    with on("2026-03-20", 10):
        steps.block_step(
            step(started_integration, "endpoints-implementation"), ctx(partner_dev, note="Waiting for exchange keys.")
        )
    with on("2026-03-20", 11):
        steps.block_step(step(started_integration, "sandbox-access"), ctx(pm, note="INTERNAL: legal review"))
    return started_integration


def test_the_integration_page_shows_what_is_blocked_at_the_top(client, pm, blocked):
    with on("2026-03-24"):
        dashboard = page(client, pm, blocked)
    header = section(dashboard, 'id="summary"', "</section>")
    assert 'class="badge late">Blocked</span>' in header.split("</h1>")[0]
    assert (
        "1 · Partner · Data / trading endpoints implementation: blocked by dev.bob since 20 Mar 2026 (4 calendar days): "
        "Waiting for exchange keys."
    ) in header
    assert (
        "3 · TradingView · Sandbox access configuration: blocked by alice since 20 Mar 2026 (4 calendar days): "
        in header
    )
    assert "INTERNAL: legal review" in header


def test_the_stage_page_shows_what_is_blocked_at_the_top_without_tradingviews_notes(client, partner_user, blocked):
    with on("2026-03-24"):
        stage = page(client, partner_user, blocked, "stage-page")
    summary = section(stage, 'id="summary"', "</section>")
    assert 'class="badge late">Blocked</span>' in summary.split("</h1>")[0]
    assert "Data / trading endpoints implementation: blocked by dev.bob since 20 Mar 2026 (4 calendar days): " in (
        summary
    )
    assert "Waiting for exchange keys." in summary
    assert "Sandbox access configuration: blocked by alice since 20 Mar 2026 (4 calendar days)" in summary
    assert "INTERNAL" not in stage
