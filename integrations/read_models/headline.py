"""What the top of an integration says, the same way on the integration page, the stage page and the portfolio row.

- **The launch window** as the plan now stands: it ends on the standing's planned launch (moved by
  re-plans and pauses) and spans the weeks the launch step's window spans (weeks 11-12: one week), so a
  paused integration's window moves with its planned launch (``launch_window``).
- **How it ended** (``ending``): launched or cancelled, on which day, by whom and why (the note of the
  cancellation, which stays TradingView's unless a PM shared it with the partner).
- **What is blocked** (``blocked``): each blocked step of a running integration, by whom, why and since
  when, read from the history row that blocked it.
- **Last activity** (``last_activity``): when a person or Jira last changed the integration, the newest of
  its history rows whose source is not the system. ``updated_at`` is not it: the product's own writes
  (refreshes, saves) move it and a step's change does not.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import DateTimeField, F, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from integrations.clock import calendars_for
from integrations.models import ChangeSource, Integration, IntegrationEvent, IntegrationStep, StepChange
from integrations.visibility import sees_everything
from roadmap.models import StepStatus
from roadmap.schedule import week_due_date
from roadmap.standing import working_days_late

# --- the launch window -------------------------------------------------------------------------


@dataclass(frozen=True)
class LaunchWindow:
    start: date
    end: date  # the planned launch

    def days_past(self, day: date | None) -> int:
        """Working days ``day`` (a forecast or the launch) lies after the window's end; 0 within it or without a day."""
        return working_days_late(self.end, day) if day else 0


def window_weeks(launch_step) -> int | None:
    """Weeks the launch window spans, from the launch step's copy of its template's window (weeks 11-12: 1)."""
    if launch_step is None or launch_step.due_week is None or launch_step.due_week_last is None:
        return None
    return launch_step.due_week_last - launch_step.due_week


def launch_window(planned_launch: date | None, weeks: int | None) -> LaunchWindow | None:
    """The launch window ending on ``planned_launch`` (the standing's, or the stored column) and spanning ``weeks``.

    Both ends of the plan's window fall on the same weekday (weeks after kick-off), so counting back whole
    weeks from the planned launch gives the window the plan would give, wherever pauses have moved it.
    """
    if planned_launch is None or weeks is None:
        return None
    return LaunchWindow(planned_launch - timedelta(weeks=weeks), planned_launch)


def window_of(now, steps) -> LaunchWindow | None:
    """The launch window of a standing ``now`` whose steps (in order) are ``steps``."""
    return launch_window(now.planned_launch, window_weeks(steps[-1] if steps else None))


def window_weeks_column() -> Subquery:
    """``window_weeks`` of each integration's launch step (its last), as SQL for the portfolio's rows."""
    launch = (
        IntegrationStep.objects.filter(integration=OuterRef("pk"))
        .order_by("-position")
        .annotate(weeks=F("due_week_last") - F("due_week"))
        .values("weeks")[:1]
    )
    return Subquery(launch)


# --- a deadline a holiday moved ------------------------------------------------------------------


def moved_for_holiday(now, step, deadline: date | None) -> str:
    """ "moved from 25 Dec: Christmas Day in Germany" when ``deadline`` is the plan's and a holiday moved it."""
    return _moved(step, deadline, now.integration.kickoff_on, now.clock.calendar(step.side))


def step_moved_for_holiday(step, deadline: date | None) -> str:
    """``moved_for_holiday`` for a message about one step written without its integration's standing
    (a thread's first message): the same rule, on the step's side's calendar."""
    integration = step.integration
    return _moved(step, deadline, integration.kickoff_on, calendars_for(integration)[step.side])


def _moved(step, deadline: date | None, kickoff: date | None, calendar) -> str:
    if kickoff is None or deadline is None or deadline != step.planned_due_date:
        return ""
    return calendar.moved_for_holiday(week_due_date(step, kickoff), deadline)


# --- how it ended ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ending:
    state: str  # Integration.State: launched or cancelled
    on: date | None
    who: str = ""
    note: str = ""  # why, as the reader may read it

    @property
    def is_cancelled(self) -> bool:
        return self.state == Integration.State.CANCELLED


