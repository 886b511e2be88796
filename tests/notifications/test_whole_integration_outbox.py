"""The outbox of one whole integration, kick-off to launch, as lines a reviewer can read.

Acme Crypto Exchange (Europe/Berlin, German holidays) is kicked off on Monday 2026-03-02 with the
default plan; TradingView's time zone is Europe/Berlin too. The clock travels hour by hour through the
twelve weeks: beat's hourly reminder run (``CELERY_BEAT_SCHEDULE["plan-reminders"]``) at each hour it
names, and at 11:30 each day the PM completes, through the services the pages use, every step whose
day has come: on its due date, or some working days after it for the partner's late steps (so
reminders, overdue notices and an escalation appear). The partner's hand-overs are recorded before
production deployment; Jira's webhook brings an issue created and a comment (through the inbox); the
launch writes the partner's e-mail. The kick-off welcomes the partner's channel, and in beta testing the PM
records the launch date agreed with the partner's PM, which the partner's channel hears. The PM is on Slack (mentioned, and the weekly digest lists the
integration). Then every outbox row (but a step's status on its first message, an edit, not a
message) is one line ``<not before, Europe/Berlin> | #channel | kind | first line of text``, compared
with ``snapshots/whole_integration_outbox.txt``.

A message added, dropped, moved to another day, hour or channel, or reworded fails the test. When the
change is meant, rewrite the snapshot with ``UPDATE_SNAPSHOTS=1`` and read its diff before committing.
"""

import json
import os
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings

from integrations import agreed_launch, plan, steps
from integrations.jira import inbox
from integrations.jira.models import JiraDelivery
from integrations.models import IntegrationStep, PartnerContact
from notifications import tasks
from notifications.models import OutboxMessage, SlackUser
from roadmap.models import StepStatus
from tests.default_plan import KICKOFF, STEP_CODES
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.handovers.helpers import hand_over_everything
from tests.integrations.helpers import ctx

pytestmark = pytest.mark.django_db

JIRA_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "jira"
SNAPSHOT = Path(__file__).parent / "snapshots" / "whole_integration_outbox.txt"
BERLIN = ZoneInfo("Europe/Berlin")
PARTNER_CHANNEL = "C0ACMEPARTNER"
INTERNAL_CHANNEL = "C0TVINTERNAL"
PM_SLACK_ID = "U0ALICE"
CHANNEL_NAMES = {PARTNER_CHANNEL: "#acme-partner", INTERNAL_CHANNEL: "#tradingview-internal", PM_SLACK_ID: "@alice"}
# The partner's late steps: completed this many working days after their due date.
LATE = {"endpoints-implementation": 9, "sandbox-development": 2, "smoke-test-fixes": 4}
HAND_OVER_BEFORE = "production-deployment"
LAST_DAY = date(2026, 6, 19)
DONE = {StepStatus.DONE, StepStatus.NOT_APPLICABLE}
# Jira: TradingView's sandbox-access issue is created the day after kick-off; the partner comments on it later.
JIRA_ISSUE_CREATED_AT = datetime(2026, 3, 3, 10, 5, tzinfo=BERLIN)
JIRA_COMMENT_AT = datetime(2026, 3, 18, 15, 5, tzinfo=BERLIN)
# Beta testing: the launch is agreed on the day the plan gives it.
AGREED_AT = datetime(2026, 5, 28, 14, 45, tzinfo=BERLIN)
AGREED_LAUNCH = date(2026, 6, 12)


def working_days_after(day: date, count: int) -> date:
    while count:
        day += timedelta(days=1)
        if day.weekday() < 5:
            count -= 1
    return day


