"""Open deadlines as an iCalendar feed: the PM's and the partner's calendars.

One all-day event per open step with a deadline, on that deadline; its UID is the step's, so a
calendar app updates the event when the deadline moves instead of adding another. The text is
written by the ``icalendar`` library (RFC 5545 escaping, folding and line ends), never by hand.
"""

from datetime import UTC, timedelta

import icalendar
from django.utils import timezone

from integrations.models import Integration, IntegrationStep
from roadmap.models import OPEN_STATUSES, Side

PRODID = "-//TradingView integrations//PM deadlines//EN"


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
    for step in steps:
        integration = step.integration
        event = icalendar.Event()
        event.add("uid", f"integration-step-{step.pk}@{host}")
        event.add("dtstamp", (step.updated_at or now).astimezone(UTC))
        event.add("dtstart", step.due_date)
        event.add("dtend", step.due_date + timedelta(days=1))
        event.add("summary", f"{integration.partner.name}: {step}")
        event.add(
            "description",
            f"{integration}: {step} is {step.get_status_display().lower()}, due {step.due_date:%Y-%m-%d}.",
        )
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")


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
