"""An integration's standing, as every page, reminder and API response shows it.

``standing()`` applies the roadmap rules (``roadmap.standing.steps_standing``) to one integration: its
deadlines, the ball in court, overdue days, the forecast launch against the plan and the
baseline, and the slip split by who lost each day. ``store_standing()`` writes the same answer
into the integration's stored columns (for lists that filter and sort in SQL) and each step's
deadline; the services call ``refresh_standing()`` after every change, and a daily beat task
calls ``refresh_running()``, so the stored standing is the live one, as of today.

While an integration is paused the clock is stopped for both sides: the paused days are not
working days, so every date the plan put after the pause moves later by as many working days,
nobody's overdue days grow, and the forecast launch moves with the pause. A paused integration is
shown as it would stand if resumed today. An ended integration stands as it did on the day it
ended, whatever state it ended from: a pause still open then counts up to that day.

History is never rewritten: a done step's finish is the time it was done, even after re-plans,
and a reopened step's reopens (read from its history only when the step says it was reopened)
go to the rules, which keep the days charged before each.
"""

import functools
import gc
import json
import operator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import NamedTuple

from django.db import connections, router
from django.db.models import F, Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from integrations import events
from integrations.batches import in_batches, write_changes
from integrations.clock import clock_for, paused_dates
from integrations.models import Integration, IntegrationEvent, IntegrationStep, StepChange
from integrations.stored_standing import health_of
from integrations.text import day_text
from roadmap import standing as rules
from roadmap.models import SETTLED_STATUSES, Side, StepStatus, step_label
from roadmap.schedule import add_working_days, is_working_day

_POSITION = operator.attrgetter("position")


@dataclass(slots=True)
class PlannedStep:
    """A step as the rules see it: the model's fields, with the plan moved while paused.

    Slotted and made with positional arguments: a sweep makes one for every step of the portfolio."""

    step: IntegrationStep
    code: str
    side: str
    position: int
    status: str
    depends_on: list
    planned_due_date: date
    completed_at: datetime | None
    reopens: tuple = ()  # rules.Reopen, oldest first
    turnaround_days: int = 0  # a task without a due week: the least it owes again after a reopen

    def __str__(self):
        return str(self.step)


