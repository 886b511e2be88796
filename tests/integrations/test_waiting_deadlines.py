"""Deadlines of steps that cannot start yet: shown, and exported to both calendars, as forecasts.

The scenario of the issue: a fixing step due 23 Nov behind a smoke test due 27 Nov, both shown as
they were stored, the fixing step's date already past. Here on the default plan: the production
deployment, due Monday 04-13, is done on Friday 04-17 (4 working days late), so the smoke test
(prepared during the partner's week, due with the deployment) moves to Friday 04-17, and is still
open on Tuesday 04-21, while the smoke-test fixes, waiting for it, keep their plan's Monday 04-20.
A step that cannot start yet shows where its deadline will fall given its prerequisites'
forecasts, labelled "forecast", and both calendars carry that date, moving with it.
"""

from datetime import date, timedelta

import icalendar
import pytest
import time_machine

from integrations.dashboard.portfolio import calendar_token
from integrations.stage.models import CalendarFeed
from integrations.standing import standing
from integrations.steps import complete_step
from tests.integrations.handovers.helpers import hand_over_everything
from tests.integrations.helpers import KICKOFF, STEP_CODES, at, ctx, step

pytestmark = pytest.mark.django_db

SMOKE, FIXES = "smoke-testing", "smoke-test-fixes"


@pytest.fixture
def smoke_test_late(started_integration, pm):
    """Every step before the deployment done early, the deployment done on Friday 04-17."""
    hand_over_everything(started_integration)
    deployment = STEP_CODES.index("production-deployment")
    for offset, code in enumerate(STEP_CODES[:deployment], start=1):
        complete_step(step(started_integration, code), ctx(pm, KICKOFF + timedelta(days=offset)))
    complete_step(step(started_integration, "production-deployment"), ctx(pm, "2026-04-17"))
    return started_integration


def events(body: bytes) -> dict[str, icalendar.Event]:
    return {str(e["summary"]): e for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}


def test_a_step_that_cannot_start_yet_shows_its_forecast_deadline_never_one_before_what_it_waits_on(
    smoke_test_late, pm, client
):
    integration = smoke_test_late
    smoke, fixes = step(integration, SMOKE), step(integration, FIXES)
    with time_machine.travel(at("2026-04-21"), tick=False):
        now = standing(integration)
        assert now.of(smoke).deadline == date(2026, 4, 17)
        assert now.deadline_shown(smoke) == (date(2026, 4, 17), False)
        # The smoke test can be done today at the earliest; the fixes keep the week the plan put
        # after it: Tuesday 04-28, not their plan's Monday 04-20, already past.
        assert now.deadline_shown(fixes) == (date(2026, 4, 28), True)
        for s in now.steps:
            day, forecast = now.deadline_shown(s)
            if now.is_waiting(s):
                assert forecast and day >= date(2026, 4, 21)
                for code in s.depends_on:
                    assert day >= now.deadline_shown(step(integration, code))[0], (s, code)

        client.force_login(pm)
        page = client.get(f"/integrations/{integration.pk}/").content.decode()
        assert '28 Apr 2026 <span class="muted">forecast</span>' in page
        stage = client.get(f"/partner/integrations/{integration.pk}/").content.decode()
        assert '28 Apr 2026 <span class="muted">forecast</span>' in stage


def test_both_calendars_carry_the_forecast_deadline_and_move_it(smoke_test_late, pm, client):
    integration = smoke_test_late
    pm_feed = f"/calendar/{calendar_token(pm)}.ics"
    partner_feed = f"/partner/calendar/{CalendarFeed.issue(partner=integration.partner)[1]}.ics"
    fixes = f"{integration.partner.name}: {step(integration, FIXES)} (forecast)"
    seen = {}
    for day in ("2026-04-21", "2026-04-23"):
        with time_machine.travel(at(day), tick=False):
            for name, url in (("pm", pm_feed), ("partner", partner_feed)):
                event = events(client.get(url).content)[fixes]
                seen[(name, day)] = (event.decoded("dtstart"), event.decoded("dtstamp"))
                assert "forecast deadline" in str(event["description"])
    # 04-21: the smoke test can be done that day at the earliest: fixes by Tuesday 04-28. On 04-23,
    # still open, it can be done that day at the earliest: fixes by Thursday 04-30.
    for name in ("pm", "partner"):
        (before, stamped), (after, restamped) = seen[(name, "2026-04-21")], seen[(name, "2026-04-23")]
        assert (before, after) == (date(2026, 4, 28), date(2026, 4, 30)), name
        assert restamped > stamped
