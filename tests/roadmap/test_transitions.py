"""Which status changes a step may make, and which need a reason."""

import pytest

from roadmap.transitions import transition_error

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


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED)
def test_allowed_moves_with_a_reason(from_status, to_status):
    assert transition_error(from_status, to_status, "because the partner asked") == ""


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [(NS, IP), (NS, DONE), (IP, NS), (IP, DONE), (BL, NS), (BL, IP), (BL, DONE)],
)
def test_moves_that_need_no_reason(from_status, to_status):
    assert transition_error(from_status, to_status, "") == ""
    assert transition_error(from_status, to_status, "   ") == ""


@pytest.mark.parametrize(
    ("from_status", "to_status"),
    [(f, t) for f in STATUSES for t in STATUSES if f != t and (f, t) not in ALLOWED],
)
def test_other_moves_are_refused(from_status, to_status):
    assert (
        transition_error(from_status, to_status, "a reason")
        == f"A step that is {LABELS[from_status]} cannot become {LABELS[to_status]}."
    )


def test_the_refused_moves_are_those_out_of_settled_states():
    refused = [(f, t) for f in STATUSES for t in STATUSES if f != t and (f, t) not in ALLOWED]
    assert refused == [(DONE, NS), (DONE, BL), (DONE, NA), (NA, IP), (NA, BL), (NA, DONE)]


def test_done_cannot_go_back_to_not_started():
    assert transition_error(DONE, NS, "oops") == "A step that is done cannot become not started."


def test_unknown_status():
    assert transition_error(NS, "finished", "x") == (
        "Unknown step status 'finished'; choose from not_started, in_progress, blocked, done, not_applicable."
    )


@pytest.mark.parametrize("status", STATUSES)
def test_same_status(status):
    assert transition_error(status, status, "x") == f"The step is already {LABELS[status]}."


@pytest.mark.parametrize("from_status", [NS, IP])
@pytest.mark.parametrize("reason", ["", "  \n"])
def test_blocked_needs_a_reason(from_status, reason):
    assert transition_error(from_status, BL, reason) == "Say why the step is blocked."


@pytest.mark.parametrize("reason", ["", " "])
def test_reopening_a_done_step_needs_a_reason(reason):
    assert transition_error(DONE, IP, reason) == "Say why the step is reopened."


@pytest.mark.parametrize("from_status", [NS, IP, BL])
def test_not_applicable_needs_a_reason(from_status):
    assert transition_error(from_status, NA, "") == "Say why the step does not apply."


def test_bringing_back_a_not_applicable_step_needs_a_reason():
    assert transition_error(NA, NS, "") == "Say why the step applies after all."
