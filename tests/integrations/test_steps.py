"""Step status changes: the rules, the history they write and what they do to the integration."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from integrations import plan
from integrations.context import ChangeContext
from integrations.models import ChangeSource, Integration, IntegrationEvent, StepChange
from integrations.standing import standing
from integrations.steps import (
    apply_action,
    block_step,
    change_status,
    complete_step,
    mark_not_applicable,
    reopen_step,
    start_step,
    unblock_step,
)
from roadmap.models import StepStatus
from roadmap.refusals import (
    IntegrationEnded,
    InvalidInput,
    InvalidTransition,
    NotRunning,
    PrerequisitesOpen,
    ReasonRequired,
    StaleChange,
)
from tests.factories import IntegrationFactory
from tests.integrations.handovers.helpers import hand_over_everything
from tests.integrations.helpers import KICKOFF, LAUNCH_WINDOW, PLANNED_DUE, STEP_CODES, at, ctx, days, on, step

pytestmark = pytest.mark.django_db

WEB = ChangeSource.WEB
PLANNED_LAUNCH = LAUNCH_WINDOW[1]


def history_count(integration) -> int:
    return StepChange.objects.filter(step__integration=integration).count()


def complete_all_but_launch(integration, by):
    """Complete every step but the launch, one a day from the day after kick-off."""
    hand_over_everything(integration)
    for offset, code in enumerate(STEP_CODES[:-1], start=1):
        complete_step(step(integration, code), ctx(by, KICKOFF + days(offset)))


# --- prerequisites --------------------------------------------------------------------------


def test_completing_before_prerequisites_is_refused_naming_them_and_writes_nothing(started_integration, pm):
    target = step(started_integration, "passing-autotests")
    rows_before = history_count(started_integration)

    with pytest.raises(PrerequisitesOpen) as caught:
        complete_step(target, ctx(pm, "2026-03-10"))

    refusal = caught.value
    assert (refusal.code, refusal.retryable) == ("prerequisites_open", True)
    assert refusal.message == (
        "2 · Partner · Passing REST API autotests cannot be done before the steps it depends on: "
        "2 · TradingView · REST API autotests configuration (not started); "
        "1 · Partner · Data / trading endpoints implementation (not started)."
    )
    assert target.status == StepStatus.NOT_STARTED
    assert step(started_integration, "passing-autotests").status == StepStatus.NOT_STARTED
    assert step(started_integration, "passing-autotests").completed_at is None
    assert history_count(started_integration) == rows_before


def test_completing_with_one_prerequisite_left_names_only_that_one(started_integration, pm):
    complete_step(step(started_integration, "endpoints-implementation"), ctx(pm, "2026-03-10"))

    with pytest.raises(PrerequisitesOpen) as caught:
        complete_step(step(started_integration, "passing-autotests"), ctx(pm, "2026-03-11"))

    message = caught.value.message
    assert "REST API autotests configuration (not started)" in message
    assert "endpoints implementation" not in message


def test_an_open_prerequisite_in_progress_or_blocked_is_named_with_its_status(started_integration, pm):
    start_step(step(started_integration, "autotests-configuration"), ctx(pm, "2026-03-03"))
    block_step(step(started_integration, "endpoints-implementation"), ctx(pm, "2026-03-03", note="No keys."))

    with pytest.raises(PrerequisitesOpen) as caught:
        complete_step(step(started_integration, "passing-autotests"), ctx(pm, "2026-03-04"))

    assert "REST API autotests configuration (in progress)" in caught.value.message
    assert "Data / trading endpoints implementation (blocked)" in caught.value.message


def test_completing_works_once_prerequisites_are_done(started_integration, pm, partner_user):
    complete_step(step(started_integration, "autotests-configuration"), ctx(pm, "2026-03-05"))
    complete_step(
        step(started_integration, "endpoints-implementation"),
        ctx(partner_user, "2026-03-20", source=ChangeSource.API),
    )

    done = complete_step(step(started_integration, "passing-autotests"), ctx(pm, "2026-03-25"))

    assert done.status == StepStatus.DONE
    assert done.completed_at == at("2026-03-25")


def test_a_prerequisite_that_does_not_apply_does_not_hold_up(started_integration, pm):
    mark_not_applicable(
        step(started_integration, "autotests-configuration"),
        ctx(pm, "2026-03-03", note="Autotests run by the partner."),
    )
    complete_step(step(started_integration, "endpoints-implementation"), ctx(pm, "2026-03-20"))

    done = complete_step(step(started_integration, "passing-autotests"), ctx(pm, "2026-03-25"))
    assert done.status == StepStatus.DONE


def test_stocks_integration_autotests_not_applicable_from_the_plan(pm):
    integration = IntegrationFactory(stocks_data_only=True)
    plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    complete_step(step(integration, "slack-jira-onboarding"), ctx(pm, "2026-03-04"))
    complete_step(step(integration, "endpoints-implementation"), ctx(pm, "2026-03-20"))

    # sandbox-access depends on passing-autotests, which does not apply here.
    done = complete_step(step(integration, "sandbox-access"), ctx(pm, "2026-03-25"))
    assert done.status == StepStatus.DONE


def test_a_completion_dated_before_kickoff_counts_on_the_kickoff_day(started_integration, pm):
    """Work finished before the kick-off is accepted (it is no stale change), is on time, and is
    recorded as done when the plan was made: nothing happens before the plan."""
    planned_at = StepChange.objects.filter(step__integration=started_integration, from_status="").first().at
    done = complete_step(step(started_integration, "slack-jira-onboarding"), ctx(pm, "2026-02-25"))

    assert done.completed_at == planned_at
    step_standing = standing(started_integration, at("2026-03-09")).of(done)
    assert step_standing.forecast == KICKOFF
    assert (step_standing.days_late, step_standing.days_overdue) == (0, 0)


def test_a_jira_time_years_before_kickoff_counts_as_the_kickoff_and_sorts_after_planned(started_integration):
    """A Jira task started in 2017 on a 2026 kick-off: started when the plan was made, not in 2017."""
    target = step(started_integration, "slack-jira-onboarding")
    planned = StepChange.objects.get(step=target, from_status="")
    jira = ChangeContext(source=ChangeSource.JIRA, by_name="jira-bot", at=datetime(2017, 5, 4, 10, tzinfo=UTC))

    with on("2026-03-03"):
        started = change_status(target, StepStatus.IN_PROGRESS, jira)

    assert started.started_at == planned.at
    history = list(StepChange.objects.filter(step=target).order_by("at", "id"))
    assert [h.from_status for h in history] == ["", StepStatus.NOT_STARTED]
    assert history[1].at == planned.at and history[1].source == ChangeSource.JIRA


# --- history --------------------------------------------------------------------------------


@pytest.mark.parametrize("source", [s.value for s in ChangeSource])
def test_every_change_writes_a_history_row(started_integration, pm, source):
    target = step(started_integration, "endpoints-implementation")
    when = at("2026-03-12", 15)

    start_step(target, ctx(pm, when, note="  Started on the order endpoints. ", source=source))

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

    block_step(
        target, ctx(when="2026-03-12", note="Waiting for API keys.", source=ChangeSource.JIRA, by_name="j.smith (Jira)")
    )

    row = target.history.order_by("id").last()
    assert (row.by, row.by_name, row.source) == (None, "j.smith (Jira)", "jira")
    assert row.who == "j.smith (Jira)"
    assert (row.from_status, row.to_status, row.note) == ("not_started", "blocked", "Waiting for API keys.")


def test_a_full_step_lifecycle_is_recorded_in_order(started_integration, pm, partner_user):
    target = step(started_integration, "endpoints-implementation")
    start_step(target, ctx(partner_user, "2026-03-03", source=ChangeSource.API))
    block_step(target, ctx(partner_user, "2026-03-04", note="Sandbox is down.", source=ChangeSource.SLACK))
    unblock_step(target, ctx(partner_user, "2026-03-05", note="Sandbox is back.", source=ChangeSource.SLACK))
    complete_step(target, ctx(partner_user, "2026-03-06", source=ChangeSource.API))
    reopen_step(target, ctx(pm, "2026-03-09", note="Order cancel endpoint fails."))

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
    # Reopened, it owes its work again: the plan's 4 weeks after kick-off, counted from the reopen.
    reopened = target.history.last()
    assert (reopened.from_due, reopened.to_due) == (date(2026, 3, 30), date(2026, 4, 6))
    assert target.reopened_at == at("2026-03-09")


# --- block, unblock, reopen, not applicable -------------------------------------------------


def test_block_needs_a_reason_and_stores_it(started_integration, pm):
    target = step(started_integration, "endpoints-implementation")
    rows_before = history_count(started_integration)
    with pytest.raises(ReasonRequired, match="Say why the step is blocked") as caught:
        block_step(target, ctx(pm, "2026-03-10", note="   "))
    assert caught.value.code == "reason_required"
    assert target.status == StepStatus.NOT_STARTED
    assert history_count(started_integration) == rows_before

    block_step(target, ctx(pm, "2026-03-10", note="No test account yet."))
    assert step(started_integration, "endpoints-implementation").blocked_reason == "No test account yet."

    with pytest.raises(ReasonRequired, match="Say what unblocked the step"):
        unblock_step(target, ctx(pm, "2026-03-11"))
    with pytest.raises(ReasonRequired, match="Say what unblocked the step"):
        start_step(target, ctx(pm, "2026-03-11"))
    assert step(started_integration, "endpoints-implementation").status == StepStatus.BLOCKED

    unblock_step(target, ctx(pm, "2026-03-11", note="Account created."))
    assert target.status == StepStatus.IN_PROGRESS
    assert step(started_integration, "endpoints-implementation").blocked_reason == ""


def test_a_blocked_step_can_be_completed_without_a_note(started_integration, pm):
    target = step(started_integration, "endpoints-implementation")
    block_step(target, ctx(pm, "2026-03-10", note="No test account yet."))

    complete_step(target, ctx(pm, "2026-03-12"))

    assert target.status == StepStatus.DONE
    assert target.blocked_reason == ""


def test_reopen_needs_a_reason(started_integration, pm):
    target = step(started_integration, "endpoints-implementation")
    complete_step(target, ctx(pm, "2026-03-10"))
    rows_before = history_count(started_integration)

    with pytest.raises(ReasonRequired, match="Say why the step is reopened"):
        reopen_step(target, ctx(pm, "2026-03-11"))
    assert step(started_integration, "endpoints-implementation").status == StepStatus.DONE
    assert history_count(started_integration) == rows_before

    reopen_step(target, ctx(pm, "2026-03-11", note="Regression found."))
    assert target.status == StepStatus.IN_PROGRESS
    assert target.completed_at is None


def test_reopening_a_step_that_did_not_apply_brings_it_back(pm):
    integration = IntegrationFactory(stocks_data_only=True)
    plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    target = step(integration, "passing-autotests")

    with pytest.raises(ReasonRequired, match="Say why the step applies after all"):
        reopen_step(target, ctx(pm, "2026-03-03", note=" "))
    reopen_step(target, ctx(pm, "2026-03-03", note="Partner adds crypto data."))

    assert step(integration, "passing-autotests").status == StepStatus.NOT_STARTED


def test_reopening_an_open_step_is_refused(started_integration, pm):
    with pytest.raises(InvalidTransition, match="'Reopen' does not apply"):
        reopen_step(step(started_integration, "endpoints-implementation"), ctx(pm, "2026-03-03", note="Why not."))


def test_not_applicable_needs_a_reason_and_stores_it(started_integration, pm):
    target = step(started_integration, "autotests-configuration")
    with pytest.raises(ReasonRequired, match="Say why the step does not apply"):
        mark_not_applicable(target, ctx(pm, "2026-03-03"))

    mark_not_applicable(target, ctx(pm, "2026-03-03", note="Partner runs its own suite."))
    assert step(started_integration, "autotests-configuration").applicability_note == "Partner runs its own suite."


def test_the_launch_cannot_be_marked_not_applicable(started_integration, pm):
    launch = step(started_integration, "open-to-all-users")
    rows_before = history_count(started_integration)

    with pytest.raises(InvalidTransition) as caught:
        mark_not_applicable(launch, ctx(pm, "2026-03-03", note="Soft launch only."))
    assert caught.value.code == "invalid_transition"
    assert "TradingView · Open to all users is the launch and always applies" in caught.value.message
    with pytest.raises(InvalidTransition, match="always applies"):
        apply_action(launch, "not_applicable", ctx(pm, "2026-03-03", note="Soft launch only."))

    assert step(started_integration, "open-to-all-users").status == StepStatus.NOT_STARTED
    assert history_count(started_integration) == rows_before


@pytest.mark.parametrize(
    ("first", "second", "refusal", "error"),
    [
        (StepStatus.DONE, StepStatus.BLOCKED, InvalidTransition, "A step that is done cannot become blocked"),
        (StepStatus.DONE, StepStatus.DONE, InvalidTransition, "already done"),
        (StepStatus.NOT_APPLICABLE, StepStatus.DONE, InvalidTransition, "cannot become done"),
        (StepStatus.IN_PROGRESS, "finished", InvalidInput, "Unknown step status 'finished'"),
    ],
)
def test_transitions_that_are_not_allowed(started_integration, pm, first, second, refusal, error):
    target = step(started_integration, "slack-jira-onboarding")
    change_status(target, first, ctx(pm, "2026-03-03", note="First."))
    rows_before = history_count(started_integration)

    with pytest.raises(refusal, match=error):
        change_status(target, second, ctx(pm, "2026-03-04", note="because"))

    assert target.status == first
    assert history_count(started_integration) == rows_before


def test_an_unknown_action_is_refused(started_integration, pm):
    with pytest.raises(InvalidInput, match="Unknown action 'finish'"):
        apply_action(step(started_integration, "endpoints-implementation"), "finish", ctx(pm, "2026-03-03"))


# --- when a change may be dated -------------------------------------------------------------


def test_a_change_dated_before_the_steps_last_status_change_is_refused(started_integration, pm):
    target = step(started_integration, "endpoints-implementation")
    start_step(target, ctx(pm, "2026-03-10"))
    rows_before = history_count(started_integration)

    with pytest.raises(StaleChange) as caught:
        complete_step(target, ctx(pm, at("2026-03-09", 17), source=ChangeSource.JIRA))

    assert caught.value.code == "stale_change"
    assert caught.value.message == (
        "1 · Partner · Data / trading endpoints implementation: a change dated 9 Mar 2026, 17:00 comes before "
        "its last recorded change (in progress on 10 Mar 2026, 12:00); it was not applied."
    )
    assert step(started_integration, "endpoints-implementation").status == StepStatus.IN_PROGRESS
    assert history_count(started_integration) == rows_before

    # Dated at the same moment, or later, the change applies.
    complete_step(target, ctx(pm, at("2026-03-10"), source=ChangeSource.JIRA))
    assert target.status == StepStatus.DONE


def test_only_status_changes_make_a_later_change_stale(started_integration, pm):
    """The kick-off rows and a re-plan's date moves are no status changes."""
    plan.replan(started_integration, date(2026, 3, 9), ctx(pm, "2026-03-06", note="A week later."))

    done = complete_step(step(started_integration, "slack-jira-onboarding"), ctx(pm, "2026-03-04"))

    assert done.status == StepStatus.DONE


