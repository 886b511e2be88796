"""Which status changes a step may make, and which need a reason."""

import pytest

from roadmap.refusals import InvalidInput, InvalidTransition, ReasonRequired, Refusal
from roadmap.transitions import action_for, transition_error, transition_refusal

NS, IP, BL, DONE, NA = "not_started", "in_progress", "blocked", "done", "not_applicable"

ALLOWED = [
    (NS, IP),
    (NS, BL),
    (NS, DONE),
    (NS, NA),
    (IP, NS),
    (IP, BL),
    (IP, DONE),
    (IP, NA),
    (BL, NS),
    (BL, IP),
    (BL, DONE),
    (BL, NA),
    (DONE, IP),
    (NA, NS),
]
STATUSES = [NS, IP, BL, DONE, NA]
LABELS = {NS: "not started", IP: "in progress", BL: "blocked", DONE: "done", NA: "not applicable"}
REFUSED = [(f, t) for f in STATUSES for t in STATUSES if f != t and (f, t) not in ALLOWED]


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED)
def test_allowed_moves_with_a_reason(from_status, to_status):
    assert transition_refusal(from_status, to_status, "because the partner asked") is None
    assert transition_error(from_status, to_status, "because the partner asked") == ""


@pytest.mark.parametrize(("from_status", "to_status"), [(NS, IP), (NS, DONE), (IP, NS), (IP, DONE), (BL, DONE)])
def test_moves_that_need_no_reason(from_status, to_status):
    assert transition_refusal(from_status, to_status, "") is None
    assert transition_refusal(from_status, to_status, "   ") is None


@pytest.mark.parametrize(("from_status", "to_status"), REFUSED)
def test_other_moves_are_invalid_transitions(from_status, to_status):
    refusal = transition_refusal(from_status, to_status, "a reason")
    assert type(refusal) is InvalidTransition
    assert refusal.code == "invalid_transition"
    assert str(refusal) == f"A step that is {LABELS[from_status]} cannot become {LABELS[to_status]}."
    assert transition_error(from_status, to_status, "a reason") == str(refusal)


def test_the_refused_moves_are_those_out_of_settled_states():
    assert REFUSED == [(DONE, NS), (DONE, BL), (DONE, NA), (NA, IP), (NA, BL), (NA, DONE)]


def test_an_invalid_transition_is_refused_before_a_missing_reason():
    refusal = transition_refusal(DONE, BL, "")
    assert type(refusal) is InvalidTransition
    assert str(refusal) == "A step that is done cannot become blocked."


@pytest.mark.parametrize("to_status", ["finished", "", "DONE"])
def test_an_unknown_status_is_invalid_input(to_status):
    refusal = transition_refusal(NS, to_status, "x")
    assert type(refusal) is InvalidInput
    assert refusal.code == "invalid_input"
    assert str(refusal) == (
        f"Unknown step status {to_status!r}; choose from not_started, in_progress, blocked, done, not_applicable."
    )


@pytest.mark.parametrize("status", STATUSES)
def test_the_same_status_is_an_invalid_transition(status):
    refusal = transition_refusal(status, status, "x")
    assert type(refusal) is InvalidTransition
    assert str(refusal) == f"The step is already {LABELS[status]}."


@pytest.mark.parametrize("from_status", [NS, IP])
@pytest.mark.parametrize("reason", ["", "  \n"])
def test_blocking_needs_a_reason(from_status, reason):
    refusal = transition_refusal(from_status, BL, reason)
    assert type(refusal) is ReasonRequired
    assert refusal.code == "reason_required"
    assert str(refusal) == "Say why the step is blocked."


@pytest.mark.parametrize("reason", ["", " "])
def test_reopening_a_done_step_needs_a_reason(reason):
    refusal = transition_refusal(DONE, IP, reason)
    assert type(refusal) is ReasonRequired
    assert str(refusal) == "Say why the step is reopened."


@pytest.mark.parametrize("to_status", [NS, IP])
@pytest.mark.parametrize("reason", ["", "\t"])
def test_unblocking_needs_a_note(to_status, reason):
    refusal = transition_refusal(BL, to_status, reason)
    assert type(refusal) is ReasonRequired
    assert str(refusal) == "Say what unblocked the step."
    assert transition_refusal(BL, to_status, "The partner's VPN is open again") is None


def test_completing_a_blocked_step_needs_no_note():
    assert transition_refusal(BL, DONE, "") is None


@pytest.mark.parametrize("from_status", [NS, IP, BL])
def test_not_applicable_needs_a_reason(from_status):
    refusal = transition_refusal(from_status, NA, "")
    assert type(refusal) is ReasonRequired
    assert refusal.code == "reason_required"


@pytest.mark.parametrize("from_status", [NS, IP])
def test_not_applicable_asks_why_the_step_does_not_apply(from_status):
    assert str(transition_refusal(from_status, NA, "")) == "Say why the step does not apply."


def test_marking_a_blocked_step_not_applicable_asks_why_it_does_not_apply():
    assert str(transition_refusal(BL, NA, "")) == "Say why the step does not apply."


