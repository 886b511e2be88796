"""The PM's main flow in the admin, driven in headless Chromium against a live server.

Kick off an integration, see its standing, complete a step, and be refused (with the reason on
the page) when completing a step before its prerequisites. The integrations list and an
integration's page fit a 1440 x 900 screen; screenshots of both land in /tmp/admin-*.png.
"""

import os
from datetime import date

import pytest

from integrations import plan
from integrations.models import Integration, IntegrationStep, StepChange
from integrations.standing import refresh_running
from integrations.steps import block_step, complete_step, start_step
from tests.browser import WIDTH, needs_browser
from tests.factories import IntegrationFactory, PartnerFactory, TeamMemberFactory
from tests.integrations.helpers import at, ctx, step

SCREENSHOTS = os.environ.get("SCREENSHOT_DIR", "/tmp")

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]


def login(page, user):
    user.is_superuser = True
    user.save()
    page.goto("/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")


def assert_fits_the_screen(page):
    """No horizontal scrollbar: neither the page nor a scrolling box in it (the list's results) is too wide."""
    widths = page.evaluate(
        """() => ({
            page: document.documentElement.scrollWidth,
            clipped: [...document.querySelectorAll('#content-main *')]
                .filter(e => e.getClientRects().length && e.getBoundingClientRect().right > window.innerWidth + 1)
                .map(e => e.tagName + '#' + e.id + '.' + e.className),
            wide: [...document.querySelectorAll('#content-main *')]
                .filter(e => ['auto', 'scroll'].includes(getComputedStyle(e).overflowX))
                .filter(e => e.scrollWidth > e.clientWidth + 1 && e.tagName !== 'TEXTAREA')
                .map(e => e.tagName + '#' + e.id + '.' + e.className),
        })"""
    )
    assert widths["page"] <= WIDTH, widths
    assert widths["wide"] == [], widths
    assert widths["clipped"] == [], widths


def test_pm_kicks_off_and_moves_steps_in_the_admin(page, pm, integration):
    login(page, pm)
    assert page.locator("text=Background jobs").is_visible()

    page.goto("/admin/integrations/integration/")
    page.click(f"text={integration.name}")
    page.click("a:has-text('Kick off')")
    page.fill("input[name=kickoff_on]", "2026-11-02")
    page.click("input[type=submit][value='Kick off']")
    page.wait_for_selector("ul.messagelist")
    assert "Kicked off" in page.locator("ul.messagelist").inner_text()
    integration.refresh_from_db()
    assert str(integration.kickoff_on) == "2026-11-02"
    assert integration.steps.count() == 17

    # "Mark done" is not offered while prerequisites are open; forcing it is refused, with the reason.
    blocked = IntegrationStep.objects.get(integration=integration, code="passing-autotests")
    page.goto(f"/admin/integrations/integrationstep/{blocked.pk}/change/")
    assert page.locator(".object-tools a:has-text('Mark done')").count() == 0
    assert "cannot be done before the steps it depends on" in page.locator("#content-main").inner_text()
    page.goto(f"/admin/integrations/integrationstep/{blocked.pk}/do/complete/")
    page.click("input[type=submit][value='Mark done']")
    error = page.locator("ul.messagelist .error").inner_text()
    assert "cannot be done before the steps it depends on" in error
    blocked.refresh_from_db()
    assert blocked.status == "not_started"

    # Marking the onboarding done works and shows in the step's history.
    onboarding = IntegrationStep.objects.get(integration=integration, code="slack-jira-onboarding")
    page.goto(f"/admin/integrations/integrationstep/{onboarding.pk}/change/")
    page.click(".object-tools a:has-text('Mark done')")
    page.click("input[type=submit][value='Mark done']")
    assert "Marked done" in page.locator("ul.messagelist").inner_text()
    onboarding.refresh_from_db()
    assert onboarding.status == "done"
    change = StepChange.objects.filter(step=onboarding).last()
    assert (change.source, change.by, change.to_status) == ("web", pm, "done")
    assert "Not started → Done" in page.locator("#history").inner_text()

    # The changelist filters on who holds the ball.
    page.goto("/admin/integrations/integration/?ball_side=both")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert integration.name in rows.first.inner_text()
    page.goto("/admin/integrations/integration/?ball_side=tradingview")
    assert page.locator("#result_list tbody tr").count() == 0
    assert Integration.objects.get(pk=integration.pk).ball_side == "both"

    page.goto(f"/admin/integrations/integration/{integration.pk}/change/")
    assert page.locator("text=Forecast launch").first.is_visible()
    history = page.locator("#history").inner_text()
    assert "1 · TradingView · Slack/Jira onboarding" in history
    assert "Kicked off on 2 Nov 2026" in history


