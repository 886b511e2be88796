"""Jira's news in the partner's Slack channel (the roadmap's "Notifications from Jira"): a short line in
the step's thread for an issue created, moved or commented, never what was written, once per event."""

import json

import pytest

from notifications.models import OutboxMessage, SlackThread
from tests.integrations.helpers import step
from tests.integrations.jira.conftest import fixture_json, new_delivery_id

pytestmark = pytest.mark.django_db

PARTNER_CHANNEL = "C0ACME"
JIRA_URL = "https://tv-integrations.atlassian.net"


@pytest.fixture
def acme_on_slack(acme, settings):
    settings.JIRA_URL = JIRA_URL
    acme.slack_channel_id = PARTNER_CHANNEL
    acme.save(update_fields=["slack_channel_id"])
    return acme


def news():
    return OutboxMessage.objects.filter(kind=OutboxMessage.Kind.JIRA_NEWS).order_by("id")


def test_an_issue_moved_in_jira_is_a_short_line_in_its_steps_thread(acme_on_slack, deliver):
    deliver("jira_issue_updated__status_done")

    [line] = news()
    onboarding = step(acme_on_slack, "slack-jira-onboarding")
    assert (line.channel, line.step) == (PARTNER_CHANNEL, onboarding)
    assert line.thread == SlackThread.objects.get(step=onboarding, channel=PARTNER_CHANNEL)
    assert line.text == f"<{JIRA_URL}/browse/ACME-12|ACME-12> moved to Done in Jira"


def test_a_comment_says_there_is_one_never_what_it_says(acme_on_slack, deliver):
    deliver("jira_issue_updated__status_done")
    deliver("comment_created__task")

    line = news().last()
    assert line.text == f"<{JIRA_URL}/browse/ACME-12|ACME-12> commented in Jira"
    said = fixture_json("comment_created__task")["comment"]["body"]
    assert said not in line.text + json.dumps(line.blocks)


def test_once_per_jira_event_even_resent_under_another_delivery_id(acme_on_slack, deliver):
    body = json.dumps(fixture_json("jira_issue_updated__status_done")).encode()
    deliver(body, delivery_id=new_delivery_id())
    deliver(body, delivery_id=new_delivery_id())
    assert news().count() == 1


def test_a_hostile_status_name_is_escaped(acme_on_slack, deliver):
    body = fixture_json("jira_issue_updated__status_done")
    for item in body["changelog"]["items"]:
        if item["field"] == "status":
            item["toString"] = "<!channel> Done"
    deliver(body)
    [line] = news()
    assert "<!channel>" not in line.text and "&lt;!channel&gt; Done" in line.text


def test_switched_off_for_the_integration_nothing_is_posted(acme_on_slack, deliver):
    acme_on_slack.jira_news_in_slack = False
    acme_on_slack.save(update_fields=["jira_news_in_slack"])
    deliver("jira_issue_updated__status_done")
    deliver("comment_created__task")
    assert not news().exists()
