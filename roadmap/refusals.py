"""Refusals: why a change to the roadmap was not made, with a stable code and a message for people.

Every service that refuses a change raises one of these. They are ``ValidationError``s, so the
admin and forms show the message as they show any validation error; the API maps the ``code`` to
a status (409 for a conflict with the roadmap's state, 400 for bad input, 403 for permission),
and Jira processing asks ``retryable`` to tell an event that may apply later (its prerequisites
are still open, the integration is paused) from one that never will.
"""

from django.core.exceptions import ValidationError


class Refusal(ValidationError):
    """A change the roadmap refuses. Subclasses fix ``code``, ``retryable`` and ``http_status``."""

    code = "refused"
    retryable = False
    http_status = 400

    def __init__(self, message: str):
        super().__init__(message, code=self.code)

    def __str__(self):
        return self.message


class InvalidInput(Refusal):
    """A value that cannot be used: an unknown status, a malformed or out-of-range date."""

    code = "invalid_input"


class ReasonRequired(Refusal):
    """The change needs a note saying why (block, reopen, not applicable, re-plan, cancel)."""

    code = "reason_required"


class InvalidTransition(Refusal):
    """The step cannot move from its status to the one asked for."""

    code = "invalid_transition"
    http_status = 409


class PrerequisitesOpen(Refusal):
    """The step cannot be completed while steps it depends on are open; may apply later."""

    code = "prerequisites_open"
    retryable = True
    http_status = 409


class NotRunning(Refusal):
    """The integration is paused or not kicked off yet; the change may apply once it runs."""

    code = "not_running"
    retryable = True
    http_status = 409


class IntegrationEnded(Refusal):
    """The integration is launched or cancelled: its steps no longer change."""

    code = "integration_ended"
    http_status = 409


class NotAllowed(Refusal):
    """This user may not make this change (a partner user on a TradingView step, say)."""

    code = "not_allowed"
    http_status = 403


class StaleChange(Refusal):
    """The change is dated before what is already recorded for the step."""

    code = "stale_change"
    http_status = 409


class OpenBugs(Refusal):
    """A fixing step cannot be completed while bugs of its testing round are open (Jira)."""

    code = "open_bugs"
    retryable = True
    http_status = 409


class HandoverMissing(Refusal):
    """A partner step cannot be completed before the partner hands over what it needs (a checked
    production URL, the authorisation sheet, beta testers). Retryable: Jira's news waits for it."""

    code = "handover_missing"
    retryable = True
    http_status = 409


class AutotestsFailing(Refusal):
    """A step that needs passing autotests, while a part's latest finished build did not pass."""

    code = "autotests_failing"
    retryable = True
    http_status = 409


class WaitingOnFeed(Refusal):
    """Smoke testing, where the partner connects its own data feed, neither starts nor ends before the
    feed is in TradingView's production. Retryable: Jira's news waits for it."""

    code = "waiting_on_feed"
    retryable = True
    http_status = 409


class InvalidTemplate(Refusal):
    """The roadmap template cannot be planned: a cycle, a missing due week, a launch without window."""

    code = "invalid_template"


REFUSALS = {
    cls.code: cls
    for cls in (
        InvalidInput,
        ReasonRequired,
        InvalidTransition,
        PrerequisitesOpen,
        NotRunning,
        IntegrationEnded,
        NotAllowed,
        StaleChange,
        OpenBugs,
        WaitingOnFeed,
        HandoverMissing,
        InvalidTemplate,
    )
}