def portfolio(pm):
    """A PM's integrations in every condition the list shows, with long names, as of late November."""
    kickoff = date(2026, 9, 7)
    made = {}
    for name, kind in [
        ("Interactive Brokerage Holdings International", "broker"),
        ("Acme Crypto Exchange", "exchange"),
        ("Northwind Securities & Derivatives Trading", "broker"),
        ("Globex Futures", "broker"),
        ("Initech Markets", "exchange"),
    ]:
        integration = IntegrationFactory(partner=PartnerFactory(name=name, kind=kind), tv_pm=pm)
        made[name] = plan.start_integration(integration, kickoff, ctx(pm, at(kickoff, 9)))
    onboarding = ("slack-jira-onboarding", "autotests-configuration")
    # Interactive Brokerage: TradingView late with its onboarding; the partner blocked on its endpoints.
    ib = made["Interactive Brokerage Holdings International"]
    for code in onboarding:
        complete_step(step(ib, code), ctx(pm, "2026-09-16"))
    block_step(step(ib, "endpoints-implementation"), ctx(pm, "2026-10-01", note="Waiting on the partner's API spec."))
    # Acme: on time up to the sandbox, then in progress.
    acme = made["Acme Crypto Exchange"]
    for code in (*onboarding, "endpoints-implementation", "passing-autotests", "sandbox-access"):
        complete_step(step(acme, code), ctx(pm, "2026-10-02"))
    start_step(step(acme, "sandbox-development"), ctx(pm, "2026-10-05"))
    TeamMemberFactory(integration=acme, role="pm")
    TeamMemberFactory(integration=acme, role="qa")
    # Northwind: paused; Globex: re-planned; Initech: cancelled.
    plan.pause(made["Northwind Securities & Derivatives Trading"], ctx(pm, "2026-10-20", note="Budget review."))
    plan.replan(made["Globex Futures"], date(2026, 10, 5), ctx(pm, "2026-09-20", note="Partner's team changed."))
    plan.cancel(made["Initech Markets"], ctx(pm, "2026-10-15", note="Partner chose another vendor."))
    IntegrationFactory(partner=PartnerFactory(name="Umbrella Brokers"), tv_pm=pm)  # not kicked off
    refresh_running()  # the daily refresh: the stored standing as of today
    return made


def test_integrations_list_and_page_fit_a_1440_screen(page, pm):
    made = portfolio(pm)
    login(page, pm)

    page.goto("/admin/integrations/integration/")
    assert page.locator("#result_list tbody tr").count() == 6
    row = page.locator("#result_list tbody tr", has_text="Interactive Brokerage").inner_text()
    assert "Blocked: 1 · Partner · Data / trading endpoints implementation" in row
    assert "1 · Partner · Data / trading endpoints implementation" in row
    page.screenshot(path=f"{SCREENSHOTS}/admin-integrations.png")
    assert_fits_the_screen(page)

    ib = made["Interactive Brokerage Holdings International"]
    page.goto(f"/admin/integrations/integration/{ib.pk}/change/")
    standing = page.locator(".field-standing_summary").inner_text()
    assert "Blocked: Waiting on the partner's API spec." in standing
    assert "Forecast launch" in standing
    page.screenshot(path=f"{SCREENSHOTS}/admin-integration.png", full_page=True)
    assert_fits_the_screen(page)

    paused = made["Northwind Securities & Derivatives Trading"]
    page.goto(f"/admin/integrations/integration/{paused.pk}/change/")
    assert "Shown as if resumed today" in page.locator(".field-standing_summary").inner_text()
    page.screenshot(path=f"{SCREENSHOTS}/admin-integration-paused.png", full_page=True)
    assert_fits_the_screen(page)

    page.goto(f"/admin/integrations/integrationstep/{step(ib, 'endpoints-implementation').pk}/change/")
    assert page.locator(".object-tools a:has-text('Unblock')").count() == 1
    assert page.locator(".object-tools a:has-text('Start')").count() == 0
    page.screenshot(path=f"{SCREENSHOTS}/admin-step.png", full_page=True)
    assert_fits_the_screen(page)

    page.goto(f"/admin/roadmap/roadmaptemplate/{ib.template_id}/change/")
    assert page.locator("table.template-steps tbody tr").count() == 17
    page.screenshot(path=f"{SCREENSHOTS}/admin-template.png", full_page=True)
    assert_fits_the_screen(page)
