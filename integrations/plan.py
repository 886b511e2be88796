"""Planning an integration: kick-off, re-planning, pausing, resuming and cancelling.

Every function here takes a ``ChangeContext`` (who, from where, when, why) and records it: a
history row on each step whose planned date moves, an ``IntegrationEvent`` for the integration,
and a domain event (``integrations.events``) inside the same transaction. Refusals are
``roadmap.refusals`` errors with a code.
"""

from dataclasses import dataclass, replace
from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone

from integrations import events
from integrations.clock import calendars_for, day_of, zone_of
from integrations.context import ChangeContext
from integrations.models import Integration, IntegrationEvent, IntegrationStep, StepChange
from integrations.standing import refresh_standing
from integrations.text import day_text, moment_text
from roadmap.calendars import check_country
from roadmap.conditions import evaluate
from roadmap.models import Side, StepStatus, TemplateStep, template_problems
from roadmap.refusals import IntegrationEnded, InvalidInput, InvalidTemplate, NotRunning, ReasonRequired, StaleChange
from roadmap.schedule import check_plannable, plan_due_dates


def parse_date(value, field: str = "kick-off") -> date:
    """A date from a ``date`` or an ISO ``YYYY-MM-DD`` string, else a clear refusal."""
    if isinstance(value, datetime):
        return day_of(value) if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidInput(f"The {field} date {value!r} is not a date; give it as YYYY-MM-DD, e.g. 2026-01-15.")


def _locked(integration: Integration) -> Integration:
    """Lock the integration's row and reload ``integration`` in place, so the caller sees the change.

    Changes to one integration are serialised on its row: the stored standing is recomputed from
    all its steps, so two concurrent changes must not interleave.
    """
    Integration.objects.select_for_update().filter(pk=integration.pk).first()
    integration.refresh_from_db()
    return integration


def _event(integration, kind, context: ChangeContext, from_value="", to_value="", note=None):
    return IntegrationEvent.objects.create(
        integration=integration,
        kind=kind,
        note=context.note if note is None else note,
        from_value=str(from_value or ""),
        to_value=str(to_value or ""),
        **context.row(),
    )


def _check_dating(integration, context: ChangeContext, steps_too: bool = False):
    """An integration's changes keep their order: none dated before its last recorded event.

    With ``steps_too`` (a pause or a resume, which stop and restart every step's clock), none dated
    before the last status change of one of its steps either: nothing changes while paused, so a
    pause back-dated past a step's change would leave a change made while paused in the history.
    """
    if context.at is None:
        return
    last = integration.events.order_by("-at", "-id").first()
    if last is not None and context.moment < last.at:
        raise StaleChange(
            f"A change dated {moment_text(context.moment)} comes before {integration}'s last "
            f"recorded change ({last.get_kind_display().lower()} on {moment_text(last.at)}); "
            "it was not applied."
        )
    if not steps_too:
        return
    changes = StepChange.objects.filter(step__integration=integration, at__gt=context.moment).status_changes()
    last_step_change = changes.select_related("step").order_by("-at", "-id").first()
    if last_step_change is not None:
        raise StaleChange(
            f"A change dated {moment_text(context.moment)} comes before the last recorded change of "
            f"{last_step_change.step} ({last_step_change.get_to_status_display().lower()} on "
            f"{moment_text(last_step_change.at)}); it was not applied."
        )


def _check_template(steps, subject):
    problems = template_problems(steps)
    if problems:
        raise InvalidTemplate(f"{subject} cannot be planned: {' '.join(problems)}")


@dataclass(frozen=True)
class PlannedStep:
    """A template step as a kick-off would plan it for one integration."""

    template_step: TemplateStep
    window_start: date | None
    due_date: date
    applies: bool
    reason: str  # why it does not apply, or applies only in part
    checklist: list