def berlin(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


def beat(moment: datetime):
    """Beat's hourly reminder run, if its schedule names ``moment``."""
    schedule = django_settings.CELERY_BEAT_SCHEDULE["plan-reminders"]["schedule"]
    utc = moment.astimezone(UTC)
    if utc.hour in schedule.hour and utc.minute in schedule.minute:
        with time_machine.travel(moment, tick=False):
            tasks.plan_reminders()


def jira_fixture(name: str) -> dict:
    return json.loads((JIRA_FIXTURES / f"{name}.json").read_text())


def jira_delivery(body: dict, moment: datetime):
    """Jira's webhook delivery sent at ``moment``, stored as the hook stores it and processed by the inbox."""
    body = {**body, "timestamp": int(moment.timestamp() * 1000)}
    with time_machine.travel(moment, tick=False):
        delivery = JiraDelivery.objects.create(
            delivery_id=f"acme-{moment:%Y%m%d%H%M}",
            event=body["webhookEvent"],
            issue_key=body["issue"]["key"],
            body=body,
            content_key=inbox.content_key(body),
        )
        inbox.process(delivery.pk, now=moment)


def jira_news(moment: datetime):
    """Jira's deliveries of this hour: the sandbox-access issue ACME-11 created, then a partner's comment on it."""
    if moment == JIRA_ISSUE_CREATED_AT:
        jira_delivery(jira_fixture("jira_issue_created__task"), moment)
    if moment == JIRA_COMMENT_AT:
        issue = jira_fixture("jira_issue_created__task")["issue"]
        jira_delivery({**jira_fixture("comment_created__task"), "issue": issue}, moment)


def complete_what_is_due(integration, pm, today: date):
    """At 11:30 the PM completes, in roadmap order, each next step whose day has come."""
    moment = berlin(today, 11, 30)
    for code in STEP_CODES:
        current = IntegrationStep.objects.get(integration=integration, code=code)
        if current.status in DONE:
            continue
        if working_days_after(current.due_date, LATE.get(code, 0)) > today:
            return
        with time_machine.travel(moment, tick=False):
            if code == HAND_OVER_BEFORE:
                hand_over_everything(integration)
            steps.complete_step(current, ctx(pm, moment))


def agree_the_launch(integration, pm, moment: datetime):
    """In beta testing, on the partner's call, the PM records the launch date Acme's PM agreed."""
    if moment == AGREED_AT:
        with time_machine.travel(moment, tick=False):
            agreed_launch.agree_launch(integration, AGREED_LAUNCH, "Jonas Weber (Acme's PM)", ctx(pm, moment))


def play(integration, pm):
    with time_machine.travel(berlin(KICKOFF, 9), tick=False):
        plan.start_integration(integration, KICKOFF, ctx(pm, berlin(KICKOFF, 9)))
    day = KICKOFF
    while day <= LAST_DAY:
        for hour in range(24):
            if hour == 11:
                complete_what_is_due(integration, pm, day)
            agree_the_launch(integration, pm, berlin(day, hour, 45))
            jira_news(berlin(day, hour, 5))
            beat(berlin(day, hour, 15))
        day += timedelta(days=1)


def readable(text: str) -> str:
    """The first line, Slack links shown as their labels (no ids, which differ between databases)."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    line = re.sub(r"<[^|<>]+\|([^<>]+)>", r"\1", line)
    return re.sub(r"<(https?://|mailto:)[^<>]+>", "<link>", line)


def outbox_lines() -> list[str]:
    lines = []
    for row in OutboxMessage.objects.exclude(kind=OutboxMessage.Kind.THREAD_STATUS).order_by("not_before", "id"):
        when = row.not_before.astimezone(BERLIN).strftime("%a %-d %b %Y %H:%M")
        where = CHANNEL_NAMES.get(row.channel, row.channel) if row.channel else "e-mail " + ", ".join(row.emails)
        listed = " (listed in a channel digest)" if row.digest_id else ""
        lines.append(f"{when} Europe/Berlin | {where} | {row.kind}{listed} | {readable(row.text)}")
    return lines


def test_the_outbox_of_a_whole_integration_reads_as_the_snapshot(settings, pm):
    settings.TIME_ZONE = "Europe/Berlin"
    settings.SLACK_INTERNAL_CHANNEL = INTERNAL_CHANNEL
    SlackUser.objects.create(user=pm, slack_user_id=PM_SLACK_ID)  # the PM on Slack: named, and gets the digest
    partner = PartnerFactory(name="Acme Crypto Exchange", kind="exchange", time_zone="Europe/Berlin", country="DE")
    PartnerContact.objects.create(partner=partner, name="Jonas Weber", email="jonas@acme.example", is_primary=True)
    integration = IntegrationFactory(
        partner=partner, tv_pm=pm, slack_channel_id=PARTNER_CHANNEL, jira_project_key="ACME"
    )

    play(integration, pm)

    integration.refresh_from_db()
    assert integration.state == integration.State.LAUNCHED
    lines = outbox_lines()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text("\n".join(lines) + "\n")
    # Line by line, so a failure shows the messages added, dropped or changed.
    assert lines == SNAPSHOT.read_text().splitlines(), f"UPDATE_SNAPSHOTS=1 rewrites {SNAPSHOT.name} if meant"
