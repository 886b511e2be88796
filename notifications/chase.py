"""Chasing the partner: the partner steps a PM should nudge now, and "Remind now".

``partner_steps_to_chase(user)``: on the active integrations the PM manages (and may see), the
partner steps owed now whose deadline has passed or falls within ``CHASE_WORKING_DAYS`` working
days, each with the last reminder the partner's channel got about it and a preview of the one
"Remind now" would write. A fixed number of queries whatever the number of integrations.

``remind_now(step, pm)`` writes that reminder through the outbox (``outbox.write``, the one
writer) with the same text and reason as the daily sweep's (``reminders.partner_reminder_message``):
once per kind of reminder per step per day, by hand or by the sweep, naming the PM who asked.
"""

import html
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Prefetch
from django.utils import timezone

from integrations.clock import today_for
from integrations.models import Integration, IntegrationStep
from integrations.read_models.headline import moved_for_holiday
from integrations.standing import standing
from notifications.models import OutboxMessage
from notifications.outbox import Message, write
from notifications.reminders import cadence, partner_reminder_message, reminder_for
from roadmap import standing as rules
from roadmap.models import Side

CHASE_WORKING_DAYS = 2
K = OutboxMessage.Kind
REMINDER_KINDS = (K.REMINDER, K.DUE_TODAY, K.OVERDUE)


@dataclass
class ChaseItem:
    step: IntegrationStep
    integration: Integration
    deadline: date
    days_overdue: int
    headline: str  # "3 working days overdue", "Due today", "Due in 2 working days"
    message: Message  # what "Remind now" would write today
    last_reminder: OutboxMessage | None = None
    just_sent: bool = False  # "Remind now" wrote it just now
    refusal: str = ""

    @property
    def preview(self) -> str:
        """The message as the partner reads it (Slack's escapes undone; the page escapes it again)."""
        return html.unescape(str(self.message.text))

    @property
    def can_remind(self) -> bool:
        return bool(self.integration.slack_channel_id)

    @property
    def sent_today(self) -> OutboxMessage | None:
        """Today's row of this reminder, if written (by the sweep or by hand)."""
        last = self.last_reminder
        return last if last is not None and last.reason_key == self.message.reason else None


class NothingToChase(Exception):
    """The step is not a partner step owed now on an active integration of the PM's."""


def _integrations(user):
    return (
        Integration.objects.active()
        .visible_to(user)
        .filter(tv_pm=user, kickoff_on__isnull=False)
        .select_related("partner")
        .prefetch_related(Prefetch("steps", queryset=IntegrationStep.objects.order_by("position")), "events")
    )


def _items(integrations, now: datetime, sent_by) -> list[ChaseItem]:
    today = today_for(now=now)
    items = []
    for integration in integrations:
        steps = list(integration.steps.all())
        now_standing = standing(integration, now, steps=steps, integration_events=integration.events.all())
        for step in rules.actionable_steps(steps):
            step_standing = now_standing.of(step)
            if step.side != Side.PARTNER or step_standing is None:
                continue
            deadline = step_standing.deadline
            # The partner's working days, as the sweep counts them (``reminders.cadence``).
            left = cadence(deadline, today, now_standing.clock.calendar(Side.PARTNER), now_standing.paused).left
            if left > CHASE_WORKING_DAYS:
                continue
            step.integration = integration  # no query for step.integration in the message or the page
            days_overdue = now_standing.days_overdue(step)
            reminder = reminder_for((deadline - today).days, days_overdue, left)
            moved = moved_for_holiday(now_standing, step, deadline)
            message = partner_reminder_message(integration, step, reminder, deadline, today, sent_by, moved=moved)
            items.append(
                ChaseItem(
                    step,
                    integration,
                    step_standing.deadline,
                    days_overdue,
                    reminder.headline,
                    message,
                )
            )
    return items


def _attach_last_reminders(items: list[ChaseItem]) -> None:
    """Each item's latest reminder in the partner's channel: one query for all of them."""
    if not items:
        return
    rows = (
        OutboxMessage.objects.filter(step__in=[item.step.pk for item in items], kind__in=REMINDER_KINDS)
        .exclude(channel="")
        .select_related("sent_by")
        .order_by("created_at", "pk")
    )
    last = {row.step_id: row for row in rows}
    for item in items:
        item.last_reminder = last.get(item.step.pk)


def partner_steps_to_chase(user, now: datetime | None = None) -> list[ChaseItem]:
    """The PM's partner steps to chase, the most overdue first, then the earliest deadline."""
    now = now or timezone.now()
    items = _items(_integrations(user), now, user)
    _attach_last_reminders(items)
    items.sort(key=lambda i: (-i.days_overdue, i.deadline, i.integration.partner.name, i.step.position))
    return items


def chase_item(user, step_pk: int, now: datetime | None = None) -> ChaseItem:
    """One step of the PM's chase list, as the list shows it; ``NothingToChase`` when it is not on it."""
    now = now or timezone.now()
    integrations = _integrations(user).filter(steps__pk=step_pk)
    item = next((i for i in _items(integrations, now, user) if i.step.pk == step_pk), None)
    if item is None:
        raise NothingToChase("This step is not a partner step to chase on an active integration of yours.")
    _attach_last_reminders([item])
    return item


def remind_now(item: ChaseItem) -> bool:
    """Write the item's reminder into the outbox; False when it was written today already."""
    written = bool(write([item.message]))
    _attach_last_reminders([item])
    return written
