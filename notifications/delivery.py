"""Delivering the outbox: each due row is claimed, sent once, and its outcome kept on the row.

Rules:
- A row is claimed with a conditional UPDATE (pending/waiting and due -> sending), so two workers
  never send one row; the claim counts an attempt.
- Slack's answer decides the row: sent (its ``ts`` kept); a permanent error (a wrong channel, a bad
  token, bad blocks) fails it at once; HTTP 429 waits for ``Retry-After``; a 5xx or a refused
  connection waits with exponential back-off and jitter, failed after ``MAX_ATTEMPTS``.
- Nothing is sent twice. ``chat.postMessage`` has no idempotency key, so every post carries
  metadata naming the row (``event_type`` ``roadmap_outbox``, the row's id and reason). When the
  outcome of a post is unknown (a timeout or a connection dropped after the request was written, or a
  worker killed while a row was "sending"), the row waits marked
  ``UNKNOWN``; before posting it again the channel (or the thread) is read back with
  ``include_all_metadata``: a message naming the row marks it sent with that ``ts``; none, and it is
  posted. The moment the answer was lost is kept (``unknown_since``). If Slack cannot be read back
  (e.g. the bot lacks the history scope), the row fails for a human, saying it may already be
  posted, when the answer was lost and what was seen; ``retry`` resends it only when the person
  confirms they checked the channel (``ResendUnconfirmed`` otherwise). "Retry now" of a row still
  being checked keeps the read-back.
- One message per second per channel: a row whose channel had a post less than a second ago waits,
  within a run and across runs (from the channel's latest ``sent_at``, read with the due rows in
  one query through the index ``outbox_channel_last_post``).
- A row names the process that claimed it (``claimed_by``: host, process namespace, process id and
  start). A row left "sending" by a process of this host that is gone (a worker killed, SIGKILL
  included) is taken back by the next run at once; one claimed elsewhere, after ``STUCK_AFTER``
  (longer than a task may run), as a live process's row is never taken from it.
- Delivery keeps pace with Slack, not with beat: after a run, ``next_run_in`` says when there is work
  again (at once after a full run, when the next paced or backed-off row is due), and the task
  queues itself for then; beat's tick is the safety net when that message is lost.
- A step's messages go in its thread: the first one sent starts it (its ``ts`` stored on the thread);
  a later one waits until the thread has started, unless nothing earlier in the thread is still to go.
- Just before a run posts, news of a step's state that is no longer true (the step done, due on
  another day, handed back; the integration paused or ended) is kept "not sent: no longer true",
  saying why, and a channel digest loses those lines (``notifications.still_true``).
- Without ``SLACK_BOT_TOKEN`` Slack rows stay pending with "Slack not configured"; e-mail rows still go.
- Celery's soft time limit is not a delivery failure: it ends the run at once. The row being sent
  is due again, marked ``UNKNOWN`` (Slack may have it), never left "sending" until the reclaim; the
  rows after it wait for the next run.
"""

import logging
import os
import socket
import threading
import urllib.error
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, connections
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from integrations.retry import backoff
from integrations.text import moment_text
from notifications import still_true
from notifications.messages import readers_of, thread_status_blocks
from notifications.models import OutboxMessage, SlackThread
from notifications.outbox import Message, write

logger = logging.getLogger(__name__)

State = OutboxMessage.State
Kind = OutboxMessage.Kind

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "account_inactive",
        "invalid_blocks",
        "msg_too_long",
        "token_revoked",
        "no_text",
        "too_many_attachments",
    }
)
MAX_ATTEMPTS = 8
# A failed attempt rests 30 s, 60 s, 120 s, ... at most an hour, each between 75% and 100% of that.
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=1)
BACKOFF_JITTER = 0.25
STUCK_AFTER = timedelta(minutes=10)
BATCH = 200  # rows per run
FOLLOW_UP_HORIZON = timedelta(seconds=30)  # work due later than this is left to beat's tick
CHANNEL_PACE = timedelta(seconds=1)
DEFAULT_RETRY_AFTER_SECONDS = 60
NOT_CONFIGURED = "Slack not configured"
UNKNOWN = "Unknown whether Slack received it"
RETRIED_BY_HAND = "Retried by hand"
STOPPED = "the delivery run reached its time limit while sending it"
CANCELLED = "the worker stopped the delivery run while sending it"
METADATA_EVENT = "roadmap_outbox"
HISTORY_LOOKBACK = timedelta(minutes=5)
HISTORY_PAGES = 5