def test_other_steps_changes_do_not_make_a_change_stale(started_integration, pm):
    start_step(step(started_integration, "slack-jira-onboarding"), ctx(pm, "2026-03-10"))

    done = complete_step(step(started_integration, "autotests-configuration"), ctx(pm, "2026-03-04"))
    assert done.completed_at == at("2026-03-04")


def test_a_change_dated_in_the_future_is_refused_before_anything_is_written(started_integration, pm):
    target = step(started_integration, "endpoints-implementation")
    rows_before = history_count(started_integration)

    with pytest.raises(InvalidInput, match="in the future"):
        complete_step(target, ctx(pm, timezone.now() + timedelta(hours=1), source=ChangeSource.JIRA))

    assert step(started_integration, "endpoints-implementation").status == StepStatus.NOT_STARTED
    assert history_count(started_integration) == rows_before


# --- the caller's instance and the stored standing ------------------------------------------


def test_callers_instance_reflects_the_change_even_when_stale(started_integration, pm):
    stale = step(started_integration, "endpoints-implementation")
    fresh = step(started_integration, "endpoints-implementation")
    start_step(fresh, ctx(pm, "2026-03-10"))
    assert stale.status == StepStatus.NOT_STARTED

    returned = complete_step(stale, ctx(pm, "2026-03-20"))

    assert returned is stale
    assert stale.status == StepStatus.DONE
    assert stale.completed_at == at("2026-03-20")
    assert stale.history.order_by("id").last().from_status == StepStatus.IN_PROGRESS