@dataclass
class Standing:
    integration: Integration
    clock: rules.Clock
    steps: list  # IntegrationStep, in roadmap order
    steps_standing: rules.StepsStanding
    ball: rules.BallInCourt
    current_step: IntegrationStep | None
    paused_days: int
    paused: frozenset = frozenset()  # the days spent paused
    actionable: list | None = None  # ``rules.actionable_steps(steps)``, worked out once (None: not yet)

    @property
    def today(self) -> date:
        """TradingView's day (``TIME_ZONE``): the day the standing is as of."""
        return self.clock.day(self.clock.now, Side.TRADINGVIEW)

    @property
    def as_of(self) -> date:
        """The day the standing stands as of, in ``TIME_ZONE``: today, or the day an ended integration ended."""
        return self.clock.today(Side.TRADINGVIEW)

    @property
    def split(self) -> rules.DelaySplit:
        return self.steps_standing.split

    @property
    def planned_launch(self) -> date | None:
        """The plan's launch (its weeks from kick-off, moved by re-plans and pauses), agreed or not."""
        return self.steps_standing.plan_launch

    @property
    def agreed_launch(self) -> date | None:
        """The launch date both sides agreed (``integrations.agreed_launch``); the launch is due on it."""
        return self.integration.agreed_launch_on

    @property
    def launch_due(self) -> date | None:
        """The date the launch is due: the agreed date once there is one, else the plan's."""
        return self.steps_standing.planned_launch

    @property
    def slip_vs_agreed_days(self) -> int:
        """Working days the forecast launch lies after the agreed date (0 without one): the slip,
        which is counted against the agreed date once there is one."""
        return self.slip_days if self.agreed_launch and self.forecast_launch else 0

    @property
    def slip_vs_plan_days(self) -> int:
        """Working days the forecast launch lies after the plan's launch, agreed date or not."""
        if not self.agreed_launch:
            return self.slip_days
        if not self.forecast_launch or not self.planned_launch:
            return 0
        return rules.working_days_late(self.planned_launch, self.forecast_launch)

    @property
    def forecast_launch(self) -> date | None:
        if self.integration.is_cancelled:
            return None
        return self.steps_standing.forecast_launch

    @property
    def baseline_launch(self) -> date | None:
        return self.integration.baseline_launch_on

    @property
    def slip_days(self) -> int:
        """Days the forecast launch lies after the date the launch is due (the agreed date once
        agreed, else the current plan's); always the split's total."""
        return self.steps_standing.slip_days

    @property
    def slip_vs_baseline_days(self) -> int:
        """Working days the forecast launch lies after the first plan's: re-plans and pauses included."""
        if not self.forecast_launch or not self.baseline_launch:
            return 0
        return rules.working_days_late(self.baseline_launch, self.forecast_launch)

    @property
    def moved_by_plan_days(self) -> int:
        """Working days the plan's launch moved since the baseline, by re-planning and pauses (negative: earlier)."""
        if not self.planned_launch or not self.baseline_launch:
            return 0
        later = rules.working_days_late(self.baseline_launch, self.planned_launch)
        return later or -rules.working_days_late(self.planned_launch, self.baseline_launch)

    def of(self, step) -> rules.StepStanding | None:
        return self.steps_standing.steps.get(step.code)

    def overdue_steps(self) -> list:
        """The steps a side owes now that are past their deadline; none while the clock is stopped."""
        if not self.integration.is_active:
            return []
        return [o.step.step for o in self.steps_standing.overdue()]

    @cached_property
    def actionable_steps(self) -> list:
        """``rules.actionable_steps`` of the steps: open, with their prerequisites settled, in roadmap order."""
        return rules.actionable_steps(self.steps) if self.actionable is None else self.actionable

    @cached_property
    def _actionable(self) -> set[str]:
        return {s.code for s in self.actionable_steps}

    def is_waiting(self, step) -> bool:
        """Open in a running integration, with a prerequisite still open: it cannot start yet."""
        return self.integration.is_running and step.is_open and step.code not in self._actionable

    def deadline_shown(self, step) -> tuple[date | None, bool]:
        """The deadline every page and calendar shows for ``step``, and whether it is a forecast.

        A step that cannot start yet shows its forecast deadline: where its deadline will fall
        given its prerequisites' forecasts (its forecast), never a day already past nor one before
        the steps it waits on. The others show their deadline.
        """
        step_standing = self.of(step)
        if step_standing is None:
            return step.due_date, False
        if self.is_waiting(step):
            return max(step_standing.deadline, step_standing.forecast), True
        return step_standing.deadline, False

    def days_overdue(self, step) -> int:
        step_standing = self.of(step)
        return step_standing.days_overdue if step_standing and self.integration.is_active else 0

    def _first_to_end(self) -> tuple[datetime, date, str] | None:
        """Of the deadlines owed now, the one that ends first: when it ends, its date and its side."""
        return self._first

    @cached_property
    def _first(self) -> tuple[datetime, date, str] | None:
        # Asked three times for each integration's stored columns: worked out once.
        if not self.integration.is_active:
            return None
        owed = [self._ends(self.of(s).deadline, s.side) for s in self.actionable_steps if self.of(s)]
        return min(owed, default=None)

    def _ends(self, due: date, side: str) -> tuple[datetime, date, str]:
        # Moved by the working days paused since: the working days late counted from it, without
        # the pauses, are the days overdue (``stored_standing.stored_days_late`` counts so).
        today = self.clock.today(side)
        holidays = self.clock.calendar(side).days_not_worked([due, today])
        stopped = sum(1 for day in self.paused if due < day <= today and is_working_day(day, holidays))
        moved = add_working_days(due, stopped, holidays) if stopped else due
        return datetime.combine(moved + timedelta(days=1), time(), self.clock.zones[side]), due, side

    def next_deadline(self) -> tuple[date, str] | None:
        """The deadline owed now that ends first (in its side's time zone), and its side."""
        first = self._first_to_end()
        return first[1:] if first else None

    def next_deadline_ends(self) -> datetime | None:
        """When the deadline owed now that ends first ends, in its side's time zone, moved by the days paused since.

        The integration is late from then on (``days_late``).
        """
        first = self._first_to_end()
        return first[0] if first else None

    @property
    def days_late(self) -> int:
        """Working days overdue now: those of the deadline that ended first, in its side's days (``working_days_late``).

        What every list shows; ``Integration.days_overdue()`` counts the same from the stored columns.
        """
        first = self._first_to_end()
        if first is None:
            return 0
        ends, due, side = first
        if self.clock.now < ends:
            return 0
        today = self.clock.today(side)
        off = frozenset(self.paused) | self.clock.calendar(side).days_not_worked([due, today])
        return rules.overdue_days(due, today, off)

    def is_due_by(self, day: date) -> bool:
        """A deadline is owed, none has ended yet, and the first to end is on or before ``day``."""
        first = self._first_to_end()
        return first is not None and not self.days_late and first[1] <= day

    def blocked_steps(self) -> list:
        """The steps marked blocked while the integration runs; an ended integration has none."""
        if not self.integration.is_running:
            return []
        return [s for s in self.steps if s.status == StepStatus.BLOCKED]

    def stored_fields(self) -> dict:
        """The integration's stored standing columns, as this standing gives them."""
        integration = self.integration
        running = integration.is_running
        next_deadline = self.next_deadline()
        next_deadline_at = self.next_deadline_ends()
        split = self.split
        health = health_of(
            state=integration.state,
            next_deadline_at=next_deadline_at,
            planned_launch=self.planned_launch,
            forecast_launch=self.forecast_launch,
            p85=integration.forecast_p85,
            now=self.clock.now,
        )
        return {
            "current_step": self.current_step if running else None,
            "ball_side": (self.ball.side or "") if integration.is_active else "",
            "next_due_on": next_deadline[0] if next_deadline else None,
            "next_deadline_at": next_deadline_at,
            "planned_launch_on": self.planned_launch,
            "forecast_launch_on": self.forecast_launch,
            "delay_tradingview_days": split.tradingview,
            "delay_partner_days": split.partner,
            "delay_both_days": split.both,
            "standing_as_of": self.as_of,
            "standing_refreshed_at": self.clock.now,
            "health": health,
        }


