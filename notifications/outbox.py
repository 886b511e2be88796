"""Writing messages into the outbox: once per reason, in the caller's transaction, in the step's thread."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from integrations.batches import insert_rows
from notifications.models import OutboxMessage, SlackThread
from roadmap.calendars import WEEKENDS_ONLY, WorkingCalendar

WORKING_HOURS = (9, 18)  # a message reaches people between 09:00 and 18:00 on a working day, their time
REASON_LENGTH = OutboxMessage._meta.get_field("reason_key").max_length


def working_moment(
    zone: ZoneInfo, day: date | None = None, now: datetime | None = None, calendar: WorkingCalendar = WEEKENDS_ONLY
) -> datetime:
    """The first moment in working hours (in ``zone``) on or after ``day`` 09:00 and not before ``now``.

    Working hours are on the working days of the recipient's ``calendar``: nobody hears of a late
    step on New Year's Day.
    """
    now = now or timezone.now()
    local_now = now.astimezone(zone)
    day = day or local_now.date()
    start, end = WORKING_HOURS
    while True:
        if calendar.is_working_day(day):
            opens = datetime.combine(day, time(start), zone)
            closes = datetime.combine(day, time(end), zone)
            if local_now < closes:
                return max(opens, local_now)
        day += timedelta(days=1)


@dataclass(frozen=True)
class Message:
    """One message to write into the outbox: its reason, what it says, and where it goes.

    ``reason_key`` names why it exists (integration, step, kind, day: ``overdue:<step>:<day>``); a
    reason is written once. A step's message goes in the step's thread in ``channel`` unless
    ``in_thread`` is False (the update of the thread's first message itself). No ``channel``: an
    e-mail to ``emails``. ``not_before`` None: due when written. ``state``: pending unless given
    (``digested``: a step to be listed in its channel's digest, ``notifications.channel_digest``).
    ``sent_by``: the person who asked for it by hand (a PM's "Remind now"), None for what the
    product writes on its own. ``due``: the step's deadline the message names, when its news is the
    step's state (a reminder, "now yours"): it is not posted once the step is due on another day
    (``notifications.still_true``).
    """

    reason_key: str
    kind: str
    text: str
    blocks: Sequence[dict] = ()
    integration: Any = None
    step: Any = None
    channel: str = ""
    emails: Sequence[str] = ()
    recipient: Any = None
    not_before: datetime | None = None
    in_thread: bool = True
    state: str = ""
    sent_by: Any = None
    due: date | None = None

    @property
    def reason(self) -> str:
        """The reason as stored: cut to the column's length."""
        return self.reason_key[:REASON_LENGTH]

    @property
    def thread_key(self) -> tuple[int, str] | None:
        """(step id, channel) of the thread it goes in, or None."""
        if self.step is None or not self.channel or not self.in_thread:
            return None
        return self.step.pk, self.channel


def write(messages: Iterable[Message]) -> int:
    """Write the messages whose reason is new, in the caller's transaction; returns how many.

    The one writer of the outbox, for one message or thousands: a few queries whatever the number
    (the reasons already written, the steps' threads, made when missing, then the rows). A reason
    given twice is written once (the first); a concurrent writer of the same reason loses quietly
    (``ignore_conflicts``, so no error breaks the caller's transaction). The first message of a
    step in a channel starts the step's thread there; later ones go in it.
    """
    by_reason: dict[str, Message] = {}
    for message in messages:
        by_reason.setdefault(message.reason, message)
    if not by_reason:
        return 0
    written = set(OutboxMessage.objects.filter(reason_key__in=by_reason).values_list("reason_key", flat=True))
    new = [message for reason, message in by_reason.items() if reason not in written]
    if not new:
        return 0
    shown = {}  # the status a thread's first message shows: the step's as its first message is written
    for message in new:
        if message.thread_key is not None:
            shown.setdefault(message.thread_key, message.step.status)
    threads = _threads(shown)
    now = timezone.now()
    insert_rows(
        OutboxMessage,
        [
            {
                "reason_key": message.reason,
                "kind": message.kind,
                "integration_id": _pk(message.integration),
                "step_id": _pk(message.step),  # a model or a sweep's row
                "step_due_on": message.due,
                "recipient_id": _pk(message.recipient),
                "sent_by_id": _pk(message.sent_by),
                "channel": message.channel,
                "emails": list(message.emails),
                "thread_id": threads.get(message.thread_key),
                "text": message.text,
                "blocks": list(message.blocks),
                "not_before": message.not_before or now,
                "state": message.state or OutboxMessage.State.PENDING,
            }
            for message in new
        ],
        ignore_conflicts=True,
    )
    return len(new)


def queue(reason_key: str, kind: str, **fields) -> OutboxMessage | None:
    """Write one message (``Message``'s fields); returns its row, or None when its reason was written already."""
    message = Message(reason_key, kind, **fields)
    if not write([message]):
        return None
    return OutboxMessage.objects.filter(reason_key=message.reason).first()


def _pk(row) -> int | None:
    return row.pk if row is not None else None


def _threads(wanted: dict[tuple[int, str], str]) -> dict[tuple[int, str], int]:
    """The ids of the steps' threads by (step id, channel), made when missing with the status their first
    message shows."""
    if not wanted:
        return {}
    step_ids = {step_id for step_id, _ in wanted}

    def load():
        # By step alone (a step has a thread in a channel or two): a sweep's thousands of channels in the
        # query cost more to write out than the few other threads of those steps cost to read.
        found = SlackThread.objects.filter(step_id__in=step_ids).values_list("step_id", "channel", "pk")
        return {(step_id, channel): pk for step_id, channel, pk in found if (step_id, channel) in wanted}

    threads = load()
    missing = set(wanted) - set(threads)
    if missing:
        insert_rows(
            SlackThread,
            [
                {"step_id": step_id, "channel": channel, "status_shown": wanted[step_id, channel]}
                for step_id, channel in missing
            ],
            ignore_conflicts=True,
        )
        threads = load()
    return threads