MAY_BE_POSTED = "May already be posted"
RESEND = "Resend after checking the channel"
RETRYABLE = (State.WAITING, State.FAILED)  # what a person may send again


class Stopped(SoftTimeLimitExceeded):
    """The worker stops the run (a task cancelled when the broker dropped): it ends as at its time limit."""


class ResendUnconfirmed(Exception):
    """A row that may already be in Slack is resent only once a person has checked the channel."""


class NotRetryable(Exception):
    """The row is not one a person can send again that way (sent, being sent, or needing a check first)."""


class NotSent(Exception):
    """How a delivery ended when it did not end in ``sent``."""

    def __init__(self, state: str, error: str, delay: timedelta | None = None, code: str = ""):
        super().__init__(error)
        self.state, self.error, self.delay, self.code = str(state), error, delay, code


def slack_client():
    from slack_sdk import WebClient

    return WebClient(
        token=settings.SLACK_BOT_TOKEN,
        base_url=settings.SLACK_API_URL,
        timeout=settings.SLACK_TIMEOUT_SECONDS,
        retry_handlers=[],  # no hidden retries: a retry is the outbox's decision, on the row
    )


def _due(now):
    return OutboxMessage.objects.filter(state__in=[State.PENDING, State.WAITING], not_before__lte=now)


def this_process() -> str:
    """Who claims a row: this host, its process namespace, this process's id and when it started."""
    pid = os.getpid()
    return f"{_this_host()}|{pid}|{_started(pid)}"


def _this_host() -> str:
    try:
        namespace = os.readlink("/proc/self/ns/pid")  # containers on one host each count their own ids
    except OSError:
        namespace = ""
    return f"{socket.gethostname()}|{namespace}"


def _started(pid: int) -> str:
    """The process's start (clock ticks after boot): a process id used again is not the same process."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def process_gone(claimed_by: str) -> bool:
    """The process that claimed a row is known to be gone: of this host, and no such process runs now.

    A process of another host is never judged gone from here (its rows wait for ``STUCK_AFTER``).
    """
    host, _, rest = claimed_by.rpartition("|")
    host, _, pid = host.rpartition("|")
    if not pid.isdigit() or host != _this_host():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # it runs, under another user
    started = _started(int(pid))
    return bool(rest and started and started != rest)


def reclaim_stuck(now: datetime) -> int:
    """Rows left "sending" by a killed worker wait again, marked unknown: Slack may have them already.

    At once when the process that claimed the row is gone; else after ``STUCK_AFTER``.
    """
    cutoff = now - STUCK_AFTER
    sending = OutboxMessage.objects.filter(state=State.SENDING)
    mine = sending.filter(claimed_by__startswith=f"{_this_host()}|", claimed_at__gte=cutoff)
    orphans = [(pk, by) for pk, by in mine.values_list("pk", "claimed_by") if process_gone(by)]
    left = Q(claimed_at__lt=cutoff)
    for pk, by in orphans:
        left |= Q(pk=pk, claimed_by=by)  # unless claimed again meanwhile
    return sending.filter(left).update(
        state=State.WAITING,
        not_before=now,
        last_error=f"{UNKNOWN}: the worker sending it stopped.",
        unknown_since=Coalesce("unknown_since", "claimed_at"),
        claimed_at=None,
        claimed_by="",
    )


def claim(row_id: int, now: datetime) -> OutboxMessage | None:
    """Take the row for this worker, or None when another worker took it (or it is no longer due)."""
    taken = (
        _due(now)
        .filter(pk=row_id)
        .update(state=State.SENDING, claimed_at=now, claimed_by=this_process(), attempts=F("attempts") + 1)
    )
    if not taken:
        return None
    return OutboxMessage.objects.select_related("thread", "step").get(pk=row_id)


def may_already_be_posted(row: OutboxMessage) -> bool:
    """Slack's answer to a post of this row was lost and nobody has seen the channel since."""
    return row.unknown_since is not None and row.state != State.SENT


