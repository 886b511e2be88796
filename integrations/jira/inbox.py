"""The inbox of Jira webhook deliveries: each stored row is claimed, processed once, and recorded.

The webhook view stores a ``JiraDelivery`` before Jira hears 2xx and, after the commit, queues a
``drain`` (one per burst): it claims the pending rows a batch at a time and applies their issue
news together. ``process`` handles one delivery (a replay, a message queued before drains). A row is claimed with a conditional UPDATE, so a queued task, the sweep and a replay
never process it twice at once. Its outcome says what happened: ``applied``; ``waiting`` (the
roadmap refused for now, e.g. prerequisites open: tried again after a back-off); ``ignored``
(nothing to do, or older than what is known); ``duplicate`` (the same news as an earlier delivery,
resent under another delivery id: see ``content_key``); ``failed`` (the body cannot be used, or a
bug: a person looks at ``detail`` and may replay it). A failure that comes from two workers
meeting on one issue (a unique key taken meanwhile, a deadlock, a serialization failure) is not a
failure of the delivery: the row waits and is tried again, like a delivery the roadmap refused
for now.

The sweep picks up what was left behind: rows never queued (the broker was down), rows whose
worker died mid-way (``processing`` for longer than a task may run), and waiting rows now due.
"""

import copy
import hashlib
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations import retry
from integrations.batches import update_rows
from integrations.jira import news
from integrations.jira.client import JiraError, fetch_issue
from integrations.jira.issues import Handled, IssueFacts, MalformedIssue, apply_issue, apply_issues
from integrations.jira.models import JiraDelivery, JiraIssue

logger = logging.getLogger(__name__)

Status = JiraDelivery.State

# A pending row younger than this is most likely in the queue already: the sweep leaves it to its task.
PENDING_GRACE = timedelta(seconds=10)
# A task is killed after CELERY_TASK_TIME_LIMIT (300 s); a row processing for longer lost its worker.
STUCK_AFTER = timedelta(minutes=10)
BACKOFF_FIRST = timedelta(minutes=1)
BACKOFF_MAX = timedelta(hours=1)
SWEEP_BATCH = 500
# How many pending deliveries one drain takes at once: one claim, one look for resent news, the
# issue news applied together, one write of the outcomes.
DRAIN_BATCH = 100

REPLAYABLE = (Status.APPLIED, Status.IGNORED, Status.DUPLICATE, Status.FAILED, Status.WAITING, Status.PENDING)
# What a worker meeting another on the same rows may raise (a unique key inserted meanwhile, a
# deadlock, a serialization failure, a lock wait given up): worth trying again, not a failure.
RACES = (IntegrityError, OperationalError)


def content_key(body) -> str:
    """What a delivery says, to know it when Jira resends it under another delivery id; '' when it cannot tell.

    The event, the issue key and the issue's ``updated`` (and the changelog's or comment's id when
    there is one): two deliveries saying all of these alike carry the same news.
    """
    if not isinstance(body, dict):
        return ""
    issue = body.get("issue") if isinstance(body.get("issue"), dict) else {}
    fields = issue.get("fields") if isinstance(issue.get("fields"), dict) else {}
    parts = [body.get("webhookEvent"), issue.get("key"), fields.get("updated")]
    if not all(isinstance(part, str) and part.strip() for part in parts):
        return ""
    for extra in ("changelog", "comment"):
        said = body.get(extra)
        if isinstance(said, dict) and said.get("id") not in (None, ""):
            parts.append(f"{extra}:{said['id']}")
    key = "|".join(str(part).strip() for part in parts)
    max_length = JiraDelivery._meta.get_field("content_key").max_length
    return key if len(key) <= max_length else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def backoff(attempts: int) -> timedelta:
    """How long a waiting delivery rests after its ``attempts``-th try: 1, 2, 4 ... minutes, at most an hour."""
    return retry.backoff(attempts - 1, first=BACKOFF_FIRST, cap=BACKOFF_MAX)


def claimable(now: datetime) -> Q:
    """Rows a worker may take now: pending, waiting and due, or left in processing by a dead worker."""
    return (
        Q(outcome=Status.PENDING)
        | Q(outcome=Status.WAITING, not_before__isnull=True)
        | Q(outcome=Status.WAITING, not_before__lte=now)
        | Q(outcome=Status.PROCESSING, claimed_at__lt=now - STUCK_AFTER)
    )


