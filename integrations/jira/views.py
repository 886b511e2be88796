"""Jira's webhook: verify the signature over the raw body, store the delivery, answer, process later.

Cheap per request: the HMAC, the JSON, one INSERT that also finds a redelivery (``insert_once``;
on PostgreSQL its commit does not wait for the disk unless ``JIRA_WEBHOOK_WAIT_FOR_DISK``); a drain
of the inbox is queued once per burst (``DrainWindow``), not per delivery.

What Jira does with our answer decides the status codes: it redelivers on 408, 409, 425, 429, 5xx
and on timeouts, so a delivery is answered 2xx only once it is stored (202), or already stored
(200); 503 when it cannot be stored; 4xx for what no retry can fix. Deliveries carry no signed
timestamp, so a replayed body is stopped by its delivery id, which Jira keeps on every retry. The
same news resent under a new id is stored too, and the inbox marks it a duplicate of the first.
"""

import functools
import hashlib
import hmac
import json
import logging
import math
import re
import threading
import time

import psycopg
from django.conf import settings
from django.db import DatabaseError, transaction
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from integrations import hooks
from integrations.hooks import Refused
from integrations.jira.inbox import ISSUE_EVENTS, content_key
from integrations.jira.models import JiraDelivery

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature"
DELIVERY_HEADER = "X-Atlassian-Webhook-Identifier"
RETRY_HEADER = "X-Atlassian-Webhook-Retry"
SIGNATURE_ALGORITHM = "sha256"
MAX_DEPTH = 64  # Jira's bodies nest a handful of levels; deeper is not Jira
# The columns' lengths, read once rather than from the model's fields on every delivery.
MAX_LENGTH = {name: JiraDelivery._meta.get_field(name).max_length for name in ("delivery_id", "event", "issue_key")}


@csrf_exempt
def webhook(request):
    """POST /hooks/jira/: a signed Jira delivery, stored before the answer and processed after the commit."""
    if request.method != "POST":
        response = answer({"error": "Jira deliveries are POSTed here."}, 405)
        response["Allow"] = "POST"
        return response
    delivery_id = header(request, DELIVERY_HEADER).strip()
    try:
        raw = read_body(request)
        verify_signature(raw, header(request, SIGNATURE_HEADER) or None)
        if not delivery_id:
            raise Refused(400, f"The delivery has no {DELIVERY_HEADER} header.")
        if len(delivery_id) > MAX_LENGTH["delivery_id"]:
            raise Refused(400, f"The {DELIVERY_HEADER} header is too long to be a Jira delivery id.")
        body, event, issue_key = parse_body(raw)
        return store(delivery_id, body, event, issue_key, retry_number(header(request, RETRY_HEADER)))
    except Refused as refused:
        logger.warning("jira.webhook.refused delivery=%s status=%s: %s", delivery_id, refused.status, refused.message)
        return answer({"error": refused.message}, refused.status)
    except Exception:  # never a 500: the delivery is not stored, so ask Jira to send it again
        logger.exception("jira.webhook.error delivery=%s", delivery_id)
        return answer({"error": "The delivery could not be handled; send it again later."}, 503)


def answer(payload: dict, status: int) -> HttpResponse:
    """A JSON answer, the bytes ``JsonResponse`` would send: made from bytes, which a response takes
    as they are, where ``JsonResponse`` makes an encoder for each answer and then looks up the charset
    to encode its text (half of the answer's time)."""
    return HttpResponse(json.dumps(payload).encode(), content_type="application/json", status=status)


def header(request, name: str) -> str:
    """The request's header ``name``, '' when absent: read from ``request.META`` under its WSGI key,
    without building ``request.headers`` from every header for the three the hook reads."""
    return request.META.get(_WSGI_KEYS[name], "")


_WSGI_KEYS = {
    name: "HTTP_" + name.upper().replace("-", "_") for name in (DELIVERY_HEADER, SIGNATURE_HEADER, RETRY_HEADER)
}


def read_body(request) -> bytes:
    """The raw body, refused (413) past JIRA_WEBHOOK_MAX_BYTES."""
    return hooks.read_body(request, settings.JIRA_WEBHOOK_MAX_BYTES, "JIRA_WEBHOOK_MAX_BYTES")


