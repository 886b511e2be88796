"""Planning an integration: kick-off, re-planning, pausing, resuming and cancelling.

Every function here takes who made the change (``by``, a user, or ``by_name`` for someone known
only to Jira or Slack) and where it came from (``source``), and records it: a history row on each
step whose due date moves, and an ``IntegrationEvent`` for the integration.
"""

from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from integrations.models import Integration, IntegrationEvent, IntegrationStep, StepChange
from roadmap.conditions import evaluate
from roadmap.models import StepStatus
from roadmap.schedule import SATURDAY, plan_due_dates


def parse_date(value, field: str = "kick-off") -> date:
    """A date from a ``date`` or an ISO ``YYYY-MM-DD`` string, else a clear ValidationError."""
    if isinstance(value, datetime):
        return timezone.localdate(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValidationError(f"The {field} date {value!r} is not a date; give it as YYYY-MM-DD, e.g. 2026-01-15.")


def _locked(integration: Integration) -> Integration:
    """Lock the integration's row and reload ``integration`` in place, so the caller sees the change.

    Changes to one integration are serialised on its row: the stored progress fields are
    recomputed from all its steps, so two concurrent changes must not interleave.
    """
    Integration.objects.select_for_update().filter(pk=integration.pk).first()
    integration.refresh_from_db()
    return integration


def _event(integration, kind, *, at, source, by, by_name, note="", from_value="", to_value=""):
    return IntegrationEvent.objects.create(
        integration=integration,
        at=at,
        kind=kind,
        source=source,
        by=by,
        by_name=by_name,
        note=note,
        from_value=str(from_value or ""),
        to_value=str(to_value or ""),
    )


@transaction.atomic
def start_integration(integration, kickoff, *, source, by=None, by_name="", note="", at=None) -> Integration:
    """Create the integration's steps from its template, each due N weeks after ``kickoff``.

    Steps whose condition does not hold for this integration are planned as not applicable,
    with the reason. The template version is frozen from then on.
    """
    kickoff = parse_date(kickoff)
    now = at or timezone.now()
    today = timezone.localdate(now)
    integration = _locked(integration)
    if integration.is_started:
        raise ValidationError(
            f"{integration} was kicked off on {integration.kickoff_on:%Y-%m-%d}; "
            "re-plan it with a new kick-off date instead."
        )
    if integration.state != Integration.State.ACTIVE:
        raise ValidationError(f"{integration} is {integration.get_state_display().lower()}; it cannot be kicked off.")
    integration.full_clean()
    template = integration.template
    template.freeze()
    template_steps = list(template.steps.all())
    if not template_steps:
        raise ValidationError(f"{template} has no steps to plan.")
    dates = plan_due_dates(template_steps, kickoff)

    steps = []
    for ts in template_steps:
        verdict = evaluate(ts.condition, integration)
        checklist = [
            item["text"] for item in ts.checklist if evaluate(item.get("condition", "always"), integration).applies
        ]
        window_start, due_date = dates[ts.code]
        steps.append(
            IntegrationStep(
                integration=integration,
                template_step=ts,
                position=ts.position,
                code=ts.code,
                number=ts.number,
                side=ts.side,
                title=ts.title,
                description=ts.description,
                checklist=checklist,
                tells_via=ts.tells_via,
                depends_on=list(ts.depends_on),
                due_week=ts.due_week,
                due_week_last=ts.due_week_last,
                window_start=window_start,
                due_date=due_date,
                status=StepStatus.NOT_STARTED if verdict.applies else StepStatus.NOT_APPLICABLE,
                applicability_note="" if ts.condition == "always" else verdict.reason,
            )
        )
    steps = IntegrationStep.objects.bulk_create(steps)
    plan_note = f"Planned from {template} for a kick-off on {kickoff:%Y-%m-%d}."
    StepChange.objects.bulk_create(
        StepChange(
            step=step,
            at=now,
            source=source,
            by=by,
            by_name=by_name,
            to_status=step.status,
            to_due=step.due_date,
            note=" ".join(filter(None, [plan_note, step.applicability_note if not step.is_open else "", note])),
        )
        for step in steps
    )
    integration.kickoff_on = kickoff
    integration.save(update_fields=["kickoff_on", "updated_at"])
    _event(
        integration,
        IntegrationEvent.Kind.KICKED_OFF,
        at=now,
        source=source,
        by=by,
        by_name=by_name,
        note=note,
        to_value=kickoff,
    )
    integration.refresh_progress(today, steps)
    return integration


def _move_due_dates(integration, moves, *, at, source, by, by_name, note):
    """Apply ``{step: (window_start, due_date)}`` to open steps, with a history row for each."""
    changes = []
    for step, (window_start, due_date) in moves.items():
        if not step.is_open or step.due_date == due_date:
            continue
        changes.append(
            StepChange(
                step=step,
                at=at,
                source=source,
                by=by,
                by_name=by_name,
                from_status=step.status,
                to_status=step.status,
                from_due=step.due_date,
                to_due=due_date,
                note=note,
            )
        )
        step.window_start, step.due_date = window_start, due_date
        step.save(update_fields=["window_start", "due_date", "updated_at"])
    StepChange.objects.bulk_create(changes)
    return len(changes)


@transaction.atomic
def replan(integration, kickoff, *, source, by=None, by_name="", note="", at=None) -> Integration:
    """Move the kick-off date: every open step gets the due date the template gives it from there."""
    kickoff = parse_date(kickoff)
    now = at or timezone.now()
    today = timezone.localdate(now)
    integration = _locked(integration)
    if not integration.is_started:
        raise ValidationError(f"{integration} has not been kicked off yet; kick it off instead of re-planning.")
    if integration.state in (Integration.State.LAUNCHED, Integration.State.CANCELLED):
        raise ValidationError(f"{integration} is {integration.get_state_display().lower()}; it cannot be re-planned.")
    if kickoff == integration.kickoff_on:
        raise ValidationError(f"{integration} already kicks off on {kickoff:%Y-%m-%d}.")
    steps = list(integration.steps.all())
    dates = plan_due_dates(steps, kickoff)
    old = integration.kickoff_on
    reason = f"Re-planned: kick-off moved from {old:%Y-%m-%d} to {kickoff:%Y-%m-%d}. {note}".strip()
    _move_due_dates(
        integration, {s: dates[s.code] for s in steps}, at=now, source=source, by=by, by_name=by_name, note=reason
    )
    integration.kickoff_on = kickoff
    integration.save(update_fields=["kickoff_on", "updated_at"])
    _event(
        integration,
        IntegrationEvent.Kind.REPLANNED,
        at=now,
        source=source,
        by=by,
        by_name=by_name,
        note=note,
        from_value=old,
        to_value=kickoff,
    )
    integration.refresh_progress(today, steps)
    return integration


@transaction.atomic
def pause(integration, *, source, by=None, by_name="", note="", at=None) -> Integration:
    """Stop the clock: while paused nobody holds the ball, and resuming moves the open deadlines."""
    now = at or timezone.now()
    today = timezone.localdate(now)
    integration = _locked(integration)
    if integration.state != Integration.State.ACTIVE:
        raise ValidationError(f"Only an active integration can be paused; {integration} is {integration.state}.")
    integration.state = Integration.State.PAUSED
    integration.paused_on = today
    integration.save(update_fields=["state", "paused_on", "updated_at"])
    _event(
        integration,
        IntegrationEvent.Kind.PAUSED,
        at=now,
        source=source,
        by=by,
        by_name=by_name,
        note=note,
        to_value=today,
    )
    integration.refresh_progress(today)
    return integration


def _shift(day: date | None, days: int) -> date | None:
    if day is None:
        return None
    day += timedelta(days=days)
    if day.weekday() >= SATURDAY:
        day += timedelta(days=7 - day.weekday())
    return day


@transaction.atomic
def resume(integration, *, source, by=None, by_name="", note="", at=None) -> Integration:
    """Restart the clock: every open deadline moves later by the days the integration was paused."""
    now = at or timezone.now()
    today = timezone.localdate(now)
    integration = _locked(integration)
    if integration.state != Integration.State.PAUSED:
        raise ValidationError(f"{integration} is not paused.")
    days = (today - integration.paused_on).days
    steps = list(integration.steps.all())
    reason = f"Resumed after {days} day(s) paused since {integration.paused_on:%Y-%m-%d}. {note}".strip()
    _move_due_dates(
        integration,
        {s: (_shift(s.window_start, days), _shift(s.due_date, days)) for s in steps},
        at=now,
        source=source,
        by=by,
        by_name=by_name,
        note=reason,
    )
    paused_on = integration.paused_on
    integration.state = Integration.State.ACTIVE
    integration.paused_on = None
    integration.save(update_fields=["state", "paused_on", "updated_at"])
    _event(
        integration,
        IntegrationEvent.Kind.RESUMED,
        at=now,
        source=source,
        by=by,
        by_name=by_name,
        note=reason,
        from_value=paused_on,
        to_value=today,
    )
    integration.refresh_progress(today, steps)
    return integration


@transaction.atomic
def cancel(integration, *, source, by=None, by_name="", note="", at=None) -> Integration:
    """Stop the integration for good; its steps keep their history."""
    now = at or timezone.now()
    today = timezone.localdate(now)
    integration = _locked(integration)
    if integration.state in (Integration.State.LAUNCHED, Integration.State.CANCELLED):
        raise ValidationError(f"{integration} is already {integration.state}.")
    if not note.strip():
        raise ValidationError("Say why the integration is cancelled.")
    old = integration.state
    integration.state = Integration.State.CANCELLED
    integration.save(update_fields=["state", "updated_at"])
    _event(
        integration,
        IntegrationEvent.Kind.CANCELLED,
        at=now,
        source=source,
        by=by,
        by_name=by_name,
        note=note,
        from_value=old,
        to_value=integration.state,
    )
    integration.refresh_progress(today)
    return integration
