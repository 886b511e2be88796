"""The reminder policy: who is nudged about which step, on which day, in which channel.

Defaults (a template's ``reminder_policy`` may change them): for a step the partner owes, 7 and 2
working days before its deadline, on the day, on the first working day overdue and every 3 working
days after, working days being the owing side's calendar's (``partner.calendar``; TradingView's
``tradingview_calendar()``): nobody is nudged on a weekend or a holiday of that calendar. After 7
working days overdue the PM and the business manager hear it too (once). A TradingView task is held to
the same policy in the internal channel, in TradingView's calendar: on the day it is due, its first
working day late and every 3 working days after; after 7 working days late the PM's
lead (``TRADINGVIEW_LEAD_SLACK_ID``) is named (once). Every one of these counts is ``cadence``. Nothing for paused, launched or cancelled
integrations, nor for steps that are done or do not apply. Each reminder is delivered in working
hours of its recipients (the partner's time zone for the partner channel).

The day of a reminder is its recipient's day: the partner's channel counts in the partner's zone,
TradingView's channel (its tasks, escalations, the weekly digest) in ``TIME_ZONE``. Beat runs
``sweep_reminders(now)`` every hour: it plans, for each zone in use whose local time has reached
``REMINDERS_LOCAL_HOUR``, that zone's reminders for its local day, once (``ReminderSweep`` marks a
zone's day as swept; a run missed while the worker was down is caught up by the next run of the
same local day). ``plan_reminders(day)`` plans every recipient's reminders of ``day`` at once (the
``send_reminders`` command). Either may run any number of times: each reminder has its reason key
(step, kind, the recipient's day). Escalations and TradingView's reminders are listed in one
message per channel and kind (``channel_digest``).
"""

import functools
import operator
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.utils import timezone

from integrations.batches import in_batches
from integrations.clock import today_for
from integrations.models import Integration, tradingview_zone
from integrations.read_models.headline import moved_for_holiday
from integrations.standing import Clocks, collecting_only_its_own, standing, sweep_rows
from integrations.stored_standing import is_running, tradingview_calendar
from integrations.text import day_text, working_days
from notifications import channel_digest
from notifications.digest import WeeklyDigest
from notifications.digest import covered as digest_covers
from notifications.digest import is_due as digest_is_due
from notifications.messages import SLACK_USER_ID, Mrkdwn, joined, mention, mrkdwn, page_urls, step_blocks
from notifications.models import OutboxMessage, ReminderSweep
from notifications.outbox import Message, working_moment, write
from roadmap.calendars import WEEKENDS_ONLY, WorkingCalendar, calendar_of
from roadmap.models import Side
from roadmap.schedule import add_working_days, is_working_day, working_days_between
from roadmap.standing import overdue_days

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


@dataclass(frozen=True)
class Cadence:
    """Where ``day`` stands against a step's deadline, in working days of the owing side's calendar.

    The one count every reminder, overdue nudge and escalation of a step reads (``cadence``), so none
    of them counts calendar days: a holiday of that side moves its nudges as it moves its deadlines.
    """

    worked: bool  # ``day`` is a working day of that calendar: nobody is nudged on any other
    left: int  # working days after ``day`` up to the deadline (0 on or past it)
    overdue: int  # working days after the deadline up to ``day`` (0 on or before it)

    def escalates(self, policy: dict) -> bool:
        """Past the policy's escalation: ``escalate_after_days`` working days overdue."""
        return self.overdue >= policy["escalate_after_days"]


def cadence(
    deadline: date, day: date, calendar: WorkingCalendar | None = None, paused: Collection[date] = ()
) -> Cadence:
    """``day`` against ``deadline`` in ``calendar`` (the owing side's; weekends only when None), the integration's
    ``paused`` days not counted: the days overdue are the standing's (``roadmap.standing.overdue_days``), so a
    step late before a pause is not nudged nor escalated for the days nobody could work on it."""
    off = (calendar or WEEKENDS_ONLY).days_not_worked([day, deadline])
    off = off | frozenset(paused) if paused else off
    return Cadence(
        worked=is_working_day(day, off),
        left=working_days_between(day, deadline, off),
        overdue=overdue_days(deadline, day, off),
    )


