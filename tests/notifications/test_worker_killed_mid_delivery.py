"""The production worker killed mid-delivery: nothing lost, nothing posted twice, no row left "sending".

As in ``test_worker_survives_redis``: a real ``celery worker`` subprocess started with the production
command line (``WORKER_COMMAND``), a ``redis-server`` of this test's own, a SQLite file shared in a
temporary ``VAR_DIR``, and the fake Slack answering slowly (it posts the message, then answers late),
so that posts are under way. The worker and its pool processes are killed with SIGKILL (no handler
runs: the rows they were sending stay "sending") while a row is being sent, and a new worker is
started; once, only the pool process sending a row is killed. Slack has some of those messages and
the product never heard so: the next run must find them (read back) rather than post them again,
and must not wait for a long timeout before it does. Needs only the ``redis-server`` binary (skipped without it).
"""

import contextlib
import os
import signal
import sqlite3
import time
from pathlib import Path

from notifications.delivery import METADATA_EVENT
from tests.notifications.test_worker import OwnRedis
from tests.notifications.test_worker_survives_redis import Product, pause, pytestmark, tick, wait_for

__all__ = ["pytestmark"]  # skipped without redis-server, as the test it follows

ROWS = 16
# SIGKILL the whole worker (its successor already starting), then only the pool process sending a
# row (the worker starts another and, the task acknowledged late, runs it again), then the whole worker.
KILLS = (True, False, True)


def pool_of(pid: int) -> list[int]:
    """The processes ``pid`` started (Celery's pool), read from /proc."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def sending_in(product: Product, pool: list[int]) -> int | None:
    """The pool process of ``pool`` with a row "sending" (its claim names the process), if any."""
    with sqlite3.connect(product.db, timeout=5) as conn:
        claims = conn.execute("select claimed_by from notifications_outboxmessage where state = 'sending'")
        senders = {int(claimed.split("|")[-2]) for (claimed,) in claims if claimed}
    return next((pid for pid in pool if pid in senders), None)


def kill(worker, pool: list[int]):
    """SIGKILL a worker this test started and its pool processes, by their ids: nothing of theirs runs after."""
    os.kill(worker.pid, signal.SIGKILL)
    for child in pool:
        with contextlib.suppress(ProcessLookupError):  # it ended with its parent
            os.kill(child, signal.SIGKILL)
    worker.wait(10)
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{child}").exists() for child in pool) and time.monotonic() < deadline:
        pause(0.05)


def kill_one(pid: int | None):
    """SIGKILL the pool process ``pid`` of a worker this test started."""
    with contextlib.suppress(ProcessLookupError, TypeError):  # it ended meanwhile: the next tick tells
        os.kill(pid, signal.SIGKILL)


def ready(product: Product, workers: int):
    wait_for(lambda: product.output().count("ready.") >= workers, "the worker to start", product)


def test_a_worker_killed_mid_delivery_loses_and_doubles_nothing(tmp_path, fake_slack):
    redis = OwnRedis().start()
    product = Product(tmp_path, redis, fake_slack)
    doomed = None
    try:
        product.manage("migrate", "--verbosity=0")
        product.write_rows(0, ROWS)
        # Every post answers after 0.5 s, once the message is in the channel: a kill lands mid-post.
        fake_slack.fail_next(ROWS * 2, stall=0.5, methods=("chat.postMessage",))
        product.start_worker()
        ready(product, 1)
        tick(redis.url)
        workers = 1
        for whole_worker in KILLS:
            pool = pool_of(product.worker.pid)
            if whole_worker:
                doomed = product.worker
                product.start_worker()  # its successor starts meanwhile, as a supervisor would start one
                workers += 1
            wait_for(lambda pool=pool: sending_in(product, pool), "a post under way", product, redis.url)
            if whole_worker:
                kill(doomed, pool)  # mid-post: Slack has the message, or is about to, and nobody will hear it
            else:
                kill_one(sending_in(product, pool))  # the worker forks another and runs the task again
            assert product.states().get("sending"), "the kill was meant to land mid-delivery"
            ready(product, workers)
            tick(redis.url)  # beat's next tick
        wait_for(lambda: product.states() == {"sent": ROWS}, f"all {ROWS} rows sent", product, redis.url)
    finally:
        if doomed is not None and doomed.poll() is None:  # a failure before its kill: stopped by its handle
            doomed.kill()
            doomed.wait(10)
        product.stop_worker()
        redis.stop()
    texts = [post["text"] for post in fake_slack.posts()]
    assert sorted(texts) == sorted(f"Message {i}" for i in range(ROWS))  # each posted once: none lost, none twice
    read_back = fake_slack.calls("conversations.history")
    assert read_back, "a row killed mid-post is read back before it is posted again"
    assert all(post["metadata"]["event_type"] == METADATA_EVENT for post in fake_slack.posts())
