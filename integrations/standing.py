"""An integration's standing, as every page, reminder and API response shows it.

Gathers the roadmap rules (``roadmap.progress``) for one integration: the ball in court, each
open step's overdue days, the forecast launch, and the delay so far split by who held the ball,
reconstructed from the steps' history.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from integrations.models import Integration, IntegrationEvent
from roadmap import progress


@dataclass
class Standing:
    integration: Integration
    today: date
    steps: list
    ball: progress.BallInCourt
    current_step: object
    forecast_launch: date | None
    planned_launch: date | None
    delay: progress.DelaySplit

    @property
    def slip_days(self) -> int:
        """How many days the forecast launch lies after the planned one."""
        if not self.forecast_launch or not self.planned_launch:
            return 0
        return max(0, (self.forecast_launch - self.planned_launch).days)

    def overdue_steps(self) -> list:
        """The steps a side owes now that are past due; none while the clock is stopped."""
        if self.integration.state != Integration.State.ACTIVE:
            return []
        return [s for s in progress.actionable_steps(self.steps) if progress.days_overdue(s, self.today) > 0]


def paused_dates(integration: Integration, today: date) -> set[date]:
    """The days (after kick-off, up to today) that began with the integration paused."""
    days: set[date] = set()
    paused_since = None
    for event in integration.events.all():
        day = timezone.localdate(event.at)
        if event.kind == IntegrationEvent.Kind.PAUSED:
            paused_since = day
        elif event.kind == IntegrationEvent.Kind.RESUMED and paused_since:
            days.update(_days_between(paused_since, day))
            paused_since = None
    if paused_since:
        days.update(_days_between(paused_since, today + timedelta(days=1)))
    return days


def _days_between(start: date, end: date):
    """The days after ``start`` up to and including ``end``."""
    day = start + timedelta(days=1)
    while day <= end:
        yield day
        day += timedelta(days=1)


def timelines(steps, kickoff: date) -> list[progress.StepTimeline]:
    """Each step's status and due date over time, read from its history rows.

    The planning rows count from the kick-off date even when the plan was entered later (an
    integration recorded weeks after it started).
    """
    result = []
    for step in steps:
        changes = []
        due = None
        for row in step.history.all():
            if row.to_due is not None:
                due = row.to_due
            day = timezone.localdate(row.at)
            if not row.from_status and not changes:
                day = min(day, kickoff)
            changes.append(progress.StepChangeOnDay(day, row.to_status, due))
        result.append(progress.StepTimeline(step.code, step.side, list(step.depends_on), changes))
    return result


def standing(integration: Integration, today: date | None = None) -> Standing:
    """Where ``integration`` stands today. Three queries: steps, their history, its events."""
    today = today or timezone.localdate()
    steps = list(integration.steps.prefetch_related("history"))
    active = integration.state in (Integration.State.ACTIVE, Integration.State.PAUSED)
    ball = progress.ball_in_court(steps) if integration.state == Integration.State.ACTIVE else progress.BallInCourt()
    last = steps[-1] if steps else None
    if integration.state == Integration.State.LAUNCHED:
        forecast = integration.launched_on
    elif active and steps:
        forecast = progress.forecast_launch(steps, today, integration.paused_days(today))
    else:
        forecast = None
    end = today
    if integration.launched_on:
        end = integration.launched_on
    delay = (
        progress.delay_split(
            timelines(steps, integration.kickoff_on), integration.kickoff_on, end, paused_dates(integration, end)
        )
        if integration.kickoff_on
        else progress.DelaySplit()
    )
    return Standing(
        integration=integration,
        today=today,
        steps=steps,
        ball=ball,
        current_step=progress.current_step(steps) if active else None,
        forecast_launch=forecast,
        planned_launch=last.due_date if last else None,
        delay=delay,
    )