def process(delivery_id: int, *, now: datetime | None = None) -> str | None:
    """Claim delivery ``delivery_id``, apply it, record its outcome; None if it is not ours to process."""
    claimed_at = now or timezone.now()
    claimed = (
        JiraDelivery.objects.filter(claimable(claimed_at), pk=delivery_id).update(
            outcome=Status.PROCESSING, claimed_at=claimed_at, attempts=F("attempts") + 1
        )
        == 1
    )
    if not claimed:
        return None
    delivery = JiraDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None:  # deleted in the admin meanwhile
        return None
    first = None

    def outcome():
        nonlocal first
        first = same_news_before(delivery)
        return duplicate(first) if first else handle(delivery)

    result = _guarded(delivery, outcome)
    if _record(delivery, result, claimed_at, duplicate_of=first):
        delivery.outcome = result.state
        news.announce([delivery])
    return result.state


def _guarded(delivery: JiraDelivery, work):
    """What ``work()`` returns, or the outcome its error means: a body that cannot be used fails, two
    workers meeting on one issue wait, a bug fails with its message; never the row left processing."""
    try:
        return work()
    except MalformedIssue as error:
        return Handled(Status.FAILED.value, str(error))
    except SoftTimeLimitExceeded:
        raise  # the task is being stopped: the row stays in processing and the sweep takes it up again
    except RACES as error:
        logger.warning(
            "jira.inbox.race delivery=%s id=%s issue=%s: %s",
            delivery.delivery_id,
            delivery.pk,
            delivery.issue_key,
            error,
        )
        return Handled(
            Status.WAITING.value,
            f"Met another worker on {delivery.issue_key or 'the same rows'} "
            f"({type(error).__name__}: {str(error).strip()[:300]}); tried again after a back-off.",
        )
    except Exception as error:  # a bug or bad data must not leave the row in processing, nor stop the sweep
        logger.exception(
            "jira.inbox.process_failed delivery=%s id=%s event=%s", delivery.delivery_id, delivery.pk, delivery.event
        )
        return Handled(Status.FAILED.value, f"{type(error).__name__}: {error}")


def drain(limit: int = DRAIN_BATCH, *, now: datetime | None = None) -> int:
    """Process up to ``limit`` pending deliveries, oldest first, as one batch; how many it took.

    The rows are claimed together (a row another worker is claiming is skipped, not waited for),
    the same news resent is found for all of them in one query, and the issue news of the batch
    is applied together (``apply_issues``): a burst costs queries per batch, plus those of the
    steps it moves. Events that are not issue news (a deletion, an event with nothing to do) are
    handled one by one, in their place in the order.
    """
    claimed_at = now or timezone.now()
    deliveries = claim(limit, claimed_at)
    if not deliveries:
        return 0
    firsts = _firsts(deliveries)
    results, duplicates, run = {}, {}, []

    def apply_run():
        if not run:
            return
        news = [facts for _, facts in run]
        who = [_who(delivery.body) for delivery, _ in run]
        outcomes = _guarded(run[0][0], lambda: apply_issues(news, who=who, moving=True))
        if isinstance(outcomes, Handled):  # the batch met a race or a bug: each delivery on its own
            outcomes = [_guarded(delivery, lambda d=delivery: handle(d)) for delivery, _ in run]
        results.update((delivery.pk, outcome) for (delivery, _), outcome in zip(run, outcomes, strict=True))
        run.clear()

    for delivery in deliveries:
        first = firsts.get(delivery.content_key)
        if delivery.content_key and first is not None and first.pk < delivery.pk:
            duplicates[delivery.pk] = first
        elif isinstance(facts := _issue_news(delivery), IssueFacts):
            run.append((delivery, facts))
        else:
            apply_run()  # what came before it first, in order
            results[delivery.pk] = facts if facts is not None else _guarded(delivery, lambda d=delivery: handle(d))
    apply_run()
    for pk, first in duplicates.items():
        if first.pk in results:  # its first is of this batch: say what became of it
            first.outcome = results[first.pk].state
        results[pk] = duplicate(first)
    news.announce(_record_batch(deliveries, results, claimed_at, duplicates))
    return len(deliveries)


# The advisory lock drains take turns on to claim (PostgreSQL): "JIRA" in ASCII.
CLAIM_LOCK = 0x4A495241


