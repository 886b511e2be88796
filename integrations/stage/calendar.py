"""The partner's calendar: its open deadlines as an iCalendar feed behind a revocable token.

Calendar apps cannot log in, so the token in the URL is the credential; it is stored hashed
(``CalendarFeed``), works until revoked, and a revoked or unknown token is simply not found. The
events are written by the PM feed's ``ical_feed``: one all-day event per open partner-side step
of the partner's active integrations, on its deadline (a date in the partner's own calendar).
"""

from django.http import Http404, HttpResponse
from django.urls import reverse

from integrations.dashboard.portfolio import ical_feed
from integrations.models import Integration, IntegrationStep
from integrations.stage.models import CalendarFeed
from roadmap.models import OPEN_STATUSES, Side


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


def feed_url(request, raw: str) -> str:
    return request.build_absolute_uri(reverse("stage-calendar", args=[raw]))


def partner_calendar(request, token: str):
    """No log-in: the token is the credential. Revoked, expired or unknown: 404."""
    feed = CalendarFeed.find(token)
    if feed is None:
        raise Http404("No such calendar, or it was revoked.")
    feed.mark_used()
    partner = feed.partner
    body = ical_feed(partner.name, partner_deadlines(partner), request.get_host().split(":")[0])
    response = HttpResponse(body.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="deadlines.ics"'
    return response
