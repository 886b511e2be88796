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

import hashlib
import hmac
import json
import logging
import math
import re
import threading
import time
import weakref

import psycopg
import psycopg.generators
from django.conf import settings
from django.db import DatabaseError, models, transaction
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

    On PostgreSQL, in autocommit, the statement is sent through libpq as a prepared statement of
    the connection (``DeliveryInsert.run_prepared``): PostgreSQL parses and plans it once per
    connection instead of on every delivery (which took as long as the INSERT itself), and the
    request skips psycopg's and Django's cursor machinery, which took as long as the HMAC, the JSON
    parse and the answer together. Where Django must see the statement (in a transaction, with
    DEBUG or a test counting queries, with an execute wrapper), it goes through Django's cursor.

    Unless ``JIRA_WEBHOOK_WAIT_FOR_DISK``, the INSERT reads its values from ``NO_WAIT_FOR_DISK``
    on PostgreSQL, so its commit alone returns once PostgreSQL holds the row, before its WAL
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
    postgresql = connection.vendor == "postgresql"
    in_transaction = connection.in_atomic_block
    without_disk = postgresql and not settings.JIRA_WEBHOOK_WAIT_FOR_DISK and not in_transaction
    insert = DeliveryInsert.on(connection, without_disk)
    # Django's cursor wherever Django must see the statement or its transaction: in a transaction,
    # counted or logged (DEBUG, tests), wrapped, or without autocommit (which wants a BEGIN first).
    seen = in_transaction or connection.queries_logged or connection.execute_wrappers
    if postgresql and not seen and connection.get_autocommit():
        return insert.run_prepared(connection, delivery)
    with connection.cursor() as cursor:
        cursor.execute(insert.sql, insert.values(delivery, connection))
        row = cursor.fetchone()
    return None if row is None else row[0]


