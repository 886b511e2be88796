"""The URL check's deadline is for the whole check, not per read: a hostile server that keeps every
read short (one byte a second, for ever) is cut when ``HANDOVER_CHECK_DEADLINE_SECONDS`` run out,
whatever the phase (name lookup, connection, TLS handshake, the GET, the CORS preflight).

Each probe runs in a thread the test waits for at most the deadline plus two seconds, so a probe
that does not stop makes the test fail rather than hang.
"""

import socket
import threading
import time

import pytest

from integrations.handovers.models import UrlCheck
from integrations.handovers.probe import probe

Outcome = UrlCheck.Outcome
DEADLINE = 3
GRACE = 2  # what the deadline may be overrun by: a last read, the answer's bookkeeping


@pytest.fixture
def deadline(handover_servers, settings):
    """A three-second deadline, and a per-read time-out (10 s) longer than it, so only the deadline cuts."""
    settings.HANDOVER_CHECK_DEADLINE_SECONDS = DEADLINE
    settings.HANDOVER_CHECK_TIMEOUT_SECONDS = 10
    return handover_servers


def probe_within(limit: float, url: str, *, need_cors: bool):
    """Probe ``url`` in a thread; its result and elapsed seconds, failing if it runs past ``limit``."""
    result = {}

    def run():
        result["probe"] = probe(url, need_cors=need_cors)

    started = time.monotonic()
    thread = threading.Thread(target=run, daemon=True, name="probe-under-test")
    thread.start()
    thread.join(limit)
    elapsed = time.monotonic() - started
    assert not thread.is_alive(), f"the check was still running after {limit} s"
    return result["probe"], elapsed


def test_a_server_trickling_its_answer_is_cut_at_the_deadline(deadline):
    result, elapsed = probe_within(DEADLINE + GRACE, deadline.trickle, need_cors=False)

    assert result.outcome == Outcome.TIMEOUT
    assert DEADLINE - 0.5 <= elapsed < DEADLINE + GRACE
    assert result.elapsed_ms < (DEADLINE + GRACE) * 1000
    # What was seen: the server answered, but never finished its answer.
    assert f"within the check's {DEADLINE}-second limit" in result.detail
    assert "HTTP/1.1 200 OK" in result.detail
    assert "bytes" in result.detail


def test_a_trickling_cors_preflight_is_cut_at_the_deadline_and_the_get_is_still_reported(deadline):
    result, elapsed = probe_within(DEADLINE + GRACE, deadline.trickle_preflight, need_cors=True)

    assert result.outcome == Outcome.TIMEOUT
    assert elapsed < DEADLINE + GRACE
    assert result.status_code == 401  # the GET's answer, seen before the preflight stalled
    assert "answered 401" in result.detail
    assert "OPTIONS /api/accounts" in result.detail


def test_a_server_that_never_does_the_tls_handshake_is_cut_at_the_deadline(deadline):
    result, elapsed = probe_within(DEADLINE + GRACE, deadline.silent, need_cors=False)

    assert result.outcome == Outcome.TIMEOUT
    assert elapsed < DEADLINE + GRACE
    assert "TLS handshake" in result.detail


def test_a_name_lookup_that_hangs_is_cut_at_the_deadline(deadline, monkeypatch):
    never = threading.Event()

    def hanging_lookup(*args, **kwargs):
        never.wait(60)
        raise socket.gaierror("gave up")

    monkeypatch.setattr(socket, "getaddrinfo", hanging_lookup)
    try:
        result, elapsed = probe_within(DEADLINE + GRACE, "https://slow-dns.example.com/api", need_cors=False)
    finally:
        never.set()

    assert result.outcome == Outcome.TIMEOUT
    assert elapsed < DEADLINE + GRACE
    assert "slow-dns.example.com" in result.detail and "resolve" in result.detail


def test_the_deadline_spans_the_get_and_the_preflight_together(deadline, settings):
    """Each answer of ``delayed`` takes a second: two answers cannot fit in a one-second deadline,
    though each alone would."""
    settings.HANDOVER_CHECK_DEADLINE_SECONDS = 1.5

    result, elapsed = probe_within(1.5 + GRACE, deadline.delayed, need_cors=True)

    assert result.outcome == Outcome.TIMEOUT
    assert elapsed < 1.5 + GRACE
    assert "answered 401" in result.detail  # the GET made it in time; the preflight did not


def test_a_check_within_its_deadline_is_unaffected(deadline, settings):
    # Two seconds of answers against a deadline with room to spare: on a busy machine the check's own work
    # once took the last of a three-second one.
    settings.HANDOVER_CHECK_DEADLINE_SECONDS = 3 * DEADLINE
    result, elapsed = probe_within(3 * DEADLINE + GRACE, deadline.delayed, need_cors=True)

    assert result.passed, result.detail
    assert elapsed >= 2  # two answers, each a second late
