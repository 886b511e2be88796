"""How long something that failed rests before it is tried again: exponential back-off, capped.

One rule for every retry the product schedules on a row (Jira deliveries, the Jira pull, the
Slack outbox); each caller keeps its own first wait and cap. Core level, so the Jira plug-in and
the notifications may both use it.
"""

import random
from datetime import timedelta

# Past this many doublings every wait has long reached any sensible cap; it keeps 2**n small.
MAX_DOUBLINGS = 62


def backoff(
    waited_before: int,
    *,
    first: timedelta,
    cap: timedelta,
    jitter: float = 0.0,
    rng: random.Random | None = None,
) -> timedelta:
    """The rest after ``waited_before`` earlier rests: ``first``, twice that, four times ... at most ``cap``.

    ``jitter`` (0 to 1) shortens each wait by a random share of up to that much (0.25: between 75% and
    100% of it), so rows that failed together are not all tried again at the same moment. ``rng``
    draws that share (a seeded ``random.Random`` in tests); the module's by default. A negative
    ``waited_before`` counts as 0.
    """
    doublings = min(max(waited_before, 0), MAX_DOUBLINGS)
    seconds = min(first.total_seconds() * 2**doublings, cap.total_seconds())
    if jitter:
        seconds *= (rng or random).uniform(1.0 - jitter, 1.0)
    return timedelta(seconds=seconds)