def verify_signature(raw: bytes, header: str | None):
    """Refuse (401) a body whose ``X-Hub-Signature`` is not the HMAC-SHA256 of it under our secret."""
    secret = settings.JIRA_WEBHOOK_SECRET
    if not secret:
        if settings.JIRA_WEBHOOK_ALLOW_UNSIGNED:
            return  # a development setup, by its own choice
        raise Refused(
            401,
            "JIRA_WEBHOOK_SECRET is not set, so Jira deliveries are refused: set it, and the same secret "
            "on the webhook in Jira.",
        )
    if not header:
        raise Refused(401, f"The delivery is not signed: the {SIGNATURE_HEADER} header is missing.")
    algorithm, sep, digest = header.strip().partition("=")
    if not sep or not digest:
        raise Refused(401, f"{SIGNATURE_HEADER} must look like sha256=<hex digest>.")
    if algorithm.strip().lower() != SIGNATURE_ALGORITHM:
        raise Refused(401, f"{SIGNATURE_HEADER} uses {algorithm[:20]!r}; only sha256 signatures are accepted.")
    # Hand-written: no installed library checks Jira's WebSub-style X-Hub-Signature (Slack's verifier is v0-only).
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), digest.strip().lower().encode("utf-8", "replace")):
        raise Refused(401, f"{SIGNATURE_HEADER} does not match the body: is the webhook's secret JIRA_WEBHOOK_SECRET?")


def parse_body(raw: bytes) -> tuple[dict, str, str]:
    """The body as a JSON object of the shape the inbox needs, with its event and issue key (read
    once, for the checks and the row); refused (400) saying what is wrong."""
    try:
        body = json.loads(raw, parse_constant=_no_constant, parse_float=_finite_float)
    except RecursionError as error:
        raise Refused(400, "The body is not JSON Jira sends: it is nested too deeply.") from error
    except ValueError as error:  # JSONDecodeError, undecodable bytes, non-finite numbers
        raise Refused(400, f"The body is not JSON: {error}.") from error
    if not isinstance(body, dict):
        raise Refused(400, f"The body must be a JSON object, not {_json_type(body)}.")
    unstorable = "" if _plainly_storable(raw) else _unstorable(body)
    if unstorable:
        raise Refused(400, f"The body cannot be stored: {unstorable}.")
    event = body.get("webhookEvent")
    if not isinstance(event, str) or not event.strip():
        raise Refused(400, "The body has no 'webhookEvent' string (such as jira:issue_updated).")
    event = event.strip()
    if len(event) > MAX_LENGTH["event"]:
        raise Refused(400, f"The webhookEvent {event[:40]!r}... is too long to be a Jira event.")
    issue_key = _issue_key(body)
    if event in ISSUE_EVENTS and not issue_key:
        raise Refused(400, f"A {event} delivery needs an 'issue' object with its 'key' (such as ACME-42).")
    return body, event, issue_key


def _no_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text[:20]} is too large a number")
    return number


def _json_type(value) -> str:
    names = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "true or false"}
    return names.get(type(value), "null")


# How a NUL or a lone surrogate can reach the parsed body: escaped (\u0000, \ud800-\udfff), or raw
# (a NUL byte; in UTF-8, a surrogate starts with the byte ED, as do some Hangul syllables). A body
# with none of these, as nearly every Jira delivery is, needs no walk of its strings.
SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|d[89a-f])", re.IGNORECASE)


def _plainly_storable(raw: bytes) -> bool:
    """Whether ``raw`` cannot hold what ``_unstorable`` looks for, read off the bytes (a tenth of the walk's time).

    Too few brackets to nest ``MAX_DEPTH`` levels (a value inside 64 containers is one too deep),
    no NUL byte (so not UTF-16 nor UTF-32, which ``json.loads`` also reads), no ED byte and no
    suspect escape. Anything else gets the walk.
    """
    return (
        raw.count(b"{") + raw.count(b"[") < MAX_DEPTH
        and b"\x00" not in raw
        and b"\xed" not in raw
        and not SUSPECT_ESCAPE.search(raw)
    )


