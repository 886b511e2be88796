"""The fake Slack server, with the settings pointing the real ``slack_sdk.WebClient`` at it."""

import pytest

from config.celery import app
from tests.fake_slack import FakeSlack

INTERNAL_CHANNEL = "CINTERNAL"
PARTNER_CHANNEL = "CPARTNER"
SITE_URL = "https://roadmap.example.com"


@pytest.fixture
def fake_slack(settings, monkeypatch):
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)  # WebClient honours proxies but not NO_PROXY
    with FakeSlack() as fake:
        settings.SLACK_BOT_TOKEN = fake.token
        settings.SLACK_ENABLED = True
        settings.SLACK_API_URL = fake.url
        settings.SLACK_INTERNAL_CHANNEL = INTERNAL_CHANNEL
        settings.SLACK_TIMEOUT_SECONDS = 1
        settings.SLACK_RESPONSE_URL_HOSTS = [*settings.SLACK_RESPONSE_URL_HOSTS, fake.host]
        yield fake


@pytest.fixture
def slack_off(settings):
    settings.SLACK_BOT_TOKEN = ""
    settings.SLACK_ENABLED = False
    settings.SLACK_INTERNAL_CHANNEL = INTERNAL_CHANNEL


@pytest.fixture
def eager_tasks():
    """Queued tasks run at once in this process (the reply to a click is posted by a task)."""
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield app
    finally:
        app.conf.task_always_eager = saved
