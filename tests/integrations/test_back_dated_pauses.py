"""Pauses and resumes entered later than they happened: "they stopped on Monday, I'm entering it on Friday".

A back-dated pause or resume goes through the rules of every back-dated change (never in the
future, never before the integration's last change nor a step's last status change, a reason
when back-dated) and, once recorded, the integration stands exactly as if it had been entered on
the day: the stored standing, the paused days (``paused_dates``) and the history agree.
"""

from datetime import date, timedelta

import pytest
from django.db.models import F

from integrations import plan
from integrations.clock import paused_dates
from integrations.context import ChangeContext
from integrations.models import Integration, IntegrationEvent, StepChange
from integrations.standing import refresh_running, standing
from integrations.steps import complete_step
from roadmap.refusals import InvalidInput, ReasonRequired, StaleChange
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on, step, stored_and_live

pytestmark = pytest.mark.django_db

ONBOARDING = "slack-jira-onboarding"
AUTOTESTS = "autotests-configuration"  # TradingView's, due Thursday 5 March 2026


def kicked_off(pm, name: str) -> Integration:
    partner = PartnerFactory(name=name, kind="exchange", time_zone="Europe/Berlin")
    integration = IntegrationFactory(partner=partner, tv_pm=pm)
    with on(KICKOFF, 9):
        plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    with on("2026-03-04", 10):
        complete_step(step(integration, ONBOARDING), ChangeContext.web(pm))
    return integration


def days_from(first: str, last: str) -> set[date]:
    start, end = date.fromisoformat(first), date.fromisoformat(last)
    return {start + timedelta(days=n) for n in range((end - start).days + 1)}


def as_stored(integration) -> dict:
    """The stored standing as the rules give it now, with the current step by its code (ids differ between twins)."""
    stored, live = stored_and_live(integration)
    assert stored == live
    stored["current_step"] = stored["current_step"].code if stored["current_step"] else None
    return stored


def deadline_moves(integration) -> set[tuple]:
    rows = StepChange.objects.filter(step__integration=integration, from_status=F("to_status"))
    return {(r.step.code, r.from_due, r.to_due, r.at) for r in rows.select_related("step") if r.from_due}


def test_a_pause_and_a_resume_entered_days_late_stand_as_if_entered_on_the_day(pm):
    on_the_day, entered_late = kicked_off(pm, "On the day"), kicked_off(pm, "Entered late")

    with on("2026-03-09", 10):
        plan.pause(on_the_day, ChangeContext.web(pm, "Partner re-org."))
    for day in ("2026-03-10", "2026-03-11", "2026-03-12", "2026-03-13"):
        with on(day, 6):
            refresh_running()  # beat, each morning, not knowing yet that the second one is paused too
    with on("2026-03-13", 15):
        plan.pause(entered_late, ChangeContext.web(pm, "Partner re-org; told on Friday.", at=at("2026-03-09", 10)))
        assert entered_late.paused_on == on_the_day.paused_on == date(2026, 3, 9)
        assert as_stored(entered_late) == as_stored(on_the_day)
        assert paused_dates(entered_late, date(2026, 3, 13)) == days_from("2026-03-09", "2026-03-12")
        assert standing(entered_late).paused_days == standing(on_the_day).paused_days == 4

    with on("2026-03-16", 10):
        plan.resume(on_the_day, ChangeContext.web(pm))
    with on("2026-03-18", 9):
        plan.resume(entered_late, ChangeContext.web(pm, "Restarted on Monday's call.", at=at("2026-03-16", 10)))
    with on("2026-03-18", 12):
        refresh_running()
        assert as_stored(entered_late) == as_stored(on_the_day)
        assert paused_dates(entered_late, date(2026, 3, 18)) == days_from("2026-03-09", "2026-03-15")
        assert paused_dates(on_the_day, date(2026, 3, 18)) == days_from("2026-03-09", "2026-03-15")
        # Nobody is late on a paused day: 6, 16, 17 and 18 March, not the week paused.
        assert standing(entered_late).days_overdue(step(entered_late, AUTOTESTS)) == 4

    assert {s.code: s.due_date for s in entered_late.steps.all()} == {
        s.code: s.due_date for s in on_the_day.steps.all()
    }
    # The history: each moment as it happened, and when the late ones were entered.
    late_events = list(entered_late.events.order_by("at", "id").values_list("kind", "at", "entered_at"))
    assert late_events[1:] == [
        (IntegrationEvent.Kind.PAUSED, at("2026-03-09", 10), at("2026-03-13", 15)),
        (IntegrationEvent.Kind.RESUMED, at("2026-03-16", 10), at("2026-03-18", 9)),
    ]
    resumed = entered_late.events.get(kind=IntegrationEvent.Kind.RESUMED)
    assert (resumed.from_value, resumed.to_value) == ("2026-03-09", "2026-03-16")
    assert resumed.note.startswith("Resumed after 7 calendar days paused since 9 Mar 2026.")
    # The deadlines the resume moved, moved on the day it happened.
    moves = deadline_moves(entered_late)
    assert moves and moves == deadline_moves(on_the_day)


