"""Moving an integration's steps: start, complete, block, unblock, reopen, mark not applicable.

One function, ``change_status``, holds the rules (allowed transitions and reasons from
``roadmap.transitions``, who may, the completion guards of ``integrations.guards``, when a change
may be dated); the admin, the pages, the API, Jira and Slack all call it, or ``apply_action`` with
an action of ``roadmap.transitions.ACTIONS``, passing a ``ChangeContext``.
Refusals are ``roadmap.refusals`` errors with a code.
"""

import copy
from dataclasses import replace

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from integrations import events
from integrations.actions import VERIFY, state_refusal, user_refusal
from integrations.batches import update_rows
from integrations.context import ChangeContext
from integrations.guards import completion_refusal, start_refusal
from integrations.models import ChangeSource, Integration, IntegrationEvent, IntegrationStep, StepChange
from integrations.standing import DeadlineHistory, refresh_standing, reopens_of, standing, store_standings
from integrations.text import moment_text
from roadmap.models import SETTLED_STATUSES, StepStatus
from roadmap.refusals import InvalidInput, InvalidTransition, StaleChange
from roadmap.standing import awaiting_check
from roadmap.transitions import ACTIONS, action_for, transition_refusal


@transaction.atomic
def change_status(step, to_status, context: ChangeContext) -> IntegrationStep:
    """Move ``step`` to ``to_status``, record who, when, from where and why, and refresh the standing.

    Raises a ``Refusal`` when the change is not allowed: an unknown status, a missing reason, an
    integration that is paused or ended, a user who may not, a step completed before the steps
    it depends on, or a change dated before the step's last status change. ``context.at`` is
    when the change happened, if not now (a Jira event's own time, or history entered later).
    """
    integration = Integration.objects.select_for_update().select_related("partner").get(pk=step.integration_id)
    step.refresh_from_db()  # the caller's instance, so it sees the change when we return
    context = _not_before_the_plan(step, context, planned_moment)
    step.integration = integration
    steps = [step if s.pk == step.pk else s for s in integration.steps.all()]
    from_status, change = _move(step, to_status, context, steps, last_change)
    step.save(update_fields=MOVED_FIELDS)
    change.save(force_insert=True)
    events.announce(events.STEP_CHANGED, integration, context, step=step, from_status=from_status, to_status=to_status)
    if _launches(step, steps):
        _launch(integration, step, context)
    refresh_standing(integration, context, steps)
    return step


# What a status change writes on the step.
MOVED_FIELDS = [
    "status",
    "blocked_reason",
    "started_at",
    "completed_at",
    "reopened_at",
    "applicability_note",
    "checking_since",
    "verified_at",
    "verified_by",
    "updated_at",
]


def _move(step, to_status, context: ChangeContext, steps, last_change) -> tuple[str, StepChange]:
    """The rules of a status change, on ``step`` in memory (its integration loaded and locked, ``steps``
    all of that integration's, ``step`` among them): raises the ``Refusal``, else moves ``step`` (not
    saved) and returns the status it left and its history row (not saved). ``last_change(step)``:
    the step's last recorded status change, read from the database or from what the caller holds."""
    refusal = (
        state_refusal(step.integration)
        or user_refusal(context.by, step, action_for(step.status, to_status))
        or transition_refusal(step.status, to_status, context.note)
    )
    if refusal is None and to_status == StepStatus.NOT_APPLICABLE and step.position == steps[-1].position:
        refusal = InvalidTransition(f"{step} is the launch and always applies; cancel the integration instead.")
    if refusal is None and to_status == StepStatus.DONE:
        refusal = completion_refusal(step, steps)
    if refusal is None and to_status == StepStatus.IN_PROGRESS and step.status == StepStatus.NOT_STARTED:
        refusal = start_refusal(step, steps)
    if refusal is None:
        refusal = _dating_refusal(step, context, last_change)
    if refusal is not None:
        raise refusal

    now = context.moment
    from_status = step.status
    step.status = to_status
    step.blocked_reason = context.note if to_status == StepStatus.BLOCKED else ""
    if to_status == StepStatus.IN_PROGRESS and step.started_at is None:
        step.started_at = now
    step.completed_at = now if to_status == StepStatus.DONE else None
    if from_status in SETTLED_STATUSES and to_status not in SETTLED_STATUSES:
        # Reopened: it owes new work from now; the standing reads its history from this mark.
        step.reopened_at = now
    if to_status == StepStatus.NOT_APPLICABLE:
        step.applicability_note = context.note
    # Fixes marked done by TradingView (a PM, or the product itself) are checked by it; the partner's,
    # Jira's or Slack's wait for "Verify fixes". Leaving done undoes the check.
    fixes_done = to_status == StepStatus.DONE and bool(step.jira_bug_labels)
    checked = fixes_done and _tradingview_checks(context)
    step.checking_since = now if fixes_done and not checked else None
    step.verified_at = now if checked else None
    step.verified_by = context.by if checked else None
    change = StepChange(step=step, from_status=from_status, to_status=to_status, note=context.note, **context.row())
    return from_status, change