def partner_reminder(
    days_to_deadline: int,
    policy: dict,
    day: date,
    days_overdue: int | None = None,
    calendar: WorkingCalendar | None = None,
    paused: Collection[date] = (),
) -> Reminder | None:
    """The reminder a step gets on ``day``, ``days_to_deadline`` (calendar days) before (negative: after) its deadline.

    Counted in working days of ``calendar``, the owing side's (``cadence``), and nobody is nudged on
    a day that calendar does not work: a "before" reminder goes out when the working days left to
    the deadline are one of the policy's ``before_days`` ("Due in 2 working days"); past the
    deadline, on its first working day overdue and every ``overdue_every_days`` working days after.
    An overdue reminder says ``days_overdue``, the standing's working days overdue, when given; ``paused``: the
    integration's paused days, which the standing does not count either.
    """
    before = [b for b in policy["before_days"] if b > 0]
    every = max(1, int(policy["overdue_every_days"]))
    now = cadence(day + timedelta(days=days_to_deadline), day, calendar, paused)
    if not now.worked:
        return None
    if days_to_deadline > 0:
        return Reminder(K.REMINDER, f"Due in {working_days(now.left)}") if now.left in before else None
    if days_to_deadline == 0:
        return Reminder(K.DUE_TODAY, "Due today") if policy["on_due_day"] else None
    if now.overdue >= 1 and (now.overdue - 1) % every == 0:
        return Reminder(K.OVERDUE, f"{working_days(now.overdue if days_overdue is None else days_overdue)} overdue")
    return None


def plan_reminders(day: date | None = None, batch_size: int = 500) -> int:
    """Write every recipient's reminders of ``day`` (each in its own zone) into the outbox; returns how many are new.

    Each batch of integrations costs a fixed number of queries (read, then write the new rows in
    bulk), however many integrations and reminders it holds. Ends with the weekly digest (Mondays).
    """
    day = day or today_for()
    return _plan_days([DayToPlan(day, weekly_digest=True)], batch_size)


def sweep_reminders(now: datetime | None = None, batch_size: int = 500) -> int:
    """Plan the reminders of every recipient whose local time has reached ``REMINDERS_LOCAL_HOUR`` today and whose
    day is not swept yet; returns how many rows are new. Beat runs it hourly.

    TradingView's zone plans its channel (its tasks, the escalations) and the weekly digest; each partner zone in
    use plans its partners' channels. Nothing due: two queries (the zones in use, the days already swept).
    """
    now = now or timezone.now()
    tradingview = tradingview_zone()
    zones = {tradingview.key}
    zones |= set(
        Integration.objects.active()
        .filter(kickoff_on__isnull=False)
        .values_list("partner__time_zone", flat=True)
        .distinct()
    )
    days = {zone: _reminder_day(zone, now) for zone in zones}
    ready = {zone: day for zone, day in days.items() if day is not None}
    if not ready:
        return 0
    swept = set(
        ReminderSweep.objects.filter(zone__in=list(ready), day__in=set(ready.values())).values_list("zone", "day")
    )
    # Every zone due in this run is planned in one pass over the portfolio: an integration is read once (its
    # steps and events), for TradingView's day and for its partner's alike.
    plans = []
    for zone, day in sorted(ready.items()):
        if (zone, day) in swept:
            continue
        if zone == tradingview.key:
            # Partners in TradingView's own zone share its day: their channels are planned with it.
            plans.append(DayToPlan(day, partner_zones=(zone,), tradingview_side=True, weekly_digest=True))
        else:
            plans.append(DayToPlan(day, partner_zones=(zone,), tradingview_side=False))
    written = _plan_days(plans, batch_size)
    # Marked once their rows are written: a run that died half-way is done again (each reason once).
    for plan in plans:
        ReminderSweep.objects.get_or_create(zone=plan.partner_zones[0], day=plan.day)
    return written


