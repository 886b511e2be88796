"""The stored standing read back: days late from the stored columns, and the SQL that filters on them.

``integrations.standing.store_standing()`` writes an integration's standing into its columns after
every change and daily. Lists that filter, count and sort in SQL read those columns here, with the
meaning ``standing()`` gives them, so a list and the integration's own page always agree:

- late now: active, and the deadline owed that ends first (``next_deadline_at``, moved by the days
  paused since) has ended. ``Standing.days_late`` counts the working days since, in the owing side's days.
- blocked: running (active or paused) with a step marked blocked (``Standing.blocked_steps``).
- due by a day: active, not late, and the deadline that ends first falls on or before that day
  (``Standing.is_due_by``).

A paused, launched or cancelled integration owes nothing now: it is never late nor due.

The health mark (``health_of``, stored as ``Integration.health``) sums those up in three words for a
running integration: late, at risk or on track (``HEALTH_DEFINITION`` says how, on every surface).

The stored standing is as of the day it was computed on, in both zones it counts in
(``TIME_ZONE`` for TradingView, the partner's own): it is stale once a day begins in either since
(``standing_refreshed_at``). Beat refreshes exactly those (``to_refresh``) every
quarter of an hour, so a partner's midnight reaches the lists when it reaches the pages.

This module imports no model (``integrations.models`` builds its manager from it); the step model
is reached through the integration's ``steps`` relation.
"""

import functools
import zoneinfo
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from integrations.visibility import VisibleQuerySet
from roadmap import standing as rules
from roadmap.calendars import WorkingCalendar, parse_days_off
from roadmap.models import StepStatus

ACTIVE = "active"
RUNNING = ("active", "paused")


class Health(models.IntegerChoices):
    """A running integration's health mark; the worst sorts first (``health_of`` decides)."""

    LATE = 1, "Late"
    AT_RISK = 2, "At risk"
    ON_TRACK = 3, "On track"

    @property
    def slug(self) -> str:
        return self.name.lower()


HEALTH_DEFINITION = {
    Health.LATE: "Late: a deadline owed has passed, or the launch is forecast after its window (weeks 11-12).",
    Health.AT_RISK: "At risk: on time so far, but the launch date with 85 % odds (P85) falls after the launch window.",
    Health.ON_TRACK: "On track: nothing owed is late, and both the forecast and the P85 launch fall within the window.",
}


def health_of(
    *,
    state: str,
    next_deadline_at: datetime | None,
    planned_launch: date | None,
    forecast_launch: date | None,
    p85: date | None,
    now: datetime,
) -> Health | None:
    """The health mark of an integration in ``state`` at ``now``; None unless it runs (active or paused).

    Late: active and the deadline owed that ends first has ended (``is_late``), or the forecast launch
    falls after the launch window, which ends on the planned launch. At risk: not late, but the P85
    launch falls after the window. On track: neither. Without a P85 (not forecast yet) the standing
    alone decides.
    """
    if state not in RUNNING:
        return None
    if state == ACTIVE and next_deadline_at is not None and next_deadline_at <= now:
        return Health.LATE
    if planned_launch is not None and forecast_launch is not None and forecast_launch > planned_launch:
        return Health.LATE
    if planned_launch is not None and p85 is not None and p85 > planned_launch:
        return Health.AT_RISK
    return Health.ON_TRACK


def stored_health(integration, now: datetime) -> Health | None:
    """``health_of`` from the integration's stored columns (the forecasts' refresh rewrites it with the P85)."""
    return health_of(
        state=integration.state,
        next_deadline_at=integration.next_deadline_at,
        planned_launch=integration.planned_launch_on,
        forecast_launch=integration.forecast_launch_on,
        p85=integration.forecast_p85,
        now=now,
    )


def is_running() -> Q:
    return Q(state__in=RUNNING)


def is_late(now: datetime) -> Q:
    """Late at ``now``: exactly the integrations whose ``days_overdue(now)`` is above 0."""
    return Q(state=ACTIVE, next_deadline_at__lte=now)


def is_due_by(now: datetime, day: date) -> Q:
    """Owing a deadline not yet ended at ``now`` that falls on or before ``day``."""
    return Q(state=ACTIVE, next_deadline_at__gt=now, next_due_on__lte=day)


def is_blocked(model) -> Exists:
    """Running with a step marked blocked (``model`` is ``Integration``): usable to filter, count or annotate."""
    step_model = model._meta.get_field("steps").related_model
    return Exists(
        step_model.objects.filter(integration=OuterRef("pk"), status=StepStatus.BLOCKED, integration__state__in=RUNNING)
    )


def is_blocked_among_many(model) -> Q:
    """``is_blocked`` for counting or filtering many integrations: the blocked steps are read once (one
    subquery, not one probe per integration)."""
    step_model = model._meta.get_field("steps").related_model
    blocked = step_model.objects.filter(status=StepStatus.BLOCKED).values("integration_id")
    return Q(state__in=RUNNING, pk__in=blocked)


