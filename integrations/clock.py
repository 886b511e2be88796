"""One clock: what day it is for each side, and the ``Clock`` the standing rules count with.

TradingView counts its days in ``TIME_ZONE``, a partner in its own time zone (``Partner.zone``);
each works to its own calendar of holidays (``calendars_for``).
Every "today" of the product comes from here (``today_for``, ``day_of``), so a page, a reminder
and the daily refresh never disagree about the day.
"""

import zoneinfo
from datetime import date, datetime, timedelta

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from integrations.models import Integration, IntegrationEvent, tradingview_zone
from integrations.stored_standing import tradingview_calendar
from roadmap import standing as rules
from roadmap.calendars import WEEKENDS_ONLY, WorkingCalendar
from roadmap.models import Side


def clock_for(integration: Integration, now: datetime | None = None) -> rules.Clock:
    """Today for TradingView (``TIME_ZONE``) and for the partner (its own time zone)."""
    now = now or timezone.now()
    zones = {side: zone_of(side, integration.partner) for side in Side.values}
    calendars = calendars_for(integration)
    if integration.is_launched and integration.launched_on:
        return rules.Clock(now, zones, frozen_on=integration.launched_on, calendars=calendars)
    if integration.is_cancelled and integration.cancelled_on:
        # A cancelled integration's open steps stop growing late on the day it stopped.
        return rules.Clock(now, zones, frozen_on=integration.cancelled_on, calendars=calendars)
    return rules.Clock(now, zones, calendars=calendars)


def calendars_for(integration: Integration) -> dict[str, WorkingCalendar]:
    """Each side's working calendar: TradingView's from the settings, the partner's own."""
    try:
        partner = integration.partner
    except ObjectDoesNotExist:  # a preview of an integration not yet given its partner
        partner = None
    return {Side.TRADINGVIEW: tradingview_calendar(), Side.PARTNER: partner.calendar if partner else WEEKENDS_ONLY}


def zone_of(side: str, partner=None) -> zoneinfo.ZoneInfo:
    """The time zone whose days ``side`` counts: the partner's own, TradingView's ``TIME_ZONE``."""
    return partner.zone if side == Side.PARTNER and partner is not None else tradingview_zone()


def day_of(moment: datetime, side: str = Side.TRADINGVIEW, partner=None) -> date:
    """The day ``moment`` falls on for ``side`` (TradingView's unless told), as the rules' clock counts it."""
    return rules.day_in(moment, zone_of(side, partner))


def today_for(side: str = Side.TRADINGVIEW, partner=None, now: datetime | None = None) -> date:
    """What day it is ``now`` for ``side``: TradingView's in ``TIME_ZONE``, a partner's in its own zone."""
    return day_of(now or timezone.now(), side, partner)


def paused_dates(integration: Integration, today: date, integration_events=None) -> set[date]:
    """The days an integration spent paused: from each pause's day to the day before it resumed.

    A pause still running counts up to the day before ``today``: the standing shows it as if
    resumed today. For an ended integration ``today`` is the day it ended (its clock stopped then).
    """
    days: set[date] = set()
    paused_since = None
    for event in integration.events.all() if integration_events is None else integration_events:
        day = day_of(event.at)
        if event.kind == IntegrationEvent.Kind.PAUSED:
            paused_since = day
        elif event.kind == IntegrationEvent.Kind.RESUMED and paused_since:
            days.update(_days_from(paused_since, day))
            paused_since = None
    if paused_since:
        days.update(_days_from(paused_since, today))
    return days


def _days_from(start: date, end: date):
    """``start`` and the days after it, up to the day before ``end``."""
    day = start
    while day < end:
        yield day
        day += timedelta(days=1)