def _reminder_day(zone_name: str, now: datetime) -> date | None:
    """The local day whose reminders are due in ``zone_name`` at ``now``: today there once the reminder hour is
    reached, else None."""
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    local = now.astimezone(zone)
    return local.date() if local.hour >= settings.REMINDERS_LOCAL_HOUR else None


@dataclass(frozen=True)
class DayToPlan:
    """One recipients' day of a sweep: the partner channels of partners in ``partner_zones`` (None: all) and, when
    ``tradingview_side``, TradingView's channel; with ``weekly_digest`` too, on a Monday, the PMs' weekly digest
    (``notifications.digest``)."""

    day: date
    partner_zones: tuple[str, ...] | None = None
    tradingview_side: bool = True
    weekly_digest: bool = False

    def remindable(self) -> Q:
        """The integrations that may get a reminder of this day."""
        remindable = Q(state=Integration.State.ACTIVE, kickoff_on__isnull=False) & _may_be_reminded(self.day)
        if not self.tradingview_side:
            remindable &= Q(partner__time_zone__in=list(self.partner_zones or ()))
        return remindable


def _plan_days(plans: list[DayToPlan], batch_size: int) -> int:
    """The reminders of each of ``plans``, in one pass over the integrations any of them reminds: an integration
    several need is read once, and its standing worked out once per recipients' day (once for the reminders
    and the digest of TradingView's day)."""
    # Nobody is nudged at a weekend; the cadence goes on on working days.
    plans = [plan for plan in plans if is_working_day(plan.day)]
    if not plans:
        return 0
    with collecting_only_its_own():
        return _plan_working_days(plans, batch_size)


def _plan_working_days(plans: list[DayToPlan], batch_size: int) -> int:
    """``_plan_days`` of working days."""
    clocks = Clocks()  # a standing's clock, once per moment and partner zone and calendar
    mornings = [Mornings(plan.day, clocks) for plan in plans]
    digest = next(
        (
            WeeklyDigest(plan.day)
            for plan in plans
            if plan.weekly_digest and plan.tradingview_side and digest_is_due(plan.day)
        ),
        None,
    )
    flags = {f"remindable_{n}": plan.remindable() for n, plan in enumerate(plans)}
    if digest is not None:
        flags["listed"] = is_running() & digest_covers()
    active = Integration.objects.annotate(
        **{name: ExpressionWrapper(q, output_field=BooleanField()) for name, q in flags.items()}
    ).filter(functools.reduce(operator.or_, flags.values()))
    # The few templates and people are read once a batch, one instance each, not once per integration.
    active = active.select_related("partner").prefetch_related(
        "template", "tv_pm__slack_account", "business_manager__slack_account"
    )
    if digest is not None:
        digest.skip_written()
    written = 0
    for batch in in_batches(active, batch_size):
        # Steps and events as rows (a message reads the step's number, side, title and status), and the
        # reasons already written: what was sent already is not worded again.
        steps_of, events_of = sweep_rows(batch)
        listed = {}  # integration id -> its standing at TradingView's noon, worked out for the digest
        if digest is not None:
            for integration in batch:
                if integration.listed and digest.wants(integration):
                    listed[integration.pk] = _standing_at(
                        integration, digest.noon, steps_of[integration.pk], events_of[integration.pk], clocks
                    )
                    digest.add(integration, listed[integration.pk])
        messages = []
        for n, (plan, morning) in enumerate(zip(plans, mornings, strict=True)):
            reminded = [i for i in batch if getattr(i, f"remindable_{n}")]
            sent = _written_reasons([i.pk for i in reminded], plan.day)
            known = listed if digest is not None and plan.day == digest.day and plan.tradingview_side else {}
            for integration in reminded:
                messages += _plan_integration(
                    integration,
                    plan.day,
                    plan.partner_zones,
                    plan.tradingview_side,
                    morning,
                    known.get(integration.pk),
                    steps_of[integration.pk],
                    events_of[integration.pk],
                    sent,
                )
        with transaction.atomic():
            written += write(channel_digest.gather(messages))
    written += channel_digest.write_digests()
    if digest is not None:
        written += digest.write()
    return written