class Clocks:
    """``clock_for`` of a sweep's integrations at a moment, made once per partner zone and calendar, not once per
    integration: a clock reads the settings (TradingView's zone and calendar) and the partner's zone and calendar,
    the same for every running integration of partners in one zone and country. An ended integration's clock is
    its own (stopped on the day it ended), and so is one without a moment given (each reads the time itself)."""

    def __init__(self):
        self.known: dict[tuple, rules.Clock] = {}

    def of(self, integration: Integration, now: datetime | None) -> rules.Clock:
        if now is None or not integration.is_running:
            return clock_for(integration, now)
        partner = integration.partner
        key = (now, partner.time_zone, partner.country, partner.subdivision)
        clock = self.known.get(key)
        if clock is None:
            clock = self.known[key] = clock_for(integration, now)
        return clock


def started_on(integration: Integration, integration_events) -> date | None:
    """The first kick-off: before it nothing of the integration can have been done, whatever re-plans came later."""
    first = integration.kickoff_on
    for event in integration_events:
        if event.kind == IntegrationEvent.Kind.KICKED_OFF:
            try:
                kicked_off = date.fromisoformat(event.to_value)
            except ValueError:
                continue
            first = min(first, kicked_off) if first else kicked_off
    return first


def reopens_of(steps) -> dict[int, tuple]:
    """``{step id: (rules.Reopen, ...)}`` for the steps that were ever reopened, oldest first: one query, or none.

    A reopen is read from the step's history: the change out of done (with the time it was done)
    or out of not applicable.
    """
    reopened = [s.pk for s in steps if getattr(s, "reopened_at", None)]
    if not reopened:
        return {}
    rows = (
        StepChange.objects.filter(step_id__in=reopened)
        .filter(Q(to_status=StepStatus.DONE) | Q(from_status__in=[StepStatus.DONE, StepStatus.NOT_APPLICABLE]))
        .exclude(from_status=F("to_status"))
        .order_by("at", "id")
        .values_list("step_id", "from_status", "to_status", "at")
    )
    reopens: dict[int, list] = {}
    done_at: dict[int, datetime] = {}
    for step_id, from_status, to_status, at in rows:
        if to_status == StepStatus.DONE:
            done_at[step_id] = at
        elif from_status == StepStatus.DONE:
            reopens.setdefault(step_id, []).append(rules.Reopen(at, done_at.get(step_id)))
        else:
            reopens.setdefault(step_id, []).append(rules.Reopen(at))
    return {step_id: tuple(rows) for step_id, rows in reopens.items()}