ENDING_KINDS = {
    Integration.State.LAUNCHED: IntegrationEvent.Kind.LAUNCHED,
    Integration.State.CANCELLED: IntegrationEvent.Kind.CANCELLED,
}


def ending(integration: Integration, events=(), user=None, note: str | None = None) -> Ending | None:
    """How ``integration`` ended, or None while it has not: its state, the day, and from the event that ended it
    (the newest of ``events`` of that kind) who and why. ``user`` reads the note as the history's rule lets them
    (the events must come ``with_partner_view()`` for a partner); ``note`` gives it when no events are at hand
    (the portfolio reads it in SQL, ``cancel_note_column``)."""
    if not integration.has_ended:
        return None
    day = integration.launched_on if integration.is_launched else integration.cancelled_on
    kind = ENDING_KINDS[integration.state]
    event = next((e for e in reversed(list(events)) if e.kind == kind), None)
    if event is None:
        return Ending(integration.state, day, note=note or "")
    why = event.note if user is None else event.note_seen_by(user)
    return Ending(integration.state, day, who=event.who, note=why)


def cancel_note_column() -> Subquery:
    """The note of each integration's newest cancellation, as SQL for the portfolio's rows (staff read them)."""
    cancelled = IntegrationEvent.objects.filter(integration=OuterRef("pk"), kind=IntegrationEvent.Kind.CANCELLED)
    return Subquery(cancelled.order_by("-at", "-id").values("note")[:1])


# --- what is blocked ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Blocked:
    step: IntegrationStep
    who: str
    since: datetime | None
    since_day: date | None  # the day it was blocked, in the reader's calendar
    days: int  # calendar days from then to today
    reason: str  # as the reader may read it


def blocked(integration: Integration, steps, user, today: date, zone=None) -> list[Blocked]:
    """The blocked steps of a running ``integration`` (``steps``, in order), each with the history row that
    blocked it: who, since when (the day in ``zone``, ``TIME_ZONE`` by default; days up to ``today``) and why,
    the reason as ``user`` may read it. One query while it runs."""
    if not integration.is_running:
        return []
    changes = (
        StepChange.objects.filter(
            step__integration=integration, to_status=StepStatus.BLOCKED, step__status=StepStatus.BLOCKED
        )
        .exclude(from_status=StepStatus.BLOCKED)  # a deadline moved while blocked
        .select_related("by")
        .with_partner_view()
        .order_by("at", "id")
    )
    latest = {change.step_id: change for change in changes}  # the newest wins
    found = []
    for step in steps:
        if step.status != StepStatus.BLOCKED:
            continue
        change = latest.get(step.pk)
        readable = sees_everything(user) or (change is not None and change.partner_sees_note)
        day = timezone.localdate(change.at, zone) if change else None
        found.append(
            Blocked(
                step=step,
                who=change.who if change else "",
                since=change.at if change else None,
                since_day=day,
                days=max(0, (today - day).days) if day else 0,
                reason=step.blocked_reason if readable else "",
            )
        )
    return found


# --- last activity -----------------------------------------------------------------------------


def last_activity() -> Coalesce:
    """When a person or Jira last changed each integration, as SQL (to annotate, sort and show): the newest of
    its steps' history rows and its own events whose source is not the system; its creation when none."""
    changes = Subquery(
        StepChange.objects.filter(step__integration=OuterRef("pk"))
        .exclude(source=ChangeSource.SYSTEM)
        .order_by("-at")
        .values("at")[:1],
        output_field=DateTimeField(),
    )
    events = Subquery(
        IntegrationEvent.objects.filter(integration=OuterRef("pk"))
        .exclude(source=ChangeSource.SYSTEM)
        .order_by("-at")
        .values("at")[:1],
        output_field=DateTimeField(),
    )
    # GREATEST is NULL on SQLite when either side is, and ignores NULLs on PostgreSQL: make neither NULL.
    newest = Greatest(Coalesce(changes, events), Coalesce(events, changes), output_field=DateTimeField())
    return Coalesce(newest, F("created_at"), output_field=DateTimeField())