def test_a_pause_back_dated_past_a_steps_change_is_refused_saying_which(pm):
    integration = kicked_off(pm, "Acme")
    with on("2026-03-11", 11):
        complete_step(step(integration, AUTOTESTS), ChangeContext.web(pm))
    with on("2026-03-13", 15), pytest.raises(StaleChange) as refused:
        plan.pause(integration, ChangeContext.web(pm, "Stopped on Monday.", at=at("2026-03-09", 10)))
    assert "comes before the last recorded change of" in refused.value.message
    assert "(done on 11 Mar 2026, 11:00)" in refused.value.message
    integration.refresh_from_db()
    assert (integration.state, integration.paused_on) == (Integration.State.ACTIVE, None)
    assert not integration.events.filter(kind=IntegrationEvent.Kind.PAUSED).exists()

    with on("2026-03-13", 15):  # after the step's change: recorded
        plan.pause(integration, ChangeContext.web(pm, "Stopped on Thursday.", at=at("2026-03-12", 10)))
    assert integration.paused_on == date(2026, 3, 12)


def test_a_deadline_the_refresh_moved_does_not_hold_back_a_pause(pm):
    """Only status changes count: a deadline the system moved, or the plan's own rows, are not changes of the step."""
    integration = kicked_off(pm, "Acme")
    with on("2026-03-10", 9):
        plan.replan(integration, date(2026, 3, 9), ChangeContext.web(pm, "New start agreed."))
    with on("2026-03-13", 15):
        plan.pause(integration, ChangeContext.web(pm, "Stopped on Tuesday.", at=at("2026-03-10", 10)))
    assert integration.paused_on == date(2026, 3, 10)


def test_a_back_dated_pause_needs_a_reason_and_a_past_date(pm):
    integration = kicked_off(pm, "Acme")
    with on("2026-03-13", 15):
        with pytest.raises(ReasonRequired, match="Say why the change is entered with an earlier date"):
            plan.pause(integration, ChangeContext.web(pm, "", at=at("2026-03-09", 10)))
        with pytest.raises(InvalidInput, match="in the future"):
            plan.pause(integration, ChangeContext.web(pm, "Tomorrow.", at=at("2026-03-14", 10)))
    assert not integration.events.filter(kind=IntegrationEvent.Kind.PAUSED).exists()


def test_a_resume_back_dated_before_its_pause_is_refused(pm):
    integration = kicked_off(pm, "Acme")
    with on("2026-03-09", 10):
        plan.pause(integration, ChangeContext.web(pm, "Partner re-org."))
    with on("2026-03-18", 9), pytest.raises(StaleChange, match=r"last recorded change \(paused on 9 Mar 2026, 10:00\)"):
        plan.resume(integration, ChangeContext.web(pm, "Restarted.", at=at("2026-03-06", 10)))
    integration.refresh_from_db()
    assert integration.state == Integration.State.PAUSED