def standing(
    integration: Integration,
    now: datetime | None = None,
    steps=None,
    integration_events=None,
    reopens=None,
    clocks: "Clocks | None" = None,
) -> Standing:
    """Where ``integration`` stands now.

    Two queries (steps, events) unless they are passed in, and one more for the history of the
    steps that were reopened, if any, unless ``reopens`` (``reopens_of``, of these steps or more) is.
    ``clocks``: a sweep's clocks, shared by the integrations that count the same days (``Clocks``).
    """
    clock = clock_for(integration, now) if clocks is None else clocks.of(integration, now)
    steps = sorted(integration.steps.all() if steps is None else steps, key=_POSITION)
    today = clock.day(clock.now, Side.TRADINGVIEW)
    paused_days = 0
    if integration.is_paused and integration.paused_on:
        paused_days = max(0, (today - integration.paused_on).days)
    if reopens is None:
        reopens = reopens_of(steps) if integration.kickoff_on else {}
    planned = [
        PlannedStep(
            s,
            s.code,
            s.side,
            s.position,
            s.status,
            list(s.depends_on),
            s.planned_due_date,
            s.completed_at,
            reopens.get(s.pk, ()),  # reopens
            s.turnaround_days if s.due_week is None else 0,  # turnaround_days
        )
        for s in steps
        if s.planned_due_date is not None
    ]
    paused = frozenset()
    actionable = rules.actionable_steps(steps)  # worked out once: the rules, the ball and the current step read it
    computed = rules.StepsStanding({}, None, None, rules.DelaySplit())
    if integration.kickoff_on:
        history = list(integration.events.all() if integration_events is None else integration_events)
        # The clock's today: an ended integration's pause stops counting on the day it ended.
        paused = frozenset(paused_dates(integration, clock.today(Side.TRADINGVIEW), history))
        if planned:
            computed = rules.steps_standing(
                planned,
                integration.kickoff_on,
                clock,
                paused,
                started_on(integration, history),
                agreed_launch=integration.agreed_launch_on,
                # The rules see no check awaited (a fix counts done on its day): the same steps are actionable
                # for them unless a fix awaits its check or a step has no planned date.
                actionable=(
                    {s.code for s in actionable}
                    if len(planned) == len(steps) and not any(rules.awaiting_check(s) for s in steps)
                    else None
                ),
            )
    active = integration.is_active
    owed = rules.owed_steps(steps, actionable) if integration.is_running else []
    return Standing(
        integration=integration,
        clock=clock,
        steps=steps,
        steps_standing=computed,
        ball=rules.ball_in_court(steps, owed) if active else rules.BallInCourt(),
        current_step=rules.current_step(steps, owed) if integration.is_running else None,
        paused_days=paused_days,
        paused=paused,
        actionable=actionable,
    )


def store_standing(now: Standing, context=None) -> list[IntegrationStep]:
    """Write ``now`` into the integration's stored columns and each step's deadline.

    An open step whose deadline moves because a prerequisite was handed over late gets a history
    row saying so, and the move is announced (``deadline_moved``) when a change ``context`` is
    given. Returns the steps whose deadline changed (not yet saved when no context is given).
    """
    integration = now.integration
    fields = now.stored_fields()
    for name, value in fields.items():
        setattr(integration, name, value)
    moved, handed_over_late = deadline_moves(now)
    if context is not None:
        Integration.objects.filter(pk=integration.pk).update(**fields)
        IntegrationStep.objects.bulk_update(moved, ["due_date"])
    # Recorded once the new deadlines are saved, so a receiver reading the step sees them.
    for step, old, step_standing in handed_over_late:
        _record_deadline_move(now, step, old, step_standing, context)
    return moved


