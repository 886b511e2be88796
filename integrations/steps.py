"""Moving an integration's steps: start, complete, block, unblock, reopen, mark not applicable.

One function, ``change_status``, holds the rules (allowed transitions and reasons from
``roadmap.transitions``, who may, the completion guards of ``integrations.guards``, when a change
may be dated); the admin, the pages, the API, Jira and Slack all call it, or ``apply_action`` with
an action of ``roadmap.transitions.ACTIONS``, passing a ``ChangeContext``.
Refusals are ``roadmap.refusals`` errors with a code.
"""

from dataclasses import replace

from django.db import transaction

from integrations import events
from integrations.actions import VERIFY, state_refusal, user_refusal
from integrations.context import ChangeContext
from integrations.guards import completion_refusal, start_refusal
from integrations.models import ChangeSource, Integration, IntegrationEvent, IntegrationStep, StepChange
from integrations.standing import refresh_standing
from integrations.text import moment_text
from roadmap.models import SETTLED_STATUSES, StepStatus
from roadmap.refusals import InvalidInput, InvalidTransition, StaleChange
from roadmap.standing import awaiting_check
from roadmap.transitions import ACTIONS, action_for, transition_refusal


@transaction.atomic
def change_status(step, to_status, context: ChangeContext) -> IntegrationStep:
    """Move ``step`` to ``to_status``, record who, when, from where and why, and refresh the standing.

    Raises a ``Refusal`` when the change is not allowed: an unknown status, a missing reason, an
    integration that is paused or ended, a user who may not, a step completed before the steps
    it depends on, or a change dated before the step's last status change. ``context.at`` is
    when the change happened, if not now (a Jira event's own time, or history entered later).
    """
    integration = Integration.objects.select_for_update().select_related("partner").get(pk=step.integration_id)
    step.refresh_from_db()  # the caller's instance, so it sees the change when we return
    context = _not_before_the_plan(step, context)
    step.integration = integration
    steps = [step if s.pk == step.pk else s for s in integration.steps.all()]
    refusal = (
        state_refusal(integration)
        or user_refusal(context.by, step, action_for(step.status, to_status))
        or transition_refusal(step.status, to_status, context.note)
    )
    if refusal is None and to_status == StepStatus.NOT_APPLICABLE and step.position == steps[-1].position:
        refusal = InvalidTransition(f"{step} is the launch and always applies; cancel the integration instead.")
    if refusal is None and to_status == StepStatus.DONE:
        refusal = completion_refusal(step, steps)
    if refusal is None and to_status == StepStatus.IN_PROGRESS and step.status == StepStatus.NOT_STARTED:
        refusal = start_refusal(step, steps)
    if refusal is None:
        refusal = _dating_refusal(step, context)
    if refusal is not None:
        raise refusal

    now = context.moment
    from_status = step.status
    step.status = to_status
    step.blocked_reason = context.note if to_status == StepStatus.BLOCKED else ""
    if to_status == StepStatus.IN_PROGRESS and step.started_at is None:
        step.started_at = now
    step.completed_at = now if to_status == StepStatus.DONE else None
    if from_status in SETTLED_STATUSES and to_status not in SETTLED_STATUSES:
        # Reopened: it owes new work from now; the standing reads its history from this mark.
        step.reopened_at = now
    if to_status == StepStatus.NOT_APPLICABLE:
        step.applicability_note = context.note
    # Fixes marked done by TradingView (a PM, or the product itself) are checked by it; the partner's,
    # Jira's or Slack's wait for "Verify fixes". Leaving done undoes the check.
    fixes_done = to_status == StepStatus.DONE and bool(step.jira_bug_labels)
    checked = fixes_done and _tradingview_checks(context)
    step.checking_since = now if fixes_done and not checked else None
    step.verified_at = now if checked else None
    step.verified_by = context.by if checked else None
    step.save(
        update_fields=[
            "status",
            "blocked_reason",
            "started_at",
            "completed_at",
            "reopened_at",
            "applicability_note",
            "checking_since",
            "verified_at",
            "verified_by",
            "updated_at",
        ]
    )
    StepChange.objects.create(
        step=step, from_status=from_status, to_status=to_status, note=context.note, **context.row()
    )
    events.announce(events.STEP_CHANGED, integration, context, step=step, from_status=from_status, to_status=to_status)
    if to_status == StepStatus.DONE and step.position == steps[-1].position:
        _launch(integration, step, context)
    refresh_standing(integration, context, steps)
    return step


