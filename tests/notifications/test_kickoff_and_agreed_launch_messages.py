"""What the partner's channel hears at kick-off (a welcome) and when the launch date is agreed.

The default plan kicked off on Monday 2026-03-02 (tests/default_plan.py): TradingView's onboarding
and autotests configuration are due on Thursday 5 March, the partner's endpoints and autotests on
Monday 30 March.
"""

from datetime import date

import pytest

from integrations import plan
from integrations.agreed_launch import agree_launch
from integrations.models import IntegrationEvent
from notifications.models import OutboxMessage, SlackUser
from roadmap.refusals import InvalidInput
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on
from tests.notifications.conftest import INTERNAL_CHANNEL, SITE_URL

pytestmark = pytest.mark.django_db
K = OutboxMessage.Kind
PARTNER_CHANNEL = "C0PARTNER"
HOSTILE = "<!channel> <https://evil.example|SSO>"


@pytest.fixture(autouse=True)
def channels(settings):
    settings.SLACK_INTERNAL_CHANNEL = INTERNAL_CHANNEL
    settings.SITE_URL = SITE_URL


@pytest.fixture
def kicked_off(pm):
    SlackUser.objects.create(user=pm, slack_user_id="U0ALICE")
    partner = PartnerFactory(name="Acme Crypto Exchange", time_zone="Europe/Berlin")
    integration = IntegrationFactory(partner=partner, tv_pm=pm, slack_channel_id=PARTNER_CHANNEL)
    with on(KICKOFF, 9):
        plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    return integration


def test_kick_off_welcomes_the_partners_channel_once(kicked_off):
    [welcome] = OutboxMessage.objects.filter(kind=K.WELCOME)
    assert welcome.channel == PARTNER_CHANNEL and welcome.integration == kicked_off
    assert welcome.reason_key == f"welcome:{kicked_off.pk}"
    text = welcome.text
    assert text.startswith(
        "Welcome to your TradingView integration. Acme Crypto Exchange is kicked off on Mon 2 Mar 2026"
    )
    # What the roadmap is, the first steps with their due dates, the PM, the stage page.
    assert "7 steps over about 12 weeks" in text
    assert "launch planned for Mon 25 May 2026" in text
    assert "TradingView: Slack/Jira onboarding, due Thu 5 Mar 2026" in text
    assert "Yours: Data / trading endpoints implementation, due Mon 30 Mar 2026" in text
    assert "Your TradingView PM: <@U0ALICE>" in text
    assert f"<{SITE_URL}/partner/integrations/{kicked_off.pk}/|your stage page>" in text
    # Not in TradingView's channel, and never twice: a re-plan is its own message.
    assert not OutboxMessage.objects.filter(kind=K.WELCOME, channel=INTERNAL_CHANNEL).exists()


def test_no_welcome_without_a_partner_channel(pm):
    integration = IntegrationFactory(partner=PartnerFactory(), tv_pm=pm, slack_channel_id="")
    with on(KICKOFF, 9):
        plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    assert not OutboxMessage.objects.filter(kind=K.WELCOME).exists()


def test_agreeing_the_launch_posts_once_to_the_partners_channel_who_agreed_it(kicked_off, pm):
    with on(date(2026, 5, 11), 14):
        agree_launch(kicked_off, date(2026, 6, 1), "Mei " + HOSTILE, ctx(pm, at(date(2026, 5, 11), 14)))
    [row] = OutboxMessage.objects.filter(kind=K.LAUNCH_AGREED)
    record = IntegrationEvent.objects.get(integration=kicked_off, kind=IntegrationEvent.Kind.LAUNCH_AGREED)
    assert row.reason_key == f"launch_agreed:{kicked_off.pk}:{record.pk}"
    assert row.channel == PARTNER_CHANNEL
    assert row.text.startswith("Launch date agreed: Mon 1 Jun 2026. Agreed by")
    assert "Agreed by Mei &lt;!channel&gt; &lt;https://evil.example|SSO&gt;, recorded by Alice" in row.text
    assert "<!channel>" not in row.text and "<https://evil" not in str(row.blocks)

    # The same date again is refused: nothing more is posted.
    with on(date(2026, 5, 12), 14), pytest.raises(InvalidInput):
        agree_launch(kicked_off, date(2026, 6, 1), "Mei", ctx(pm, at(date(2026, 5, 12), 14)))
    assert OutboxMessage.objects.filter(kind=K.LAUNCH_AGREED).count() == 1

    # A new date is a new agreement: one more message, saying what it was.
    with on(date(2026, 5, 13), 14):
        agree_launch(kicked_off, date(2026, 6, 3), "Mei", ctx(pm, at(date(2026, 5, 13), 14)))
    latest = OutboxMessage.objects.filter(kind=K.LAUNCH_AGREED).order_by("-pk").first()
    assert latest.text.startswith("Launch date agreed: Wed 3 Jun 2026 (was Mon 1 Jun 2026)")
    assert OutboxMessage.objects.filter(kind=K.LAUNCH_AGREED).count() == 2