def deadline_moves(now: Standing) -> tuple[list, list]:
    """The steps whose deadline ``now`` moves, given their new ``due_date`` (not saved), and of those the
    ``(step, old deadline, step standing)`` moved by a late hand-over (not by the plan), to record."""
    moved, handed_over_late = [], []
    if now.integration.is_active:
        for step in now.steps:
            step_standing = now.of(step)
            if step_standing is None or step.due_date == step_standing.deadline:
                continue
            old = step.due_date
            step.due_date = step_standing.deadline
            moved.append(step)
            # A move the plan made (kick-off, re-plan) has its own history row; record the others.
            if step.is_open and old is not None and step_standing.deadline != step.planned_due_date:
                handed_over_late.append((step, old, step_standing))
    return moved, handed_over_late


def _record_deadline_move(now: Standing, step, old: date, step_standing, context, history=None):
    handed_over = [now.steps_standing.steps[c] for c in step.depends_on if c in now.steps_standing.steps]
    cause = max(
        (o for o in handed_over if o.fixed and o.hands_over > o.planned),
        key=lambda o: (o.hands_over - o.planned).days,
        default=None,
    )
    reopened = step_standing.restart is not None and step_standing.deadline == step_standing.restart
    handover = not reopened and cause is not None and step_standing.deadline > step_standing.planned
    if history is not None:
        context = history.context_of(step if reopened else cause.step if cause else None, step_standing.since, context)
    # Moved by the reopen itself only in the reopen's own change; later (a resume), by the pause.
    by_reopen = reopened and context is not None and context.moment == step_standing.since
    if by_reopen:
        why = (
            f"it was reopened on {day_text(now.clock.day(step_standing.since, step.side))} and owes its work again, "
            "with the working days the plan gives it counted from then."
        )
    elif handover and cause.hands_over > cause.forecast:
        why = (
            f"{cause.step}, done on {day_text(cause.forecast)}, hands over again on {day_text(cause.hands_over)}, "
            "after a step before it was reopened; this step keeps the working days the plan gave it."
        )
    elif handover:
        why = (
            f"{cause.step} was finished on {day_text(cause.forecast)}, planned for {day_text(cause.planned)}; "
            "this step keeps the working days the plan gave it."
        )
    elif reopened and any(day >= now.clock.day(step_standing.since, step.side) for day in now.paused):
        why = (
            f"the integration was paused; the working days it owes since it was reopened on "
            f"{day_text(now.clock.day(step_standing.since, step.side))} move by the working days paused."
        )
    elif crossed := [o for o in handed_over if o.done_at and now.clock.day(o.done_at, step.side) > o.forecast]:
        # Done on its own side's date, already the next day in this step's zone (a partner west of TradingView).
        whose = {Side.PARTNER: "the partner's", Side.TRADINGVIEW: "TradingView's"}
        why = (
            f"{crossed[0].step} was done on {day_text(crossed[0].forecast)} in {whose[crossed[0].step.side]} "
            f"time zone, {day_text(now.clock.day(crossed[0].done_at, step.side))} in {whose[step.side]}; this step "
            "is not due before the working day it arrived."
        )
    elif step_standing.planned != step.planned_due_date:
        why = f"the integration was paused; the plan's {day_text(step.planned_due_date)} moves by the working days paused."
    else:
        why = "its prerequisites' finish changed."
    if by_reopen:
        # Moved by this very reopen: the reopen's own history row says so, with the two dates.
        if history is not None:
            reopen = history.reopens.get((step.pk, context.moment))
            if reopen is not None and reopen.to_status == step.status:
                history.reopens_dated[reopen.pk] = {"from_due": old, "to_due": step_standing.deadline}
                return
        else:
            updated = StepChange.objects.filter(
                step=step, at=context.moment, from_status__in=SETTLED_STATUSES, to_status=step.status
            ).update(from_due=old, to_due=step_standing.deadline)
            if updated:
                return
    note = f"Deadline moved from {day_text(old)} to {day_text(step_standing.deadline)}: {why}"
    row = context.row() if context is not None else {"at": timezone.now(), "source": "system", "by": None}
    change = StepChange(
        step_id=step.pk,  # a model or a sweep's ``StepRow``
        from_status=step.status,
        to_status=step.status,
        from_due=old,
        to_due=step_standing.deadline,
        note=note,
        **{**row, "source": "system"},
    )
    event = None
    if context is not None and handover:
        event = events.RoadmapEvent(
            events.DEADLINE_MOVED,
            now.integration,
            context,
            step,
            {"from_due": old, "to_due": step_standing.deadline, "because_of": cause.step.code if cause else ""},
        )
    if history is not None:
        history.rows.append(change)
        history.announced += [event] if event else []
        return
    change.save(force_insert=True)
    if event is not None:
        events.announce(event.kind, event.integration, event.context, step=event.step, **event.details)


