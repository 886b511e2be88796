"""Benchmark of the outbox: delivery throughput through a fake Slack, and a channel's "last post" query.

Usage: .venv/bin/python benchmarks/outbox.py [--rows 5000] [--channels 2000] [--one-channel 60]
       [--sent-rows 200000] [--smoke]
Runs on a fresh SQLite file in a temporary folder, or on DATABASE_URL when it is set (the database
named there is used as is; the benchmark writes outbox rows whose reasons start "bench-outbox:" and
deletes them when it ends).

Slack is the fake of the tests (``tests/fake_slack.py``) on 127.0.0.1, spoken to by the real
``slack_sdk.WebClient``. Two ways of delivering the same rows:

- **under beat only** (as before): one run of ``deliver_due`` (200 rows) per beat tick, every 30 s.
  The ticks are simulated (each run is handed its tick's moment), so the figure is the time beat
  would take, without waiting for it;
- **continuous**: the deliver task as the worker runs it, in this process: a run, then its follow-up
  after the countdown the task asks for (``delivery.next_run_in``), really waited.

Then the per-channel "last post" read that every delivery run makes for its due rows, over
``--sent-rows`` sent rows: the query before (GROUP BY channel, MAX over the channels' rows) and
now (the latest row per channel, read with the due rows), each without and with the index
``outbox_channel_last_post``.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from start import start_django  # noqa: E402  (this folder is on sys.path)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
    os.environ.pop(name, None)  # WebClient honours proxies but not NO_PROXY

from tests.fake_slack import FakeSlack  # noqa: E402  (no Django in it)

FAKE = FakeSlack().start()
start_django(
    "outbox-bench-",
    SLACK_BOT_TOKEN=FAKE.token,
    SLACK_API_URL=FAKE.url,
    SLACK_INTERNAL_CHANNEL="C0INTERNAL",
    LOG_LEVEL="WARNING",
)

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.utils import timezone  # noqa: E402

from notifications import delivery  # noqa: E402
from notifications.models import OutboxMessage  # noqa: E402

PREFIX = "bench-outbox:"
K = OutboxMessage.Kind
S = OutboxMessage.State
BEAT_SECONDS = 30
INDEX = "outbox_channel_last_post"


def write_rows(label: str, n: int, channels: int, **fields) -> list[int]:
    now = timezone.now()
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(
                reason_key=f"{PREFIX}{label}:{i}",
                kind=K.REPLANNED,
                channel=f"CB{i % channels:06d}",
                text=f"Bench message {i}",
                not_before=now,
                **fields,
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    return list(OutboxMessage.objects.filter(reason_key__startswith=f"{PREFIX}{label}:").values_list("id", flat=True))


def clear():
    OutboxMessage.objects.filter(reason_key__startswith=PREFIX).delete()
    FAKE.messages.clear()
    FAKE.requests.clear()


def check(ids: list[int]) -> str:
    sent = OutboxMessage.objects.filter(pk__in=ids, state=S.SENT).count()
    texts = [m["text"] for messages in FAKE.messages.values() for m in messages]
    doubled = len(texts) - len(set(texts))
    return f"sent {sent}/{len(ids)}, posted twice {doubled}"


def under_beat(label: str, n: int, channels: int) -> str:
    ids = write_rows(label, n, channels)
    moment, ticks, busy = timezone.now(), 0, 0.0
    while OutboxMessage.objects.filter(pk__in=ids).exclude(state=S.SENT).exists():
        ticks += 1
        start = time.perf_counter()
        delivery.deliver_due(now=moment)
        busy += time.perf_counter() - start
        moment += timedelta(seconds=BEAT_SECONDS)
        if ticks > 10_000:
            break
    # The last tick's run ends the delivery: (ticks - 1) waits of 30 s, plus the runs' own time.
    took = (ticks - 1) * BEAT_SECONDS + busy
    result = f"{took:8.1f} s  ({n / took:7.1f} msg/s, {ticks} ticks)  {check(ids)}"
    clear()
    return result


def continuous(label: str, n: int, channels: int) -> str:
    ids = write_rows(label, n, channels)
    start = time.perf_counter()
    runs = 0
    while True:
        runs += 1
        counts = delivery.deliver_due()
        wait = delivery.next_run_in(counts)
        if wait is None:
            break
        time.sleep(wait.total_seconds())
    took = time.perf_counter() - start
    result = f"{took:8.1f} s  ({n / took:7.1f} msg/s, {runs} runs)  {check(ids)}"
    clear()
    return result


def last_post_queries(sent_rows: int, channels: int, due_channels: int = 200, repeat: int = 20):
    """Build ``sent_rows`` sent rows (a quarter in one busy channel), then time the read of one run."""
    now = timezone.now()
    busy = sent_rows // 4
    built = 0
    while built < sent_rows:
        chunk = min(20_000, sent_rows - built)
        OutboxMessage.objects.bulk_create(
            [
                OutboxMessage(
                    reason_key=f"{PREFIX}sent:{built + i}",
                    kind=K.REPLANNED,
                    channel="CBUSY" if built + i < busy else f"CS{(built + i) % channels:06d}",
                    text="sent",
                    state=S.SENT,
                    not_before=now - timedelta(days=30),
                    sent_at=now - timedelta(seconds=sent_rows - built - i),
                )
                for i in range(chunk)
            ],
            batch_size=5000,
        )
        built += chunk
    due = ["CBUSY", *[f"CS{i:06d}" for i in range(due_channels - 1)]]
    OutboxMessage.objects.bulk_create(
        [
            OutboxMessage(reason_key=f"{PREFIX}due:{c}", kind=K.REPLANNED, channel=c, text="due", not_before=now)
            for c in due
        ]
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE notifications_outboxmessage")

    def before():  # the query delivery made until now: every sent row of the channels, grouped
        rows = list(delivery._due(now).order_by("not_before", "id").values_list("id", "channel")[:due_channels])
        latest = (
            OutboxMessage.objects.filter(channel__in={c for _, c in rows}, state=S.SENT)
            .exclude(kind=K.THREAD_STATUS)
            .values("channel")
            .annotate(last=Max("sent_at"))
        )
        return len(list(latest))

    def after():  # now: the latest row per channel, read with the due rows in one query
        return len(
            list(
                delivery._due(now)
                .annotate(last_post=delivery.last_post())
                .order_by("not_before", "id")
                .values_list("id", "channel", "last_post")[:due_channels]
            )
        )

    def timed(query) -> float:
        query()
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            query()
            samples.append(time.perf_counter() - start)
        return statistics.median(samples) * 1000

    index = next(i for i in OutboxMessage._meta.indexes if i.name == INDEX)
    with connection.schema_editor() as editor:
        editor.remove_index(OutboxMessage, index)
    try:
        without = (timed(before), timed(after))
    finally:
        ensure_index()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE notifications_outboxmessage")
    with_index = (timed(before), timed(after))
    print(
        f"last post of {due_channels} channels over {sent_rows} sent rows ({busy} in one channel), median of {repeat}:"
    )
    print(f"  before (GROUP BY, MAX):        no index {without[0]:8.1f} ms   index {with_index[0]:8.1f} ms")
    print(f"  now (latest row, with the due): no index {without[1]:8.1f} ms   index {with_index[1]:8.1f} ms")
    clear()


def ensure_index():
    """The index as the migration made it (a run stopped while measuring without it leaves none)."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, OutboxMessage._meta.db_table)
    if INDEX not in constraints:
        with connection.schema_editor() as editor:
            editor.add_index(OutboxMessage, next(i for i in OutboxMessage._meta.indexes if i.name == INDEX))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000, help="rows spread over --channels")
    parser.add_argument("--channels", type=int, default=2000)
    parser.add_argument("--one-channel", type=int, default=60, help="rows in one channel")
    parser.add_argument("--sent-rows", type=int, default=200_000, help="sent rows for the last-post query")
    parser.add_argument("--smoke", action="store_true", help="the smallest sizes, to check that it runs")
    args = parser.parse_args()
    if args.smoke:
        args.rows, args.channels, args.one_channel, args.sent_rows = 300, 100, 4, 2000
    call_command("migrate", verbosity=0)
    ensure_index()
    clear()
    print(f"database: {connection.vendor}; fake Slack at {FAKE.url}")
    begin = time.perf_counter()
    try:
        for label, n, channels in (
            (f"{args.rows} rows in {args.channels} channels", args.rows, args.channels),
            (f"{args.one_channel} rows in one channel", args.one_channel, 1),
        ):
            print(f"{label}:")
            print(
                f"  under beat only (every {BEAT_SECONDS} s, {delivery.BATCH} rows): {under_beat('beat', n, channels)}"
            )
            print(f"  continuous (the task's follow-ups):       {continuous('go', n, channels)}")
        last_post_queries(args.sent_rows, args.channels)
    finally:
        clear()
        FAKE.stop()
    print(f"total: {time.perf_counter() - begin:.1f} s")


if __name__ == "__main__":
    main()