class Mornings:
    """When the reminders of ``day`` may reach their readers (``outbox.working_moment``), worked out once per
    zone and calendar for a whole sweep, not once per message: thousands of messages share a few.

    With what every message of the sweep reads of the settings and the URL configuration, read here once:
    TradingView's zone and calendar, and the pages each side's links lead to (``messages.page_urls``).
    """

    def __init__(self, day: date, clocks: Clocks | None = None):
        self.day = day
        self.clocks = clocks or Clocks()
        self.now = timezone.now()
        self.known: dict[tuple, datetime] = {}
        self.tradingview_zone = tradingview_zone()
        self.tradingview_calendar = tradingview_calendar()
        self.links = {side: page_urls(side) for side in (Side.PARTNER, Side.TRADINGVIEW)}

    def of(self, zone: ZoneInfo, calendar) -> datetime:
        key = (zone.key, calendar)
        if key not in self.known:
            self.known[key] = working_moment(zone, self.day, now=self.now, calendar=calendar)
        return self.known[key]

    def tradingview(self) -> datetime:
        return self.of(self.tradingview_zone, self.tradingview_calendar)

    def partner(self, partner) -> datetime:
        return self.of(partner.zone, partner.calendar)


def _standing_at(integration, moment: datetime, steps=None, events=None, clocks: Clocks | None = None):
    """``integration``'s standing at ``moment``, from ``steps`` and ``events`` (a sweep's rows), else its own;
    ``clocks``: the sweep's."""
    return standing(
        integration,
        moment,
        steps=list(integration.steps.all()) if steps is None else steps,
        integration_events=integration.events.all() if events is None else events,
        clocks=clocks,
    )


# The kinds whose reason is once per deadline, not per day: an old row can hold today's reason.
ONCE_PER_DEADLINE = (K.ESCALATION, K.LEAD_ESCALATION, K.TRADINGVIEW_DUE, K.TRADINGVIEW_LATE)


def _written_reasons(integration_ids: list[int], day: date) -> set[str]:
    """The reasons already in the outbox that a sweep of ``day`` could give these integrations' steps: those of
    ``day``, and the once-per-deadline ones. One query: a sweep run again words no message only to drop it."""
    if not integration_ids:
        return set()
    return set(
        OutboxMessage.objects.filter(integration_id__in=integration_ids)
        .filter(Q(reason_key__endswith=f":{day:%Y-%m-%d}") | Q(kind__in=ONCE_PER_DEADLINE))
        .values_list("reason_key", flat=True)
    )


def _may_be_reminded(day: date) -> Q:
    """The active integrations that can get a reminder on ``day``, by their stored standing: late ones, and those
    owing a deadline no further away than the furthest "before" reminder of any policy in use, in working days
    of their partner's calendar (``reach``): a Russian partner's step due Tuesday 19 January 2027 hears "Due in 7
    working days" on Wednesday 30 December, 20 calendar days before, across the New Year holidays.

    The stored columns are today's (every change stores them, the daily refresh runs before the sweep), and
    every deadline owed lies on or after the stored next one: the others owe nothing near ``day``, so their
    steps and events are not read. TradingView's tasks are reminded on their day and after it only, within any
    reach. One query, for the policies and the partners' countries in use.
    """
    in_use = (
        Integration.objects.active()
        .values_list("template__reminder_policy", "partner__country", "partner__subdivision")
        .distinct()
    )
    furthest, places = 0, set()
    for policy, country, subdivision in in_use:
        furthest = max([furthest, *policy_for_value(policy)["before_days"]])
        places.add((country, subdivision))
    near = Q(next_due_on__lte=day)
    for country, subdivision in sorted(places):
        near |= Q(
            partner__country=country,
            partner__subdivision=subdivision,
            next_due_on__lte=reach(day, furthest, calendar_of(country, subdivision)),
        )
    return Q(next_due_on__isnull=True) | near