def needs_check(row: OutboxMessage) -> bool:
    """A failed row that may already be in Slack: resent only once a person has checked the channel."""
    return row.state == State.FAILED and may_already_be_posted(row)


def can_retry_now(row: OutboxMessage) -> bool:
    """ "Retry now" applies: the row waits or failed, and it is not one that may already be posted."""
    return row.state in RETRYABLE and not needs_check(row)


def retry_now(row: OutboxMessage) -> OutboxMessage:
    """A person's "Retry now" (the admin's and the dashboard's): ``NotRetryable`` or ``ResendUnconfirmed`` says why not."""
    if row.state not in RETRYABLE:
        raise NotRetryable(f"Only a waiting or failed message can be retried; this one is {row.get_state_display()}.")
    try:
        return retry(row)
    except ResendUnconfirmed as risk:
        raise ResendUnconfirmed(f"{risk} Use “{RESEND}” once you have looked.") from None


def resend_checked(row: OutboxMessage, checked: bool) -> OutboxMessage:
    """A person's "Resend after checking the channel": only for a row that may already be posted, only ``checked``."""
    if not needs_check(row):
        raise NotRetryable("This message is not one that may already be posted; use “Retry now”.")
    if not checked:
        raise ResendUnconfirmed(
            "Tick “I checked the channel” first: Slack may already show this message "
            "(its answer was lost and the channel could not be read back)."
        )
    return retry(row, confirmed=True)


def retry(row: OutboxMessage, confirmed: bool = False) -> OutboxMessage:
    """Back to pending, due now, with a fresh count of attempts (the admin's "Retry now").

    A row whose post may already be in Slack: while Slack can still be read back (waiting), it is
    read back first, as always; once that failed, it is resent only ``confirmed`` (a person checked
    the channel), else ``ResendUnconfirmed`` with the risk.
    """
    now = timezone.now()
    changes = {"state": State.PENDING, "not_before": now, "attempts": 0, "claimed_at": None, "claimed_by": ""}
    if may_already_be_posted(row) and not confirmed:
        if row.state == State.FAILED:
            raise ResendUnconfirmed(row.last_error)
    else:
        changes.update(last_error=RETRIED_BY_HAND, unknown_since=None)
    OutboxMessage.objects.filter(pk=row.pk).exclude(state__in=[State.SENT, State.SENDING]).update(**changes)
    row.refresh_from_db()
    return row