class IntegrationQuerySet(VisibleQuerySet):
    """``Integration.objects``: who may see which (``visible_to``) and the stored standing's meanings as filters."""

    def running(self):
        return self.filter(is_running())

    def active(self):
        """Kicked off or not, running with the clock going (not paused, launched or cancelled)."""
        return self.filter(state=ACTIVE)

    def late(self, now: datetime | None = None):
        return self.filter(is_late(now or timezone.now()))

    def not_late(self, now: datetime | None = None):
        return self.exclude(is_late(now or timezone.now()))

    def blocked(self):
        return self.filter(is_blocked(self.model))

    def not_blocked(self):
        return self.exclude(is_blocked(self.model))

    def due_by(self, now: datetime, day: date):
        return self.filter(is_due_by(now, day))

    def to_refresh(self, now: datetime, everything: bool = False):
        """Those whose stored standing was computed before the day ``now`` falls on began, in a zone they count in.

        One query for the partners' zones, then one condition per zone: refreshed before
        today's midnight in ``TIME_ZONE``, or before today's midnight in the partner's zone.
        ``everything`` leaves the queryset as it is.
        """
        if everything:
            return self
        partner_model = self.model._meta.get_field("partner").related_model
        # Computed "after" now (a clock set back) counts as stale too.
        stale = Q(standing_refreshed_at__isnull=True) | Q(standing_refreshed_at__gt=now)
        stale |= Q(standing_refreshed_at__lt=day_began(now, tradingview_zone()))
        names = partner_model.objects.order_by().values_list("time_zone", flat=True).distinct()
        for name in names:
            began = day_began(now, partner_model(time_zone=name).zone)
            stale |= Q(partner__time_zone=name, standing_refreshed_at__lt=began)
        return self.filter(stale)


def day_began(now: datetime, zone: zoneinfo.ZoneInfo) -> datetime:
    """The moment the day ``now`` falls on began in ``zone``."""
    # A midnight skipped for daylight saving time reads with the offset before the change (PEP 495):
    # the instant the day's first existing hour begins.
    return datetime.combine(rules.day_in(now, zone), datetime.min.time(), zone)


def tradingview_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def tradingview_calendar() -> WorkingCalendar:
    """TradingView's working calendar, from ``TRADINGVIEW_HOLIDAYS_*`` and ``TRADINGVIEW_DAYS_OFF``.

    Made once per value of those settings: every standing and message of a sweep asks for it again.
    """
    days_off = settings.TRADINGVIEW_DAYS_OFF
    return _calendar(
        settings.TRADINGVIEW_HOLIDAYS_COUNTRY,
        settings.TRADINGVIEW_HOLIDAYS_SUBDIVISION,
        days_off if isinstance(days_off, str) else tuple(days_off),
    )


@functools.lru_cache(maxsize=16)
def _calendar(country: str, subdivision: str, days_off: str | tuple[str, ...]) -> WorkingCalendar:
    return WorkingCalendar(country, subdivision, parse_days_off(days_off))


def deadline_calendar(integration, zone: zoneinfo.ZoneInfo) -> WorkingCalendar:
    """The calendar of the side whose zone ``deadline_zone`` found: the partner's when it is the partner's zone."""
    partner = integration.partner
    if zone == partner.zone and (zone != tradingview_zone() or integration.ball_side != "tradingview"):
        return partner.calendar
    return tradingview_calendar()


def stored_days_late(integration, now: datetime | None = None) -> int:
    """``Standing.days_late`` from the stored columns: working days late since ``next_deadline_at``, in the owing side's days.

    ``next_deadline_at`` ends the deadline moved by the working days paused since, so the working
    days from it need no pauses (``rules.overdue_days``, the one count).
    """
    now = now or timezone.now()
    if integration.state != ACTIVE or integration.next_deadline_at is None or now < integration.next_deadline_at:
        return 0
    zone = deadline_zone(integration)
    moved = rules.day_in(integration.next_deadline_at, zone) - timedelta(days=1)
    today = rules.day_in(now, zone)
    off = deadline_calendar(integration, zone).days_not_worked([moved, today])
    return rules.overdue_days(moved, today, off)


def deadline_zone(integration) -> zoneinfo.ZoneInfo:
    """The zone ``next_deadline_at`` was counted in: the one where it is a midnight, else the side owing.

    The columns do not say whose deadline it is; its end is a midnight in its side's zone. When
    both zones have that midnight at the same moment the ball in court decides (the partner's
    when both sides owe).
    """
    tradingview = tradingview_zone()
    partner = integration.partner.zone
    ends = integration.next_deadline_at
    midnight = [zone for zone in (partner, tradingview) if ends.astimezone(zone).time() == datetime.min.time()]
    if len(midnight) == 1:
        return midnight[0]
    return tradingview if integration.ball_side == "tradingview" else partner
