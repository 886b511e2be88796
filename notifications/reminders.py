"""The reminder policy: who is nudged about which step, on which day, in which channel.

Defaults (a template's ``reminder_policy`` may change them): for a step the partner owes, 7 and 2
days before its deadline, on the day, on the first day overdue and every 3 days after; after 7
days overdue the PM and the business manager hear it too (once). For a TradingView task, the
internal channel hears on the day it is due and on its first day late. Nothing for paused,
launched or cancelled integrations, nor for steps that are done or do not apply. Each reminder is
delivered in working hours of its recipients (the partner's time zone for the partner channel),
never at a weekend: one that would fall at a weekend goes out on the Friday before (before the
deadline) or on the Monday after (once overdue).

``plan_reminders(day)`` writes that day's reminders into the outbox; beat runs it daily and it may
run any number of times: each reminder has its reason key (step, kind, day). Escalations and
TradingView's reminders are listed in one message per channel and kind (``channel_digest``).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, Q
from django.utils import timezone

from integrations.batches import in_batches
from integrations.clock import today_for
from integrations.models import Integration, IntegrationEvent, IntegrationStep, tradingview_zone
from integrations.standing import standing
from integrations.stored_standing import tradingview_calendar
from integrations.text import working_days
from notifications import channel_digest
from notifications.digest import plan_weekly_digest
from notifications.messages import joined, mention, mrkdwn, step_blocks
from notifications.models import OutboxMessage
from notifications.outbox import Message, working_moment, write
from roadmap import standing as rules
from roadmap.models import Side
from roadmap.schedule import is_working_day, next_working_day

DEFAULT_POLICY = {"before_days": [7, 2], "on_due_day": True, "overdue_every_days": 3, "escalate_after_days": 7}
K = OutboxMessage.Kind


@dataclass(frozen=True)
class Reminder:
    kind: str
    headline: str


def policy_for(template) -> dict:
    return policy_for_value(template.reminder_policy)


def policy_for_value(policy: dict | None) -> dict:
    """A template's ``reminder_policy`` value with the defaults filled in."""
    return {**DEFAULT_POLICY, **(policy or {})}


def partner_reminder(
    days_to_deadline: int, policy: dict, day: date | None = None, days_overdue: int | None = None
) -> Reminder | None:
    """The reminder a partner step gets on ``day``, ``days_to_deadline`` before (negative: after) its deadline.

    Nobody is nudged at a weekend: a reminder before the deadline that falls at a weekend goes out
    on the working day before it (a Monday deadline's "2 days before" on the Friday), one after the
    deadline on the next working day (Monday). ``day`` None: the counts are read as calendar days.
    An overdue reminder says ``days_overdue``, the standing's working days overdue (the one unit of
    days late), when given; the cadence counts calendar days from the deadline.
    """
    deadline = day + timedelta(days=days_to_deadline) if day else None
    for before in policy["before_days"]:
        if before <= 0:
            continue
        if day is None:
            if days_to_deadline == before:
                return Reminder(K.REMINDER, f"Due in {days_to_deadline} days")
            continue
        moment = deadline - timedelta(days=before)
        while not is_working_day(moment):
            moment -= timedelta(days=1)
        if moment == day:
            return Reminder(K.REMINDER, f"Due in {days_to_deadline} days")
    if days_to_deadline == 0 and policy["on_due_day"]:
        return Reminder(K.DUE_TODAY, "Due today")
    overdue = -days_to_deadline
    every = max(1, int(policy["overdue_every_days"]))
    since = 1  # the calendar days this working day stands for: Monday also covers the weekend before it
    if day is not None:
        previous = day - timedelta(days=1)
        while not is_working_day(previous):
            previous -= timedelta(days=1)
        since = (day - previous).days
    if any(o >= 1 and (o - 1) % every == 0 for o in range(overdue - since + 1, overdue + 1)):
        return Reminder(K.OVERDUE, f"{working_days(overdue if days_overdue is None else days_overdue)} overdue")
    return None


def plan_reminders(day: date | None = None, batch_size: int = 500) -> int:
    """Write the reminders of ``day`` (the project's calendar) into the outbox; returns how many are new.

    Each batch of integrations costs a fixed number of queries (read, then write the new rows in
    bulk), however many integrations and reminders it holds. Ends with the weekly digest (Mondays).
    """
    day = day or today_for()
    written = 0
    if is_working_day(day):  # nobody is nudged at a weekend; the cadence goes on on working days
        active = (
            Integration.objects.active()
            .filter(kickoff_on__isnull=False)
            .filter(_may_be_reminded(day))
            .select_related("partner", "template", "tv_pm__slack_account", "business_manager__slack_account")
            .prefetch_related(
                Prefetch("steps", queryset=IntegrationStep.objects.order_by("position")),
                Prefetch("events", queryset=IntegrationEvent.objects.order_by("at", "id")),
            )
        )
        for batch in in_batches(active, batch_size):
            with transaction.atomic():
                written += write(
                    channel_digest.gather(
                        message for integration in batch for message in _plan_integration(integration, day)
                    )
                )
        written += channel_digest.write_digests()
    return written + plan_weekly_digest(day, batch_size=batch_size)


