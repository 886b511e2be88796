"""Working calendars: which days a side works, Monday to Friday less its public holidays and days off.

Each side counts its deadlines in its own calendar: TradingView in its country's (a setting),
a partner in its own. The holidays come from the ``holidays`` library, never from a table of ours.
The default calendar (no country) is weekends only, as the product counted before calendars.
"""

import functools
import importlib.resources
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import holidays

from roadmap.refusals import InvalidInput

SATURDAY = 5
# Holidays are looked up for the years around the dates counted: a plan spans a few months, a
# stored deadline a few years at most.
YEARS_AROUND = 2


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days of one side: weekdays that are neither a public holiday of ``country``
    (and ``subdivision``) nor one of ``days_off`` (a company's own days off)."""

    country: str = ""
    subdivision: str = ""
    days_off: frozenset[date] = frozenset()

    def __post_init__(self):
        object.__setattr__(self, "country", (self.country or "").strip().upper())
        object.__setattr__(self, "subdivision", (self.subdivision or "").strip().upper())
        object.__setattr__(self, "days_off", frozenset(self.days_off))
        check_country(self.country, self.subdivision)

    @property
    def place(self) -> str:
        """Where its holidays are kept, for people: "Germany", "Germany (BY)"; "" for weekends only."""
        if not self.country:
            return ""
        name = _country_names().get(self.country, self.country)
        return f"{name} ({self.subdivision})" if self.subdivision else name

    def holiday(self, day: date) -> str:
        """Why ``day`` is not worked although a weekday: the holiday's name, "company day off", or ""."""
        if day in self.days_off:
            return "company day off"
        if not self.country:
            return ""
        return _holidays(self.country, self.subdivision, day.year).get(day, "")

    def moved_for_holiday(self, nominal: date | None, due: date | None) -> str:
        """Why a deadline is on ``due`` and not the plan's ``nominal`` day: "moved from 25 Dec: Christmas
        Day in Germany"; "" when it did not move for a holiday of this calendar."""
        if nominal is None or due is None or due <= nominal or nominal.weekday() >= SATURDAY:
            return ""
        why = self.holiday(nominal)
        if not why:
            return ""
        where = "" if nominal in self.days_off or not self.place else f" in {self.place}"
        return f"moved from {nominal.day} {nominal:%b}: {why}{where}"

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < SATURDAY and not self.holiday(day)

    def days_not_worked(self, around: Iterable[date]) -> frozenset[date]:
        """The weekdays off (holidays and days off) in the years around the dates ``around``.

        What the schedule's functions take as ``paused`` days, so every count of working days
        (``roadmap.schedule``) skips them without knowing calendars.
        """
        years = {d.year for d in around}
        if not years or not (self.country or self.days_off):
            return frozenset()
        return _weekdays_off(self.country, self.subdivision, self.days_off, min(years) - 1, max(years) + YEARS_AROUND)


def check_country(country: str, subdivision: str = ""):
    """Refuse a country or subdivision the holiday library does not know, with what it knows."""
    if not country:
        if subdivision:
            raise InvalidInput(f"A region ({subdivision!r}) needs a country.")
        return
    supported = _supported_countries()
    if country not in supported:
        raise InvalidInput(f"No public holidays are known for the country {country!r}; give an ISO code such as DE.")
    if subdivision and subdivision not in supported[country]:
        raise InvalidInput(
            f"{country} has no region {subdivision!r}; give one of {', '.join(supported[country][:12])}"
            + (", ..." if len(supported[country]) > 12 else "")
            + "."
        )


WEEKENDS_ONLY = WorkingCalendar()


@functools.lru_cache(maxsize=256)
def calendar_of(country: str, subdivision: str = "") -> WorkingCalendar:
    """The working calendar of ``country`` (and ``subdivision``); weekends only when the library does not know it.

    Made once per country and region: a sweep asks it of every partner, and making one checks the country
    against the holiday library's list."""
    try:
        return WorkingCalendar(country, subdivision)
    except InvalidInput:
        return WEEKENDS_ONLY


def country_of_zone(zone_name: str) -> str:
    """The country of a time zone where that is unambiguous (tz's ``zone.tab``), and its holidays known; else "".

    Europe/Berlin is DE, Asia/Tokyo JP; UTC, or an alias the table does not list, is no country.
    """
    country = _zone_countries().get((zone_name or "").strip(), "")
    return country if country in _supported_countries() else ""


@functools.lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    try:
        text = importlib.resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        try:
            text = Path("/usr/share/zoneinfo/zone.tab").read_text(encoding="utf-8")
        except OSError:
            return {}
    countries = {}
    for line in text.splitlines():
        fields = line.split("\t")
        if len(fields) >= 3 and not line.startswith("#"):
            countries[fields[2]] = fields[0]
    return countries


def parse_days_off(text: str | Collection[str]) -> frozenset[date]:
    """Company days off from a comma list of ISO dates (``2026-12-24,2026-12-31``)."""
    items = text.split(",") if isinstance(text, str) else text
    days = set()
    for item in items:
        item = item.strip()
        if not item:
            continue
        try:
            days.add(date.fromisoformat(item))
        except ValueError as error:
            raise InvalidInput(f"The day off {item!r} is not a date; give it as YYYY-MM-DD.") from error
    return frozenset(days)


@functools.lru_cache(maxsize=1)
def _supported_countries() -> dict[str, list[str]]:
    """The countries (and their regions) the holiday library knows: read once, it costs milliseconds a call."""
    return holidays.list_supported_countries()


@functools.lru_cache(maxsize=256)
def _weekdays_off(country: str, subdivision: str, days_off: frozenset[date], first: int, last: int) -> frozenset[date]:
    """``days_not_worked`` for the years ``first`` to ``last``: worked out once per calendar and years, as every
    integration's standing asks it again of the same calendar."""
    span = range(first, last + 1)
    off = {d for d in days_off if d.year in span}
    if country:
        for year in span:
            off.update(_holidays(country, subdivision, year))
    return frozenset(d for d in off if d.weekday() < SATURDAY)


@functools.lru_cache(maxsize=512)
def _holidays(country: str, subdivision: str, year: int) -> dict[date, str]:
    return dict(holidays.country_holidays(country, subdiv=subdivision or None, years=year, language="en_US"))


@functools.lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """ISO code -> the country's name as the library spells its class ("UnitedKingdom": "United Kingdom")."""
    from holidays.registry import COUNTRIES

    return {codes[1]: re.sub(r"(?<=[a-z])(?=[A-Z])", " ", codes[0]) for codes in COUNTRIES.values()}
