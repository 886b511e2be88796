"""The agreed launch date: the day the partner and TradingView agree to open the integration to all users.

The plan always puts the launch at the end of its window (week 12). In beta testing a launch date
is negotiated; a PM records it here, with who agreed it and an optional note. From then the
launch (the last step) is due on the agreed date: its deadline, days overdue and the slip are
counted against it (``roadmap.standing.steps_standing``), while the plan's launch and the
baseline stay what they were, so every surface can say how far the forecast lies past each.
A re-plan keeps the agreement; a new agreement replaces it, and each is an ``IntegrationEvent``
of kind "launch agreed" in the history, announced as the domain event ``launch_agreed`` (the
partner's channel hears the date and who agreed it).
"""

from datetime import date

from django.db import transaction
from django.utils import formats, timezone

from integrations import events
from integrations.context import ChangeContext
from integrations.models import Integration, IntegrationEvent, StepChange
from integrations.plan import parse_date
from integrations.standing import refresh_standing, standing
from integrations.text import clean_text, day_text, working_days
from roadmap.refusals import IntegrationEnded, InvalidInput, NotRunning
from roadmap.schedule import check_plannable

AGREED_BY_MAX = 200


def _check_day(integration: Integration, day: date, today: date):
    if day < today:
        raise InvalidInput(
            f"The agreed launch date {day_text(day)} is in the past; agree a date from today ({day_text(today)}) on."
        )
    if day < integration.kickoff_on:
        raise InvalidInput(
            f"The agreed launch date {day_text(day)} is before the kick-off ({day_text(integration.kickoff_on)})."
        )
    check_plannable(day, today, "agreed launch")


@transaction.atomic
def agree_launch(integration: Integration, on, agreed_by: str, context: ChangeContext) -> Integration:
    """Record that the launch is agreed for ``on`` by ``agreed_by``; the launch is due on it from now.

    Refused: an integration not kicked off or ended, a date in the past, before the kick-off or
    more than three years ahead, no one named as agreeing, or the date already agreed.
    """
    day = parse_date(on, "agreed launch")
    agreed_by = clean_text(agreed_by)
    if not agreed_by:
        raise InvalidInput("Say who agreed the launch date (e.g. the partner's PM).")
    if len(agreed_by) > AGREED_BY_MAX:
        raise InvalidInput(f"Name who agreed the launch date in at most {AGREED_BY_MAX} characters.")
    Integration.objects.select_for_update().filter(pk=integration.pk).first()
    integration.refresh_from_db()
    if not integration.is_started:
        raise NotRunning(f"{integration} has not been kicked off yet; there is no launch to agree.")
    if not integration.is_running:
        raise IntegrationEnded(f"{integration} is {integration.get_state_display().lower()}; its launch is settled.")
    _check_day(integration, day, context.today)
    if day == integration.agreed_launch_on:
        raise InvalidInput(f"The launch of {integration} is already agreed for {day_text(day)}.")
    old = integration.agreed_launch_on
    integration.agreed_launch_on = day
    integration.launch_agreed_by = agreed_by
    integration.launch_agreed_at = context.moment
    integration.launch_agreement_note = context.note
    integration.save(
        update_fields=[
            "agreed_launch_on",
            "launch_agreed_by",
            "launch_agreed_at",
            "launch_agreement_note",
            "updated_at",
        ]
    )
    note = " ".join(filter(None, [f"Agreed by {agreed_by}.", context.note]))
    record = IntegrationEvent.objects.create(
        integration=integration,
        kind=IntegrationEvent.Kind.LAUNCH_AGREED,
        note=note,
        from_value=old.isoformat() if old else "",
        to_value=day.isoformat(),
        **context.row(),
    )
    # The launch's new deadline, with its own history row; the refresh then finds it in place.
    now = standing(integration)
    launch = now.steps[-1] if now.steps else None
    deadline = now.of(launch).deadline if launch is not None and now.of(launch) else None
    if deadline is not None and launch.due_date != deadline and launch.is_open:
        StepChange.objects.create(
            step=launch,
            from_status=launch.status,
            to_status=launch.status,
            from_due=launch.due_date,
            to_due=deadline,
            note=f"Launch agreed for {day_text(day)} by {agreed_by}.",
            **context.row(),
        )
        launch.due_date = deadline
        launch.save(update_fields=["due_date", "updated_at"])
    refresh_standing(integration, context)
    # The partner's channel hears it (``notifications``), written in this transaction, once per agreement.
    events.announce(
        events.LAUNCH_AGREED, integration, context, agreed_on=day, agreed_by=agreed_by, was=old, record=record.pk
    )
    return integration


def agreement_text(now) -> str:
    """ "Launch agreed for 12 Mar 2027 (by Mei, 20 Feb); 3 working days past it": the agreement and
    how far the forecast lies past it, from a ``Standing``; '' without an agreement."""
    integration = now.integration
    if not integration.agreed_launch_on:
        return ""
    text = f"Launch agreed for {formats.date_format(integration.agreed_launch_on, 'DATE_FORMAT')}"
    recorded = integration.launch_agreed_at
    when = f", {formats.date_format(timezone.localtime(recorded), 'j M')}" if recorded else ""
    text += f" (by {integration.launch_agreed_by}{when})"
    if now.forecast_launch is None:
        return text
    late = now.slip_vs_agreed_days
    return f"{text}; {working_days(late)} past it" if late else f"{text}; on time"
