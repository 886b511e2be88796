"""The reminder policy: who is nudged about which step, on which day, in which channel.

Defaults (a template's ``reminder_policy`` may change them): for a step the partner owes, 7 and 2
days before its deadline, on the day, on the first day overdue and every 3 days after; after 7
days overdue the PM and the business manager hear it too (once). For a TradingView task, the
internal channel hears on the day it is due and on its first day late. Nothing for paused,
launched or cancelled integrations, nor for steps that are done or do not apply. Each reminder is
delivered in working hours of its recipients (the partner's time zone for the partner channel),
never at a weekend: one planned for a Saturday goes out on Monday morning.

``plan_reminders(day)`` writes that day's reminders into the outbox; beat runs it daily and it may
run any number of times: each reminder has its reason key (step, kind, day).
"""

from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from integrations.models import Integration, IntegrationEvent, IntegrationStep
from integrations.standing import standing
from notifications.messages import step_blocks
from notifications.models import OutboxMessage
from notifications.outbox import partner_zone, queue, tradingview_zone, working_moment
from roadmap import progress
from roadmap.models import Side
from roadmap.schedule import is_working_day

DEFAULT_POLICY = {"before_days": [7, 2], "on_due_day": True, "overdue_every_days": 3, "escalate_after_days": 7}
K = OutboxMessage.Kind


@dataclass(frozen=True)
class Reminder:
    kind: str
    headline: str


def policy_for(template) -> dict:
    return {**DEFAULT_POLICY, **(template.reminder_policy or {})}


def partner_reminder(days_to_deadline: int, policy: dict) -> Reminder | None:
    """The reminder a partner step gets on a day ``days_to_deadline`` before (negative: after) its deadline."""
    if days_to_deadline in policy["before_days"]:
        return Reminder(K.REMINDER, f"Due in {days_to_deadline} days")
    if days_to_deadline == 0 and policy["on_due_day"]:
        return Reminder(K.DUE_TODAY, "Due today")
    overdue = -days_to_deadline
    every = max(1, int(policy["overdue_every_days"]))
    if overdue >= 1 and (overdue - 1) % every == 0:
        return Reminder(K.OVERDUE, f"{overdue} day{'s' if overdue > 1 else ''} overdue")
    return None


def plan_reminders(day: date | None = None, batch_size: int = 500) -> int:
    """Write the reminders of ``day`` (the project's calendar) into the outbox; returns how many are new."""
    day = day or timezone.localdate()
    ids = list(
        Integration.objects.filter(state=Integration.State.ACTIVE, kickoff_on__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    written = 0
    for start in range(0, len(ids), batch_size):
        batch = (
            Integration.objects.filter(pk__in=ids[start : start + batch_size])
            .select_related("partner", "template", "tv_pm", "business_manager")
            .prefetch_related(
                Prefetch("steps", queryset=IntegrationStep.objects.order_by("position")),
                Prefetch("events", queryset=IntegrationEvent.objects.order_by("at", "id")),
            )
        )
        with transaction.atomic():
            for integration in batch:
                written += _plan_integration(integration, day)
    return written


def _plan_integration(integration, day: date) -> int:
    if not is_working_day(day):
        return 0  # nobody is nudged at a weekend; the cadence goes on on working days
    steps = list(integration.steps.all())
    now = standing(integration, steps=steps, integration_events=integration.events.all())
    policy = policy_for(integration.template)
    written = 0
    for step in progress.actionable_steps(steps):
        outlook = now.of(step)
        if outlook is None:
            continue
        days_to_deadline = (outlook.deadline - day).days
        if step.side == Side.PARTNER:
            written += _partner_step(integration, step, outlook.deadline, days_to_deadline, day, policy)
        else:
            written += _tradingview_step(integration, step, outlook.deadline, days_to_deadline, day)
    return written


def _partner_step(integration, step, deadline, days_to_deadline, day, policy) -> int:
    written = 0
    reminder = partner_reminder(days_to_deadline, policy)
    channel = integration.slack_channel_id
    if reminder and channel:
        text, blocks = step_blocks(step, reminder.headline, "What is left is yours to finish.", due=deadline)
        written += bool(
            queue(
                f"{reminder.kind}:{step.pk}:{day:%Y-%m-%d}",
                reminder.kind,
                text=text,
                blocks=blocks,
                integration=integration,
                step=step,
                channel=channel,
                not_before=working_moment(partner_zone(integration), day),
            )
        )
    if -days_to_deadline >= policy["escalate_after_days"] and settings.SLACK_INTERNAL_CHANNEL:
        people = [p for p in (integration.tv_pm, integration.business_manager) if p]
        mentions = " ".join(_mention(p) for p in people)
        text, blocks = step_blocks(
            step,
            f"Escalation: {-days_to_deadline} days overdue",
            f"{mentions}: the partner's step is late; time to call them.".strip(),
            due=deadline,
        )
        written += bool(
            queue(
                f"escalation:{step.pk}:{deadline:%Y-%m-%d}",
                K.ESCALATION,
                text=text,
                blocks=blocks,
                integration=integration,
                step=step,
                channel=settings.SLACK_INTERNAL_CHANNEL,
                not_before=working_moment(tradingview_zone(), day),
            )
        )
    return written


def _tradingview_step(integration, step, deadline, days_to_deadline, day) -> int:
    channel = settings.SLACK_INTERNAL_CHANNEL
    if not channel or days_to_deadline not in (0, -1):
        return 0
    kind, headline = (
        (K.TRADINGVIEW_DUE, "Due today") if days_to_deadline == 0 else (K.TRADINGVIEW_LATE, "Late: due yesterday")
    )
    text, blocks = step_blocks(step, headline, "TradingView owes this step.", due=deadline)
    return bool(
        queue(
            f"{kind}:{step.pk}:{deadline:%Y-%m-%d}",
            kind,
            text=text,
            blocks=blocks,
            integration=integration,
            step=step,
            channel=channel,
            not_before=working_moment(tradingview_zone(), day),
        )
    )


def _mention(user) -> str:
    """A Slack mention of ``user`` when we know their Slack id, else their name."""
    account = getattr(user, "slack_account", None)
    return f"<@{account.slack_user_id}>" if account else (user.get_full_name() or user.get_username())