class DeadlineHistory:
    """The deadline moves of several integrations' standings stored together (``store_standings``): the new
    history rows inserted at once, the reopens' own rows (``reopens``: ``{(step id, moment): row}``, saved
    already) dated in one UPDATE, and the ``deadline_moved`` events announced together, after them."""

    def __init__(self, reopens: dict | None = None, changed: dict | None = None):
        self.reopens = reopens or {}
        self.changed = changed or {}  # step id -> the contexts of its changes, in order
        self.reopens_dated: dict[int, dict] = {}
        self.rows: list[StepChange] = []
        self.announced: list = []

    def context_of(self, step, since, otherwise):
        """The change a deadline move is dated by: ``step``'s (the reopen at ``since`` itself, else the
        last change of the step handed over late), as one change after another would; ``otherwise``
        when ``step`` did not change here."""
        contexts = self.changed.get(getattr(step, "pk", None), [])
        reopen = [c for c in contexts if c.moment == since]
        return (reopen or contexts or [otherwise])[-1]

    def write(self):
        write_changes(StepChange, self.reopens_dated)
        StepChange.objects.bulk_create(self.rows)
        events.announce_all(self.announced)


def store_standings(changed: list[tuple[Standing, list]], history: DeadlineHistory) -> None:
    """``store_standing`` of several integrations after changes made together (``integrations.steps.StepMoves``),
    each standing with the contexts of its integration's changes, in order; written together: the
    integrations' columns in one UPDATE, the steps' deadlines in another, their history through ``history``.

    A deadline move is recorded with the change that made it (``DeadlineHistory.context_of``); only the
    net move of the changes made together is recorded, not each step of it.
    """
    columns, deadlines = {}, {}
    for now, contexts in changed:
        integration = now.integration
        fields = now.stored_fields()
        columns[integration.pk] = _changed_columns(integration, fields)
        for name, value in fields.items():
            setattr(integration, name, value)
        moved, handed_over_late = deadline_moves(now)
        deadlines.update({step.pk: {"due_date": step.due_date} for step in moved})
        for step, old, step_standing in handed_over_late:
            _record_deadline_move(now, step, old, step_standing, contexts[-1], history)
    write_changes(Integration, {pk: values for pk, values in columns.items() if values})
    write_changes(IntegrationStep, deadlines)
    history.write()


def refresh_standing(integration: Integration, context, steps=None) -> Standing:
    """Recompute and store ``integration``'s standing after a change, as of now; returns it.

    As of now even for a change dated in the past: the stored standing is always today's.
    """
    now = standing(integration, steps=steps)
    store_standing(now, context)
    return now


STEP_TEXTS = ("description", "checklist", "jira_bug_labels", "handovers", "applicability_note")


