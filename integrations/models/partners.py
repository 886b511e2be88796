"""Partners, their contacts and their users' logins, and the time zone each partner counts its days in."""

import functools
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from integrations.visibility import VisibleQuerySet
from roadmap.calendars import WEEKENDS_ONLY, WorkingCalendar, check_country, country_of_zone
from roadmap.refusals import InvalidInput


def validate_time_zone(value: str):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone; use an IANA name such as 'Europe/London'.")


class Partner(models.Model):
    class Kind(models.TextChoices):
        BROKER = "broker", "Broker"
        EXCHANGE = "exchange", "Exchange"

    name = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.BROKER)
    website = models.URLField(blank=True)
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone], help_text="IANA name, e.g. Europe/London."
    )
    country = models.CharField(
        "holidays of country",
        max_length=3,
        blank=True,
        help_text="ISO code whose public holidays the partner does not work, e.g. DE. Empty: weekends only.",
    )
    subdivision = models.CharField(
        "holidays of region",
        max_length=10,
        blank=True,
        help_text="The country's region whose holidays it also keeps, e.g. BY for Bavaria. Optional.",
    )
    notes = models.TextField(blank=True)
    team_may_invite = models.BooleanField(
        "its team may invite colleagues",
        default=False,
        help_text="The partner's users may invite people of their own team from the stage page.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    PARTNER_LOOKUP = "pk"  # what visible_to() filters on
    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        self.country, self.subdivision = self.country.strip().upper(), self.subdivision.strip().upper()
        for field, check in (("country", (self.country,)), ("subdivision", (self.country, self.subdivision))):
            try:
                check_country(*check)
            except InvalidInput as error:
                raise ValidationError({field: str(error)}) from error

    def default_country_from_zone(self):
        """A new partner keeps the public holidays of its time zone's country, where that is unambiguous."""
        if not self.country:
            self.country = country_of_zone(self.time_zone)

    @property
    def calendar(self) -> WorkingCalendar:
        """The days the partner works: its country's (and region's) holidays off; weekends only if unknown."""
        return calendar_of(self.country, self.subdivision)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The partner's time zone; the project's (``TIME_ZONE``) when the stored name is not a known zone."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return tradingview_zone()


@functools.lru_cache(maxsize=256)
def calendar_of(country: str, subdivision: str) -> WorkingCalendar:
    """A partner's calendar, made once per country and region: a sweep asks it of every partner, and making
    one checks the country against the holiday library's list."""
    try:
        return WorkingCalendar(country, subdivision)
    except InvalidInput:
        return WEEKENDS_ONLY


def tradingview_zone() -> zoneinfo.ZoneInfo:
    """TradingView's time zone: the project's ``TIME_ZONE``."""
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


class PartnerContact(models.Model):
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    title = models.CharField(max_length=200, blank=True, help_text="E.g. Head of partnerships.")
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_primary", "name"]

    def __str__(self):
        return f"{self.name} ({self.partner})"


class PartnerUser(models.Model):
    """A login of a partner's team: it sees and acts on its own partner's integrations only."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_account")
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="users")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    invited_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self):
        return f"{self.user.get_username()} ({self.partner})"
