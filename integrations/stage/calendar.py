"""The partner's calendar: its open deadlines as an iCalendar feed behind a revocable token.

Calendar apps cannot log in, so the token in the URL is the credential; it is stored hashed
(``CalendarFeed``), works until revoked, and a revoked or unknown token is simply not found. The
events are the same feed as the PM's (``integrations.read_models.calendar``): one all-day event per
open partner-side step of the partner's active integrations, on its deadline.
"""

from django.http import Http404, HttpResponse
from django.urls import reverse

from integrations.read_models.calendar import ical_feed, partner_deadlines
from integrations.stage.models import CalendarFeed


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