def stored(integration):
    integration.refresh_from_db()
    current = integration.current_step.code if integration.current_step else None
    return current, integration.ball_side, integration.next_due_on, integration.forecast_launch_on


def delays(integration):
    return integration.delay_tradingview_days, integration.delay_partner_days, integration.delay_both_days


def test_stored_standing_refreshes_after_each_change(started_integration, pm):
    assert stored(started_integration) == ("slack-jira-onboarding", "both", date(2026, 3, 5), PLANNED_LAUNCH)

    with on("2026-03-03"):
        complete_step(step(started_integration, "slack-jira-onboarding"), ctx(pm, "2026-03-03"))
    with on("2026-03-04"):
        complete_step(step(started_integration, "autotests-configuration"), ctx(pm, "2026-03-04"))
    assert stored(started_integration) == ("endpoints-implementation", "partner", date(2026, 3, 30), PLANNED_LAUNCH)
    # The partner's day ends at midnight in Berlin (CEST since 03-29): 22:00 UTC.
    assert started_integration.next_deadline_at == datetime(2026, 3, 30, 22, tzinfo=UTC)
    assert started_integration.standing_as_of == date(2026, 3, 4)

    with on("2026-03-20"):
        complete_step(step(started_integration, "endpoints-implementation"), ctx(pm, "2026-03-20"))
    assert stored(started_integration) == ("passing-autotests", "partner", date(2026, 3, 30), PLANNED_LAUNCH)

    # Passing the autotests 10 days late (8 working days): sandbox access, prepared during the
    # partner's week, is due the day of the hand-over (04-09, not 03-30), and the launch moves 8 working days.
    with on("2026-04-09"):
        complete_step(step(started_integration, "passing-autotests"), ctx(pm, "2026-04-09"))
    assert stored(started_integration) == ("sandbox-access", "tradingview", date(2026, 4, 9), date(2026, 6, 4))
    assert delays(started_integration) == (0, 8, 0)  # working days
    assert started_integration.slip_days == 8
    sandbox = step(started_integration, "sandbox-access")
    assert (sandbox.planned_due_date, sandbox.due_date) == (date(2026, 3, 30), date(2026, 4, 9))
    move = sandbox.history.get(from_due__isnull=False)
    assert (move.source, move.from_status, move.to_status) == ("system", "not_started", "not_started")
    assert (move.from_due, move.to_due, move.at) == (date(2026, 3, 30), date(2026, 4, 9), at("2026-04-09"))
    assert move.note == (
        "Deadline moved from 30 Mar 2026 to 9 Apr 2026: 2 · Partner · Passing REST API autotests was finished "
        "on 9 Apr 2026, planned for 30 Mar 2026; this step keeps the working days the plan gave it."
    )
    # Only the step handed over late moves; the plan does not.
    assert {s.code: s.planned_due_date for s in started_integration.steps.all()} == PLANNED_DUE
    assert started_integration.steps.filter(history__source="system").count() == 1

    with on("2026-04-09"):
        block_step(step(started_integration, "sandbox-access"), ctx(pm, "2026-04-09", note="IP list missing."))
    assert stored(started_integration)[:2] == ("sandbox-access", "tradingview")