def claim(limit: int, claimed_at: datetime) -> list[JiraDelivery]:
    """Take up to ``limit`` pending deliveries, oldest first, in one ``UPDATE ... RETURNING``: each is
    marked processing (``claimed_at``, one more attempt) and read back, in id order, with the id of
    the first delivery stored with its news (``news_first``, for ``_firsts``), in the same statement.

    A delivery whose issue has news in processing (another drain's batch, a replay) is left pending
    for a later claim: the news of one issue is applied in the order it came, never two of its
    deliveries at once by two workers. Claims take turns (PostgreSQL: an advisory lock held until the
    claim commits), so each sees what the one before took; a row another worker has locked (a
    single delivery's claim) is skipped, not waited for. SQLite writes one statement at a time.
    """
    table = connection.ops.quote_name(JiraDelivery._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in JiraDelivery._meta.concrete_fields)
    postgresql = connection.vendor == "postgresql"
    sql = f"""
        UPDATE {table} SET outcome = %s, claimed_at = %s, attempts = attempts + 1
        WHERE id IN (
            SELECT pending.id FROM {table} pending
            WHERE pending.outcome = %s AND (
                pending.issue_key = ''
                OR NOT EXISTS (
                    SELECT 1 FROM {table} taken WHERE taken.issue_key = pending.issue_key AND taken.outcome = %s
                )
            )
            ORDER BY pending.id LIMIT %s {"FOR UPDATE SKIP LOCKED" if postgresql else ""}
        )
        RETURNING {columns}, CASE WHEN content_key <> '' THEN (
            SELECT MIN(same.id) FROM {table} same
            WHERE same.content_key = {table}.content_key AND same.duplicate_of_id IS NULL
        ) END AS news_first
    """
    claimed_at_param = JiraDelivery._meta.get_field("claimed_at").get_db_prep_value(claimed_at, connection)
    params = [Status.PROCESSING.value, claimed_at_param, Status.PENDING.value, Status.PROCESSING.value, limit]
    with transaction.atomic():
        if postgresql:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CLAIM_LOCK])
        taken = list(JiraDelivery.objects.raw(sql, params))
    return sorted(taken, key=lambda delivery: delivery.pk)


def _firsts(deliveries) -> dict:
    """Content key -> the first delivery stored with it (``same_news_before`` for a whole batch), from
    the claim's ``news_first``: a query only for firsts stored before the batch."""
    first_pks = {d.content_key: d.news_first for d in deliveries if d.content_key and d.news_first is not None}
    here = {d.pk: d for d in deliveries}
    elsewhere = JiraDelivery.objects.only("pk", "delivery_id", "outcome").in_bulk(
        [pk for pk in first_pks.values() if pk not in here]
    )
    return {key: here.get(pk) or elsewhere[pk] for key, pk in first_pks.items() if pk in here or pk in elsewhere}


def _issue_news(delivery: JiraDelivery):
    """The issue facts of an issue created or updated (to apply with others), the failure of a body
    that cannot be read, or None for an event handled on its own."""
    body = delivery.body
    if not isinstance(body, dict) or HANDLERS.get(delivery.event) is not issue_changed:
        return None
    return _guarded(delivery, lambda: completed(IssueFacts.from_json(body.get("issue"))))


def _record_batch(deliveries, results: dict, claimed_at: datetime, duplicates: dict) -> list[JiraDelivery]:
    """``_record`` for a batch: the rows still ours written in one UPDATE, which checks that they are; returns them."""
    done_at = timezone.now()
    outcomes = []
    for delivery in deliveries:
        result = results[delivery.pk]
        outcome = copy.copy(delivery)
        outcome.outcome, outcome.detail, outcome.processed_at = result.state, result.detail, done_at
        outcome.not_before = (
            max(done_at, claimed_at) + backoff(delivery.attempts) if result.state == Status.WAITING else None
        )
        outcome.duplicate_of = duplicates.get(delivery.pk) if result.state == Status.DUPLICATE else None
        outcomes.append(outcome)
    # Only the claim that did the work writes: a sweep that took a row over as stuck owns it now.
    ours = update_rows(
        outcomes,
        ["outcome", "detail", "processed_at", "not_before", "duplicate_of"],
        where={"outcome": Status.PROCESSING, "claimed_at": claimed_at},
    )
    rows = [outcome for outcome in outcomes if outcome.pk in ours]
    for delivery in rows:
        _log(delivery, results[delivery.pk])
    return rows


def same_news_before(delivery: JiraDelivery) -> JiraDelivery | None:
    """The first delivery stored before ``delivery`` that says the same (``content_key``), if any.

    Stored rows are compared by their id, so of two copies processed at once exactly one is the first.
    """
    if not delivery.content_key:
        return None
    return (
        JiraDelivery.objects.filter(content_key=delivery.content_key, pk__lt=delivery.pk, duplicate_of__isnull=True)
        .order_by("pk")
        .first()
    )


def duplicate(first: JiraDelivery) -> Handled:
    return Handled(
        Status.DUPLICATE.value,
        f"The same news as delivery {first.delivery_id} (#{first.pk}, {first.get_outcome_display().lower()}), "
        "resent under another delivery id: not applied again.",
    )