def reach(day: date, before: int, calendar: WorkingCalendar) -> date:
    """The last deadline ``before`` working days of ``calendar`` or fewer away on ``day`` (``cadence``'s ``left``):
    the day before its ``before + 1``-th working day after ``day``."""
    off = calendar.days_not_worked([day])
    return add_working_days(day, max(0, before) + 1, off) - timedelta(days=1)


def _plan_integration(
    integration,
    day: date,
    partner_zones=None,
    tradingview_side: bool = True,
    mornings: Mornings | None = None,
    known=None,
    steps=None,
    events=None,
    sent: set[str] | None = None,
) -> list[Message]:
    """The reminders ``integration`` gets on ``day``: its partner channel's when its partner's zone is in
    ``partner_zones`` (None: always), TradingView's channel's when ``tradingview_side``. ``known``: its standing
    at noon of ``day`` in ``TIME_ZONE``, when worked out already (TradingView's side only). ``steps`` and
    ``events``: a sweep's rows of them (else read). ``sent``: reasons written already, not worded again."""
    mornings = mornings or Mornings(day)
    partner_side = partner_zones is None or integration.partner.time_zone in partner_zones
    # Noon of the recipient's day, in the recipient's zone: the standing's "today" is that day.
    zone = integration.partner.zone if partner_side and not tradingview_side else mornings.tradingview_zone
    noon = datetime.combine(day, time(12), zone)
    now = (
        known
        if known is not None and zone == mornings.tradingview_zone
        else _standing_at(integration, noon, steps, events, mornings.clocks)
    )
    policy = policy_for(integration.template)
    pending = []
    for step in now.actionable_steps:
        step_standing = now.of(step)
        if step_standing is None:
            continue
        days_to_deadline = (step_standing.deadline - day).days
        if step.side == Side.PARTNER:
            pending += _partner_step(
                integration,
                step,
                step_standing.deadline,
                days_to_deadline,
                day,
                policy,
                now.days_overdue(step),
                partner_side,
                tradingview_side,
                mornings,
                calendar=now.clock.calendar(step.side),
                moved=moved_for_holiday(now, step, step_standing.deadline),
                sent=sent,
                paused=now.paused,
            )
        elif tradingview_side:
            pending += _tradingview_step(
                integration,
                step,
                step_standing.deadline,
                days_to_deadline,
                day,
                policy,
                now.days_overdue(step),
                mornings,
                calendar=now.clock.calendar(step.side),
                moved=moved_for_holiday(now, step, step_standing.deadline),
                sent=sent,
                paused=now.paused,
            )
    return pending


