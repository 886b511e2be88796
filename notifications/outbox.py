"""Writing messages into the outbox: once per reason, in the caller's transaction, in the step's thread."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from notifications.models import OutboxMessage, SlackThread
from roadmap.schedule import is_working_day

WORKING_HOURS = (9, 18)  # a message reaches people between 09:00 and 18:00 on a working day, their time


def working_moment(zone: ZoneInfo, day: date | None = None, now: datetime | None = None) -> datetime:
    """The first moment in working hours (in ``zone``) on or after ``day`` 09:00 and not before ``now``."""
    now = now or timezone.now()
    local_now = now.astimezone(zone)
    day = day or local_now.date()
    start, end = WORKING_HOURS
    while True:
        if is_working_day(day):
            opens = datetime.combine(day, time(start), zone)
            closes = datetime.combine(day, time(end), zone)
            if local_now < closes:
                return max(opens, local_now)
        day += timedelta(days=1)


def step_url(step) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("admin:integrations_integrationstep_change", args=[step.pk])


def integration_url(integration) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("admin:integrations_integration_change", args=[integration.pk])


def thread_for(step, channel: str) -> SlackThread:
    return SlackThread.objects.get_or_create(step=step, channel=channel)[0]


def queue(
    reason_key: str,
    kind: str,
    *,
    text: str,
    blocks=(),
    integration=None,
    step=None,
    channel: str = "",
    emails=(),
    not_before: datetime | None = None,
    in_thread: bool = True,
    recipient=None,
) -> OutboxMessage | None:
    """Add a message unless one exists for this reason; returns the new row, or None if it existed.

    A step's messages go in its thread in that channel (the first one starts it).
    """
    if OutboxMessage.objects.filter(reason_key=reason_key).exists():
        return None
    thread = thread_for(step, channel) if (step is not None and channel and in_thread) else None
    try:
        with transaction.atomic():  # a savepoint: a concurrent writer of the same reason loses quietly
            return OutboxMessage.objects.create(
                reason_key=reason_key[:200],
                kind=kind,
                integration=integration,
                step=step,
                recipient=recipient,
                channel=channel,
                emails=list(emails),
                thread=thread,
                text=text,
                blocks=list(blocks),
                not_before=not_before or timezone.now(),
            )
    except IntegrityError:
        return None