def deliver_due(now: datetime | None = None, limit: int = BATCH) -> dict:
    """Deliver the rows due at ``now`` (oldest first, at most ``limit``); returns counts by outcome.

    ``full`` is counted when the run took ``limit`` rows: more may be due already.
    """
    fixed = now
    now = now or timezone.now()
    counts = Counter()
    counts["reclaimed"] = reclaim_stuck(now)
    due = _due(now)
    if not settings.SLACK_ENABLED:
        counts["not_configured"] = (
            due.exclude(channel="").exclude(last_error=NOT_CONFIGURED).update(last_error=NOT_CONFIGURED)
        )
        due = due.filter(channel="")
    rows = list(
        due.annotate(last_post=last_post())
        .order_by("not_before", "id")
        .values_list("id", "channel", "kind", "thread_id", "last_post")[:limit]
    )
    # News of a step's state that is no longer true is kept, not posted (``still_true``): one check per run.
    not_true = still_true.set_aside([(row_id, kind) for row_id, _, kind, _, _ in rows])
    counts["not_true"] = len(not_true)
    rows_to_send = [row for row in rows if row[0] not in not_true]
    last_posts = {channel: posted for _, channel, _, _, posted in rows_to_send if channel and posted}
    paced = {}  # row id -> its channel's next free second
    posts, others = [], []  # one post per channel (channels apart: in parallel); then updates and e-mails
    for row_id, channel, kind, thread_id, _ in rows_to_send:
        moment = fixed or timezone.now()
        if channel and kind != Kind.THREAD_STATUS:
            previous = last_posts.get(channel)
            if previous is not None and moment - previous < CHANNEL_PACE:
                paced[row_id] = previous + CHANNEL_PACE
                counts["paced"] += 1
                continue
            if thread_id and _waits_for_thread_start(row_id, thread_id):
                counts["held"] += 1
                continue
            last_posts[channel] = moment  # this run's post in the channel: its next row waits a second
            posts.append(row_id)
        else:
            others.append(row_id)
    try:
        _send(posts, fixed, counts, parallel=True)
        _send(others, fixed, counts, parallel=False)  # a first message's update after the posts that start it
    except SoftTimeLimitExceeded:
        logger.warning("Outbox delivery stopped by the time limit: %s", dict(counts))
        raise
    _pace(paced, fixed or timezone.now())
    counts["full"] = int(len(rows) >= limit)
    result = {key: value for key, value in counts.items() if value}
    if result:
        logger.info("Outbox delivery: %s", result)
    return result


def _send(ids: list[int], fixed: datetime | None, counts: Counter, parallel: bool):
    """Claim and deliver each row; rows of different channels at once on ``OUTBOX_DELIVERY_THREADS``
    threads, when the rows are committed (not inside the caller's transaction) and the database
    takes concurrent writers (not SQLite)."""
    if not ids:
        return
    threads = min(settings.OUTBOX_DELIVERY_THREADS, len(ids)) if parallel else 1
    if threads <= 1 or connection.in_atomic_block or connection.vendor == "sqlite":
        client = slack_client() if settings.SLACK_ENABLED else None
        for row_id in ids:
            counts[_send_one(row_id, client, fixed)] += 1
        return
    stop = threading.Event()

    def work(chunk: list[int]) -> Counter:
        client, done = slack_client(), Counter()
        try:
            for row_id in chunk:
                if stop.is_set():  # the run is over: the rest waits for the next one, unclaimed
                    break
                done[_send_one(row_id, client, fixed)] += 1
        finally:
            connections.close_all()  # this thread's own connections
        return done

    with ThreadPoolExecutor(threads, thread_name_prefix="outbox") as pool:
        futures = [pool.submit(work, ids[n::threads]) for n in range(threads)]
        try:
            for future in futures:
                counts.update(future.result())
        except SoftTimeLimitExceeded:
            stop.set()  # the posts under way end and are settled before the pool lets go
            raise


def _send_one(row_id: int, client, fixed: datetime | None) -> str:
    moment = fixed or timezone.now()
    row = claim(row_id, moment)
    if row is None:
        return "skipped"
    try:
        return _deliver(row, client, moment)
    except SoftTimeLimitExceeded as stop:
        _release(row, moment, CANCELLED if isinstance(stop, Stopped) else STOPPED)
        raise


def _pace(paced: dict[int, datetime], now: datetime):
    """The paced rows wait for their channel's next free second: one UPDATE per second named, not per row."""
    by_moment = {}
    for row_id, moment in paced.items():
        by_moment.setdefault(moment, []).append(row_id)
    for moment, ids in by_moment.items():
        _due(now).filter(pk__in=ids).update(not_before=moment)