def _unstorable(body) -> str:
    """Why the databases would refuse ``body`` (NUL characters, lone surrogates, absurd nesting); '' if none."""
    stack = [(body, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"it is nested more than {MAX_DEPTH} levels deep"
        if isinstance(value, dict):
            stack.extend((key, depth) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            if "\x00" in value:
                return "it contains a NUL character (\\u0000)"
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "it contains a lone UTF-16 surrogate (such as \\ud800), which is not text"
    return ""


def _issue_key(body: dict) -> str:
    issue = body.get("issue")
    key = issue.get("key") if isinstance(issue, dict) else None
    if not isinstance(key, str):
        return ""
    key = key.strip()
    return key if len(key) <= MAX_LENGTH["issue_key"] else ""


def retry_number(header: str | None) -> int:
    """``X-Atlassian-Webhook-Retry`` as a count; 0 when absent or not a small number."""
    header = (header or "").strip()
    return int(header) if header.isdigit() and len(header) <= 6 else 0


def store(delivery_id: str, body: dict, event: str, issue_key: str, retry: int) -> HttpResponse:
    """Store the delivery (202) unless its id is stored already (200); 503 if the database cannot take it."""
    delivery = {
        "delivery_id": delivery_id,
        "received_at": timezone.now(),
        "event": event,
        "issue_key": issue_key,
        "retry_number": retry,
        "body": body,
        "content_key": content_key(body),
    }
    try:
        pk = insert_once(delivery)
    except DatabaseError:
        logger.exception("jira.webhook.store_failed delivery=%s", delivery_id)
        return _not_stored()
    if pk is None:
        return _duplicate(delivery_id, retry)
    transaction.on_commit(lambda: request_drain(pk, delivery_id))
    # DEBUG, not INFO: the row says all of it (its id, event, issue, retry and time), and a line per
    # delivery cost a tenth of the hook's time. Refusals, failures and redeliveries keep their lines.
    logger.debug(
        "jira.webhook.stored delivery=%s id=%s event=%s issue=%s retry=%s", delivery_id, pk, event, issue_key, retry
    )
    return answer({"status": "accepted", "delivery": delivery_id}, 202)


# On PostgreSQL, unless JIRA_WEBHOOK_WAIT_FOR_DISK, the delivery's INSERT takes its rows from this
# one-row subquery, which relaxes its own transaction's commit (``set_config(..., true)`` is ``SET
# LOCAL``): one statement, so PostgreSQL can keep it prepared, and one round trip (see ``insert_once``).
NO_WAIT_FOR_DISK = "(SELECT set_config('synchronous_commit', 'off', true)) AS no_wait_for_disk"


def insert_once(delivery: dict) -> int | None:
    """INSERT a ``JiraDelivery`` of these field values (the model's defaults for the others) unless a
    row has its delivery id; the new row's id, None for a redelivery.

    One statement and one round trip, committed before it returns (a request runs in autocommit):
    ``ON CONFLICT DO NOTHING`` finds a redelivery without a look-up first nor an error to recover
    from, and no BEGIN and COMMIT go around it. Inside a caller's transaction (a test), the
    caller's commit decides.

    On PostgreSQL the statement's values are bound by the server, so PostgreSQL parses and plans
    it once per connection (psycopg prepares it from its fifth run, unless
    ``DATABASE_PREPARED_STATEMENTS=0``) instead of on every delivery, which took as long as the
    INSERT itself; the product's other queries keep Django's client-side binding. Unless ``JIRA_WEBHOOK_WAIT_FOR_DISK``, the INSERT reads its values from
    ``NO_WAIT_FOR_DISK``, so its commit alone returns once PostgreSQL holds the row, before its WAL
    reaches the disk. The flush to disk was most of a delivery's time (a lone INSERT took 7-8 ms
    with it, 0.3-0.5 ms without, on the benchmark's machine). The row is committed and visible to
    the drain before Jira hears 2xx, and survives any crash of the product's processes:
    PostgreSQL has it, and its WAL writer flushes it within three ``wal_writer_delay`` (0.6 s by
    default). Only a crash of PostgreSQL itself or of its machine in that moment can lose it (never
    half of it, nor a later commit without it); the pull then brings the issue's news back (its
    watermark moves only past issues it read itself), which is why this is the default only when
    the pull is configured. Every other write of the product still waits for the disk.
    """
    connection = transaction.get_connection()
    # Production checks a kept connection before a request's first query (CONN_HEALTH_CHECKS): a
    # SELECT 1, one more round trip than the INSERT. Here the INSERT is the check: on a connection
    # that died (a database restart) it fails, Jira hears 503 and sends the delivery again, and
    # Django closes the broken connection when the request ends.
    connection.health_check_done = True
    values = [
        field.get_db_prep_save(delivery[field.attname], connection)
        if field.attname in delivery or default is PER_ROW
        else default
        for field, default in _columns(connection)
    ]
    postgresql = connection.vendor == "postgresql"
    without_disk = postgresql and not settings.JIRA_WEBHOOK_WAIT_FOR_DISK and not connection.in_atomic_block
    sql = _insert_sql(connection, without_disk)
    with _server_bound_cursor(connection) if postgresql else connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    return None if row is None else row[0]


@functools.cache
def _stored_fields() -> list:
    return [field for field in JiraDelivery._meta.concrete_fields if not field.primary_key]


_COLUMNS = {}
PER_ROW = object()  # a default computed for each row (a time): the hook must give the field itself


def _columns(connection) -> list:
    """Each stored field with its default as ``connection`` takes it, worked out once: a delivery
    gives half the fields, and preparing the others' defaults again each time took as long as the HMAC."""
    columns = _COLUMNS.get(connection.vendor)
    if columns is None:
        columns = _COLUMNS[connection.vendor] = [
            (
                field,
                PER_ROW
                if field.has_default() and callable(field.default)
                else field.get_db_prep_save(field.get_default(), connection),
            )
            for field in _stored_fields()
        ]
    return columns


_INSERTS = {}


def _insert_sql(connection, without_disk: bool) -> str:
    """The delivery's ``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` on ``connection``, written once."""
    written = _INSERTS.get((connection.vendor, without_disk))
    if written is None:
        meta, quote = JiraDelivery._meta, connection.ops.quote_name
        columns = ", ".join(quote(field.column) for field in _stored_fields())
        placeholders = ", ".join(["%s"] * len(_stored_fields()))
        rows = f"SELECT {placeholders} FROM {NO_WAIT_FOR_DISK}" if without_disk else f"VALUES ({placeholders})"
        written = _INSERTS[connection.vendor, without_disk] = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) {rows} ON CONFLICT "
            f"({quote(meta.get_field('delivery_id').column)}) DO NOTHING RETURNING {quote(meta.pk.column)}"
        )
    return written


def _server_bound_cursor(connection):
    """A cursor of Django's connection that sends its values apart from the SQL, as
    ``server_side_binding`` would for every query: psycopg then prepares a statement it runs again
    and again, and PostgreSQL skips parsing and planning it. Django's wrapper around it, so the
    statement is logged and counted like any other."""
    connection.ensure_connection()
    with connection.wrap_database_errors:  # a DatabaseError, as the cursor's own would be (store answers 503)
        raw = psycopg.Cursor(connection.connection)
    return connection.make_debug_cursor(raw) if connection.queries_logged else connection.make_cursor(raw)


def _duplicate(delivery_id: str, retry: int) -> HttpResponse:
    logger.info("jira.webhook.duplicate delivery=%s retry=%s", delivery_id, retry)
    return answer({"status": "duplicate", "delivery": delivery_id}, 200)


def _not_stored() -> HttpResponse:
    return answer({"error": "The delivery could not be stored; send it again later."}, 503)


class DrainWindow:
    """One drain queued per burst from this process: the first delivery after a quiet moment queues
    it, to start when ``seconds`` have passed, and the deliveries stored meanwhile are taken by it.

    A delivery is stored (committed) before it asks, so the drain, starting after the window
    that saw the ask, finds it pending. Held per process: nothing is shared, and nothing is lost
    when the cache or this process goes (the sweep finds whatever is pending and older than its
    grace).
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.closes = 0.0
        self.lock = threading.Lock()

    def opens(self) -> bool:
        """Whether a drain must be queued now (no window is open); the window is then open."""
        with self.lock:
            now = time.monotonic()
            if now < self.closes:
                return False
            self.closes = now + self.seconds
            return True

    def close(self):
        with self.lock:
            self.closes = 0.0


DRAIN_WINDOW = DrainWindow(seconds=0.1)


def request_drain(pk: int, delivery_id: str):
    """Queue a drain of the inbox unless one queued from this process will start after this delivery.

    In eager mode (the tests, a process without a worker) it drains at once. When the broker is
    down, the sweep will find the delivery pending."""
    # The window first: while it is open (nearly every delivery of a burst) nothing else is read,
    # Celery's configuration taking longer to read than the lock (and the INSERT's own Python).
    if not DRAIN_WINDOW.opens():
        return
    from integrations.jira.tasks import drain

    eager = drain.app.conf.task_always_eager
    if eager:
        DRAIN_WINDOW.close()  # no window when each delivery drains at once: the next one drains too
    try:
        drain.apply_async(countdown=None if eager else DRAIN_WINDOW.seconds)
    except Exception:  # kombu and redis raise many kinds; the row is stored either way
        DRAIN_WINDOW.close()  # the next delivery tries again
        logger.exception("jira.webhook.enqueue_failed delivery=%s id=%s: left pending for the sweep", delivery_id, pk)