class StepRow:
    """A step as the daily sweeps read it: the columns the rules and the messages read, from one ``values_list``
    query per batch, not a model instance (building thousands of those was half of a sweep's time).

    It answers what the rules ask of a step (``roadmap.standing`` reads steps by attribute) and what a
    message names (``str``, ``is_open``, ``get_status_display``), through the same functions the model uses.
    ``model()`` gives the model instance when one is needed (an outbox row's step).
    """

    COLUMNS = (
        "id",
        "integration_id",
        "position",
        "code",
        "number",
        "side",
        "title",
        "status",
        "depends_on",
        "planned_due_date",
        "due_date",
        "completed_at",
        "reopened_at",
        "checking_since",
        "due_week",
        "due_week_last",
        "turnaround_days",
    )
    __slots__ = (*COLUMNS, "integration")

    def __init__(self, values, integration=None):
        # One unpacking, not a setattr per column: a sweep makes a row per step of the portfolio.
        (
            self.id,
            self.integration_id,
            self.position,
            self.code,
            self.number,
            self.side,
            self.title,
            self.status,
            self.depends_on,
            self.planned_due_date,
            self.due_date,
            self.completed_at,
            self.reopened_at,
            self.checking_since,
            self.due_week,
            self.due_week_last,
            self.turnaround_days,
        ) = values
        self.integration = integration

    @property
    def pk(self) -> int:
        return self.id

    @property
    def is_open(self) -> bool:
        return rules.is_open(self)

    def get_status_display(self) -> str:
        return StepStatus(self.status).label

    def __str__(self):
        return step_label(self)

    def model(self) -> IntegrationStep:
        """The step as a model instance with these columns (its texts and lists deferred)."""
        # ``from_db`` takes the loaded values in the model's field order.
        names = [f.attname for f in IntegrationStep._meta.concrete_fields if f.attname in self.COLUMNS]
        step = IntegrationStep.from_db(None, names, [getattr(self, name) for name in names])
        if self.integration is not None:
            step.integration = self.integration
        return step


class EventRow(NamedTuple):
    """An integration's event as the standing reads it (``started_on``, ``clock.paused_dates``)."""

    kind: str
    to_value: str
    at: datetime


@functools.lru_cache(maxsize=1024)
def _prerequisites(text: str | None) -> list | None:
    """A step's ``depends_on`` from its stored JSON text. One list per text, shared by every row holding it:
    nothing changes a step row's prerequisites."""
    return None if text is None else json.loads(text)


# Objects made and not yet freed before the collector's youngest pass, while a sweep runs (700 by default):
# a batch's rows, standings and messages are about this many.
SWEEP_YOUNG_OBJECTS = 100_000


@contextmanager
def collecting_only_its_own():
    """While a sweep runs, the garbage collector walks only the objects made since it began.

    A sweep makes millions of short-lived objects (rows, standings, messages), and each full pass of the
    collector they set off walked the whole process besides (Django, the URL configuration, the holiday
    tables): a quarter of a Monday sweep's CPU time at 10,000 integrations. ``gc.freeze`` sets what exists
    when the sweep begins aside until it ends (``gc.unfreeze``): nothing older is freed meanwhile, and it is
    all collected as before afterwards. What the sweep makes is collected as it goes, in fewer passes
    (``SWEEP_YOUNG_OBJECTS``): most of it lives for one batch, and every pass that found it still alive moved
    it on towards a full pass.
    """
    global _sweeps_running
    if _sweeps_running:  # a sweep within a sweep: the outer one's setting holds until it ends
        yield
        return
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], SWEEP_YOUNG_OBJECTS), *threshold[1:])
    _sweeps_running += 1
    try:
        yield
    finally:
        _sweeps_running -= 1
        gc.set_threshold(*threshold)
        gc.unfreeze()


_sweeps_running = 0  # collecting_only_its_own's depth: only the outermost sweep sets and restores


class _Converted(dict):
    """Values the database gives as text, each distinct one converted once (by ``convert``, on first use)."""

    def __init__(self, convert):
        super().__init__({None: None})
        self.convert = convert

    def __missing__(self, text):
        value = self[text] = self.convert(text, None, None)
        return value


# A step's dates and moments: SQLite stores them as text, which its driver and then Django converted value by
# value (most of reading a batch's steps). The sweep reads them as the text stored and converts each distinct
# one once, with Django's own converters: a portfolio's steps share a few hundred days.
_STEP_DAYS = ("planned_due_date", "due_date")
_STEP_MOMENTS = ("completed_at", "reopened_at", "checking_since")


def _step_columns(as_text: bool) -> list:
    """``StepRow.COLUMNS`` as ``sweep_rows`` selects them (``as_text``: the dates and moments as their text)."""
    columns = []
    for name in StepRow.COLUMNS:
        if name == "depends_on" or (as_text and name in _STEP_DAYS + _STEP_MOMENTS):
            columns.append(Cast(name, output_field=TextField()))
        else:
            columns.append(name)
    return columns


