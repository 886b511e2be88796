"""Which status changes a step may make, and which need a reason."""

import pytest

from roadmap.refusals import InvalidInput, InvalidTransition, ReasonRequired, Refusal
from roadmap.transitions import transition_error, transition_refusal

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