def _partner_step(
    integration,
    step,
    deadline,
    days_to_deadline,
    day,
    policy,
    days_overdue,
    partner_side=True,
    tradingview_side=True,
    mornings: Mornings | None = None,
    calendar: WorkingCalendar | None = None,
    moved: str = "",
    sent: set[str] | None = None,
    paused: Collection[date] = (),
) -> list[Message]:
    """The partner's step on ``day``: its reminder in the partner's channel, counted in ``calendar`` (the
    partner's), and past the policy's escalation the PM and business manager named (once per deadline).
    ``moved``: why its deadline is not the plan's day, said beside it. A reason in ``sent`` is written
    already: not worded again."""
    mornings = mornings or Mornings(day)
    sent = sent or set()
    pending = []
    reminder = partner_reminder(days_to_deadline, policy, day, days_overdue, calendar, paused) if partner_side else None
    if reminder and integration.slack_channel_id and reminder_reason(reminder, step, day) not in sent:
        pending.append(
            partner_reminder_message(
                integration,
                step,
                reminder,
                deadline,
                day,
                not_before=mornings.partner(integration.partner),
                moved=moved,
                url_of=mornings.links[Side.PARTNER],
            )
        )
    escalation = f"escalation:{step.pk}:{deadline:%Y-%m-%d}"
    escalates = cadence(deadline, day, calendar, paused).escalates(policy)
    if tradingview_side and escalates and settings.SLACK_INTERNAL_CHANNEL and escalation not in sent:
        people = [p for p in (integration.tv_pm, integration.business_manager) if p]
        mentions = joined(" ", [mention(p) for p in people])
        detail = mrkdwn("{}: the partner's step is late; time to call them.", mentions) if people else ""
        text, blocks = step_blocks(
            step,
            f"Escalation: {working_days(days_overdue)} overdue",
            detail or "The partner's step is late; time to call them.",
            due=deadline,
            readers=Side.TRADINGVIEW,
            moved=moved,
            url_of=mornings.links[Side.TRADINGVIEW],
        )
        pending.append(
            Message(
                escalation,
                K.ESCALATION,
                text=text,
                blocks=blocks,
                integration=integration,
                step=step,
                channel=settings.SLACK_INTERNAL_CHANNEL,
                not_before=mornings.tradingview(),
                due=deadline,
            )
        )
    return pending


def partner_reminder_message(
    integration,
    step,
    reminder: Reminder,
    deadline,
    day: date,
    sent_by=None,
    not_before: datetime | None = None,
    moved: str = "",
    url_of=None,
) -> Message:
    """The reminder of a partner step in the partner's channel: the daily sweep's, or a PM's "Remind now".

    Its reason is the step, the reminder's kind and the day, whoever writes it: a reminder the
    sweep sent today is not sent again by hand, nor the other way round. ``sent_by`` (a PM) is named.
    ``not_before``: the partner's working moment of ``day`` when the caller knows it already. ``moved``: why
    the deadline is not the plan's day (a holiday), said beside it. ``url_of``: the partner's pages
    (``messages.page_urls``), when a sweep looked them up already.
    """
    detail = "What is left is yours to finish."
    if sent_by is not None:
        name = sent_by.get_full_name() or sent_by.get_username()
        detail = mrkdwn("{} {}, your TradingView PM, asks you to finish it.", detail, name)
    text, blocks = step_blocks(
        step, reminder.headline, detail, due=deadline, readers=Side.PARTNER, moved=moved, url_of=url_of
    )
    return Message(
        reminder_reason(reminder, step, day),
        reminder.kind,
        text=text,
        blocks=blocks,
        integration=integration,
        step=step,
        channel=integration.slack_channel_id,
        not_before=not_before or working_moment(integration.partner.zone, day, calendar=integration.partner.calendar),
        sent_by=sent_by,
        due=deadline,
    )


def reminder_reason(reminder: Reminder, step, day: date) -> str:
    """The reason of a partner step's reminder: the step, the reminder's kind and the day, whoever writes it."""
    return f"{reminder.kind}:{step.pk}:{day:%Y-%m-%d}"


def reminder_for(days_to_deadline: int, days_overdue: int = 0, days_left: int | None = None) -> Reminder:
    """The reminder a partner step gets by hand ``days_to_deadline`` (calendar days) before its deadline, saying
    ``days_left``, the partner's working days left ("Due in 2 working days", as the sweep says it); past it, the
    standing's ``days_overdue`` (working days, the unit of every late figure)."""
    if days_to_deadline > 0:
        return Reminder(K.REMINDER, f"Due in {working_days(days_to_deadline if days_left is None else days_left)}")
    if days_to_deadline == 0 or days_overdue < 1:
        return Reminder(K.DUE_TODAY, "Due today")
    return Reminder(K.OVERDUE, f"{working_days(days_overdue)} overdue")