def _plan_steps(integration, template_steps, kickoff: date) -> list[PlannedStep]:
    dates = plan_due_dates(template_steps, kickoff, calendars_for(integration))
    planned = []
    for ts in template_steps:
        verdict = evaluate(ts.condition, integration)
        checklist = [
            item["text"] for item in ts.checklist if evaluate(item.get("condition", "always"), integration).applies
        ]
        window_start, due_date = dates[ts.code]
        reason = "" if ts.condition == "always" else verdict.reason
        planned.append(PlannedStep(ts, window_start, due_date, verdict.applies, reason, checklist))
    return planned


def _template_steps(integration) -> list[TemplateStep]:
    template = integration.template
    template_steps = list(template.steps.all())
    if not template_steps:
        raise InvalidTemplate(f"{template} has no steps to plan.")
    _check_template(template_steps, template)
    return template_steps


def preview(integration, kickoff, today: date) -> list[PlannedStep]:
    """The steps a kick-off on ``kickoff`` would plan for ``integration`` (saved or not), writing
    nothing: the same dates and verdicts ``start_integration`` would record."""
    kickoff = parse_date(kickoff)
    check_plannable(kickoff, today)
    return _plan_steps(integration, _template_steps(integration), kickoff)


def _planned_context(integration, kickoff: date, context: ChangeContext) -> ChangeContext:
    """The moment the plan's "Planned" rows are dated: when it is entered, or, for a kick-off on an
    earlier day (an integration brought in mid-way), the start of that day where it starts first.

    No change may be dated before its step was planned, so a plan dated when it was entered would
    move the work done since the kick-off to the day it was entered, late and charged to the wrong side.
    """
    if kickoff >= context.today:
        return context
    starts = (
        datetime.combine(kickoff, time.min, zone_of(side, integration.partner))
        for side in (Side.TRADINGVIEW, Side.PARTNER)
    )
    return replace(context, at=min(starts))


@transaction.atomic
def start_integration(integration, kickoff, context: ChangeContext) -> Integration:
    """Create the integration's steps from its template, planned from ``kickoff``.

    Steps whose condition does not hold for this integration are planned as not applicable,
    with the reason. The template version is frozen from then on.
    """
    kickoff = parse_date(kickoff)
    check_plannable(kickoff, context.today)
    integration = _locked(integration)
    if integration.is_started:
        raise InvalidInput(
            f"{integration} was kicked off on {day_text(integration.kickoff_on)}; "
            "re-plan it with a new kick-off date instead."
        )
    if not integration.is_active:
        raise IntegrationEnded(f"{integration} is {integration.get_state_display().lower()}; it cannot be kicked off.")
    integration.full_clean()
    template = integration.template
    template_steps = _template_steps(integration)
    template.freeze()

    steps = []
    for planned in _plan_steps(integration, template_steps, kickoff):
        ts = planned.template_step
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
                checklist=planned.checklist,
                tells_via=ts.tells_via,
                depends_on=list(ts.depends_on),
                due_week=ts.due_week,
                due_week_last=ts.due_week_last,
                turnaround_days=ts.turnaround_days,
                prepared_ahead=ts.prepared_ahead,
                keeps_days=ts.keeps_days,
                jira_bug_labels=list(ts.jira_bug_labels),
                held_by_ux_bugs=ts.held_by_ux_bugs,
                handovers=list(ts.handovers),
                window_start=planned.window_start,
                planned_due_date=planned.due_date,
                due_date=planned.due_date,
                status=StepStatus.NOT_STARTED if planned.applies else StepStatus.NOT_APPLICABLE,
                applicability_note=planned.reason,
            )
        )
    steps = IntegrationStep.objects.bulk_create(steps)
    plan_note = f"Planned from {template} for a kick-off on {day_text(kickoff)}."
    planned = _planned_context(integration, kickoff, context).row()
    StepChange.objects.bulk_create(
        StepChange(
            step=step,
            to_status=step.status,
            to_due=step.due_date,
            note=" ".join(filter(None, [plan_note, step.applicability_note if not step.is_open else "", context.note])),
            **planned,
        )
        for step in steps
    )
    launch = steps[-1].planned_due_date
    integration.kickoff_on = kickoff
    integration.baseline_launch_on = launch
    integration.save(update_fields=["kickoff_on", "baseline_launch_on", "updated_at"])
    _event(integration, IntegrationEvent.Kind.KICKED_OFF, context, to_value=kickoff)
    events.announce(events.KICKED_OFF, integration, context, kickoff_on=kickoff, planned_launch=launch)
    refresh_standing(integration, context, steps)
    return integration


