"""``manage.py run_product`` (what ``make run`` starts) brings up web, worker and beat from nothing.

Runs the real command in a fresh folder on the embedded defaults, logs in with the demo login,
and waits for the worker's and beat's heartbeats to reach the database.
"""

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"gave up waiting for {what} after {seconds} s")


def heartbeats(db: Path) -> set[str]:
    if not db.exists():
        return set()
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return {row[0] for row in conn.execute("select name from integrations_heartbeat")}
    except sqlite3.OperationalError:  # tables not migrated yet
        return set()


def start(tmp_path, *args) -> tuple[subprocess.Popen, str, object]:
    """``run_product`` in a fresh folder on the embedded defaults: the process, its base URL, its log."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.update(VAR_DIR=str(tmp_path), HEARTBEAT_SECONDS="5", PYTHONUNBUFFERED="1")
    log = (tmp_path / "run.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_product", "--addr", f"127.0.0.1:{port}", *args],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return proc, f"http://127.0.0.1:{port}", log


def log_in(base: str, then: str) -> tuple[requests.Session, requests.Response]:
    """Wait for the web server, then log in with the printed PM login and open ``then``."""

    def login_page():
        try:
            return requests.get(f"{base}/admin/login/", timeout=10).status_code == 200
        except requests.RequestException:  # not up yet, or too busy migrating to answer in time
            return False

    # Migrations and the demo take a minute on a quiet machine; a busy CI machine may need more.
    wait_for(login_page, 300, "the login page")
    session = requests.Session()
    session.get(f"{base}/admin/login/", timeout=60)
    response = session.post(
        f"{base}/admin/login/?next={then}",
        data={
            "username": "demo",
            "password": "tradingview-demo",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
            "next": then,
        },
        headers={"Referer": f"{base}/admin/login/"},
        timeout=60,
    )
    return session, response


def stop(proc, log) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    log.seek(0)
    return code, log.read()


def test_run_product_starts_web_worker_and_beat(tmp_path):
    proc, base, log = start(tmp_path)
    try:
        session, response = log_in(base, "/admin/integrations/integration/")
        assert response.status_code == 200
        assert "Lumen Markets" in response.text  # the launched demo partner
        assert "Halcyon Brokerage" in response.text
        # The dashboard, with its static files served by the product itself (no CDN).
        dashboard = session.get(f"{base}/", timeout=60)
        assert dashboard.status_code == 200 and "Corvid Capital" in dashboard.text
        assert session.get(f"{base}/static/js/htmx.min.js", timeout=60).status_code == 200

        seen = wait_for(lambda: heartbeats(tmp_path / "roadmap.sqlite3") >= {"worker", "beat"}, 180, "heartbeats")
        assert seen
    finally:
        code, output = stop(proc, log)
    assert code == 0, output[-3000:]
    assert f"Log in at {base}/  as" in output
    assert "Demo portfolio: 12 partner(s) added" in output
    assert "Stopped." in output


def test_without_the_demo_the_printed_login_opens_an_empty_dashboard(tmp_path):
    proc, base, log = start(tmp_path, "--no-demo")
    try:
        session, response = log_in(base, "/")
        assert response.status_code == 200 and response.url == f"{base}/"
        assert "Corvid Capital" not in response.text
    finally:
        code, output = stop(proc, log)
    assert code == 0, output[-3000:]
    assert f"Log in at {base}/  as  demo / tradingview-demo" in output
    assert "bring your first partner in" in output
    assert "Demo portfolio" not in output
