"""Which status changes a step may make, and which need a reason."""

from roadmap.models import StepStatus

S = StepStatus
ALLOWED = {
    S.NOT_STARTED: {S.IN_PROGRESS, S.BLOCKED, S.DONE, S.NOT_APPLICABLE},
    S.IN_PROGRESS: {S.NOT_STARTED, S.BLOCKED, S.DONE, S.NOT_APPLICABLE},
    S.BLOCKED: {S.NOT_STARTED, S.IN_PROGRESS, S.DONE, S.NOT_APPLICABLE},
    # Reopening: a done step goes back to work, a step that did not apply is brought back.
    S.DONE: {S.IN_PROGRESS},
    S.NOT_APPLICABLE: {S.NOT_STARTED},
}


def transition_error(from_status: str, to_status: str, reason: str) -> str:
    """Why ``from_status`` -> ``to_status`` is refused, or "" when it is allowed."""
    if to_status not in S.values:
        return f"Unknown step status {to_status!r}; choose from {', '.join(S.values)}."
    if from_status == to_status:
        return f"The step is already {S(to_status).label.lower()}."
    if to_status not in ALLOWED[S(from_status)]:
        return f"A step that is {S(from_status).label.lower()} cannot become {S(to_status).label.lower()}."
    if not reason.strip():
        if to_status == S.BLOCKED:
            return "Say why the step is blocked."
        if from_status == S.DONE:
            return "Say why the step is reopened."
        if to_status == S.NOT_APPLICABLE:
            return "Say why the step does not apply."
        if from_status == S.NOT_APPLICABLE:
            return "Say why the step applies after all."
    return ""