@pytest.mark.parametrize(
    ("finished_utc", "deadline"),
    [
        # 23:30 in Berlin, still 03-30 there: on time, sandbox access keeps its date.
        (datetime(2026, 3, 30, 21, 30, tzinfo=UTC), date(2026, 3, 30)),
        # 00:30 on 03-31 in Berlin: a day late, sandbox access (no working day after it) moves a day.
        (datetime(2026, 3, 30, 22, 30, tzinfo=UTC), date(2026, 3, 31)),
    ],
)
def test_a_partner_step_is_finished_on_the_partners_day(started_integration, pm, partner_user, finished_utc, deadline):
    complete_step(step(started_integration, "slack-jira-onboarding"), ctx(pm, "2026-03-04"))
    complete_step(step(started_integration, "autotests-configuration"), ctx(pm, "2026-03-04"))
    complete_step(step(started_integration, "endpoints-implementation"), ctx(partner_user, "2026-03-27"))

    complete_step(step(started_integration, "passing-autotests"), ctx(partner_user, finished_utc))

    assert step(started_integration, "sandbox-access").due_date == deadline
    started_integration.refresh_from_db()
    assert started_integration.next_due_on == deadline


def test_completing_the_last_step_launches_the_integration(started_integration, pm):
    complete_all_but_launch(started_integration, pm)
    assert started_integration.events.filter(kind=IntegrationEvent.Kind.LAUNCHED).count() == 0

    launch = step(started_integration, "open-to-all-users")
    complete_step(launch, ctx(pm, "2026-05-20"))

    started_integration.refresh_from_db()
    assert started_integration.state == Integration.State.LAUNCHED
    assert not started_integration.is_running
    assert started_integration.launched_on == date(2026, 5, 20)
    assert started_integration.forecast_launch_on == date(2026, 5, 20)
    assert started_integration.current_step is None
    assert started_integration.ball_side == ""
    assert started_integration.next_due_on is None
    assert delays(started_integration) == (0, 0, 0)
    event = started_integration.events.get(kind=IntegrationEvent.Kind.LAUNCHED)
    assert (event.source, event.by, event.to_value) == (WEB, pm, "2026-05-20")

    with pytest.raises(IntegrationEnded, match="is launched; its steps can no longer change"):
        reopen_step(launch, ctx(pm, "2026-05-21", note="Rollback."))
    assert step(started_integration, "open-to-all-users").status == StepStatus.DONE