def _tradingview_checks(context: ChangeContext) -> bool:
    """Whether a step marked done in ``context`` was marked so by TradingView: a staff user, or the system."""
    if context.by is not None:
        return context.by.is_staff
    return context.source == ChangeSource.SYSTEM


@transaction.atomic
def verify_fixes(step, context: ChangeContext) -> IntegrationStep:
    """TradingView checks the fixes of a fixing step the partner marked done ("TradingView checks the fixes").

    Staff only (a partner may not check its own fixes); the step must be done and awaiting the check.
    Records who and when on the step and as a history row, and refreshes the standing: the ball
    moves on to what depends on the fixes.
    """
    integration = Integration.objects.select_for_update().select_related("partner").get(pk=step.integration_id)
    step.refresh_from_db()
    step.integration = integration
    refusal = state_refusal(integration) or user_refusal(context.by, step, VERIFY)
    if refusal is None and not awaiting_check(step):
        refusal = InvalidTransition(f"{step} has no fixes awaiting TradingView's check.")
    if refusal is not None:
        raise refusal
    step.verified_at = max(context.moment, step.checking_since)
    step.verified_by = context.by
    step.checking_since = None
    step.save(update_fields=["checking_since", "verified_at", "verified_by", "updated_at"])
    IntegrationEvent.objects.create(
        integration=integration,
        kind=IntegrationEvent.Kind.FIXES_VERIFIED,
        to_value=step.title,
        note=context.note,
        **{**context.row(), "at": step.verified_at},
    )
    refresh_standing(integration, context)
    return step


def _not_before_the_plan(step, context: ChangeContext) -> ChangeContext:
    """A change dated before the step was planned (a Jira time of years ago, work done before the
    kick-off) counts as made when it was planned: nothing of an integration happens before its
    plan, and its history never sorts before "Planned"."""
    if context.at is None:
        return context
    planned = StepChange.objects.filter(step=step, from_status="").order_by("at", "id").values_list("at", flat=True)
    planned_at = planned.first()
    if planned_at is None or context.moment >= planned_at:
        return context
    return replace(context, at=planned_at)


def _dating_refusal(step, context: ChangeContext):
    """A change may not be dated before the step's last status change: the history keeps its order."""
    if context.at is None:
        return None
    last = last_change(step)
    if last is not None and context.moment < last.at:
        return StaleChange(
            f"{step}: a change dated {moment_text(context.moment)} comes before its last "
            f"recorded change ({last.get_to_status_display().lower()} on "
            f"{moment_text(last.at)}); it was not applied."
        )
    return None


def last_change(step) -> StepChange | None:
    """The step's last recorded status change (its planning aside): no change may be dated before it."""
    return StepChange.objects.filter(step=step).status_changes().order_by("-at", "-id").first()


def _launch(integration, step, context: ChangeContext):
    today = context.today
    integration.state = Integration.State.LAUNCHED
    integration.launched_on = today
    integration.save(update_fields=["state", "launched_on", "updated_at"])
    IntegrationEvent.objects.create(
        integration=integration,
        kind=IntegrationEvent.Kind.LAUNCHED,
        to_value=str(today),
        note=f"{step} done.",
        **context.row(),
    )
    events.announce(events.LAUNCHED, integration, context, step=step, launched_on=today)


def apply_action(step, name: str, context: ChangeContext) -> IntegrationStep:
    """Take the action ``name`` (``roadmap.transitions.ACTIONS``, or "verify") on ``step``."""
    if name == VERIFY.name:
        return verify_fixes(step, context)
    action = ACTIONS.get(name)
    if action is None:
        raise InvalidInput(f"Unknown action {name!r}; choose from {', '.join(ACTIONS)}.")
    if not action.offered_for(step):
        raise InvalidTransition(f"{step} is {step.get_status_display().lower()}: '{action.label}' does not apply.")
    refusal = user_refusal(context.by, step, action)
    if refusal is not None:
        raise refusal
    return change_status(step, action.target(step), context)


def start_step(step, context):
    return change_status(step, StepStatus.IN_PROGRESS, context)


def complete_step(step, context):
    return change_status(step, StepStatus.DONE, context)


def block_step(step, context):
    return change_status(step, StepStatus.BLOCKED, context)


def unblock_step(step, context):
    return change_status(step, StepStatus.IN_PROGRESS, context)


def reopen_step(step, context):
    """Send a done step back to work, or bring back a step that was marked not applicable.

    It owes new work from the reopen: the standing gives it the plan's turnaround from then, and
    what was done after it waits for it again (``roadmap.standing``).
    """
    return apply_action(step, "reopen", context)


def mark_not_applicable(step, context):
    return change_status(step, StepStatus.NOT_APPLICABLE, context)
