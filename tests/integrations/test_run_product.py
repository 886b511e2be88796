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


def test_run_product_starts_web_worker_and_beat(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env.update(VAR_DIR=str(tmp_path), HEARTBEAT_SECONDS="5", PYTHONUNBUFFERED="1")
    log = (tmp_path / "run.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "run_product", "--addr", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:

        def login_page():
            try:
                return requests.get(f"{base}/admin/login/", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(login_page, 90, "the login page")
        session = requests.Session()
        session.get(f"{base}/admin/login/", timeout=5)
        response = session.post(
            f"{base}/admin/login/?next=/admin/integrations/integration/",
            data={
                "username": "demo",
                "password": "tradingview-demo",
                "csrfmiddlewaretoken": session.cookies["csrftoken"],
                "next": "/admin/integrations/integration/",
            },
            headers={"Referer": f"{base}/admin/login/"},
            timeout=10,
        )
        assert response.status_code == 200
        assert "Lumen Markets" in response.text  # the launched demo partner
        assert "Halcyon Brokerage" in response.text
        # The dashboard, with its static files served by the product itself (no CDN).
        dashboard = session.get(f"{base}/", timeout=10)
        assert dashboard.status_code == 200 and "Corvid Capital" in dashboard.text
        assert session.get(f"{base}/static/js/htmx.min.js", timeout=5).status_code == 200

        seen = wait_for(lambda: heartbeats(tmp_path / "roadmap.sqlite3") >= {"worker", "beat"}, 60, "heartbeats")
        assert seen
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        log.seek(0)
        output = log.read()
    assert code == 0, output[-3000:]
    assert f"Log in at http://127.0.0.1:{port}/  as" in output
    assert "Demo portfolio: 12 partner(s) added" in output
    assert "Stopped." in output