def _move_planned_dates(steps, moves, context: ChangeContext, note: str) -> int:
    """Apply ``{step: (window_start, planned_date)}``, with a history row for each step that moves."""
    changes = []
    for step in steps:
        window_start, planned = moves[step]
        if (step.planned_due_date, step.window_start) == (planned, window_start):
            continue
        changes.append(
            StepChange(
                step=step,
                from_status=step.status,
                to_status=step.status,
                from_due=step.planned_due_date,
                to_due=planned,
                note=note,
                **context.row(),
            )
        )
        step.window_start, step.planned_due_date = window_start, planned
    IntegrationStep.objects.bulk_update(steps, ["window_start", "planned_due_date"])
    StepChange.objects.bulk_create(changes)
    return len(changes)


@transaction.atomic
def replan(integration, kickoff, context: ChangeContext) -> Integration:
    """Plan every step again from a new kick-off date; the baseline launch stays as first planned.

    The reason is required and kept with the event and on each moved step.
    """
    kickoff = parse_date(kickoff)
    check_plannable(kickoff, context.today, "new kick-off")
    integration = _locked(integration)
    if not integration.is_started:
        raise NotRunning(f"{integration} has not been kicked off yet; kick it off instead.")
    if not integration.is_running:
        raise IntegrationEnded(f"{integration} is {integration.get_state_display().lower()}; it cannot be re-planned.")
    _check_dating(integration, context)
    if not context.note:
        raise ReasonRequired("Say why the plan moves; the reason is kept in the history.")
    if kickoff == integration.kickoff_on:
        raise InvalidInput(f"{integration} already kicks off on {day_text(kickoff)}.")
    steps = list(integration.steps.all())
    _check_template(steps, integration)
    dates = plan_due_dates(steps, kickoff, calendars_for(integration))
    old = integration.kickoff_on
    note = f"Re-planned: kick-off moved from {day_text(old)} to {day_text(kickoff)}. {context.note}"
    _move_planned_dates(steps, {s: dates[s.code] for s in steps}, context, note)
    integration.kickoff_on = kickoff
    integration.save(update_fields=["kickoff_on", "updated_at"])
    _event(integration, IntegrationEvent.Kind.REPLANNED, context, from_value=old, to_value=kickoff)
    events.announce(
        events.REPLANNED,
        integration,
        context,
        from_kickoff=old,
        to_kickoff=kickoff,
        planned_launch=steps[-1].planned_due_date,
    )
    refresh_standing(integration, context, steps)
    return integration


@transaction.atomic
def pause(integration, context: ChangeContext) -> Integration:
    """Stop the clock: while paused nobody holds the ball, and resuming moves the open deadlines.

    Paused on ``context.today``: a PM entering it later than it happened dates it (``context.at``,
    with why); the paused days, ``paused_on`` and the history all count from that moment.
    """
    integration = _locked(integration)
    if not integration.is_active or not integration.is_started:
        raise NotRunning(f"Only a running integration can be paused; {integration} is {integration.state}.")
    _check_dating(integration, context, steps_too=True)
    integration.state = Integration.State.PAUSED
    integration.paused_on = context.today
    integration.save(update_fields=["state", "paused_on", "updated_at"])
    _event(integration, IntegrationEvent.Kind.PAUSED, context, to_value=context.today)
    events.announce(events.PAUSED, integration, context, paused_on=context.today)
    refresh_standing(integration, context)
    return integration


