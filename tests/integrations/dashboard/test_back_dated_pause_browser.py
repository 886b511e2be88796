"""A pause entered late, in headless Chromium: the PM opens "Entered late?" under Pause, says when it
happened and why, and htmx swaps the plan section (now offering Resume), the header and the history
in place. The plan section fits 1440 and 390 px. Screenshots: /tmp/pm-day-pause-{1440,390}.png
(the form filled in) and /tmp/pm-day-paused-{1440,390}.png (after)."""

from datetime import UTC, datetime

import pytest

from integrations.models import IntegrationEvent
from tests.browser import needs_browser
from tests.integrations.dashboard.test_browser import login
from tests.integrations.dashboard.test_phone_browser import DESKTOP, PHONE, WIDE_ELEMENTS

pytestmark = [pytest.mark.django_db(transaction=True), needs_browser]


def test_a_pm_enters_a_pause_days_after_it_happened(page, pm, started_integration):
    login(page, pm)
    page.goto(f"/integrations/{started_integration.pk}/#plan")
    plan = page.locator("#plan")
    pause = plan.locator("form.plan-form", has=page.get_by_role("button", name="Pause"))
    pause.locator("summary").click()
    pause.get_by_label("When it happened").fill("2026-03-09T10:00")
    pause.get_by_label("Note", exact=True).fill("Partner re-org <b>announced</b> on Monday's call")
    for size, name in ((DESKTOP, "1440"), (PHONE, "390")):
        page.set_viewport_size(size)
        plan.screenshot(path=f"/tmp/pm-day-pause-{name}.png")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.evaluate(WIDE_ELEMENTS)
    page.set_viewport_size(DESKTOP)

    with page.expect_response(lambda r: r.url.endswith("/pause/")) as answer:
        pause.get_by_role("button", name="Pause").click()
    assert answer.value.status == 200  # htmx: swapped in place, no reload
    page.wait_for_selector("#plan .messages")
    assert "Paused: the clock is stopped for both sides." in plan.inner_text()
    assert plan.get_by_role("button", name="Resume").is_visible()
    assert "9 Mar 2026, 10:00" in page.locator("#history").inner_text()
    assert "Partner re-org <b>announced</b>" in page.locator("#history").inner_text()  # escaped, shown as typed
    event = IntegrationEvent.objects.get(integration=started_integration, kind=IntegrationEvent.Kind.PAUSED)
    assert event.at == datetime(2026, 3, 9, 10, tzinfo=UTC) and event.entered_at is not None
    for size, name in ((DESKTOP, "1440"), (PHONE, "390")):
        page.set_viewport_size(size)
        plan.screenshot(path=f"/tmp/pm-day-paused-{name}.png")
        page.screenshot(path=f"/tmp/pm-day-paused-page-{name}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.evaluate(WIDE_ELEMENTS)