def test_bringing_back_a_not_applicable_step_needs_a_reason():
    refusal = transition_refusal(NA, NS, "")
    assert type(refusal) is ReasonRequired
    assert str(refusal) == "Say why the step applies after all."


@pytest.mark.parametrize(("from_status", "to_status"), [(f, t) for f in STATUSES for t in STATUSES])
def test_every_refusal_is_a_refusal_and_its_message_is_the_error(from_status, to_status):
    refusal = transition_refusal(from_status, to_status, "")
    assert refusal is None or isinstance(refusal, Refusal)
    assert transition_error(from_status, to_status, "") == ("" if refusal is None else refusal.message)


# --- the whole machine, pair by pair ------------------------------------------------------------
# Every (from, to) pair, and an unknown status: the action the change amounts to (whose who-may
# rules change_status applies before the transition's), then the refusal with a reason and
# without one, as (type, message), or None. Written down before the step actions and the allowed
# transitions became one table, so that table gives the same answers.

UNKNOWN = "finished"
_AGAIN = "{}: The step is already {}."
_CANNOT = "InvalidTransition: A step that is {} cannot become {}."
_UNKNOWN = (
    "InvalidInput: Unknown step status 'finished'; choose from not_started, in_progress, blocked, done, not_applicable."
)
BLOCKED_WHY = "ReasonRequired: Say why the step is blocked."
NA_WHY = "ReasonRequired: Say why the step does not apply."
UNBLOCKED_WHY = "ReasonRequired: Say what unblocked the step."
REOPENED_WHY = "ReasonRequired: Say why the step is reopened."
APPLIES_WHY = "ReasonRequired: Say why the step applies after all."


def _again(status):
    return _AGAIN.format("InvalidTransition", LABELS[status])


def _cannot(from_status, to_status):
    return _CANNOT.format(LABELS[from_status], LABELS[to_status])


# (from, to): (action, refusal with a reason, refusal without one)
MACHINE = {
    (NS, NS): ("start", _again(NS), _again(NS)),
    (NS, IP): ("start", None, None),
    (NS, BL): ("block", None, BLOCKED_WHY),
    (NS, DONE): ("complete", None, None),
    (NS, NA): ("not_applicable", None, NA_WHY),
    (NS, UNKNOWN): (None, _UNKNOWN, _UNKNOWN),
    (IP, NS): ("start", None, None),
    (IP, IP): ("start", _again(IP), _again(IP)),
    (IP, BL): ("block", None, BLOCKED_WHY),
    (IP, DONE): ("complete", None, None),
    (IP, NA): ("not_applicable", None, NA_WHY),
    (IP, UNKNOWN): (None, _UNKNOWN, _UNKNOWN),
    (BL, NS): ("unblock", None, UNBLOCKED_WHY),
    (BL, IP): ("unblock", None, UNBLOCKED_WHY),
    (BL, BL): ("block", _again(BL), _again(BL)),
    (BL, DONE): ("complete", None, None),
    (BL, NA): ("not_applicable", None, NA_WHY),
    (BL, UNKNOWN): ("unblock", _UNKNOWN, _UNKNOWN),
    (DONE, NS): ("reopen", _cannot(DONE, NS), _cannot(DONE, NS)),
    (DONE, IP): ("reopen", None, REOPENED_WHY),
    (DONE, BL): ("reopen", _cannot(DONE, BL), _cannot(DONE, BL)),
    (DONE, DONE): ("reopen", _again(DONE), _again(DONE)),
    (DONE, NA): ("not_applicable", _cannot(DONE, NA), _cannot(DONE, NA)),
    (DONE, UNKNOWN): ("reopen", _UNKNOWN, _UNKNOWN),
    (NA, NS): ("reopen", None, APPLIES_WHY),
    (NA, IP): ("reopen", _cannot(NA, IP), _cannot(NA, IP)),
    (NA, BL): ("reopen", _cannot(NA, BL), _cannot(NA, BL)),
    (NA, DONE): ("reopen", _cannot(NA, DONE), _cannot(NA, DONE)),
    (NA, NA): ("not_applicable", _again(NA), _again(NA)),
    (NA, UNKNOWN): ("reopen", _UNKNOWN, _UNKNOWN),
}


def _answer(refusal):
    return None if refusal is None else f"{type(refusal).__name__}: {refusal.message}"


def test_the_machine_table_covers_every_pair():
    assert set(MACHINE) == {(f, t) for f in STATUSES for t in [*STATUSES, UNKNOWN]}


@pytest.mark.parametrize(("from_status", "to_status"), list(MACHINE))
def test_every_pair_is_refused_or_allowed_as_written_down(from_status, to_status):
    _, with_reason, without = MACHINE[from_status, to_status]
    assert _answer(transition_refusal(from_status, to_status, "because the partner asked")) == with_reason
    assert _answer(transition_refusal(from_status, to_status, "")) == without
    assert _answer(transition_refusal(from_status, to_status, " \t")) == without


@pytest.mark.parametrize(("from_status", "to_status"), list(MACHINE))
def test_every_pair_amounts_to_the_action_written_down(from_status, to_status):
    action = action_for(from_status, to_status)
    assert (action.name if action else None) == MACHINE[from_status, to_status][0]