def test_launched_event_is_recorded_at_the_time_of_the_change(started_integration, pm):
    """The launch event must carry the ``at`` of the change that launched, like every other row."""
    complete_all_but_launch(started_integration, pm)

    complete_step(step(started_integration, "open-to-all-users"), ctx(pm, "2026-05-20"))

    event = started_integration.events.get(kind=IntegrationEvent.Kind.LAUNCHED)
    assert event.at == at("2026-05-20")


def test_steps_of_a_cancelled_integration_cannot_change(started_integration, pm):
    target = step(started_integration, "endpoints-implementation")
    plan.cancel(started_integration, ctx(pm, "2026-03-09", note="Partner withdrew."))
    rows_before = history_count(started_integration)

    for action in (
        lambda: start_step(target, ctx(pm, "2026-03-10")),
        lambda: complete_step(target, ctx(pm, "2026-03-10")),
        lambda: block_step(target, ctx(pm, "2026-03-10", note="x")),
        lambda: mark_not_applicable(target, ctx(pm, "2026-03-10", note="x")),
    ):
        with pytest.raises(IntegrationEnded, match="is cancelled; its steps can no longer change"):
            action()

    assert step(started_integration, "endpoints-implementation").status == StepStatus.NOT_STARTED
    assert history_count(started_integration) == rows_before


def test_steps_of_a_paused_integration_cannot_change_until_it_resumes(started_integration, pm):
    plan.pause(started_integration, ctx(pm, "2026-03-09"))
    target = step(started_integration, "slack-jira-onboarding")
    rows_before = history_count(started_integration)

    for action in (
        lambda: start_step(target, ctx(pm, "2026-03-10")),
        lambda: complete_step(target, ctx(pm, "2026-03-10")),
        lambda: block_step(target, ctx(pm, "2026-03-10", note="x")),
        lambda: mark_not_applicable(target, ctx(pm, "2026-03-10", note="x")),
        lambda: apply_action(target, "complete", ctx(pm, "2026-03-10")),
    ):
        with pytest.raises(NotRunning, match="is paused; resume it first") as caught:
            action()
        assert (caught.value.code, caught.value.retryable) == ("not_running", True)

    assert step(started_integration, "slack-jira-onboarding").status == StepStatus.NOT_STARTED
    assert history_count(started_integration) == rows_before

    plan.resume(started_integration, ctx(pm, "2026-03-12"))
    done = complete_step(target, ctx(pm, "2026-03-12"))
    assert done.status == StepStatus.DONE
    started_integration.refresh_from_db()
    assert started_integration.state == Integration.State.ACTIVE
