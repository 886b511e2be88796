"""Moving an integration's steps: start, complete, block, reopen, mark not applicable.

One function, ``change_status``, holds the rules (allowed transitions, reasons, prerequisites);
the admin, the pages, the API, Jira and Slack all call it, naming the source of the change.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from integrations.models import Integration, IntegrationEvent, IntegrationStep, StepChange
from roadmap import progress
from roadmap.models import StepStatus
from roadmap.transitions import transition_error


@transaction.atomic
def change_status(step, to_status, *, source, by=None, by_name="", note="", at=None) -> IntegrationStep:
    """Move ``step`` to ``to_status``, record who, when, from where and why, and refresh progress.

    Raises ValidationError with a message for people when the change is not allowed: an unknown
    status, a missing reason, a finished or cancelled integration, or a step completed before
    the steps it depends on. ``at`` is when the change happened, if not now (a Jira event's
    own time, or history entered after the fact).
    """
    now = at or timezone.now()
    today = timezone.localdate(now)
    integration = Integration.objects.select_for_update().get(pk=step.integration_id)
    step.refresh_from_db()  # the caller's instance, so it sees the change when we return
    steps = [step if s.pk == step.pk else s for s in integration.steps.all()]
    if integration.state in (Integration.State.LAUNCHED, Integration.State.CANCELLED):
        raise ValidationError(
            f"{integration} is {integration.get_state_display().lower()}; its steps can no longer change."
        )
    error = transition_error(step.status, to_status, note)
    if error:
        raise ValidationError(f"{step}: {error}")
    if to_status == StepStatus.DONE:
        waiting = progress.waiting_on(step, steps)
        if waiting:
            names = "; ".join(f"{w} ({w.get_side_display()}, {w.get_status_display().lower()})" for w in waiting)
            raise ValidationError(f"{step} cannot be completed before the steps it depends on are done: {names}.")

    from_status = step.status
    step.status = to_status
    step.blocked_reason = note if to_status == StepStatus.BLOCKED else ""
    if to_status == StepStatus.IN_PROGRESS and step.started_at is None:
        step.started_at = now
    step.completed_at = now if to_status == StepStatus.DONE else None
    if to_status == StepStatus.NOT_APPLICABLE:
        step.applicability_note = note
    step.save(
        update_fields=["status", "blocked_reason", "started_at", "completed_at", "applicability_note", "updated_at"]
    )
    StepChange.objects.create(
        step=step,
        at=now,
        source=source,
        by=by,
        by_name=by_name,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )
    if to_status == StepStatus.DONE and step.position == max(s.position for s in steps):
        integration.state = Integration.State.LAUNCHED
        integration.launched_on = today
        integration.save(update_fields=["state", "launched_on", "updated_at"])
        IntegrationEvent.objects.create(
            integration=integration,
            at=now,
            kind=IntegrationEvent.Kind.LAUNCHED,
            source=source,
            by=by,
            by_name=by_name,
            to_value=str(today),
            note=f"{step} done.",
        )
    integration.refresh_progress(today, steps)
    return step


def start_step(step, **who):
    return change_status(step, StepStatus.IN_PROGRESS, **who)


def complete_step(step, **who):
    return change_status(step, StepStatus.DONE, **who)


def block_step(step, reason, **who):
    return change_status(step, StepStatus.BLOCKED, note=reason, **who)


def reopen_step(step, reason, **who):
    """Send a done step back to work, or bring back a step that was marked not applicable."""
    target = StepStatus.NOT_STARTED if step.status == StepStatus.NOT_APPLICABLE else StepStatus.IN_PROGRESS
    return change_status(step, target, note=reason, **who)


def mark_not_applicable(step, reason, **who):
    return change_status(step, StepStatus.NOT_APPLICABLE, note=reason, **who)