def _tradingview_step(
    integration,
    step,
    deadline,
    days_to_deadline,
    day,
    policy,
    days_overdue,
    mornings: Mornings | None = None,
    calendar: WorkingCalendar | None = None,
    moved: str = "",
    sent: set[str] | None = None,
    paused: Collection[date] = (),
) -> list[Message]:
    """TradingView's task in its channel, on the partner's policy counted in ``calendar`` (TradingView's): due
    today, late at the policy's cadence, and past the policy's escalation its lead named (once per deadline).
    A reason in ``sent`` is written already: not worded again."""
    channel = settings.SLACK_INTERNAL_CHANNEL
    if not channel:
        return []
    mornings = mornings or Mornings(day)
    sent = sent or set()
    pending = []
    policy_here = {**policy, "before_days": [], "on_due_day": True}
    reminder = partner_reminder(days_to_deadline, policy_here, day, days_overdue, calendar, paused)
    if reminder:
        if reminder.kind == K.DUE_TODAY:
            kind, headline, reason = (
                K.TRADINGVIEW_DUE,
                "Due today",
                f"{K.TRADINGVIEW_DUE}:{step.pk}:{deadline:%Y-%m-%d}",
            )
        elif reminder.kind == K.OVERDUE and cadence(deadline, day, calendar, paused).overdue == 1:
            # the first working day late: a Friday deadline is late on Monday
            kind, headline = K.TRADINGVIEW_LATE, f"Late: due {day_text(deadline, weekday=True)}"
            reason = f"{kind}:{step.pk}:{deadline:%Y-%m-%d}"
        else:
            kind = K.TRADINGVIEW_LATE
            headline = f"Late: due {day_text(deadline, weekday=True)}, {working_days(days_overdue or 0)} overdue"
            reason = f"{kind}:{step.pk}:{deadline:%Y-%m-%d}:{day:%Y-%m-%d}"
    if reminder and reason not in sent:
        text, blocks = step_blocks(
            step,
            headline,
            "TradingView owes this step.",
            due=deadline,
            readers=Side.TRADINGVIEW,
            moved=moved,
            url_of=mornings.links[Side.TRADINGVIEW],
        )
        pending.append(
            Message(
                reason,
                kind,
                text=text,
                blocks=blocks,
                integration=integration,
                step=step,
                channel=channel,
                not_before=mornings.tradingview(),
                due=deadline,
            )
        )
    lead = settings.TRADINGVIEW_LEAD_SLACK_ID
    escalation = f"{K.LEAD_ESCALATION}:{step.pk}:{deadline:%Y-%m-%d}"
    if lead and cadence(deadline, day, calendar, paused).escalates(policy) and escalation not in sent:
        # An id that is not a Slack user id is not written as markup: the message goes, naming nobody.
        people = [Mrkdwn(f"<@{lead}>")] if SLACK_USER_ID.fullmatch(lead) else []
        people += [mention(integration.tv_pm)] if integration.tv_pm else []
        detail = mrkdwn("{}: TradingView's task is late; time for the lead to step in.", joined(" ", people))
        text, blocks = step_blocks(
            step,
            f"Escalation: {working_days(days_overdue or 0)} overdue",
            detail if people else "TradingView's task is late; time for the lead to step in.",
            due=deadline,
            readers=Side.TRADINGVIEW,
            moved=moved,
            url_of=mornings.links[Side.TRADINGVIEW],
        )
        pending.append(
            Message(
                escalation,
                K.LEAD_ESCALATION,
                text=text,
                blocks=blocks,
                integration=integration,
                step=step,
                channel=channel,
                not_before=mornings.tradingview(),
                due=deadline,
            )
        )
    return pending