def next_run_in(counts: dict, now: datetime | None = None) -> timedelta | None:
    """When delivery has work again after a run that ended with ``counts``: None when nothing is due
    within ``FOLLOW_UP_HORIZON`` (beat's tick will see it).

    At once after a full run; a second later while rows are due now that a run which made progress
    left (held for their thread, taken by another worker); else when the next row is due (a paced
    row: its channel's next second; a backed-off one: its retry). A run that moved nothing does not
    spin on rows that cannot go yet: they are left to the next due row or to beat.
    """
    if counts.get("full"):
        return timedelta(0)
    now = now or timezone.now()
    waiting = OutboxMessage.objects.filter(state__in=[State.PENDING, State.WAITING])
    if not settings.SLACK_ENABLED:
        waiting = waiting.filter(channel="")  # Slack rows wait for a token, not for a run
    moved = any(counts.get(outcome) for outcome in ("sent", "failed", "waiting", "paced", "not_true"))
    if moved and waiting.filter(not_before__lte=now).exists():
        return CHANNEL_PACE
    nearest = (
        waiting.filter(not_before__gt=now, not_before__lte=now + FOLLOW_UP_HORIZON)
        .order_by("not_before")
        .values_list("not_before", flat=True)
        .first()
    )
    return None if nearest is None else nearest - now


def last_post(channel=None) -> Subquery:
    """When ``channel`` (default: the outer row's) last had a message posted (updates of a first message do not count).

    One index range per channel (``outbox_channel_last_post``): cheap however many rows were sent.
    """
    channel = OuterRef("channel") if channel is None else channel
    return Subquery(
        OutboxMessage.objects.filter(channel=channel, state=State.SENT, sent_at__isnull=False)
        .exclude(kind=Kind.THREAD_STATUS)
        .order_by("-sent_at")
        .values("sent_at")[:1]
    )


def _waits_for_thread_start(row_id: int, thread_id: int) -> bool:
    """A reply waits while its thread has no first message yet and an earlier row of the thread may start it."""
    if SlackThread.objects.filter(pk=thread_id).exclude(ts="").exists():
        return False
    return (
        OutboxMessage.objects.filter(thread_id=thread_id, id__lt=row_id)
        .filter(state__in=[State.PENDING, State.WAITING, State.SENDING])
        .exists()
    )


def _deliver(row: OutboxMessage, client, now: datetime) -> str:
    try:
        if not row.channel:
            _send_email(row)
        elif row.kind == Kind.THREAD_STATUS:
            _update_thread_status(row, client)
        else:
            _post(row, client)
    except NotSent as outcome:
        return _settle(row, now, outcome)
    except SoftTimeLimitExceeded:
        raise
    except Exception as error:  # noqa: BLE001 - any other failure: the row waits and says why
        logger.exception("Outbox row %s failed unexpectedly", row.pk)
        return _settle(row, now, NotSent(State.WAITING, f"{type(error).__name__}: {error}"))
    OutboxMessage.objects.filter(pk=row.pk).update(
        state=State.SENT,
        sent_at=now,
        slack_ts=row.slack_ts,
        last_error="",
        claimed_at=None,
        claimed_by="",
        unknown_since=None,
    )
    return str(State.SENT)


def _release(row: OutboxMessage, now: datetime, why: str = STOPPED):
    """The row the run was sending when it had to stop is due again; Slack may have it, so it is read back first."""
    OutboxMessage.objects.filter(pk=row.pk, state=State.SENDING).update(
        state=State.WAITING,
        not_before=now,
        claimed_at=None,
        claimed_by="",
        last_error=f"{UNKNOWN}: {why}.",
        unknown_since=Coalesce("unknown_since", Value(now)),
    )


def _settle(row: OutboxMessage, now: datetime, outcome: NotSent) -> str:
    state, error = outcome.state, outcome.error
    not_before = now
    if state == State.WAITING:
        if outcome.delay is not None:  # Slack said when (Retry-After): not an attempt that counts against the row
            not_before = now + outcome.delay
        elif row.attempts >= MAX_ATTEMPTS:
            state, error = str(State.FAILED), f"{error} (gave up after {row.attempts} attempts)"
        else:
            not_before = now + backoff(row.attempts - 1, first=BACKOFF_FIRST, cap=BACKOFF_CAP, jitter=BACKOFF_JITTER)
    changes = {}
    if error.startswith(UNKNOWN):  # the first lost answer is the one that counts
        changes["unknown_since"] = Coalesce("unknown_since", Value(now))
    OutboxMessage.objects.filter(pk=row.pk).update(
        state=state, last_error=error[:2000], not_before=not_before, claimed_at=None, claimed_by="", **changes
    )
    return state


