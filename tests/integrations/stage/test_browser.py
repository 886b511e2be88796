"""The stage page in headless Chromium: a partner logs in, hands over its production URL (refused,
failed, passed: each check run by a real Celery worker, the card showing "Checking…" and then the
result without reloading), names beta testers, finishes its step and sees the ball move to
TradingView; a magic link works (its page's button signs in), then fails once revoked and once expired.

Screenshots land in /tmp/stage-*.png.
"""

import re
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.utils import timezone

from integrations import plan
from integrations.models import Integration, PartnerUser
from integrations.stage.models import MagicLink
from tests.browser import needs_browser, reopen
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory
from tests.integrations.helpers import ctx, step
from tests.integrations.stage.support import BEFORE_DEPLOYMENT, complete, other_partner_user
from tests.integrations.test_tasks import (
    broker_app,  # noqa: F401  (the fixture: config.celery.app on memory:// or REDIS_URL)
    reading_beside_a_writer_thread,
)

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]


@pytest.fixture
def readers_take_no_locks(live_server):
    """The live server reads without table locks while the worker thread writes (SQLite's shared
    in-memory test database; see ``reading_beside_a_writer_thread``). Asked for before ``page``:
    the live server shares this thread's connection, which Playwright's loop would hide."""
    with reading_beside_a_writer_thread():
        yield


@pytest.fixture
def worker(broker_app):  # noqa: F811
    """A real Celery worker in a thread, running the checks the pages queue."""
    with start_worker(broker_app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


@pytest.fixture
def acme(pm):
    """Acme's trading-only integration, kicked off last Monday, with every step before the
    production deployment done, only the staging URL handed over; and Bob, its developer."""
    partner = PartnerFactory(name="Acme Crypto Exchange", kind="exchange", time_zone="Europe/Berlin")
    bob = UserFactory(username="dev.bob", first_name="Bob")
    PartnerUser.objects.create(user=bob, partner=partner)
    integration = IntegrationFactory(
        partner=partner,
        tv_pm=pm,
        trading_only=True,
        trading_auth=Integration.TradingAuth.PASSWORD_BEARER,
        trading_production_url="",
        trading_staging_url="https://staging.acme.example/api",  # confirmed: the request for production URLs waits for it
        jira_project_key="ACME",
    )
    today = timezone.localdate()
    plan.start_integration(integration, today - timedelta(days=today.weekday()), ctx(pm))
    complete(integration, BEFORE_DEPLOYMENT, pm)
    return integration, bob


def log_in(page, username):
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "correct-horse-battery")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def hand_over(page, url):
    row = page.locator("#url-trading-production")
    row.locator("input[name=url]").fill(url)
    row.locator("button:has-text('Check and hand over')").click()
    page.wait_for_load_state("networkidle")
    return page.locator("#url-trading-production")


def test_a_partner_hands_over_and_finishes_its_step(readers_take_no_locks, page, acme, handover_servers, worker):
    integration, bob = acme
    other_partner_user()
    log_in(page, "dev.bob")
    page.evaluate("window.neverReloaded = true")

    # Straight to its one integration; nothing of the other partner, no PM links.
    assert page.url.endswith(f"/partner/integrations/{integration.pk}/")
    body = page.locator("body").inner_text()
    assert "Other Broker" not in body and "Portfolio" not in body
    assert "You" in page.locator("#ball").inner_text()
    owed = page.locator("#owed")
    assert "Deploy to production" in owed.inner_text()
    assert "end of day, Europe/Berlin" in owed.inner_text()
    # Finishing is refused until the URL is handed over, and says what is missing.
    assert owed.locator(".refused button").is_disabled()
    assert "production URL of the trading part has not been handed over" in owed.locator(".refusal").inner_text()

    # http:// is refused with a message by the field.
    row = hand_over(page, handover_servers.plain_http)
    assert "TradingView requires HTTPS" in row.locator(".field-error").inner_text()
    # A server without CORS: handed over, checked by the worker, the failure shown with its time.
    row = hand_over(page, handover_servers.no_cors)
    row.locator(".badge:has-text('CORS missing')").wait_for()
    # The check's time is in the partner's zone (Europe/Berlin), not the server's.
    assert re.search(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d CES?T", row.locator(".check").inner_text())
    page.locator("#owed .refusal:has-text('has not passed its check')").wait_for()
    # A good server that takes two seconds: "Checking…" at once, then the result, without reloading.
    row = hand_over(page, handover_servers.delayed)
    page.locator(f".messages:has-text('Checking {handover_servers.delayed}')").wait_for()
    assert "Checking…" in row.locator(".check").inner_text()
    assert "is being checked" in page.locator("#owed .refusal").inner_text()
    page.locator("#handovers").screenshot(path="/tmp/stage-handovers-checking.png")
    row.locator(".badge:has-text('Passed')").wait_for()
    assert page.evaluate("window.neverReloaded === true")
    # The step the URL held can be finished now: its section followed the card.
    page.locator("#owed button:has-text('We have finished this step'):not([disabled])").wait_for()
    page.locator("#handovers").screenshot(path="/tmp/stage-handovers.png")

    # Beta testers.
    page.fill("#beta-testers textarea", "trader_joe\nquant.ann")
    page.click("#beta-testers button")
    page.wait_for_load_state("networkidle")
    page.locator("text=Beta testers saved: trader_joe, quant.ann.").wait_for()

    # "We have finished this step": the ball moves to TradingView.
    page.screenshot(path="/tmp/stage-before-finish.png", full_page=True)
    page.click("#owed button:has-text('We have finished this step')")
    page.locator("#ball", has_text="TradingView").wait_for()
    assert "marked done: TradingView has been told" in page.locator(".messages").inner_text()
    assert "Smoke testing" in page.locator("#tradingview").inner_text()
    assert step(integration, "production-deployment").status == "done"
    page.screenshot(path="/tmp/stage-page.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path="/tmp/stage-phone.png", full_page=True)


def test_a_magic_link_works_then_fails_after_revocation_and_after_expiry(page, acme, pm):
    integration, bob = acme
    row, raw = MagicLink.issue(user=bob, created_by=pm, expires_at=timezone.now() + timedelta(days=7))
    page.goto(f"/partner/link/{raw}/")
    page.click("button:has-text('Continue to the page')")
    assert page.url.endswith(f"/partner/integrations/{integration.pk}/")
    assert "Deploy to production" in page.locator("#owed").inner_text()

    row.revoke()
    reopen(page)
    assert "Your session has ended" in page.locator("h1").inner_text()
    page.goto(f"/partner/link/{raw}/")
    assert "This link no longer works" in page.locator("h1").inner_text()
    page.screenshot(path="/tmp/stage-link-ended.png", full_page=True)

    second, raw2 = MagicLink.issue(user=bob, created_by=pm, expires_at=timezone.now() + timedelta(days=7))
    page.goto(f"/partner/link/{raw2}/")
    page.click("button:has-text('Continue to the page')")
    assert page.url.endswith(f"/partner/integrations/{integration.pk}/")
    MagicLink.objects.filter(pk=second.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    reopen(page)
    assert "Your session has ended" in page.locator("h1").inner_text()
    page.goto(f"/partner/link/{raw2}/")
    assert "This link no longer works" in page.locator("h1").inner_text()