class DeliveryInsert:
    """The delivery's ``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` on one database, and how its
    values are made: worked out once per database and commit mode (``on``).

    The hook gives the fields of ``GIVEN`` (``store``): its strings for CharFields and its numbers
    for IntegerFields go to the database as they are, so only the others (the time, the body) are
    prepared by their field. The other columns take the model's defaults: NULL written into the
    statement, the rest prepared once and bound. Preparing all fourteen values through their
    fields on every delivery took as long as the HMAC and the JSON parse together.
    """

    GIVEN = ("delivery_id", "received_at", "event", "issue_key", "retry_number", "body", "content_key")
    _made = {}

    @classmethod
    def on(cls, connection, without_disk: bool) -> "DeliveryInsert":
        key = (connection.vendor, without_disk)
        insert = cls._made.get(key)
        if insert is None:
            insert = cls._made[key] = cls(connection, without_disk)
        return insert

    def __init__(self, connection, without_disk: bool):
        meta = JiraDelivery._meta
        stored = [field for field in meta.concrete_fields if not field.primary_key]
        given = [meta.get_field(name) for name in self.GIVEN]
        # Each given value's preparation: None when the database takes it as the hook gives it.
        self.prepare = [
            (field.attname, None if isinstance(field, models.CharField | models.IntegerField) else field)
            for field in given
        ]
        per_row, constants, nulls = [], [], []
        for field in stored:
            if field in given:
                continue
            if field.has_default() and callable(field.default):
                per_row.append(field)  # a time or the like: made for each row
            elif field.get_default() is None:
                nulls.append(field)
            else:
                constants.append(field)
        self.per_row = per_row
        self.constants = [field.get_db_prep_save(field.get_default(), connection) for field in constants]
        columns = [*given, *per_row, *constants]
        self.sql = self._sql(connection, without_disk, columns, nulls, ["%s"] * len(columns))
        if connection.vendor == "postgresql":
            # libpq's own statement: $n placeholders, each value sent as text (``_as_text``).
            self.pq_sql = self._sql(
                connection, without_disk, columns, nulls, [f"${n}" for n in range(1, len(columns) + 1)]
            )
            self.pq_name = b"jira_delivery_insert" + (b"_without_disk" if without_disk else b"")
            self.as_text = [(field.attname, _as_text(field)) for field in given]
            self.per_row_texts = [(field, _as_text(field)) for field in per_row]
            self.constant_texts = [_as_text(field)(field.get_default()) for field in constants]

    @staticmethod
    def _sql(connection, without_disk: bool, columns: list, nulls: list, placeholders: list) -> str:
        meta, quote = JiraDelivery._meta, connection.ops.quote_name
        values = ", ".join(placeholders + ["NULL"] * len(nulls))
        rows = f"SELECT {values} FROM {NO_WAIT_FOR_DISK}" if without_disk else f"VALUES ({values})"
        names = ", ".join(quote(field.column) for field in [*columns, *nulls])
        return (
            f"INSERT INTO {quote(meta.db_table)} ({names}) {rows} "
            f"ON CONFLICT ({quote(meta.get_field('delivery_id').column)}) DO NOTHING RETURNING {quote(meta.pk.column)}"
        )

    def values(self, delivery: dict, connection) -> list:
        """The statement's values for ``delivery`` (the ``GIVEN`` fields' values), for Django's cursor."""
        values = [
            delivery[name] if field is None else field.get_db_prep_save(delivery[name], connection)
            for name, field in self.prepare
        ]
        values += [field.get_db_prep_save(field.get_default(), connection) for field in self.per_row]
        values += self.constants
        return values

    def run_prepared(self, connection, delivery: dict) -> int | None:
        """Run the statement for ``delivery`` on PostgreSQL, in autocommit, as the connection's prepared
        statement (prepared on its first delivery), through libpq; the new row's id or None.

        ``DATABASE_PREPARED_STATEMENTS=0`` (a pooler that cannot keep them): an unnamed statement,
        parsed each time, its values still sent apart. A statement the server no longer has (a
        pooler or a DEALLOCATE dropped it) is prepared again and run once more: it did not run.
        Another statement of its name in the session is replaced. A failure is Django's
        DatabaseError, as from its cursor, and marks the connection for Django's check as the
        request ends."""
        texts = [convert(delivery[name]) for name, convert in self.as_text]
        texts += [convert(field.get_default()) for field, convert in self.per_row_texts]
        texts += self.constant_texts
        connection.ensure_connection()
        with connection.wrap_database_errors:
            pg = connection.connection
            with pg.lock:
                if pg.prepare_threshold is None:
                    pg.pgconn.send_query_params(self.pq_sql.encode(), texts)
                    result = _result(pg)
                else:
                    result = self._run_named(pg, texts)
        return int(result.get_value(0, 0)) if result.ntuples else None

    def _run_named(self, pg, texts: list):
        prepared = _PREPARED.setdefault(pg, set())
        if self.pq_name not in prepared:
            self._prepare(pg)
            prepared.add(self.pq_name)
        try:
            pg.pgconn.send_query_prepared(self.pq_name, texts)
            return _result(pg)
        except psycopg.errors.InvalidSqlStatementName:  # 26000: the server forgot it
            self._prepare(pg)
            pg.pgconn.send_query_prepared(self.pq_name, texts)
            return _result(pg)

    def _prepare(self, pg):
        try:
            pg.pgconn.send_prepare(self.pq_name, self.pq_sql.encode())
            _result(pg)
        except psycopg.errors.DuplicatePreparedStatement:  # 42P05: the session has one of this name
            # (a pooler's session kept from another client, an earlier version's): ours replaces it.
            pg.pgconn.send_query(b"DEALLOCATE " + self.pq_name)
            _result(pg)
            pg.pgconn.send_prepare(self.pq_name, self.pq_sql.encode())
            _result(pg)


# The delivery statements prepared on each of this process's PostgreSQL connections (psycopg's own
# connection objects, forgotten with them).
_PREPARED = weakref.WeakKeyDictionary()


def _result(pg):
    """The result of what was just sent on psycopg connection ``pg``, waited for as psycopg waits for
    its own; psycopg's error for that result if it failed."""
    result = pg.wait(psycopg.generators.execute(pg.pgconn))[-1]
    if result.status == psycopg.pq.ExecStatus.FATAL_ERROR:
        raise psycopg.errors.error_from_result(result, encoding=pg.info.encoding)
    return result


def _as_text(field):
    """How a value of ``field`` is written as the text PostgreSQL reads for its column."""
    if isinstance(field, models.JSONField):
        return lambda value: json.dumps(value, cls=field.encoder).encode()  # what psycopg's Jsonb sends
    if isinstance(field, models.DateTimeField):
        return lambda value: value.isoformat().encode()  # an aware time: ISO 8601 with its offset
    if isinstance(field, models.IntegerField):
        return lambda value: str(int(value)).encode()
    if isinstance(field, models.CharField | models.TextField):
        return str.encode
    raise TypeError(f"JiraDelivery.{field.name}: no text form for a {type(field).__name__} in the delivery's statement")


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
