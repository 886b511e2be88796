"""Completion guards: what must hold before a step may be marked done.

A guard is a function ``(step, steps) -> Refusal | None``, ``steps`` being all the steps of the
step's integration. The core guards the prerequisites (the steps a step depends on); each plug-in
registers its own guard from its ``AppConfig.ready()`` (``integrations.jira``: open bugs;
``integrations.handovers``: what the partner has not handed over yet; ``integrations.jenkins``:
autotests whose latest build did not pass), so the core imports no
plug-in. Each guard takes an explicit place, so which refusal people see first never depends on
the order the apps happen to load in.

A guard may also say when what it asks came true (``since``): news that waited on it (Jira's
"done" while a bug was open) is applied at that moment, not at the time the news was sent.

A guard that reads its own tables (bugs, URL checks and sheets, Jenkins jobs) reads them through
``read_for``, with a read of many integrations at once: changes judged together (``reading_for``,
a page of Jira's news) then read each table once, not once per guarded step.

A gate on the start: the checklist line "Partner's own data feed deployed to TradingView production"
(smoke testing, where the partner connects its own feed) holds the step until TradingView records
when the feed went live (``Integration.own_feed_in_production_on``), both its start and its
completion (``start_refusal``, and the guard at ``OWN_FEED``).
"""

from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime

from roadmap import standing as rules
from roadmap.refusals import PrerequisitesOpen, Refusal, WaitingOnFeed

Guard = Callable[[object, Iterable], Refusal | None]
# When each thing a guard asks of a step came true, as far as it is recorded, and what happened
# then ("bug ACME-42 was closed"); [] when nothing it asks is recorded with a time.
Cleared = tuple[datetime, str]
Since = Callable[[object, Iterable], list[Cleared]]

# The places taken; a plug-in names its own. Gaps leave room for guards to come.
PREREQUISITES = 10
OWN_FEED = 15
OPEN_BUGS = 20
HANDOVERS = 30
AUTOTESTS = 40

# What a guard reads of its own tables, for many integrations in one go: integration ids -> what
# was read for each (an id may be missing: nothing was found for it).
Read = Callable[[list[int]], dict[int, object]]

_guards: dict[int, Guard] = {}
_since: dict[int, Since] = {}
# The integrations of the changes made together (``reading_for``), and what each guard read for them.
_batch: ContextVar[tuple[frozenset, dict] | None] = ContextVar("guards_batch", default=None)


def register(place: int, guard: Guard, since: Since | None = None) -> None:
    """Add ``guard`` at ``place`` (lower places are asked first), with its ``since``. Registering it again is a no-op."""
    taken = _guards.get(place)
    if taken is not None and taken is not guard:
        raise ValueError(f"Completion guard place {place} is taken by {taken.__qualname__}.")
    _guards[place] = guard
    if since is not None:
        _since[place] = since


@contextmanager
def reading_for(integration_ids):
    """Inside, a guard's tables are read once for all of ``integration_ids`` (changes judged together,
    a page of Jira's news), at the first step that needs them, not once per guarded step."""
    token = _batch.set((frozenset(integration_ids), {}))
    try:
        yield
    finally:
        _batch.reset(token)


def read_for(read: Read, integration_id: int, default=None):
    """What ``read`` (a guard's read of its own tables) finds for ``integration_id``: inside
    ``reading_for``, from one read of all the batch's integrations; else from a read of this one."""
    batch = _batch.get()
    if batch is None or integration_id not in batch[0]:
        return read([integration_id]).get(integration_id, default)
    ids, done = batch
    if read not in done:
        done[read] = read(sorted(ids))
    return done[read].get(integration_id, default)


def forget_reads():
    """The batch's rows a guard reads changed (a page's bug news written): read them again when next needed."""
    batch = _batch.get()
    if batch is not None:
        batch[1].clear()


def registered() -> list[Guard]:
    """The guards in the order they are asked."""
    return [_guards[place] for place in sorted(_guards)]


def completion_refusal(step, steps) -> Refusal | None:
    """Why ``step`` may not be marked done now: the first guard's refusal, or None."""
    for guard in registered():
        refusal = guard(step, steps)
        if refusal is not None:
            return refusal
    return None


def cleared(step, steps) -> list[Cleared]:
    """When each thing the guards ask of ``step`` came true (where a time is recorded), latest last."""
    return sorted((c for place in sorted(_since) for c in _since[place](step, steps)), key=lambda c: c[0])


def prerequisites_refusal(step, steps) -> PrerequisitesOpen | None:
    """A step cannot be done before the steps it depends on."""
    waiting = rules.waiting_on(step, steps)
    if not waiting:
        return None
    names = "; ".join(f"{w} ({_waiting_state(w)})" for w in waiting)
    return PrerequisitesOpen(f"{step} cannot be done before the steps it depends on: {names}.")


def _waiting_state(step) -> str:
    if rules.awaiting_check(step):
        return "done, TradingView is checking the fixes"
    return step.get_status_display().lower()


def prerequisites_done(step, steps) -> list[Cleared]:
    """When each step ``step`` depends on was done."""
    return [(s.completed_at, f"{s.title} was done") for s in steps if s.code in step.depends_on and s.completed_at]


register(PREREQUISITES, prerequisites_refusal, since=prerequisites_done)


# The checklist line of the default roadmap's smoke testing that gates it (planned only where the
# partner connects its own data feed, by the line's condition).
OWN_FEED_LINE = "Partner's own data feed deployed to TradingView production"


def own_feed_refusal(step, steps=None) -> WaitingOnFeed | None:
    """A step whose checklist has the own-feed line waits until the feed is in TradingView's production."""
    if OWN_FEED_LINE not in (step.checklist or []) or step.integration.own_feed_in_production_on is not None:
        return None
    return WaitingOnFeed(
        f"{step} waits for the partner's own data feed to be deployed to TradingView production; "
        "record the day it went live on the integration (“own data feed in TradingView production since”)."
    )


def start_refusal(step, steps) -> Refusal | None:
    """Why ``step`` may not be started now: the gates that hold a step's start as well as its completion."""
    return own_feed_refusal(step, steps)


register(OWN_FEED, own_feed_refusal)