# E-mail


def _send_email(row: OutboxMessage):
    if not row.emails:
        raise NotSent(State.FAILED, "No e-mail recipients.")
    subject = (row.text.splitlines() or [""])[0][:150] or row.get_kind_display()
    try:
        send_mail(subject, row.text, settings.DEFAULT_FROM_EMAIL, list(row.emails))
    except SoftTimeLimitExceeded:
        raise
    except Exception as error:  # noqa: BLE001 - SMTP and socket errors: transient, the row waits
        raise NotSent(State.WAITING, f"E-mail not sent: {type(error).__name__}: {error}") from error


# Slack


def _metadata(row: OutboxMessage) -> dict:
    return {"event_type": METADATA_EVENT, "event_payload": {"outbox_id": row.pk, "reason": row.reason_key}}


def _post(row: OutboxMessage, client):
    thread = row.thread
    if thread is not None:
        thread.refresh_from_db()
    thread_ts = thread.ts if thread is not None and thread.ts else None
    if row.unknown_since is not None:
        found = _already_posted(row, client, thread_ts)
        if found:
            row.slack_ts = found
            _start_thread(row, thread, found)
            return
        # Slack showed the channel and the row is not in it: it was never posted.
        OutboxMessage.objects.filter(pk=row.pk).update(unknown_since=None)
    kwargs = {"channel": row.channel, "text": row.text, "metadata": _metadata(row)}
    if row.blocks:
        kwargs["blocks"] = row.blocks
    if thread_ts:
        kwargs["thread_ts"] = thread_ts
    response = _call(client.chat_postMessage, posting=True, **kwargs)
    row.slack_ts = response.get("ts") or ""
    _start_thread(row, thread, row.slack_ts)


def _start_thread(row, thread, ts: str):
    """The first message sent starts the step's thread. It shows the status the step had when it was
    written; when the step has moved on since, its first message is updated from the status it has now."""
    if thread is None or thread.ts or not ts:
        return
    started = SlackThread.objects.filter(pk=thread.pk, ts="").update(ts=ts)
    step = row.step
    if not started or step is None:
        return
    step.refresh_from_db(fields=["status", "due_date", "planned_due_date"])
    if thread.status_shown and thread.status_shown != step.status:
        text, blocks = thread_status_blocks(step, due=step.due_date, readers=readers_of(step.integration, row.channel))
        write(
            [
                Message(
                    f"thread_status:{thread.pk}:first:{ts}",
                    Kind.THREAD_STATUS,
                    text=text,
                    blocks=blocks,
                    integration=step.integration,
                    step=step,
                    channel=row.channel,
                    in_thread=False,
                    not_before=row.claimed_at,  # at once: the run's moment
                )
            ]
        )


def _already_posted(row: OutboxMessage, client, thread_ts: str | None) -> str:
    """The ts of a message in Slack that names this row, or "" when there is none.

    Reads the channel (or the thread) back from a little before the row was written, a few pages at most.
    """
    oldest = f"{(row.created_at - HISTORY_LOOKBACK).timestamp():.6f}"
    method = client.conversations_replies if thread_ts else client.conversations_history
    kwargs = {"channel": row.channel, "oldest": oldest, "include_all_metadata": True, "limit": 200}
    if thread_ts:
        kwargs["ts"] = thread_ts
    cursor = None
    for _ in range(HISTORY_PAGES):
        try:
            response = _call(method, **kwargs, **({"cursor": cursor} if cursor else {}))
        except NotSent as outcome:
            if outcome.code:  # Slack answered, and will not tell (e.g. missing_scope): a human decides
                raise NotSent(State.FAILED, _risk(row, f"Slack could not be read back ({outcome.error})")) from None
            raise NotSent(State.WAITING, f"{UNKNOWN}: {outcome.error}", outcome.delay) from None
        for message in response.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                metadata.get("event_type") == METADATA_EVENT
                and payload.get("outbox_id") == row.pk
                and payload.get("reason") in (None, row.reason_key)
            ):
                return message.get("ts") or ""
        cursor = (response.get("response_metadata") or {}).get("next_cursor")
        if not (response.get("has_more") and cursor):
            return ""
    raise NotSent(State.FAILED, _risk(row, "too many messages in the channel to tell"))


