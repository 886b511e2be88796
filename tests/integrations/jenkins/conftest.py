"""Jenkins notifications as the Notification plugin sends them: fixtures per phase and status, POSTed to the hook.

The integration is the shared data-and-trading crypto integration (kicked off Monday 2026-03-02),
so both parts' autotests are required; ``linked`` links a Jenkins job to each part.
"""

import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from config.celery import app
from integrations.jenkins.models import JenkinsJob

FIXTURES = Path(__file__).resolve().parent / "fixtures"
URL = "/hooks/jenkins/"
TRADING_JOB = "acme-trading-autotests"
DATA_JOB = "acme-data-autotests"
# The fixtures' builds start at 10:00 UTC on Tuesday 2026-03-10; the hook hears them at noon.
HEARD_AT = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def fixture_json(name: str, *, job: str = TRADING_JOB, number: int | None = None, **build) -> dict:
    """tests/integrations/jenkins/fixtures/<name>.json, for ``job``, with build fields replaced."""
    body = json.loads((FIXTURES / f"{name}.json").read_text())
    body["name"] = body["display_name"] = job
    body["url"] = f"job/{job}/"
    if number is not None:
        body["build"]["number"] = number
    n = body["build"]["number"]
    body["build"]["full_url"] = f"https://ci.tradingview.example/job/{job}/{n}/"
    body["build"]["url"] = f"job/{job}/{n}/"
    body["build"].update(build)
    return body


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def linked(started_integration, pm):
    """A Jenkins job linked to each part of the integration: part -> (job, raw token)."""
    return {
        "trading": JenkinsJob.issue(
            integration=started_integration, part="trading", job_name=TRADING_JOB, created_by=pm
        ),
        "data": JenkinsJob.issue(integration=started_integration, part="data", job_name=DATA_JOB, created_by=pm),
    }


@pytest.fixture
def eager_tasks():
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield app
    finally:
        app.conf.task_always_eager = saved


@pytest.fixture
def post(client, linked, eager_tasks, django_capture_on_commit_callbacks):
    """POST a fixture (or raw bytes) with the part's token, at ``when``; the queued processing runs
    after the commit unless ``process=False``."""

    def send(body, *, part="trading", token=None, when=HEARD_AT, process=True, headers=None, query=True):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        token = linked[part][1] if token is None else token
        url = f"{URL}?token={token}" if token and query else URL
        with time_machine.travel(when, tick=False), django_capture_on_commit_callbacks(execute=process) as callbacks:
            response = client.post(url, raw, content_type="application/json", headers=headers or {})
        response.callbacks = callbacks
        return response

    return send
