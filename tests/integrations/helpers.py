"""Shared helpers for the integrations tests: the fixed calendar and step lookups."""

from datetime import date, datetime, time, timedelta

import time_machine
from django.utils import timezone

from integrations.context import ChangeContext
from integrations.models import ChangeSource, IntegrationStep
from tests.default_plan import KICKOFF, LAUNCH_WINDOW, PLANNED_DUE, STEP_CODES  # noqa: F401  (re-exported)


def at(day: date | str, hour: int = 12) -> datetime:
    """An aware datetime on ``day`` (in the project's time zone), for the services' ``at=``."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return timezone.make_aware(datetime.combine(day, time(hour)))


def on(day: date | str, hour: int = 12):
    """The clock frozen at ``day``, ``hour``: changes made inside store their standing as of then."""
    return time_machine.travel(at(day, hour), tick=False)


def days(n: int) -> timedelta:
    return timedelta(days=n)


def step(integration, code: str) -> IntegrationStep:
    """The integration's step ``code``, fresh from the database."""
    return IntegrationStep.objects.get(integration=integration, code=code)


def steps_by_code(integration) -> dict[str, IntegrationStep]:
    return {s.code: s for s in integration.steps.all()}


def ctx(by=None, when=None, note: str = "", source: str = ChangeSource.WEB, **extra) -> ChangeContext:
    """A change context: made by ``by`` (a user) from ``source``, at ``when`` (a day or datetime), with ``note``."""
    if isinstance(when, (date, str)) and not isinstance(when, datetime):
        when = at(when)
    return ChangeContext(source=source, by=by, at=when, note=note, **extra)


def stored_and_live(integration, now=None) -> tuple[dict, dict]:
    """The integration's stored standing columns as in the database, and as ``standing()`` gives them now."""
    from integrations.standing import standing

    integration.refresh_from_db()
    live = standing(integration, now).stored_fields()
    del live["standing_refreshed_at"]  # when it was computed, not what it says
    return {name: getattr(integration, name) for name in live}, live