# A "before" reminder moves to the working day before when it falls at a weekend: a deadline can lie this
# many days past the furthest "before" and still be reminded today (a week: any run of days off).
DAYS_OFF_MARGIN = 7


def _may_be_reminded(day: date) -> Q:
    """The active integrations that can get a reminder on ``day``, by their stored standing: late ones, and those
    owing a deadline no further away than the furthest "before" reminder of any policy in use (and a margin).

    The stored columns are today's (every change stores them, the daily refresh runs before the sweep), and
    every deadline owed lies on or after the stored next one: the others owe nothing near ``day``, so their
    steps and events are not read. One query, for the policies in use.
    """
    templates = Integration.objects.active().values_list("template__reminder_policy", flat=True).distinct()
    furthest = max(
        (max(policy_for_value(policy)["before_days"], default=0) for policy in templates),
        default=0,
    )
    horizon = day + timedelta(days=max(0, furthest) + DAYS_OFF_MARGIN)
    return Q(next_due_on__isnull=True) | Q(next_due_on__lte=horizon)


def _plan_integration(integration, day: date) -> list[Message]:
    """The reminders ``integration`` gets on ``day``."""
    steps = list(integration.steps.all())
    noon = timezone.make_aware(datetime.combine(day, time(12)))
    now = standing(integration, noon, steps=steps, integration_events=integration.events.all())
    policy = policy_for(integration.template)
    pending = []
    for step in rules.actionable_steps(steps):
        step_standing = now.of(step)
        if step_standing is None:
            continue
        days_to_deadline = (step_standing.deadline - day).days
        if step.side == Side.PARTNER:
            pending += _partner_step(
                integration, step, step_standing.deadline, days_to_deadline, day, policy, now.days_overdue(step)
            )
        else:
            pending += _tradingview_step(integration, step, step_standing.deadline, days_to_deadline, day)
    return pending


def _partner_step(integration, step, deadline, days_to_deadline, day, policy, days_overdue) -> list[Message]:
    pending = []
    reminder = partner_reminder(days_to_deadline, policy, day, days_overdue)
    channel = integration.slack_channel_id
    if reminder and channel:
        text, blocks = step_blocks(
            step, reminder.headline, "What is left is yours to finish.", due=deadline, readers=Side.PARTNER
        )
        pending.append(
            Message(
                f"{reminder.kind}:{step.pk}:{day:%Y-%m-%d}",
                reminder.kind,
                text=text,
                blocks=blocks,
                integration=integration,
                step=step,
                channel=channel,
                not_before=working_moment(integration.partner.zone, day, calendar=integration.partner.calendar),
            )
        )
    if -days_to_deadline >= policy["escalate_after_days"] and settings.SLACK_INTERNAL_CHANNEL:
        people = [p for p in (integration.tv_pm, integration.business_manager) if p]
        mentions = joined(" ", [mention(p) for p in people])
        detail = mrkdwn("{}: the partner's step is late; time to call them.", mentions) if people else ""
        text, blocks = step_blocks(
            step,
            f"Escalation: {working_days(days_overdue)} overdue",
            detail or "The partner's step is late; time to call them.",
            due=deadline,
            readers=Side.TRADINGVIEW,
        )
        pending.append(
            Message(
                f"escalation:{step.pk}:{deadline:%Y-%m-%d}",
                K.ESCALATION,
                text=text,
                blocks=blocks,
                integration=integration,
                step=step,
                channel=settings.SLACK_INTERNAL_CHANNEL,
                not_before=working_moment(tradingview_zone(), day, calendar=tradingview_calendar()),
            )
        )
    return pending


def _tradingview_step(integration, step, deadline, days_to_deadline, day) -> list[Message]:
    channel = settings.SLACK_INTERNAL_CHANNEL
    first_late_day = next_working_day(deadline + timedelta(days=1))  # a Friday deadline is late on Monday
    if not channel or (days_to_deadline != 0 and day != first_late_day):
        return []
    kind, headline = (
        (K.TRADINGVIEW_DUE, "Due today")
        if days_to_deadline == 0
        else (K.TRADINGVIEW_LATE, f"Late: due {deadline:%A %d %b}")
    )
    text, blocks = step_blocks(step, headline, "TradingView owes this step.", due=deadline, readers=Side.TRADINGVIEW)
    return [
        Message(
            f"{kind}:{step.pk}:{deadline:%Y-%m-%d}",
            kind,
            text=text,
            blocks=blocks,
            integration=integration,
            step=step,
            channel=channel,
            not_before=working_moment(tradingview_zone(), day, calendar=tradingview_calendar()),
        )
    ]
