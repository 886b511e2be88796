"""Jira deliveries as Jira sends them: real payload fixtures, signed with HMAC-SHA256, POSTed to the hook."""

import hashlib
import hmac
import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from config.celery import app
from integrations.jira.views import DRAIN_WINDOW

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "jira"
SECRET = "acme-webhook-secret-5f2c"
URL = "/hooks/jira/"
SIGNED = object()  # post(..., signature=SIGNED): sign the body with SECRET, as Jira does

_ids = itertools.count(1)


def fixture_body(name: str) -> bytes:
    """The bytes of tests/fixtures/jira/<name>.json, as Jira would send them."""
    return (FIXTURES / f"{name}.json").read_bytes()


def fixture_json(name: str) -> dict:
    return json.loads(fixture_body(name))


def sign(body: bytes, secret: str = SECRET, algorithm: str = "sha256") -> str:
    """The ``X-Hub-Signature`` Jira puts on ``body``: ``sha256=<hex HMAC of the raw body>``."""
    return f"{algorithm}={hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()}"


def new_delivery_id() -> str:
    return f"7c1e0f2a-4b9d-4e52-9a31-{next(_ids):012d}"


def sent_at(body: dict) -> datetime:
    """When Jira sent ``body``: its ``timestamp`` (epoch milliseconds)."""
    return datetime.fromtimestamp(body["timestamp"] / 1000, tz=UTC)


@pytest.fixture(autouse=True)
def no_drain_queued():
    """Each test starts with no drain of the inbox queued from this process (``views.DRAIN_WINDOW``)."""
    DRAIN_WINDOW.close()
    yield
    DRAIN_WINDOW.close()


@pytest.fixture
def acme(started_integration):
    """The started integration, linked to the Jira project ACME of the fixtures."""
    started_integration.jira_project_key = "ACME"
    started_integration.save(update_fields=["jira_project_key"])
    return started_integration


@pytest.fixture
def jira_secret(settings):
    """The hook configured as in production: a secret, unsigned deliveries refused."""
    settings.JIRA_WEBHOOK_SECRET = SECRET
    settings.JIRA_WEBHOOK_ALLOW_UNSIGNED = False
    return SECRET


@pytest.fixture
def eager_tasks():
    """Queued tasks run at once in this process, so a delivery is processed when its commit callbacks run."""
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield app
    finally:
        app.conf.task_always_eager = saved


@pytest.fixture
def post_raw(client, jira_secret):
    """POST raw bytes to the hook; the commit callbacks (the queued processing) are captured, not run."""

    def post(body: bytes, *, delivery_id=None, signature=SIGNED, retry=None, headers=None, **extra):
        sent = {}
        if delivery_id is not False:
            sent["X-Atlassian-Webhook-Identifier"] = delivery_id or new_delivery_id()
        if signature is SIGNED:
            signature = sign(body)
        if signature is not None:
            sent["X-Hub-Signature"] = signature
        if retry is not None:
            sent["X-Atlassian-Webhook-Retry"] = str(retry)
        sent.update(headers or {})
        return client.post(URL, data=body, content_type="application/json", headers=sent, **extra)

    return post


@pytest.fixture
def deliver(post_raw, eager_tasks, django_capture_on_commit_callbacks):
    """Deliver a fixture (or a dict, or bytes) as Jira does, and let the queued processing run.

    By default the delivery arrives a second after Jira's ``timestamp``; ``at=`` says when else.
    The response carries ``delivery_id`` and the commit ``callbacks`` it queued.
    """

    def post(payload, *, at=None, delivery_id=None, **kwargs):
        if isinstance(payload, str):
            payload = fixture_body(payload)
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        if at is None:
            at = sent_at(json.loads(body)) + timedelta(seconds=1)
        delivery_id = delivery_id or new_delivery_id()
        with time_machine.travel(at, tick=False), django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = post_raw(body, delivery_id=delivery_id, **kwargs)
        response.delivery_id = delivery_id
        response.callbacks = callbacks
        return response

    return post
