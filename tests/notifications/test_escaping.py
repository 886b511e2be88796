"""What people and servers outside TradingView write reaches Slack as text, never as Slack markup.

Slack reads ``<!channel>`` as "notify everyone" and ``<https://evil|TradingView SSO>`` as a link
that shows only its label. Every message is delivered to the fake Slack here and the JSON it
received is searched: the hostile strings arrive escaped (``&lt;!channel&gt;``), and the only
``<http`` left is the product's own links to ``SITE_URL``.
"""

import json
from datetime import date, timedelta

import pytest

from integrations import events, plan, steps
from integrations.context import ChangeContext
from integrations.handovers.url_check import check_url
from integrations.jira.models import JiraIssue, StatusCategory
from integrations.models import ChangeSource
from notifications import delivery
from notifications.models import OutboxMessage, SlackThread, SlackUser
from notifications.reminders import plan_reminders
from tests.default_plan import STEP_CODES
from tests.factories import UserFactory
from tests.integrations.handovers.helpers import hand_over_everything
from tests.integrations.helpers import at, ctx, on, step
from tests.notifications.conftest import INTERNAL_CHANNEL, PARTNER_CHANNEL, SITE_URL
from tests.notifications.test_interactivity import SECRET, as_form, click_payload, post

K = OutboxMessage.Kind
PING = "<!channel>"
DISGUISED = "<https://evil.example/login|TradingView SSO>"
HOSTILE = f"Ping {PING}, log in at {DISGUISED} & <@U0EVERYONE> <#C0GENERAL>"
HOSTILE_URL_PATH = "/<!channel>"


def d(month, day):
    return date(2026, month, day)


def inert(sent) -> str:
    """``sent`` as JSON, checked to carry no Slack markup but the product's own links and mentions."""
    text = json.dumps(sent, ensure_ascii=False)
    own_links = text.replace(f"<{SITE_URL}/", "")
    assert "<!" not in own_links, text
    assert "<http" not in own_links, text
    assert "<#" not in own_links, text
    assert "<@U0EVERYONE" not in own_links, text
    return text


def deliver_everything(day, hour=15):
    """Deliver every row due by ``day`` ``hour``, a few seconds apart (one message a second per channel)."""
    moment = at(day, hour)
    for _ in range(40):
        counts = delivery.deliver_due(now=moment)
        if not (counts.get("sent") or counts.get("paced") or counts.get("held")):
            break
        moment += timedelta(seconds=2)
    done = [OutboxMessage.State.SENT, OutboxMessage.State.DIGESTED]  # a step listed in a digest goes with it
    unsent = OutboxMessage.objects.exclude(state__in=done).filter(not_before__lte=moment)
    assert not unsent.exists(), list(unsent.values_list("kind", "state", "last_error"))


@pytest.fixture
def hostile(settings, fake_slack, started_integration):
    """Acme, named by the partner with Slack markup in it, with both channels configured."""
    settings.SITE_URL = SITE_URL
    started_integration.name = f"Acme {PING} {DISGUISED}"
    started_integration.slack_channel_id = PARTNER_CHANNEL
    started_integration.save(update_fields=["name", "slack_channel_id"])
    return started_integration


def test_a_block_and_unblock_note_is_posted_as_text(hostile, fake_slack, partner_user, pm):
    endpoints = step(hostile, "endpoints-implementation")
    with on(d(3, 10)):
        steps.block_step(endpoints, ctx(partner_user, d(3, 10), note=HOSTILE))
    with on(d(3, 11)):
        steps.unblock_step(step(hostile, "endpoints-implementation"), ctx(partner_user, d(3, 11), note=HOSTILE))

    deliver_everything(d(3, 11))

    posts = fake_slack.posts(PARTNER_CHANNEL)
    # (an update of a first message keeps the ts of the message it updates)
    posted = OutboxMessage.objects.exclude(kind=K.THREAD_STATUS)
    assert {posted.get(slack_ts=m["ts"]).kind for m in fake_slack.messages[PARTNER_CHANNEL]} >= {
        K.BLOCKED,
        K.UNBLOCKED,
    }
    sent = inert(posts + [c.body for c in fake_slack.calls("chat.update")])
    assert "Ping &lt;!channel&gt;, log in at &lt;https://evil.example/login|TradingView SSO&gt; &amp;" in sent


def test_a_replan_note_is_posted_as_text_in_both_channels(hostile, fake_slack, pm):
    with on(d(3, 10)):
        plan.replan(hostile, d(3, 16), ctx(pm, d(3, 10), note=HOSTILE))

    deliver_everything(d(3, 10))

    assert fake_slack.posts(PARTNER_CHANNEL) and fake_slack.posts(INTERNAL_CHANNEL)
    assert "&lt;!channel&gt;" in inert(fake_slack.posts())


def test_a_handed_over_url_and_its_checks_detail_are_posted_as_text(
    hostile, fake_slack, partner_user, handover_servers
):
    # The URL validator takes it: "<" is not forbidden in a path.
    with on(d(3, 10), 11):
        check_url(hostile, "trading", "production", handover_servers.good + HOSTILE_URL_PATH, by=partner_user)
    # What a partner's server says comes back in the check's detail: its status reason and Location.
    with on(d(3, 10)):
        events.announce(
            events.PARTNER_HANDOVER,
            hostile,
            ChangeContext(ChangeSource.WEB, by=partner_user),
            handover="production_urls",
            summary=(
                f"Trading production URL https://a.example/{PING}: the server answered 302 {PING} "
                f"and sends to {DISGUISED}."
            ),
            passed=False,
        )

    deliver_everything(d(3, 10))

    sent = inert(fake_slack.posts(INTERNAL_CHANNEL))
    assert len(fake_slack.posts(INTERNAL_CHANNEL)) == 2
    assert f"{handover_servers.good}/&lt;!channel&gt;" in sent
    assert "answered 302 &lt;!channel&gt;" in sent


