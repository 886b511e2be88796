"""A comment's @mentions of TradingView's people reach Slack once per comment and person: in the
step's thread of the partner's channel for a public comment, of the internal channel for an
internal one, which the partner's channel never hears. Delivered through the fake Slack."""

import pytest

from integrations.comments import post_comment
from notifications import delivery
from notifications.models import OutboxMessage, SlackThread, SlackUser
from tests.factories import UserFactory
from tests.integrations.helpers import at, on, step
from tests.notifications.conftest import INTERNAL_CHANNEL, PARTNER_CHANNEL

pytestmark = pytest.mark.django_db

K = OutboxMessage.Kind
DAY = "2026-03-03"


@pytest.fixture
def acme(started_integration, pm):
    started_integration.slack_channel_id = PARTNER_CHANNEL
    started_integration.save(update_fields=["slack_channel_id"])
    SlackUser.objects.create(user=pm, slack_user_id="U0ALICE")
    return started_integration


def test_a_public_comment_mentioning_the_pm_twice_tells_her_once_in_the_step_thread(acme, pm, partner_user, fake_slack):
    endpoints = step(acme, "endpoints-implementation")
    with on(DAY, 10):
        comment = post_comment(endpoints, partner_user, "@alice can you check? @alice <!channel> & <https://evil|x>")
    [notice] = OutboxMessage.objects.filter(kind=K.COMMENT_MENTION)
    assert (notice.channel, notice.step, notice.reason_key) == (
        PARTNER_CHANNEL,
        endpoints,
        f"comment_mention:{comment.pk}:{pm.pk}",
    )
    assert notice.thread == SlackThread.objects.get(step=endpoints, channel=PARTNER_CHANNEL)

    delivery.deliver_due(now=at(DAY, 11))
    [post] = fake_slack.posts(PARTNER_CHANNEL)
    assert post["text"].startswith("<@U0ALICE> Bob commented")
    assert "&lt;!channel&gt; &amp; &lt;https://evil|x&gt;" in post["text"]
    assert "<!channel>" not in str(post["blocks"]) and "<https://evil" not in str(post["blocks"])
    assert fake_slack.posts(INTERNAL_CHANNEL) == []


def test_an_internal_comment_is_heard_in_the_internal_channel_only(acme, pm, fake_slack):
    UserFactory(username="mei", first_name="Mei", staff=True)
    endpoints = step(acme, "endpoints-implementation")
    with on(DAY, 10):
        post_comment(endpoints, pm, "@mei INTERNAL-ONLY: their CTO is leaving", internal=True)
    [notice] = OutboxMessage.objects.filter(kind=K.COMMENT_MENTION)
    assert (notice.channel, notice.recipient) == (INTERNAL_CHANNEL, None)

    delivery.deliver_due(now=at(DAY, 11))
    assert "INTERNAL-ONLY" in fake_slack.posts(INTERNAL_CHANNEL)[0]["text"]
    assert "Mei" in fake_slack.posts(INTERNAL_CHANNEL)[0]["text"]
    assert not any("INTERNAL-ONLY" in str(p) for p in fake_slack.posts(PARTNER_CHANNEL))


def test_each_comment_tells_each_person_once_and_unknown_names_nobody(acme, pm, partner_user, fake_slack):
    mei = UserFactory(username="mei", staff=True)
    endpoints = step(acme, "endpoints-implementation")
    with on(DAY, 10):
        first = post_comment(endpoints, partner_user, "@alice @mei @nobody")
        second = post_comment(endpoints, partner_user, "@alice again")
    rows = OutboxMessage.objects.filter(kind=K.COMMENT_MENTION).order_by("id")
    assert [r.reason_key for r in rows] == [
        f"comment_mention:{first.pk}:{pm.pk}",
        f"comment_mention:{first.pk}:{mei.pk}",
        f"comment_mention:{second.pk}:{pm.pk}",
    ]
