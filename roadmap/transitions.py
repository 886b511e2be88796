"""The step state machine in one table: the actions a step's status offers, where each leads, which
need a reason and which a partner user may take.

Everything else is read from ``ACTIONS``: the status changes allowed (``ALLOWED``), the reason a
change needs (``transition_refusal``) and the action a bare status change amounts to
(``action_for``), so ``change_status`` judges who may make it by that action's rules.
``integrations.actions`` says who may take an action on a given step right now.
"""

from dataclasses import dataclass

from roadmap.models import StepStatus
from roadmap.refusals import InvalidInput, InvalidTransition, ReasonRequired

S = StepStatus

# How a bare status change (``change_status`` gets only the two statuses) is known as an action:
# by the status it reaches, or by the status it leaves.
REACHING = "reaching"
LEAVING = "leaving"


@dataclass(frozen=True)
class Move:
    """One status change an action makes: from, to, and what to ask when it needs a reason."""

    from_status: str
    to_status: str
    reason: str = ""  # the question asked when no reason is given; "" when none is needed
    offered: bool = True  # False: allowed to a direct change_status, but no button offers it


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    phrase: str  # what it does, after "Only TradingView can ..."
    done: str  # what was done, after the step's name: "... marked done."
    partner_may: bool  # whether a partner user may take it on its own steps
    known_by: str  # REACHING or LEAVING: how a bare status change is recognised as this action
    moves: tuple[Move, ...]

    @property
    def needs_note(self) -> bool:
        return all(move.reason for move in self.moves if move.offered)

    def offered_for(self, step) -> bool:
        return step.status in self.offered_from

    def target(self, step) -> str:
        """The status the action moves ``step`` to; ``step``'s status must offer it."""
        return next(m.to_status for m in self.moves if m.offered and m.from_status == step.status)

    @property
    def offered_from(self) -> set[str]:
        return {m.from_status for m in self.moves if m.offered}

    def claims(self, from_status: str, to_status: str) -> bool:
        """Whether a bare change from ``from_status`` to ``to_status`` is recognised as this action."""
        if self.known_by == LEAVING:
            return any(m.from_status == from_status for m in self.moves)
        return any(m.to_status == to_status for m in self.moves)


def _moves(froms, to_status: str, reason: str = "") -> tuple[Move, ...]:
    return tuple(Move(f, to_status, reason) for f in froms)


# In the order the pages show the buttons. "Unblock" replaces "Start" on a blocked step.
ACTIONS = {
    a.name: a
    for a in (
        Action(
            "start",
            "Start",
            "start a step",
            "started",
            partner_may=True,
            known_by=REACHING,
            # Sending a step back to not started is allowed to change_status and counts as starting over.
            moves=(Move(S.NOT_STARTED, S.IN_PROGRESS), Move(S.IN_PROGRESS, S.NOT_STARTED, offered=False)),
        ),
        Action(
            "complete",
            "Mark done",
            "mark a step done",
            "marked done",
            partner_may=True,
            known_by=REACHING,
            moves=_moves((S.NOT_STARTED, S.IN_PROGRESS, S.BLOCKED), S.DONE),
        ),
        Action(
            "block",
            "Block",
            "block a step",
            "blocked",
            partner_may=True,
            known_by=REACHING,
            moves=_moves((S.NOT_STARTED, S.IN_PROGRESS), S.BLOCKED, "Say why the step is blocked."),
        ),
        Action(
            "unblock",
            "Unblock",
            "unblock a step",
            "unblocked",
            partner_may=True,
            known_by=LEAVING,
            moves=(
                Move(S.BLOCKED, S.IN_PROGRESS, "Say what unblocked the step."),
                Move(S.BLOCKED, S.NOT_STARTED, "Say what unblocked the step.", offered=False),
            ),
        ),
        Action(
            "reopen",
            "Reopen",
            "reopen a step",
            "reopened",
            partner_may=False,
            known_by=LEAVING,
            # A done step goes back to work; a step that did not apply is brought back.
            moves=(
                Move(S.DONE, S.IN_PROGRESS, "Say why the step is reopened."),
                Move(S.NOT_APPLICABLE, S.NOT_STARTED, "Say why the step applies after all."),
            ),
        ),
        Action(
            "not_applicable",
            "Not applicable",
            "mark a step not applicable",
            "marked not applicable",
            partner_may=False,
            known_by=REACHING,
            moves=_moves(
                (S.NOT_STARTED, S.IN_PROGRESS, S.BLOCKED), S.NOT_APPLICABLE, "Say why the step does not apply."
            ),
        ),
    )
}

# Which action a bare status change amounts to: the first of these that claims it. Reaching not
# applicable comes first, then leaving a settled step (reopening), then reaching done or blocked,
# then leaving blocked; anything else between not started and in progress is starting.
RECOGNISED_IN_ORDER = ("not_applicable", "reopen", "complete", "block", "unblock", "start")

MOVES: dict[tuple[str, str], Move] = {(m.from_status, m.to_status): m for a in ACTIONS.values() for m in a.moves}
ALLOWED: dict[str, set[str]] = {status: {to for (f, to) in MOVES if f == status} for status in S.values}


def action_for(from_status: str, to_status: str) -> Action | None:
    """The action a status change amounts to, so every caller of change_status meets the same rules.

    Also for a change the machine refuses, so who may is judged first, as for any other change.
    """
    for name in RECOGNISED_IN_ORDER:
        if ACTIONS[name].claims(from_status, to_status):
            return ACTIONS[name]
    return None


def transition_refusal(from_status: str, to_status: str, reason: str):
    """Why ``from_status`` -> ``to_status`` is refused (a Refusal), or None when it is allowed."""
    if to_status not in S.values:
        return InvalidInput(f"Unknown step status {to_status!r}; choose from {', '.join(S.values)}.")
    if from_status == to_status:
        return InvalidTransition(f"The step is already {S(to_status).label.lower()}.")
    move = MOVES.get((from_status, to_status))
    if move is None:
        return InvalidTransition(
            f"A step that is {S(from_status).label.lower()} cannot become {S(to_status).label.lower()}."
        )
    if move.reason and not reason.strip():
        return ReasonRequired(move.reason)
    return None


def transition_error(from_status: str, to_status: str, reason: str) -> str:
    """The refusal's message for people, or "" when the change is allowed."""
    refusal = transition_refusal(from_status, to_status, reason)
    return refusal.message if refusal else ""
