"""Which status changes a step may make, and which need a reason."""

from roadmap.models import StepStatus
from roadmap.refusals import InvalidInput, InvalidTransition, ReasonRequired

S = StepStatus
ALLOWED = {
    S.NOT_STARTED: {S.IN_PROGRESS, S.BLOCKED, S.DONE, S.NOT_APPLICABLE},
    S.IN_PROGRESS: {S.NOT_STARTED, S.BLOCKED, S.DONE, S.NOT_APPLICABLE},
    S.BLOCKED: {S.NOT_STARTED, S.IN_PROGRESS, S.DONE, S.NOT_APPLICABLE},
    # Reopening: a done step goes back to work, a step that did not apply is brought back.
    S.DONE: {S.IN_PROGRESS},
    S.NOT_APPLICABLE: {S.NOT_STARTED},
}


def transition_refusal(from_status: str, to_status: str, reason: str):
    """Why ``from_status`` -> ``to_status`` is refused (a Refusal), or None when it is allowed."""
    if to_status not in S.values:
        return InvalidInput(f"Unknown step status {to_status!r}; choose from {', '.join(S.values)}.")
    if from_status == to_status:
        return InvalidTransition(f"The step is already {S(to_status).label.lower()}.")
    if to_status not in ALLOWED[S(from_status)]:
        return InvalidTransition(
            f"A step that is {S(from_status).label.lower()} cannot become {S(to_status).label.lower()}."
        )
    if not reason.strip():
        if to_status == S.BLOCKED:
            return ReasonRequired("Say why the step is blocked.")
        if from_status == S.DONE:
            return ReasonRequired("Say why the step is reopened.")
        if to_status == S.NOT_APPLICABLE:
            return ReasonRequired("Say why the step does not apply.")
        if from_status == S.BLOCKED and to_status != S.DONE:
            return ReasonRequired("Say what unblocked the step.")
        if from_status == S.NOT_APPLICABLE:
            return ReasonRequired("Say why the step applies after all.")
    return None


def transition_error(from_status: str, to_status: str, reason: str) -> str:
    """The refusal's message for people, or "" when the change is allowed."""
    refusal = transition_refusal(from_status, to_status, reason)
    return refusal.message if refusal else ""