@transaction.atomic
def resume(integration, context: ChangeContext) -> Integration:
    """Restart the clock: every open deadline moves later by the working days the integration was paused.

    The plan itself stays: the paused days stop counting as working days (``roadmap.standing``),
    and the refreshed standing records each deadline it moves. A resume entered later than it
    happened is dated as the pause is (``context.at``): the days paused end on its day.
    """
    integration = _locked(integration)
    if not integration.is_paused:
        raise InvalidInput(f"{integration} is not paused.")
    _check_dating(integration, context, steps_too=True)
    days = (context.today - integration.paused_on).days
    unit = "calendar day" if days == 1 else "calendar days"
    note = f"Resumed after {days} {unit} paused since {day_text(integration.paused_on)}. {context.note}".strip()
    paused_on = integration.paused_on
    integration.state = Integration.State.ACTIVE
    integration.paused_on = None
    integration.save(update_fields=["state", "paused_on", "updated_at"])
    _event(integration, IntegrationEvent.Kind.RESUMED, context, from_value=paused_on, to_value=context.today, note=note)
    events.announce(events.RESUMED, integration, context, paused_days=days)
    refresh_standing(integration, context)
    return integration


@transaction.atomic
def cancel(integration, context: ChangeContext) -> Integration:
    """Stop the integration for good; its steps keep their history."""
    integration = _locked(integration)
    if integration.has_ended:
        raise IntegrationEnded(f"{integration} is already {integration.state}.")
    if not context.note:
        raise ReasonRequired("Say why the integration is cancelled.")
    _check_dating(integration, context)
    old = integration.state
    integration.state = Integration.State.CANCELLED
    integration.cancelled_on = context.today
    integration.save(update_fields=["state", "cancelled_on", "updated_at"])
    _event(integration, IntegrationEvent.Kind.CANCELLED, context, from_value=old, to_value=integration.state)
    events.announce(events.CANCELLED, integration, context, from_state=old)
    refresh_standing(integration, context)
    return integration


@transaction.atomic
def set_holidays(partner, country: str, subdivision: str, context: ChangeContext):
    """The partner keeps the public holidays of ``country`` (and ``subdivision``) from now on.

    Dates already planned stay; days late, overdue and the split are counted in the new calendar
    from now, and each running integration's stored standing says so at once.
    """
    country, subdivision = (country or "").strip().upper(), (subdivision or "").strip().upper()
    check_country(country, subdivision)
    was = partner.calendar
    partner.country, partner.subdivision = country, subdivision
    partner.save(update_fields=["country", "subdivision"])
    holidays_changed(partner, was, context)


def holidays_changed(partner, was, context: ChangeContext) -> None:
    """After the partner's calendar changed from ``was``: each running integration's open steps still on
    the dates ``was`` gave them are planned again in the new calendar (``plan_due_dates``, the plan's own
    rule), with a history row saying why; its standing is refreshed."""
    now = partner.calendar
    why = (
        f"Deadline moved: {partner} now keeps the holidays of {now.place or 'no country (weekends only)'}"
        f" instead of {was.place or 'no country (weekends only)'}."
    )
    for integration in partner.integrations.filter(state=Integration.State.ACTIVE, kickoff_on__isnull=False):
        integration = _locked(integration)
        if now != was:
            steps = list(integration.steps.all())
            before = plan_due_dates(steps, integration.kickoff_on, {**calendars_for(integration), Side.PARTNER: was})
            after = plan_due_dates(steps, integration.kickoff_on, calendars_for(integration))
            moving = [
                s
                for s in steps
                if s.is_open
                and before[s.code] != after[s.code]
                and (s.window_start, s.planned_due_date) == before[s.code]
            ]
            _move_planned_dates(moving, {s: after[s.code] for s in moving}, context, why)
        refresh_standing(integration, context)


@transaction.atomic
def show_forecast(integration, shown: bool, context: ChangeContext) -> Integration:
    """Let the partner's team see the P50 launch on its stage page, or stop; a history row says who and when.

    Asking for what already holds changes nothing and writes no row.
    """
    integration = _locked(integration)
    if integration.partner_sees_forecast == shown:
        return integration
    integration.partner_sees_forecast = shown
    integration.save(update_fields=["partner_sees_forecast", "updated_at"])
    _event(
        integration,
        IntegrationEvent.Kind.FORECAST_SHOWN,
        context,
        from_value=_SHOWN[not shown],
        to_value=_SHOWN[shown],
    )
    return integration


_SHOWN = {True: "shown", False: "hidden"}
