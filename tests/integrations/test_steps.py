"""Step status changes: the rules, the history they write and what they do to the integration."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from integrations import plan
from integrations.models import ChangeSource, Integration, IntegrationEvent, StepChange
from integrations.steps import (
    block_step,
    change_status,
    complete_step,
    mark_not_applicable,
    reopen_step,
    start_step,
)
from roadmap.models import StepStatus
from tests.factories import IntegrationFactory
from tests.integrations.helpers import KICKOFF, LAUNCH_WINDOW, STEP_CODES, at, step

pytestmark = pytest.mark.django_db

WEB = ChangeSource.WEB


def history_count(integration) -> int:
    return StepChange.objects.filter(step__integration=integration).count()


def complete_all_but_launch(integration, by):
    """Complete every step but the launch, one a day from the day after kick-off."""
    for offset, code in enumerate(STEP_CODES[:-1], start=1):
        complete_step(step(integration, code), source=WEB, by=by, at=at(date.fromordinal(KICKOFF.toordinal() + offset)))


# --- prerequisites --------------------------------------------------------------------------


def test_completing_before_prerequisites_is_refused_naming_them_and_writes_nothing(started_integration, pm):
    target = step(started_integration, "passing-autotests")
    rows_before = history_count(started_integration)

    with pytest.raises(ValidationError) as caught:
        complete_step(target, source=WEB, by=pm, at=at("2026-03-10"))

    message = caught.value.messages[0]
    assert "cannot be completed before the steps it depends on are done" in message
    assert "REST API autotests configuration (TradingView, not started)" in message
    assert "Data / trading endpoints implementation (Partner, not started)" in message
    assert target.status == StepStatus.NOT_STARTED
    assert step(started_integration, "passing-autotests").status == StepStatus.NOT_STARTED
    assert step(started_integration, "passing-autotests").completed_at is None
    assert history_count(started_integration) == rows_before


def test_completing_with_one_prerequisite_left_names_only_that_one(started_integration, pm):
    complete_step(step(started_integration, "endpoints-implementation"), source=WEB, by=pm, at=at("2026-03-10"))

    with pytest.raises(ValidationError) as caught:
        complete_step(step(started_integration, "passing-autotests"), source=WEB, by=pm, at=at("2026-03-11"))

    message = caught.value.messages[0]
    assert "REST API autotests configuration" in message
    assert "endpoints implementation" not in message


def test_completing_works_once_prerequisites_are_done(started_integration, pm, partner_dev):
    complete_step(step(started_integration, "autotests-configuration"), source=WEB, by=pm, at=at("2026-03-05"))
    complete_step(
        step(started_integration, "endpoints-implementation"),
        source=ChangeSource.API,
        by=partner_dev,
        at=at("2026-03-20"),
    )

    done = complete_step(step(started_integration, "passing-autotests"), source=WEB, by=pm, at=at("2026-03-25"))

    assert done.status == StepStatus.DONE
    assert done.completed_on == date(2026, 3, 25)


def test_a_prerequisite_that_does_not_apply_does_not_hold_up(started_integration, pm):
    mark_not_applicable(
        step(started_integration, "autotests-configuration"), "Autotests run by the partner.", source=WEB, by=pm
    )
    complete_step(step(started_integration, "endpoints-implementation"), source=WEB, by=pm)

    done = complete_step(step(started_integration, "passing-autotests"), source=WEB, by=pm)
    assert done.status == StepStatus.DONE


def test_stocks_integration_autotests_not_applicable_from_the_plan(pm):
    integration = IntegrationFactory(stocks_data_only=True)
    plan.start_integration(integration, KICKOFF, source=WEB, by=pm, at=at(KICKOFF))
    complete_step(step(integration, "slack-jira-onboarding"), source=WEB, by=pm)
    complete_step(step(integration, "endpoints-implementation"), source=WEB, by=pm)

    # sandbox-access depends on passing-autotests, which does not apply here.
    done = complete_step(step(integration, "sandbox-access"), source=WEB, by=pm)
    assert done.status == StepStatus.DONE


# --- history --------------------------------------------------------------------------------


@pytest.mark.parametrize("source", [s.value for s in ChangeSource])
def test_every_change_writes_a_history_row(started_integration, pm, source):
    target = step(started_integration, "endpoints-implementation")
    when = at("2026-03-12", 15)

    start_step(target, source=source, by=pm, note="Started on the order endpoints.", at=when)

    row = target.history.order_by("id").last()
    assert row.by == pm
    assert row.by_name == ""
    assert row.source == source
    assert (row.from_status, row.to_status) == (StepStatus.NOT_STARTED, StepStatus.IN_PROGRESS)
    assert row.note == "Started on the order endpoints."
    assert row.at == when
    assert (row.from_due, row.to_due) == (None, None)
    assert target.started_at == when


def test_history_row_by_someone_known_only_by_name(started_integration):
    target = step(started_integration, "endpoints-implementation")

    block_step(target, "Waiting for API keys.", source=ChangeSource.JIRA, by_name="j.smith (Jira)", at=at("2026-03-12"))

    row = target.history.order_by("id").last()
    assert (row.by, row.by_name, row.source) == (None, "j.smith (Jira)", "jira")
    assert row.who == "j.smith (Jira)"
    assert (row.from_status, row.to_status, row.note) == ("not_started", "blocked", "Waiting for API keys.")


def test_a_full_step_lifecycle_is_recorded_in_order(started_integration, pm, partner_dev):
    target = step(started_integration, "endpoints-implementation")
    start_step(target, source=ChangeSource.API, by=partner_dev, at=at("2026-03-03"))
    block_step(target, "Sandbox is down.", source=ChangeSource.SLACK, by=partner_dev, at=at("2026-03-04"))
    start_step(target, source=ChangeSource.SLACK, by=partner_dev, note="Sandbox is back.", at=at("2026-03-05"))
    complete_step(target, source=ChangeSource.API, by=partner_dev, at=at("2026-03-06"))
    reopen_step(target, "Order cancel endpoint fails.", source=WEB, by=pm, at=at("2026-03-09"))

    rows = list(target.history.values_list("from_status", "to_status", "source", "by__username", "note"))
    assert rows[1:] == [
        ("not_started", "in_progress", "api", "dev.bob", ""),
        ("in_progress", "blocked", "slack", "dev.bob", "Sandbox is down."),
        ("blocked", "in_progress", "slack", "dev.bob", "Sandbox is back."),
        ("in_progress", "done", "api", "dev.bob", ""),
        ("done", "in_progress", "web", "alice", "Order cancel endpoint fails."),
    ]
    assert rows[0][:2] == ("", "not_started")
    assert target.status == StepStatus.IN_PROGRESS
    assert target.completed_at is None
    assert target.started_at == at("2026-03-03")


# --- block, reopen, not applicable ----------------------------------------------------------


def test_block_needs_a_reason_and_stores_it(started_integration, pm):
    target = step(started_integration, "endpoints-implementation")
    rows_before = history_count(started_integration)
    with pytest.raises(ValidationError, match="Say why the step is blocked"):
        block_step(target, "   ", source=WEB, by=pm)
    assert target.status == StepStatus.NOT_STARTED
    assert history_count(started_integration) == rows_before

    block_step(target, "No test account yet.", source=WEB, by=pm)
    assert step(started_integration, "endpoints-implementation").blocked_reason == "No test account yet."

    start_step(target, source=WEB, by=pm)
    assert step(started_integration, "endpoints-implementation").blocked_reason == ""


def test_reopen_needs_a_reason(started_integration, pm):
    target = step(started_integration, "endpoints-implementation")
    complete_step(target, source=WEB, by=pm)
    rows_before = history_count(started_integration)

    with pytest.raises(ValidationError, match="Say why the step is reopened"):
        reopen_step(target, "", source=WEB, by=pm)
    assert step(started_integration, "endpoints-implementation").status == StepStatus.DONE
    assert history_count(started_integration) == rows_before

    reopen_step(target, "Regression found.", source=WEB, by=pm)
    assert target.status == StepStatus.IN_PROGRESS


def test_reopening_a_step_that_did_not_apply_brings_it_back(pm):
    integration = IntegrationFactory(stocks_data_only=True)
    plan.start_integration(integration, KICKOFF, source=WEB, by=pm, at=at(KICKOFF))
    target = step(integration, "passing-autotests")

    with pytest.raises(ValidationError, match="Say why the step applies after all"):
        reopen_step(target, " ", source=WEB, by=pm)
    reopen_step(target, "Partner adds crypto data.", source=WEB, by=pm)

    assert step(integration, "passing-autotests").status == StepStatus.NOT_STARTED


def test_not_applicable_needs_a_reason_and_stores_it(started_integration, pm):
    target = step(started_integration, "autotests-configuration")
    with pytest.raises(ValidationError, match="Say why the step does not apply"):
        mark_not_applicable(target, "", source=WEB, by=pm)

    mark_not_applicable(target, "Partner runs its own suite.", source=WEB, by=pm)
    assert step(started_integration, "autotests-configuration").applicability_note == "Partner runs its own suite."


@pytest.mark.parametrize(
    ("first", "second", "error"),
    [
        (StepStatus.DONE, StepStatus.BLOCKED, "cannot become blocked"),
        (StepStatus.DONE, StepStatus.DONE, "already done"),
        (StepStatus.IN_PROGRESS, "finished", "Unknown step status 'finished'"),
    ],
)
def test_transitions_that_are_not_allowed(started_integration, pm, first, second, error):
    target = step(started_integration, "slack-jira-onboarding")
    change_status(target, first, source=WEB, by=pm)
    rows_before = history_count(started_integration)

    with pytest.raises(ValidationError, match=error):
        change_status(target, second, source=WEB, by=pm, note="because")

    assert target.status == first
    assert history_count(started_integration) == rows_before


# --- the caller's instance and the stored progress ------------------------------------------


def test_callers_instance_reflects_the_change_even_when_stale(started_integration, pm):
    stale = step(started_integration, "endpoints-implementation")
    fresh = step(started_integration, "endpoints-implementation")
    start_step(fresh, source=WEB, by=pm)
    assert stale.status == StepStatus.NOT_STARTED

    returned = complete_step(stale, source=WEB, by=pm, at=at("2026-03-20"))

    assert returned is stale
    assert stale.status == StepStatus.DONE
    assert stale.completed_at == at("2026-03-20")
    assert stale.history.order_by("id").last().from_status == StepStatus.IN_PROGRESS


def stored(integration):
    integration.refresh_from_db()
    current = integration.current_step.code if integration.current_step else None
    return current, integration.ball_side, integration.next_due_on, integration.forecast_launch_on


def test_stored_progress_fields_refresh_after_each_change(started_integration, pm):
    assert stored(started_integration) == ("slack-jira-onboarding", "both", date(2026, 3, 30), LAUNCH_WINDOW[1])

    complete_step(step(started_integration, "slack-jira-onboarding"), source=WEB, by=pm, at=at("2026-03-03"))
    complete_step(step(started_integration, "autotests-configuration"), source=WEB, by=pm, at=at("2026-03-04"))
    assert stored(started_integration) == ("endpoints-implementation", "partner", date(2026, 3, 30), LAUNCH_WINDOW[1])

    complete_step(step(started_integration, "endpoints-implementation"), source=WEB, by=pm, at=at("2026-03-20"))
    assert stored(started_integration) == ("passing-autotests", "partner", date(2026, 3, 30), LAUNCH_WINDOW[1])

    # Finishing 10 days late pushes everything after it, the launch included, by 10 days.
    complete_step(step(started_integration, "passing-autotests"), source=WEB, by=pm, at=at("2026-04-09"))
    assert stored(started_integration) == ("sandbox-access", "tradingview", date(2026, 4, 6), date(2026, 6, 4))

    block_step(step(started_integration, "sandbox-access"), "IP list missing.", source=WEB, by=pm, at=at("2026-04-09"))
    assert stored(started_integration)[:2] == ("sandbox-access", "tradingview")


def test_completing_the_last_step_launches_the_integration(started_integration, pm):
    complete_all_but_launch(started_integration, pm)
    assert started_integration.events.filter(kind=IntegrationEvent.Kind.LAUNCHED).count() == 0

    launch = step(started_integration, "open-to-all-users")
    complete_step(launch, source=WEB, by=pm, at=at("2026-05-20"))

    started_integration.refresh_from_db()
    assert started_integration.state == Integration.State.LAUNCHED
    assert started_integration.launched_on == date(2026, 5, 20)
    assert started_integration.forecast_launch_on == date(2026, 5, 20)
    assert started_integration.current_step is None
    assert started_integration.ball_side == ""
    assert started_integration.next_due_on is None
    event = started_integration.events.get(kind=IntegrationEvent.Kind.LAUNCHED)
    assert (event.source, event.by, event.to_value) == (WEB, pm, "2026-05-20")

    with pytest.raises(ValidationError, match="is launched; its steps can no longer change"):
        reopen_step(launch, "Rollback.", source=WEB, by=pm)


def test_launched_event_is_recorded_at_the_time_of_the_change(started_integration, pm):
    """The launch event must carry the ``at`` of the change that launched, like every other row."""
    complete_all_but_launch(started_integration, pm)

    complete_step(step(started_integration, "open-to-all-users"), source=WEB, by=pm, at=at("2026-05-20"))

    event = started_integration.events.get(kind=IntegrationEvent.Kind.LAUNCHED)
    assert event.at == at("2026-05-20")


def test_steps_of_a_cancelled_integration_cannot_change(started_integration, pm):
    target = step(started_integration, "endpoints-implementation")
    plan.cancel(started_integration, source=WEB, by=pm, note="Partner withdrew.")
    rows_before = history_count(started_integration)

    for action in (
        lambda: start_step(target, source=WEB, by=pm),
        lambda: complete_step(target, source=WEB, by=pm),
        lambda: block_step(target, "x", source=WEB, by=pm),
        lambda: mark_not_applicable(target, "x", source=WEB, by=pm),
    ):
        with pytest.raises(ValidationError, match="is cancelled; its steps can no longer change"):
            action()

    assert step(started_integration, "endpoints-implementation").status == StepStatus.NOT_STARTED
    assert history_count(started_integration) == rows_before


def test_steps_of_a_paused_integration_can_still_change(started_integration, pm):
    plan.pause(started_integration, source=WEB, by=pm, at=at("2026-03-09"))
    target = complete_step(step(started_integration, "slack-jira-onboarding"), source=WEB, by=pm, at=at("2026-03-10"))
    assert target.status == StepStatus.DONE
    started_integration.refresh_from_db()
    assert started_integration.state == Integration.State.PAUSED