def sweep_rows(integrations: list) -> tuple[dict[int, list[StepRow]], dict[int, list[EventRow]]]:
    """``({integration id: its steps as StepRow, by position}, {integration id: its events, oldest first})``
    for a batch of integrations: two queries, however many integrations, steps and events."""
    by_pk = {integration.pk: integration for integration in integrations}
    steps: dict[int, list[StepRow]] = {pk: [] for pk in by_pk}
    connection = connections[router.db_for_read(IntegrationStep)]
    as_text = connection.vendor == "sqlite"
    rows = (
        IntegrationStep.objects.filter(integration_id__in=list(by_pk))
        .order_by("integration_id", "position")
        # The prerequisites as the JSON text stored: the same few lists for every integration, each decoded once.
        .values_list(*_step_columns(as_text))
    )
    if as_text:
        days = _Converted(connection.ops.convert_datefield_value)
        moments = _Converted(connection.ops.convert_datetimefield_value)
    for values in rows:
        row = StepRow(values, by_pk[values[1]])
        row.depends_on = _prerequisites(row.depends_on)
        if as_text:
            row.planned_due_date, row.due_date = days[row.planned_due_date], days[row.due_date]
            row.completed_at, row.reopened_at = moments[row.completed_at], moments[row.reopened_at]
            row.checking_since = moments[row.checking_since]
        steps[values[1]].append(row)
    events: dict[int, list[EventRow]] = {pk: [] for pk in by_pk}
    rows = (
        IntegrationEvent.objects.filter(integration_id__in=list(by_pk))
        .order_by("at", "id")
        .values_list("integration_id", "kind", "to_value", "at")
    )
    for integration_id, kind, to_value, at in rows:
        events[integration_id].append(EventRow(kind, to_value, at))
    return steps, events


def refresh_running(
    now: datetime | None = None, batch_size: int = 500, progress_to=None, new_day_only: bool = False
) -> int:
    """Recompute the stored standing of every running integration, ``batch_size`` at a time.

    With ``new_day_only``, only those for which a day began since their last refresh, in one of
    the zones they count in (``IntegrationQuerySet.to_refresh``): beat's frequent run.
    Queries grow with the number of batches, not of integrations: each batch
    loads its integrations, their steps and their events (as rows, ``sweep_rows``), then writes back in bulk.
    """
    running = (
        Integration.objects.running()
        .filter(kickoff_on__isnull=False)
        .to_refresh(now or timezone.now(), everything=not new_day_only)
        .select_related("partner")
    )
    done = 0
    clocks = Clocks()
    with collecting_only_its_own():
        for batch in in_batches(running, batch_size, progress_to):
            changed: dict[int, dict] = {}
            moved: dict[int, dict] = {}
            steps_of, events_of = sweep_rows(batch)
            for integration in batch:
                now_standing = standing(
                    integration,
                    now,
                    steps=steps_of[integration.pk],
                    integration_events=events_of[integration.pk],
                    clocks=clocks,
                )
                # Most days most columns stay as they were: only what moved is written.
                differ = _changed_columns(integration, now_standing.stored_fields())
                if differ:
                    changed[integration.pk] = differ
                steps, handed_over_late = deadline_moves(now_standing)
                moved.update({step.pk: {"due_date": step.due_date} for step in steps})
                for step, old, step_standing in handed_over_late:
                    _record_deadline_move(now_standing, step, old, step_standing, None)
            write_changes(Integration, changed)
            write_changes(IntegrationStep, moved)
            done += len(batch)
    return done


def _changed_columns(integration: Integration, fields: dict) -> dict:
    """``{attname: value}`` of the stored ``fields`` whose value differs from ``integration``'s (a step by its id)."""
    changed = {}
    for name, value in fields.items():
        attname = Integration._meta.get_field(name).attname
        if attname != name:  # a relation: compare and write the key
            value = value.pk if value is not None else None
        if getattr(integration, attname) != value:
            changed[attname] = value
    return changed