def _record(
    delivery: JiraDelivery, result: Handled, claimed_at: datetime, duplicate_of: JiraDelivery | None = None
) -> bool:
    """Write the outcome, when the claim is still ours; whether it was."""
    done_at = timezone.now()
    not_before = None
    if result.state == Status.WAITING:
        not_before = max(done_at, claimed_at) + backoff(delivery.attempts)
    # Only the claim that did the work writes: a sweep that took the row over as stuck owns it now.
    written = JiraDelivery.objects.filter(pk=delivery.pk, outcome=Status.PROCESSING, claimed_at=claimed_at).update(
        outcome=result.state,
        detail=result.detail,
        processed_at=done_at,
        not_before=not_before,
        duplicate_of=duplicate_of if result.state == Status.DUPLICATE else None,
    )
    _log(delivery, result)
    return bool(written)


def _log(delivery: JiraDelivery, result: Handled):
    log = logger.warning if result.state == Status.FAILED else logger.info
    log(
        "jira.inbox.processed delivery=%s id=%s event=%s issue=%s outcome=%s attempts=%s",
        delivery.delivery_id,
        delivery.pk,
        delivery.event,
        delivery.issue_key,
        result.state,
        delivery.attempts,
    )


def handle(delivery: JiraDelivery) -> Handled:
    """What the delivery's event means for the roadmap, through its handler."""
    body = delivery.body
    if not isinstance(body, dict):
        return Handled(Status.FAILED.value, f"The stored body is a {type(body).__name__}, not a JSON object.")
    handler = HANDLERS.get(delivery.event)
    if handler is None:
        return Handled(Status.IGNORED.value, f"nothing to do for {delivery.event}")
    return handler(body)


def _who(body: dict) -> str:
    user = body.get("user")
    return str(user.get("displayName") or "") if isinstance(user, dict) else ""


def issue_changed(body: dict) -> Handled:
    return apply_issue(completed(IssueFacts.from_json(body.get("issue"))), who=_who(body))


def completed(facts: IssueFacts) -> IssueFacts:
    """``facts``, with what they leave unsaid read from Jira when the issue is new to us and the pull is set up.

    Of a known issue what is known is kept (``apply_issue``); a new one would otherwise start with
    no labels, so no step, until its next change.
    """
    if not facts.unsaid or not settings.JIRA_ENABLED or JiraIssue.objects.filter(key=facts.key).exists():
        return facts
    try:
        now = IssueFacts.from_json(fetch_issue(facts.key))
    except (JiraError, MalformedIssue) as error:
        logger.warning("jira.inbox.fetch_failed issue=%s unsaid=%s: %s", facts.key, ",".join(facts.unsaid), error)
        return facts
    return facts.completed_by(now)


def issue_deleted(body: dict) -> Handled:
    # The issue is sent as it was before deletion: its 'updated' is its last edit, not the deletion.
    # The deletion happened at the delivery's timestamp, so the steps it moves are dated then.
    facts = IssueFacts.from_json(body.get("issue"))
    deleted_at = _timestamp(body.get("timestamp"))
    if deleted_at is not None and (facts.updated is None or deleted_at > facts.updated):
        facts = replace(facts, updated=deleted_at)
    return apply_issue(facts, who=_who(body), deleted=True)


def _timestamp(value) -> datetime | None:
    """Jira's ``timestamp`` (epoch milliseconds) as an aware datetime; None if absent or not a time."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


HANDLERS = {
    "jira:issue_created": issue_changed,
    "jira:issue_updated": issue_changed,
    "jira:issue_deleted": issue_deleted,
}
# The events that are about one issue: a delivery of one of these without an issue key is refused.
ISSUE_EVENTS = frozenset(HANDLERS)


def sweep(now: datetime | None = None, *, limit: int = SWEEP_BATCH) -> int:
    """Process what was left behind and what waits and is due, oldest first, at most ``limit``; the count."""
    now = now or timezone.now()
    due = JiraDelivery.objects.filter(claimable(now)).exclude(
        outcome=Status.PENDING, received_at__gt=now - PENDING_GRACE
    )
    ids = list(due.order_by("received_at", "id").values_list("id", flat=True)[:limit])
    done = sum(1 for delivery_id in ids if process(delivery_id, now=now) is not None)
    if ids:
        logger.info("jira.inbox.swept due=%s processed=%s", len(ids), done)
    return done


def replay(delivery: JiraDelivery) -> str | None:
    """Put ``delivery`` back to pending and process it now; None if a worker is processing it right now."""
    JiraDelivery.objects.filter(pk=delivery.pk, outcome__in=REPLAYABLE).update(
        outcome=Status.PENDING, not_before=None, claimed_at=None
    )
    logger.info("jira.inbox.replay delivery=%s id=%s", delivery.delivery_id, delivery.pk)
    state = process(delivery.pk)
    delivery.refresh_from_db()
    return state