def _risk(row: OutboxMessage, why: str) -> str:
    """What a person reads before resending: the message may be in Slack, since when, what was seen."""
    lost = moment_text(row.unknown_since or row.claimed_at or timezone.now())
    seen = row.last_error.removeprefix(UNKNOWN).lstrip(":; ") or "no answer"
    return f"{MAY_BE_POSTED}: Slack's answer was lost at {lost} ({seen}); {why}: check the channel before resending."


def _update_thread_status(row: OutboxMessage, client):
    thread = SlackThread.objects.filter(step_id=row.step_id, channel=row.channel).exclude(ts="").first()
    if thread is None:
        raise NotSent(State.FAILED, "The step's first message was never sent: nothing to update.")
    kwargs = {"channel": row.channel, "ts": thread.ts, "text": row.text}
    if row.blocks:
        kwargs["blocks"] = row.blocks
    response = _call(client.chat_update, posting=False, **kwargs)  # updating twice is harmless
    row.slack_ts = response.get("ts") or thread.ts
    status = row.step.status if row.step_id else ""
    SlackThread.objects.filter(pk=thread.pk).update(status_shown=status)


def _call(method, posting: bool = False, **kwargs):
    """Call Slack; turn every failure into an NotSent for the row."""
    from slack_sdk.errors import SlackApiError

    try:
        return method(**kwargs)
    except SlackApiError as error:
        response = error.response
        status = getattr(response, "status_code", 200)
        if status == 429:
            headers = getattr(response, "headers", {}) or {}
            retry_after = headers.get("Retry-After") or headers.get("retry-after")
            if isinstance(retry_after, list):
                retry_after = retry_after[0] if retry_after else None
            try:
                seconds = max(int(float(retry_after)), 1)
            except (TypeError, ValueError):
                seconds = DEFAULT_RETRY_AFTER_SECONDS
            wait = timedelta(seconds=seconds)
            raise NotSent(State.WAITING, f"Rate limited by Slack: retry after {seconds} s.", wait) from None
        if status >= 500:
            raise NotSent(State.WAITING, f"Slack answered HTTP {status}.") from None
        code = _error_code(response)
        if code in PERMANENT_ERRORS:
            raise NotSent(State.FAILED, f"Slack refused it: {code}.", code=code) from None
        raise NotSent(State.WAITING, f"Slack answered: {code or 'an error'} (HTTP {status}).", code=code) from None
    except SoftTimeLimitExceeded:
        raise  # the run stops; not a Slack failure
    except Exception as error:  # noqa: BLE001 - urllib, socket and http.client errors
        if _never_reached_slack(error):
            raise NotSent(State.WAITING, f"Could not connect to Slack: {error}") from None
        if posting:
            raise NotSent(State.WAITING, f"{UNKNOWN}: {type(error).__name__}: {error}") from None
        raise NotSent(State.WAITING, f"No answer from Slack: {type(error).__name__}: {error}") from None


def _error_code(response) -> str:
    try:
        return str(response.get("error") or "")
    except (AttributeError, TypeError, ValueError):
        return ""


def _never_reached_slack(error: Exception) -> bool:
    """A refused connection or a name that does not resolve: the request was never written."""
    reason = error.reason if isinstance(error, urllib.error.URLError) else error
    return isinstance(reason, (ConnectionRefusedError, socket.gaierror))
