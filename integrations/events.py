"""Domain events: what happened to an integration, announced inside the transaction that did it.

Every service in ``integrations.plan``, ``integrations.steps``, ``integrations.agreed_launch`` and ``integrations.handovers`` calls ``announce()`` after it
has written its rows and before its transaction commits. Receivers of ``roadmap_event`` run in
that same transaction: ``notifications`` writes its outbox rows there, so a message exists if and
only if the change does, and ``integrations`` never imports ``notifications``.

Each event carries the integration, the step (for step events), the ``ChangeContext`` (who, from
where, when, why) and details by kind:

| kind | when | details |
|---|---|---|
| ``kicked_off`` | the plan is made from the template | ``kickoff_on``, ``planned_launch`` |
| ``replanned`` | a new kick-off date moves the plan | ``from_kickoff``, ``to_kickoff``, ``planned_launch`` |
| ``paused`` | the clock stops | ``paused_on`` |
| ``resumed`` | the clock restarts; open deadlines move | ``paused_days`` |
| ``cancelled`` | the integration stops for good | ``from_state`` |
| ``step_changed`` | a step's status changes | ``from_status``, ``to_status`` |
| ``deadline_moved`` | a late hand-over moves an open step's deadline | ``from_due``, ``to_due``, ``because_of`` (a step code) |
| ``launched`` | the last step (open to all users) is done | ``launched_on`` |
| ``launch_agreed`` | a PM records the launch date agreed with the partner | ``agreed_on``, ``agreed_by``, ``was`` (the date agreed before, or None), ``record`` (the ``IntegrationEvent``'s id) |
| ``jira_news`` | an issue of the partner's Jira project was created, moved or commented | ``key``, ``what`` (created, moved, commented), ``status`` (moved to), ``news_key`` (the delivery's content key) |
| ``commented`` | someone comments on a step | ``comment`` (a ``Comment``), ``mentioned`` (the staff users it mentions, each once) |
| ``partner_handover`` | the partner hands over a base URL (checked), the sheet or beta testers | ``handover`` (a ``HANDOVER_KINDS`` key, or "" for a staging URL), ``summary``, ``passed`` (a URL check's result; None otherwise) |

A receiver must not call back into the services (the integration's row is locked) and should
raise only to abort the change.

A service changing many steps at once (``integrations.steps.StepMoves``: a page of Jira's pull or a
drain of its webhooks), or announcing a drain's Jira news, announces its events together (``announce_all``): ``roadmap_events`` carries them all in one call,
for receivers that read or write once for many events; ``roadmap_event`` then carries each one,
marked ``batched=True``, which those receivers skip (they had it in the batch) and others take as usual.
"""

from dataclasses import dataclass, field

from django.dispatch import Signal

KICKED_OFF = "kicked_off"
REPLANNED = "replanned"
PAUSED = "paused"
RESUMED = "resumed"
CANCELLED = "cancelled"
STEP_CHANGED = "step_changed"
DEADLINE_MOVED = "deadline_moved"
LAUNCHED = "launched"
LAUNCH_AGREED = "launch_agreed"
PARTNER_HANDOVER = "partner_handover"
JIRA_NEWS = "jira_news"
COMMENTED = "commented"
KINDS = (
    KICKED_OFF,
    REPLANNED,
    PAUSED,
    RESUMED,
    CANCELLED,
    STEP_CHANGED,
    DEADLINE_MOVED,
    LAUNCHED,
    LAUNCH_AGREED,
    PARTNER_HANDOVER,
    JIRA_NEWS,
    COMMENTED,
)

roadmap_event = Signal()  # sent with event=RoadmapEvent (and batched=True when also in roadmap_events)
roadmap_events = Signal()  # sent with events=[RoadmapEvent, ...]


@dataclass(frozen=True)
class RoadmapEvent:
    kind: str
    integration: object
    context: object  # ChangeContext
    step: object = None
    details: dict = field(default_factory=dict)
    # The integration's standing after the change, when the service has it: receivers need not compute it again.
    standing: object = None


def announce(kind: str, integration, context, step=None, **details) -> RoadmapEvent:
    """Tell every receiver that ``kind`` happened; called inside the change's transaction."""
    if kind not in KINDS:
        raise ValueError(f"Unknown roadmap event {kind!r}.")
    event = RoadmapEvent(kind, integration, context, step, details)
    roadmap_event.send(sender=RoadmapEvent, event=event)
    return event


def announce_all(announced: list[RoadmapEvent]) -> list[RoadmapEvent]:
    """Tell every receiver that all of ``announced`` happened, in order: the batch in one ``roadmap_events``
    call, then each event on ``roadmap_event`` marked ``batched``. Called inside the changes' transaction."""
    for event in announced:
        if event.kind not in KINDS:
            raise ValueError(f"Unknown roadmap event {event.kind!r}.")
    if announced:
        roadmap_events.send(sender=RoadmapEvent, events=announced)
        for event in announced:
            roadmap_event.send(sender=RoadmapEvent, event=event, batched=True)
    return announced
