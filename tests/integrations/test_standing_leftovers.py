"""Leftovers of "one answer that history cannot rewrite": a pause after a reopen, two reopens at one
moment, and the day an ended integration's standing is as of."""

from datetime import date

import pytest
import time_machine

from integrations import plan
from integrations.models import StepChange
from integrations.standing import refresh_running, standing
from integrations.steps import complete_step, reopen_step
from roadmap import standing as rules
from tests.integrations.helpers import at, ctx, on, step
from tests.integrations.test_standing_history import on_time_until_production_urls

pytestmark = pytest.mark.django_db


def test_a_pause_after_a_reopen_is_named_as_what_moved_the_deadline(started_integration, pm):
    on_time_until_production_urls(started_integration, pm)
    reopen_step(step(started_integration, "sandbox-development"), ctx(pm, at("2026-04-10", 17), "Orders fail."))
    assert step(started_integration, "sandbox-development").due_date == date(2026, 4, 17)
    with on("2026-04-13", 9):
        plan.pause(started_integration, ctx(pm, at("2026-04-13", 9), "Partner's holiday."))
    with on("2026-04-15", 9):
        plan.resume(started_integration, ctx(pm, at("2026-04-15", 9)))
    development = step(started_integration, "sandbox-development")
    assert development.due_date == date(2026, 4, 21)  # two working days paused
    moved = StepChange.objects.filter(step=development, from_due=date(2026, 4, 17)).get()
    assert moved.to_due == date(2026, 4, 21)
    assert moved.note == (
        "Deadline moved from 17 Apr 2026 to 21 Apr 2026: the integration was paused; the working days it owes "
        "since it was reopened on 10 Apr 2026 move by the working days paused."
    )


def test_two_reopens_at_one_moment_count_as_one_redo(started_integration, pm):
    """Jira can send "reopened", "done" and "reopened" again within one second."""
    on_time_until_production_urls(started_integration, pm)
    moment = at("2026-04-10", 17)
    development = step(started_integration, "sandbox-development")
    reopen_step(development, ctx(pm, moment, "Orders fail."))
    complete_step(step(started_integration, "sandbox-development"), ctx(pm, moment))
    reopen_step(step(started_integration, "sandbox-development"), ctx(pm, moment, "Still failing."))

    once = started_integration.__class__.objects.get(pk=started_integration.pk)
    for day in ("2026-04-13", "2026-04-16", "2026-04-24"):
        result = standing(once, at(day))
        development = step(started_integration, "sandbox-development")
        assert result.of(development).deadline == date(2026, 4, 17)  # as after a single reopen
        launch = result.steps_standing
        assert result.split.total == rules.working_days_late(launch.planned_launch, launch.forecast_launch)
        for side in {s.side for s in result.overdue_steps()}:
            assert result.split.charges(side) >= 1


@pytest.mark.parametrize("end", ["cancel", "launch"])
def test_an_ended_integration_stands_as_of_its_end(started_integration, pm, client, end):
    with on("2026-03-10"):
        if end == "cancel":
            plan.cancel(started_integration, ctx(pm, "2026-03-10", "Partner withdrew."))
        else:
            started_integration.state = started_integration.State.LAUNCHED
            started_integration.launched_on = date(2026, 3, 10)
            started_integration.save(update_fields=["state", "launched_on"])
            refresh_running()
    with time_machine.travel(at("2026-04-09"), tick=False):
        assert standing(started_integration).stored_fields()["standing_as_of"] == date(2026, 3, 10)
        client.force_login(pm)
        detail = client.get(f"/api/v1/integrations/{started_integration.pk}/").json()
        assert detail["standing"]["as_of"] == "2026-03-10"
