"""Running a handed-over URL's check, in the worker: claim the pending ``UrlCheck``, probe the URL
(outside any transaction: it may take ``HANDOVER_CHECK_DEADLINE_SECONDS``), then record the result
and announce the hand-over with it, in one transaction.

A check is pending from the hand-over until its result is recorded. A worker claims it by
stamping ``started_at`` (and counting ``attempts``), so two messages for one check run it once.
A check left pending (its message lost, its worker killed) is stale once the deadline and a
margin have passed since it was handed over or last claimed: beat's re-queue
(``tasks.requeue_stale_checks``) queues it again, and after ``MAX_ATTEMPTS`` runs that never
finished records it as timed out, so none stays "checking" for ever.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from integrations import events
from integrations.context import ChangeContext
from integrations.handovers.models import Environment, Part, UrlCheck
from integrations.handovers.probe import Probe, probe
from integrations.models import Integration

Outcome = UrlCheck.Outcome
log = logging.getLogger(__name__)

# Beyond the deadline, how long a check may wait for a worker or for its result to be written.
STALE_MARGIN = timedelta(seconds=40)
# Runs of one check that may start and never finish (a URL that kills its worker) before it is given up.
MAX_ATTEMPTS = 3
REQUEUE_BATCH = 200


def stale_after() -> timedelta:
    """How long a pending check may go untouched before it counts as left behind."""
    return timedelta(seconds=settings.HANDOVER_CHECK_DEADLINE_SECONDS) + STALE_MARGIN


def run_check(check_id: int) -> str | None:
    """Claim check ``check_id``, probe its URL and record the result; the outcome, or None when it
    is not this run's to do (done already, another worker running it, or deleted)."""
    now = timezone.now()
    claimable = Q(started_at=None) | Q(started_at__lt=now - stale_after())
    claimed = UrlCheck.objects.filter(
        claimable, pk=check_id, outcome=Outcome.CHECKING, attempts__lt=MAX_ATTEMPTS
    ).update(started_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    check = UrlCheck.objects.select_related("checked_by").get(pk=check_id)
    result = probe(check.url, need_cors=check.part == Part.TRADING)
    return record(check, result, claimed_at=now)


def record(check: UrlCheck, result: Probe, *, claimed_at) -> str | None:
    """Write ``result`` on the pending ``check`` and announce the hand-over with it; None if the
    check is no longer pending, or another run has claimed it since ``claimed_at``."""
    now = timezone.now()
    with transaction.atomic():
        # One conditional UPDATE: of two runs finishing together, only one records and announces.
        still_ours = UrlCheck.objects.filter(pk=check.pk, outcome=Outcome.CHECKING, started_at=claimed_at)
        if not still_ours.update(
            outcome=result.outcome,
            detail=result.detail,
            status_code=result.status_code,
            elapsed_ms=result.elapsed_ms,
            finished_at=now,
        ):
            return None
        integration = Integration.objects.get(pk=check.integration_id)
        label = f"{Part(check.part).label} {Environment(check.environment).label.lower()} URL {check.url}"
        events.announce(
            events.PARTNER_HANDOVER,
            integration,
            ChangeContext(check.source, by=check.checked_by, at=now),
            handover="production_urls" if check.environment == Environment.PRODUCTION else "",
            summary=f"{label}: {result.detail}",
            passed=result.passed,
        )
    log.info("handovers.url_checked id=%s outcome=%s elapsed_ms=%s", check.pk, result.outcome, result.elapsed_ms)
    return result.outcome


def stale_check_ids(now=None, *, limit: int = REQUEUE_BATCH) -> list[int]:
    """Pending checks left behind that may run again, oldest first; those that ran out of attempts
    are recorded as timed out here."""
    now = now or timezone.now()
    # Untouched: neither handed over nor taken up by a worker within the deadline and its margin.
    stale = (
        UrlCheck.objects.filter(outcome=Outcome.CHECKING)
        .annotate(touched_at=Coalesce("started_at", "checked_at"))
        .filter(touched_at__lt=now - stale_after())
        .order_by("checked_at", "id")
    )
    for check in stale.filter(attempts__gte=MAX_ATTEMPTS).select_related("checked_by")[:limit]:
        give_up(check)
    return list(stale.filter(attempts__lt=MAX_ATTEMPTS).values_list("id", flat=True)[:limit])


def give_up(check: UrlCheck) -> str | None:
    """Record a check whose runs never finished as timed out."""
    detail = (
        f"The check of {check.url} was started {check.attempts} times and never finished: the worker "
        "running it stopped each time. Hand the URL over again to check it anew."
    )
    log.warning("handovers.url_check_given_up id=%s attempts=%s", check.pk, check.attempts)
    return record(check, Probe(Outcome.TIMEOUT, detail), claimed_at=check.started_at)