def test_a_jira_display_name_is_posted_as_text(hostile, fake_slack):
    with on(d(3, 24)):
        steps.complete_step(
            step(hostile, "endpoints-implementation"),
            ChangeContext(ChangeSource.JIRA, by_name=HOSTILE, at=at(d(3, 24), 11)),
        )

    deliver_everything(d(3, 24))

    [done] = fake_slack.posts(INTERNAL_CHANNEL)
    assert "Ping &lt;!channel&gt;" in inert(done)


def test_the_threads_first_message_is_updated_as_text(hostile, fake_slack, pm):
    endpoints = step(hostile, "endpoints-implementation")
    with on(d(3, 10)):
        steps.block_step(endpoints, ctx(pm, d(3, 10), note="Keys missing."))
    deliver_everything(d(3, 10))
    assert SlackThread.objects.get(step=endpoints, channel=PARTNER_CHANNEL).ts
    with on(d(3, 11)):
        steps.unblock_step(step(hostile, "endpoints-implementation"), ctx(pm, d(3, 11), note="Here."))

    deliver_everything(d(3, 11))

    [update] = fake_slack.calls("chat.update")
    assert "Acme &lt;!channel&gt;" in inert(update.body)


def test_reminders_and_the_escalation_are_posted_as_text_and_mention_only_linked_people(hostile, fake_slack, pm):
    SlackUser.objects.create(user=pm, slack_user_id="U0ALICE")
    manager = UserFactory(username="bm", first_name=PING, last_name=DISGUISED, staff=True)
    hostile.business_manager = manager
    hostile.save(update_fields=["business_manager"])

    for day in (d(3, 5), d(3, 19), d(4, 8)):  # TradingView's tasks due; 7 working days before; 7 overdue
        with on(day, 6):
            plan_reminders(day)
        deliver_everything(day)

    kinds = set(OutboxMessage.objects.values_list("kind", flat=True))
    assert {K.TRADINGVIEW_DUE, K.REMINDER, K.ESCALATION} <= kinds
    sent = inert(fake_slack.posts())
    [escalation] = [p for p in fake_slack.posts(INTERNAL_CHANNEL) if "Escalation" in p["text"]]
    assert "<@U0ALICE>" in escalation["text"]  # the PM, linked to Slack: a mention
    assert "&lt;!channel&gt; &lt;https://evil.example/login|TradingView SSO&gt;" in escalation["text"]
    assert "&lt;!channel&gt;" in sent


def test_a_slack_id_that_is_not_one_makes_no_mention(hostile, fake_slack, pm):
    SlackUser.objects.create(user=pm, slack_user_id="!channel")  # mistyped into the admin
    with on(d(4, 8), 6):  # 7 working days overdue: the escalation's day
        plan_reminders(d(4, 8))
    deliver_everything(d(4, 8))

    [escalation] = [p for p in fake_slack.posts(INTERNAL_CHANNEL) if "Escalation" in p["text"]]
    inert(escalation)
    assert "<@" not in json.dumps(escalation)


def test_the_digest_is_posted_as_text(hostile, fake_slack, pm):
    SlackUser.objects.create(user=pm, slack_user_id="U0ALICE")
    monday = d(3, 30)
    with on(monday, 6):
        plan_reminders(monday)

    deliver_everything(monday)

    [digest] = fake_slack.posts("U0ALICE")
    assert "Acme &lt;!channel&gt;" in inert(digest)
    assert f"<{SITE_URL}/integrations/{hostile.pk}/|Acme &lt;!channel&gt;" in digest["blocks"][1]["text"]["text"]


# --- the replies to clicks ------------------------------------------------------------------------


@pytest.fixture
def clicker(settings, client, fake_slack, eager_tasks, pm):
    settings.SLACK_SIGNING_SECRET = SECRET
    SlackUser.objects.create(user=pm, slack_user_id="UALICE")

    def click(step_id, day):
        body = as_form(click_payload(step_id, response_url=fake_slack.response_url(), channel=PARTNER_CHANNEL))
        with on(day):
            assert post(client, body).status_code == 200
        [reply] = fake_slack.replies[-1:]
        return reply.body

    return click


def test_a_click_s_reply_is_text(hostile, clicker):
    answer = clicker(step(hostile, "endpoints-implementation").pk, d(3, 4))

    assert answer["replace_original"] is True
    assert "Acme &lt;!channel&gt;" in inert(answer)


def test_a_refusal_carrying_jira_text_is_text(hostile, clicker, pm):
    hand_over_everything(hostile)
    day = d(3, 3)
    for code in STEP_CODES[: STEP_CODES.index("smoke-test-fixes")]:
        with on(day):
            steps.complete_step(step(hostile, code), ctx(pm, day))
    fixes = step(hostile, "smoke-test-fixes")
    JiraIssue.objects.create(
        integration=hostile,
        key="BRK-1",
        is_bug=True,
        step=fixes,
        testing_round="smoke-test",
        status_name=HOSTILE,
        status_category=StatusCategory.INDETERMINATE,
        summary=HOSTILE,
    )

    answer = clicker(fixes.pk, day)

    assert answer["response_type"] == "ephemeral"
    assert "BRK-1 (Ping &lt;!channel&gt;" in inert(answer)
