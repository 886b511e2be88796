"""History is never rewritten: re-planning, reopening and ending an integration, with concrete dates.

Kick-off is Monday 2026-03-02 (``tests/default_plan.py``).
"""

from datetime import date

import pytest

from integrations import plan
from integrations.standing import standing
from integrations.steps import complete_step, start_step
from tests.integrations.helpers import at, ctx, step

pytestmark = pytest.mark.django_db


def done(integration, code, when, by):
    return complete_step(step(integration, code), ctx(by, when))


# 2. A re-plan moves plans, never facts -----------------------------------------------------------


def test_replanning_keeps_real_completion_and_start_times(started_integration, pm):
    start_step(step(started_integration, "slack-jira-onboarding"), ctx(pm, "2026-03-03"))
    onboarding = done(started_integration, "slack-jira-onboarding", "2026-03-04", pm)
    before = (onboarding.started_at, onboarding.completed_at)

    plan.replan(started_integration, "2026-03-16", ctx(pm, "2026-03-10", "The partner's team starts later."))

    onboarding = step(started_integration, "slack-jira-onboarding")
    assert (onboarding.started_at, onboarding.completed_at) == before
    result = standing(started_integration, at("2026-03-11"))
    assert result.of(onboarding).forecast == date(2026, 3, 4)  # not the new kick-off, 03-16
    assert result.of(onboarding).days_late == 0


# 5. An ended integration is frozen at its end ----------------------------------------------------


def test_cancelled_while_paused_stops_drifting(started_integration, pm):
    done(started_integration, "slack-jira-onboarding", "2026-03-04", pm)
    plan.pause(started_integration, ctx(pm, "2026-03-10", "Partner re-prioritising."))
    plan.cancel(started_integration, ctx(pm, "2026-03-20", "Partner withdrew."))

    on_the_day = standing(started_integration, at("2026-03-20"))
    a_year_later = standing(started_integration, at("2027-03-20"))

    assert a_year_later.planned_launch == on_the_day.planned_launch
    assert a_year_later.steps_standing.forecast_launch == on_the_day.steps_standing.forecast_launch
    assert a_year_later.split == on_the_day.split
    assert {code: (s.deadline, s.forecast) for code, s in a_year_later.steps_standing.steps.items()} == {
        code: (s.deadline, s.forecast) for code, s in on_the_day.steps_standing.steps.items()
    }
