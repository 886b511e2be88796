"""What a user may do to a step right now: the one rule the admin, pages, Slack and the API share.

``step_actions(step, user)`` lists the actions a step's status offers (start, complete, block,
unblock, reopen, not applicable), each with the refusal that keeps this user from taking it now,
or none; ``allowed_actions`` keeps those without a refusal. ``integrations.steps`` applies an
action by name, checking the same rules again inside its transaction. The actions themselves
(where each is offered, where it leads, whether a partner may take it) are the table of
``roadmap.transitions``; what a step must meet before it is done, ``integrations.guards``.

Who may act: TradingView staff on any step; a partner user only on its own partner's
partner-side steps, and only to start, complete, block or unblock them.

One action moves no status: "Verify fixes" (``VERIFY``), offered to TradingView on a fixing step the
partner marked done, while it awaits TradingView's check (``roadmap.standing.awaiting_check``);
``integrations.steps.verify_fixes`` takes it.
"""

from dataclasses import dataclass

from integrations.guards import completion_refusal, start_refusal
from integrations.visibility import partner_of
from roadmap import standing as rules
from roadmap.models import StepStatus
from roadmap.refusals import IntegrationEnded, NotAllowed, NotRunning, Refusal
from roadmap.standing import awaiting_check
from roadmap.transitions import ACTIONS as STATUS_ACTIONS
from roadmap.transitions import Action


class _Check(Action):
    """An action that moves no status and asks no reason."""

    @property
    def needs_note(self) -> bool:
        return False


VERIFY = _Check(
    "verify",
    "Verify fixes",
    "verify the fixes",
    "fixes verified",
    partner_may=False,
    known_by="",  # never a status change: change_status does not recognise it
    moves=(),
)
# Every action a page may take by name: the state machine's, and the check of the fixes.
ACTIONS = {**STATUS_ACTIONS, VERIFY.name: VERIFY}


@dataclass(frozen=True)
class StepAction:
    action: Action
    refusal: Refusal | None

    @property
    def name(self) -> str:
        return self.action.name

    @property
    def label(self) -> str:
        return self.action.label

    @property
    def needs_note(self) -> bool:
        return self.action.needs_note

    @property
    def allowed(self) -> bool:
        return self.refusal is None


def user_refusal(user, step, action: Action | None = None) -> Refusal | None:
    """Why ``user`` may not act on ``step`` (with ``action``), or None when they may."""
    if user is None:
        return None  # the system, Jira, or someone named only by a Slack or Jira handle
    if not user.is_authenticated or not user.is_active:
        return NotAllowed("Log in to change a step.")
    if user.is_staff:
        return None
    partner = partner_of(user)
    if partner is None or partner.pk != step.integration.partner_id:
        return NotAllowed(f"{user.get_username()} does not work on {step.integration}.")
    if step.side != "partner":
        return NotAllowed(f"{step} is TradingView's step; only TradingView can change it.")
    if action is not None and not action.partner_may:
        return NotAllowed(f"Only TradingView can {action.phrase}.")
    return None


def state_refusal(integration) -> Refusal | None:
    """Why no step of ``integration`` may change now, or None while it is running."""
    if integration.is_paused:
        return NotRunning(f"{integration} is paused; resume it first.")
    if integration.has_ended:
        return IntegrationEnded(
            f"{integration} is {integration.get_state_display().lower()}; its steps can no longer change."
        )
    if not integration.is_started:
        return NotRunning(f"{integration} has not been kicked off yet.")
    return None


def step_actions(step, user, steps=None) -> list[StepAction]:
    """The actions ``step``'s status offers, each with why ``user`` may not take it now (or None)."""
    integration = step.integration
    result = []
    for action in STATUS_ACTIONS.values():
        if not action.offered_for(step):
            continue
        if action.name == "not_applicable" and _is_launch(step, steps):
            continue
        refusal = state_refusal(integration) or user_refusal(user, step, action)
        if refusal is None and action.name == "complete":
            refusal = completion_refusal(step, integration.steps.all() if steps is None else steps)
        if refusal is None and action.name == "start" and step.status == "not_started":
            refusal = start_refusal(step, steps)
        result.append(StepAction(action, refusal))
    if awaiting_check(step):
        result.append(StepAction(VERIFY, state_refusal(integration) or user_refusal(user, step, VERIFY)))
    return result


def allowed_actions(step, user, steps=None) -> list[StepAction]:
    """The actions ``user`` may take on ``step`` right now."""
    return [a for a in step_actions(step, user, steps) if a.allowed]


def _is_launch(step, steps) -> bool:
    if steps is None:
        return step.is_launch
    return step.position == max(s.position for s in steps)


# --- what a page offers now -------------------------------------------------------------------


@dataclass(frozen=True)
class StepOffer:
    """What a page offers on one step now: the actions ``user`` may take, and at most one short
    line on why it offers no more ("waits for: ..."). Refusals stay whole for the API and posts."""

    actions: list[StepAction]
    line: str = ""


def on_hold(integration) -> str:
    """The one banner a page shows, instead of a refusal per step, when no step may change now; or ''."""
    if integration.is_paused:
        return "Paused: resume to act on steps."
    if integration.has_ended:
        return f"{integration.get_state_display()}: its steps can no longer change."
    if not integration.is_started:
        return "Not kicked off yet: kick it off to act on steps."
    return ""


def step_offer(step, user, steps) -> StepOffer:
    """The buttons a page shows on ``step`` for ``user``: none while the integration is on hold (its
    banner says why, once), none on a step not started that waits for others (one line names them),
    otherwise the actions allowed now, with the reason it cannot be marked done yet, if any."""
    if state_refusal(step.integration) is not None:
        return StepOffer([])
    waiting = rules.waiting_on(step, steps) if step.is_open else []
    line = ("waits for: " + "; ".join(str(w) for w in waiting)) if waiting else ""
    if waiting and step.status == StepStatus.NOT_STARTED:
        return StepOffer([], line)
    actions = step_actions(step, user, steps)
    if not line:
        done = next((a for a in actions if a.name == "complete" and not a.allowed), None)
        line = f"Not done yet: {done.refusal.message}" if done is not None and user_refusal(user, step) is None else ""
    return StepOffer([a for a in actions if a.allowed], line)
