"""The one back-off rule: exponential from the first wait, capped, with optional jitter."""

import random
from datetime import timedelta

import pytest

from integrations.retry import backoff

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def test_each_wait_doubles_from_the_first():
    waits = [backoff(n, first=MINUTE, cap=HOUR) for n in range(6)]
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16, 32)]


@pytest.mark.parametrize("waited_before", [6, 7, 62, 63, 10_000])
def test_no_wait_is_longer_than_the_cap(waited_before):
    assert backoff(waited_before, first=MINUTE, cap=HOUR) == HOUR


@pytest.mark.parametrize("waited_before", [0, -1, -50])
def test_nothing_waited_before_rests_the_first_wait(waited_before):
    assert backoff(waited_before, first=timedelta(seconds=30), cap=HOUR) == timedelta(seconds=30)


def test_a_cap_below_the_first_wait_wins():
    assert backoff(0, first=HOUR, cap=MINUTE) == MINUTE


def test_jitter_keeps_each_wait_between_its_share_and_the_whole():
    rng = random.Random(20260330)
    for n in range(12):
        whole = backoff(n, first=timedelta(seconds=30), cap=HOUR)
        waits = [backoff(n, first=timedelta(seconds=30), cap=HOUR, jitter=0.25, rng=rng) for _ in range(200)]
        assert all(whole * 0.75 <= wait <= whole for wait in waits)
        assert len(set(waits)) > 1  # it does spread them


def test_jitter_with_a_seeded_random_is_repeatable():
    first = [backoff(3, first=MINUTE, cap=HOUR, jitter=0.5, rng=random.Random(7)) for _ in range(3)]
    again = [backoff(3, first=MINUTE, cap=HOUR, jitter=0.5, rng=random.Random(7)) for _ in range(3)]
    assert first == again
    assert all(timedelta(minutes=4) <= wait <= timedelta(minutes=8) for wait in first)


def test_the_capped_wait_is_jittered_too():
    rng = random.Random(1)
    waits = [backoff(40, first=MINUTE, cap=HOUR, jitter=0.25, rng=rng) for _ in range(100)]
    assert all(HOUR * 0.75 <= wait <= HOUR for wait in waits)