def _launches(step, steps) -> bool:
    """Whether ``step``, just moved, launches its integration: the last step, done."""
    return step.status == StepStatus.DONE and step.position == steps[-1].position


def _tradingview_checks(context: ChangeContext) -> bool:
    """Whether a step marked done in ``context`` was marked so by TradingView: a staff user, or the system."""
    if context.by is not None:
        return context.by.is_staff
    return context.source == ChangeSource.SYSTEM


@transaction.atomic
def verify_fixes(step, context: ChangeContext) -> IntegrationStep:
    """TradingView checks the fixes of a fixing step the partner marked done ("TradingView checks the fixes").

    Staff only (a partner may not check its own fixes); the step must be done and awaiting the check.
    Records who and when on the step and as a history row, and refreshes the standing: the ball
    moves on to what depends on the fixes.
    """
    integration = Integration.objects.select_for_update().select_related("partner").get(pk=step.integration_id)
    step.refresh_from_db()
    step.integration = integration
    refusal = state_refusal(integration) or user_refusal(context.by, step, VERIFY)
    if refusal is None and not awaiting_check(step):
        refusal = InvalidTransition(f"{step} has no fixes awaiting TradingView's check.")
    if refusal is not None:
        raise refusal
    step.verified_at = max(context.moment, step.checking_since)
    step.verified_by = context.by
    step.checking_since = None
    step.save(update_fields=["checking_since", "verified_at", "verified_by", "updated_at"])
    IntegrationEvent.objects.create(
        integration=integration,
        kind=IntegrationEvent.Kind.FIXES_VERIFIED,
        to_value=step.title,
        note=context.note,
        **{**context.row(), "at": step.verified_at},
    )
    refresh_standing(integration, context)
    return step


def _not_before_the_plan(step, context: ChangeContext, planned_moment) -> ChangeContext:
    """A change dated before the step was planned (a Jira time of years ago, work done before the
    kick-off) counts as made when it was planned: nothing of an integration happens before its
    plan, and its history never sorts before "Planned"."""
    if context.at is None:
        return context
    planned_at = planned_moment(step)
    if planned_at is None or context.moment >= planned_at:
        return context
    return replace(context, at=planned_at)


def _dating_refusal(step, context: ChangeContext, last_change):
    """A change may not be dated before the step's last status change: the history keeps its order."""
    if context.at is None:
        return None
    last = last_change(step)
    if last is not None and context.moment < last.at:
        return StaleChange(
            f"{step}: a change dated {moment_text(context.moment)} comes before its last "
            f"recorded change ({last.get_to_status_display().lower()} on "
            f"{moment_text(last.at)}); it was not applied."
        )
    return None


