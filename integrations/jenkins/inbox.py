"""The inbox of Jenkins deliveries: each stored row is claimed, applied once, and its outcome recorded.

The webhook stores a ``JenkinsDelivery`` before Jenkins hears 2xx and queues ``process`` after the
commit. A row is claimed with a conditional UPDATE, so the queued task, the sweep and a replay
never apply it twice at once. Its outcome: ``applied`` (the build moved; the autotest steps were
settled), ``ignored`` (older news of a build, a queued build without a number), ``duplicate``
(the same phase and status again), ``failed`` (the stored body cannot be used, or a bug: a person
reads ``detail`` and may replay it). The sweep picks up rows never queued or whose worker died.
"""

import logging
from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone

from integrations.jenkins import rules
from integrations.jenkins.models import JenkinsDelivery
from integrations.jenkins.runs import BadNews, BuildNews, record

logger = logging.getLogger(__name__)

State = JenkinsDelivery.State
PENDING_GRACE = timedelta(seconds=10)  # a younger pending row is most likely in the queue already
STUCK_AFTER = timedelta(minutes=10)  # a task is killed after 300 s: a row processing longer lost its worker
SWEEP_BATCH = 500


def claimable(now):
    return Q(outcome=State.PENDING) | Q(outcome=State.PROCESSING, claimed_at__lt=now - STUCK_AFTER)


def process(delivery_id: int, now=None) -> str | None:
    """Apply one stored delivery; its outcome, or None if another worker has it or it is done."""
    now = now or timezone.now()
    claimed = JenkinsDelivery.objects.filter(claimable(now), pk=delivery_id).update(
        outcome=State.PROCESSING, claimed_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    delivery = JenkinsDelivery.objects.select_related("job__integration").get(pk=delivery_id)
    try:
        state, detail = apply(delivery)
    except Exception as error:  # a bug: recorded for a person to read and replay, never lost
        logger.exception("jenkins.inbox.failed id=%s", delivery.pk)
        state, detail = State.FAILED, f"{type(error).__name__}: {error}"
    JenkinsDelivery.objects.filter(pk=delivery.pk, outcome=State.PROCESSING, claimed_at=now).update(
        outcome=state, detail=detail, processed_at=timezone.now()
    )
    logger.info(
        "jenkins.inbox.processed id=%s build=%s %s outcome=%s", delivery.pk, delivery.number, delivery.phase, state
    )
    return state


def apply(delivery: JenkinsDelivery) -> tuple[str, str]:
    try:
        news = BuildNews.from_json(delivery.body)
    except BadNews as error:
        return State.FAILED, str(error)
    recorded = record(delivery.job, news, delivery.received_at, delivery.body)
    if recorded.state != State.APPLIED:
        return recorded.state, recorded.detail
    settled = rules.settle(delivery.job.integration)
    return State.APPLIED, " ".join([recorded.detail, *settled])


def sweep(now=None, *, limit: int = SWEEP_BATCH) -> int:
    """Process the deliveries left behind, oldest first, at most ``limit``; how many were processed."""
    now = now or timezone.now()
    due = JenkinsDelivery.objects.filter(claimable(now)).exclude(
        outcome=State.PENDING, received_at__gt=now - PENDING_GRACE
    )
    ids = list(due.order_by("received_at", "id").values_list("id", flat=True)[:limit])
    return sum(1 for pk in ids if process(pk, now=now) is not None)


def replay(delivery: JenkinsDelivery) -> str | None:
    """Put ``delivery`` back to pending and apply it now; None if a worker is applying it right now."""
    JenkinsDelivery.objects.filter(pk=delivery.pk).exclude(outcome=State.PROCESSING).update(
        outcome=State.PENDING, claimed_at=None
    )
    logger.info("jenkins.inbox.replay id=%s", delivery.pk)
    state = process(delivery.pk)
    delivery.refresh_from_db()
    return state
