"""Open deadlines as an iCalendar feed: the PM's and the partner's calendars.

One all-day event per open step with a deadline, on the deadline the pages show
(``Standing.deadline_shown``): a step that cannot start yet is on its forecast deadline, marked
"forecast", and moves as its prerequisites' forecasts move. Its UID is the step's, so a calendar
app updates the event when the date moves instead of adding another; DTSTAMP is when the feed was
made (RFC 5545, with METHOD), LAST-MODIFIED the step's last change. The text is written by the
``icalendar`` library (RFC 5545 escaping, folding and line ends), never by hand.
"""

from datetime import UTC, timedelta

import icalendar
from django.db.models import Prefetch
from django.utils import timezone

from integrations.models import Integration, IntegrationEvent, IntegrationStep
from integrations.standing import standing
from roadmap.models import OPEN_STATUSES, Side

PRODID = "-//TradingView integrations//Integration deadlines//EN"


def ical_feed(owner: str, steps, host: str, now=None) -> str:
    """The VCALENDAR text of ``steps`` (open steps with a deadline) for ``owner``, served from ``host``."""
    now = now or timezone.now()
    calendar = icalendar.Calendar()
    calendar.add("version", "2.0")
    calendar.add("prodid", PRODID)
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # An X- property is not known to be TEXT: say so, or it would go out unescaped.
    calendar.add("x-wr-calname", icalendar.vText(f"Integration deadlines · {owner}"))
    shown = shown_deadlines(steps, now)
    entries = [(step, *shown.get(step.pk, (step.due_date, False))) for step in steps]
    for step, day, forecast in sorted(entries, key=lambda e: e[1]):
        integration = step.integration
        event = icalendar.Event()
        event.add("uid", f"integration-step-{step.pk}@{host}")
        event.add("dtstamp", now.astimezone(UTC))
        if step.updated_at:
            event.add("last-modified", step.updated_at.astimezone(UTC))
        event.add("dtstart", day)
        event.add("dtend", day + timedelta(days=1))
        event.add("summary", f"{integration.partner.name}: {step}" + (" (forecast)" if forecast else ""))
        if forecast:
            detail = f"waits for its prerequisites; forecast deadline {day:%Y-%m-%d}, as their forecasts stand today."
        else:
            detail = f"{step.get_status_display().lower()}, due {day:%Y-%m-%d}."
        event.add("description", f"{integration}: {step} {'' if forecast else 'is '}{detail}")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")


def shown_deadlines(steps, now) -> dict[int, tuple]:
    """``{step id: (day, forecast)}``: the deadline the pages show for each step (``Standing.deadline_shown``).

    The integrations of ``steps`` are read once with their steps and events (three queries).
    """
    ids = {getattr(step, "integration_id", None) for step in steps} - {None}
    if not ids:
        return {}
    integrations = (
        Integration.objects.filter(pk__in=ids)
        .select_related("partner")
        .prefetch_related(
            Prefetch("steps", queryset=IntegrationStep.objects.order_by("position")),
            Prefetch("events", queryset=IntegrationEvent.objects.order_by("at", "id")),
        )
    )
    shown = {}
    for integration in integrations:
        now_standing = standing(
            integration, now, steps=list(integration.steps.all()), integration_events=integration.events.all()
        )
        for step in now_standing.steps:
            shown[step.pk] = now_standing.deadline_shown(step)
    return shown


def pm_deadlines(user):
    """The open steps with a deadline of the PM's active integrations, by date."""
    return (
        IntegrationStep.objects.filter(
            integration__tv_pm=user,
            integration__state=Integration.State.ACTIVE,
            status__in=OPEN_STATUSES,
            due_date__isnull=False,
        )
        .select_related("integration__partner")
        .order_by("due_date", "integration__partner__name", "position")
    )


def partner_deadlines(partner):
    """The partner's open steps with a deadline, of its active integrations, by date."""
    return (
        IntegrationStep.objects.filter(
            integration__partner=partner,
            integration__state=Integration.State.ACTIVE,
            side=Side.PARTNER,
            status__in=OPEN_STATUSES,
            due_date__isnull=False,
        )
        .select_related("integration__partner")
        .order_by("due_date", "integration__name", "position")
    )