def planned_moment(step):
    """When ``step`` was planned (its first history row, from no status), or None."""
    planned = StepChange.objects.filter(step=step, from_status="").order_by("at", "id").values_list("at", flat=True)
    return planned.first()


def last_change(step) -> StepChange | None:
    """The step's last recorded status change (its planning aside): no change may be dated before it."""
    return StepChange.objects.filter(step=step).status_changes().order_by("-at", "-id").first()


def _launch(integration, step, context: ChangeContext):
    today = context.today
    integration.state = Integration.State.LAUNCHED
    integration.launched_on = today
    integration.save(update_fields=["state", "launched_on", "updated_at"])
    IntegrationEvent.objects.create(
        integration=integration,
        kind=IntegrationEvent.Kind.LAUNCHED,
        to_value=str(today),
        note=f"{step} done.",
        **context.row(),
    )
    events.announce(events.LAUNCHED, integration, context, step=step, launched_on=today)


def apply_action(step, name: str, context: ChangeContext) -> IntegrationStep:
    """Take the action ``name`` (``roadmap.transitions.ACTIONS``, or "verify") on ``step``."""
    if name == VERIFY.name:
        return verify_fixes(step, context)
    action = ACTIONS.get(name)
    if action is None:
        raise InvalidInput(f"Unknown action {name!r}; choose from {', '.join(ACTIONS)}.")
    if not action.offered_for(step):
        raise InvalidTransition(f"{step} is {step.get_status_display().lower()}: '{action.label}' does not apply.")
    refusal = user_refusal(context.by, step, action)
    if refusal is not None:
        raise refusal
    return change_status(step, action.target(step), context)


def start_step(step, context):
    return change_status(step, StepStatus.IN_PROGRESS, context)


def complete_step(step, context):
    return change_status(step, StepStatus.DONE, context)


def block_step(step, context):
    return change_status(step, StepStatus.BLOCKED, context)


def unblock_step(step, context):
    return change_status(step, StepStatus.IN_PROGRESS, context)


def reopen_step(step, context):
    """Send a done step back to work, or bring back a step that was marked not applicable.

    It owes new work from the reopen: the standing gives it the plan's turnaround from then, and
    what was done after it waits for it again (``roadmap.standing``).
    """
    return apply_action(step, "reopen", context)


def mark_not_applicable(step, context):
    return change_status(step, StepStatus.NOT_APPLICABLE, context)


