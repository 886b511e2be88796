"""The fake Slack server, with the settings pointing the real ``slack_sdk.WebClient`` at it; and a
TradingView task late over Christmas in England, for the tests of TradingView's calendar."""

from datetime import date

import pytest

from config.celery import app
from integrations import plan
from tests.factories import IntegrationFactory, PartnerFactory
from tests.fake_slack import FakeSlack
from tests.integrations.helpers import at, ctx, on, step

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


@pytest.fixture
def onboarding_due_on_christmas_eve(settings, pm):
    """Slack/Jira onboarding, TradingView's, due Thursday 24 December 2026 on England's calendar (kicked
    off Monday 21), with the internal channel set: Christmas, Boxing Day (on Monday 28) and New Year's
    Day are not worked."""
    settings.SLACK_INTERNAL_CHANNEL = "C0INTERNAL"
    settings.TRADINGVIEW_HOLIDAYS_COUNTRY = "GB"
    settings.TRADINGVIEW_HOLIDAYS_SUBDIVISION = "ENG"
    kickoff = date(2026, 12, 21)
    integration = IntegrationFactory(partner=PartnerFactory(name="Winter Broker", time_zone="UTC"), tv_pm=pm)
    with on(kickoff, 9):
        plan.start_integration(integration, kickoff, ctx(pm, at(kickoff, 9)))
    onboarding = step(integration, "slack-jira-onboarding")
    assert onboarding.due_date == date(2026, 12, 24)
    return onboarding