class StepMoves:
    """Status changes of many steps over a few integrations, judged by ``change_status``'s rules and written together.

    For news that moves many steps at once (a page of Jira's pull): the integrations are locked and
    read, with their steps and the steps' history, once (``read``); each change is judged and made
    in memory in turn (``change``: a later one sees the earlier ones, as one ``change_status`` after
    another would); ``write`` then saves them all: the steps in one UPDATE, the history rows in
    one INSERT, the events announced together, and each integration's standing refreshed once,
    not once per change.
    """

    def __init__(self, integrations, steps: dict[int, list]):
        """``integrations``: locked, with their partner; ``steps``: each one's steps in order, the instances moved."""
        self.integrations = {integration.pk: integration for integration in integrations}
        self.steps = steps
        self._planned = self._last = None  # the steps' history, read once a change is dated (``_history``)
        self.moved = {}  # step pk -> step
        self.changes = []  # (history row, context, status left, the step as the change left it)
        self.contexts = {}  # integration pk -> the contexts of its changes, in order
        self.launched = []  # (integration, step, context)

    @classmethod
    def read(cls, integration_ids) -> "StepMoves":
        """The integrations ``integration_ids`` locked until the transaction ends (in id order), with their steps."""
        locked = Integration.objects.select_for_update(of=("self",)).select_related("partner", "template")
        integrations = list(locked.filter(pk__in=integration_ids).order_by("pk"))
        by_pk = {integration.pk: integration for integration in integrations}
        steps = {pk: [] for pk in by_pk}
        for step in IntegrationStep.objects.filter(integration_id__in=by_pk).order_by("position"):
            step.integration = by_pk[step.integration_id]
            steps[step.integration_id].append(step)
        return cls(integrations, steps)

    def _history(self):
        """When each step was planned and its last status change, read once for all the steps: only when
        a change is dated (Jira's are), so integrations locked and read but not moved cost nothing more."""
        if self._last is None:
            ids = [s.pk for of_one in self.steps.values() for s in of_one]
            planned = StepChange.objects.filter(step_id__in=ids, from_status="").values("step_id")
            self._planned = {row["step_id"]: row["first"] for row in planned.annotate(first=Min("at"))}
            self._last = {}
            for change in StepChange.objects.filter(step_id__in=ids).status_changes().order_by("-at", "-id"):
                self._last.setdefault(change.step_id, change)
        return self._planned, self._last

    def planned_moment(self, step):
        return self._history()[0].get(step.pk)

    def last_change(self, step) -> StepChange | None:
        return self._history()[1].get(step.pk)

    def change(self, step, to_status, context: ChangeContext) -> IntegrationStep:
        """``change_status`` of ``step`` (one of ``steps``), in memory until ``write``; raises its ``Refusal``."""
        integration = self.integrations[step.integration_id]
        step.integration = integration
        steps = self.steps[integration.pk]
        context = _not_before_the_plan(step, context, self.planned_moment)
        from_status, change = _move(step, to_status, context, steps, self.last_change)
        step.updated_at = timezone.now()  # bulk_update leaves auto_now alone
        self.moved[step.pk] = step
        self._history()[1][step.pk] = change
        # The step as this change left it, for the receivers: a later change of the page moves the instance on.
        self.changes.append((change, context, from_status, copy.copy(step)))
        self.contexts.setdefault(integration.pk, []).append(context)
        if _launches(step, steps):
            # Launched now: a later change of this integration is refused, as after change_status.
            integration.state = Integration.State.LAUNCHED
            self.launched.append((integration, step, context))
        return step

    def write(self):
        """Save what ``change`` made, announce it, and refresh each integration's standing once."""
        if not self.changes:
            return
        update_rows(self.moved.values(), MOVED_FIELDS)
        StepChange.objects.bulk_create([change for change, *_ in self.changes])
        launching = {integration.pk for integration, _, _ in self.launched}
        history = {pk: [] for pk in self.contexts}
        for event in IntegrationEvent.objects.filter(integration_id__in=self.contexts):
            history[event.integration_id].append(event)
        # The standing after the changes, for the receivers; an integration launching here is read after its launch.
        reopens = reopens_of([step for pk in self.contexts for step in self.steps[pk]])
        now = {
            pk: standing(self.integrations[pk], steps=self.steps[pk], integration_events=history[pk], reopens=reopens)
            for pk in self.contexts
            if pk not in launching
        }
        events.announce_all(
            [
                events.RoadmapEvent(
                    events.STEP_CHANGED,
                    self.integrations[step.integration_id],
                    context,
                    step,
                    {"from_status": from_status, "to_status": change.to_status},
                    standing=now.get(step.integration_id),
                )
                for change, context, from_status, step in self.changes
            ]
        )
        for integration, step, context in self.launched:
            _launch(integration, step, context)
            now[integration.pk] = standing(integration, steps=self.steps[integration.pk])
        # A reopen's own row says how the reopen moved the step's deadline.
        reopened = {
            (change.step_id, change.at): change
            for change, _, from_status, _ in self.changes
            if from_status in SETTLED_STATUSES and change.to_status not in SETTLED_STATUSES
        }
        changed = {}
        for change, context, *_ in self.changes:
            changed.setdefault(change.step_id, []).append(context)
        store_standings(
            [(now[pk], contexts) for pk, contexts in self.contexts.items()], DeadlineHistory(reopened, changed)
        )
        self.moved, self.changes, self.contexts, self.launched = {}, [], {}, []
