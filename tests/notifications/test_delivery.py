"""Delivering the outbox with the real ``slack_sdk.WebClient`` against a fake Slack on 127.0.0.1.

Time is travelled with ``time_machine`` (``deliver_due(now=...)`` too), never slept.
"""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from integrations.admin.outbox import NOT_CONFIGURED_BANNER
from integrations.steps import block_step, complete_step
from notifications import delivery
from notifications.models import OutboxMessage, SlackThread
from tests.integrations.helpers import at, ctx, on, step
from tests.notifications.conftest import INTERNAL_CHANNEL, PARTNER_CHANNEL
from tests.notifications.rows import queued

K = OutboxMessage.Kind
S = OutboxMessage.State
DAY = "2026-03-03"
BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Hello*"}}]


@pytest.fixture
def acme(started_integration):
    started_integration.slack_channel_id = PARTNER_CHANNEL
    started_integration.save(update_fields=["slack_channel_id"])
    return started_integration


def row(n=1, channel=PARTNER_CHANNEL, integration=None, **kwargs) -> OutboxMessage:
    kwargs.setdefault("text", f"Message {n}")
    kwargs.setdefault("blocks", BLOCKS)
    kwargs.setdefault("not_before", at(DAY, 9))
    return queued(
        f"test:{n}:{channel}", kwargs.pop("kind", K.REPLANNED), integration=integration, channel=channel, **kwargs
    )


def fresh(message: OutboxMessage) -> OutboxMessage:
    message.refresh_from_db()
    return message


def hand_over(acme, pm):
    """The partner finishes its endpoints, TradingView its autotests: "passing-autotests" is the partner's."""
    with on(DAY, 10):
        complete_step(step(acme, "endpoints-implementation"), ctx(pm, at(DAY, 10)))
        complete_step(step(acme, "autotests-configuration"), ctx(pm, at(DAY, 10)))


# --- notices end to end, threads ---


def test_a_handed_over_notice_reaches_the_partner_channel(acme, pm, fake_slack):
    hand_over(acme, pm)
    notice = OutboxMessage.objects.get(kind=K.HANDED_OVER)
    assert notice.channel == PARTNER_CHANNEL and notice.state == S.PENDING

    counts = delivery.deliver_due(now=at(DAY, 11))

    assert counts["sent"] == 2  # the notice, and "the partner finished" in the internal channel
    [post] = fake_slack.posts(PARTNER_CHANNEL)
    assert post["text"] == notice.text and post["blocks"] == notice.blocks and "thread_ts" not in post
    assert post["metadata"]["event_payload"]["outbox_id"] == notice.pk
    assert fake_slack.posts(INTERNAL_CHANNEL)[0]["text"].startswith(
        OutboxMessage.objects.get(kind=K.PARTNER_DONE).text[:20]
    )
    notice = fresh(notice)
    assert notice.state == S.SENT and notice.sent_at == at(DAY, 11) and notice.attempts == 1
    assert notice.slack_ts == fake_slack.messages[PARTNER_CHANNEL][0]["ts"]
    thread = notice.thread
    assert thread.ts == notice.slack_ts and thread.status_shown == step(acme, "passing-autotests").status
    assert fake_slack.calls("chat.postMessage")[0].headers["Authorization"] == f"Bearer {fake_slack.token}"


def test_later_messages_of_a_step_go_in_its_thread_and_its_first_message_shows_the_status(acme, pm, fake_slack):
    hand_over(acme, pm)
    delivery.deliver_due(now=at(DAY, 11))
    thread = SlackThread.objects.get(step=step(acme, "passing-autotests"), channel=PARTNER_CHANNEL)

    with on(DAY, 12):
        block_step(step(acme, "passing-autotests"), ctx(pm, at(DAY, 12), note="Waiting for credentials"))
    blocked = OutboxMessage.objects.get(kind=K.BLOCKED)
    status = OutboxMessage.objects.get(kind=K.THREAD_STATUS, channel=PARTNER_CHANNEL)
    counts = delivery.deliver_due(now=at(DAY, 13))

    assert counts["sent"] == 2
    reply = fake_slack.posts(PARTNER_CHANNEL)[-1]
    assert reply["thread_ts"] == thread.ts and reply["text"] == blocked.text
    [update] = fake_slack.calls("chat.update")
    assert update.body["ts"] == thread.ts and update.body["channel"] == PARTNER_CHANNEL
    assert update.body["text"] == status.text and update.body["blocks"] == status.blocks
    assert fake_slack.messages[PARTNER_CHANNEL][0]["text"] == status.text  # the first message, edited
    assert fresh(thread).status_shown == "blocked"
    assert fresh(blocked).slack_ts != thread.ts


def test_a_first_message_posted_after_the_step_changed_shows_the_status_it_has_now(acme, pm, fake_slack):
    hand_over(acme, pm)  # the first message of "passing-autotests" is written: not started
    with on(DAY, 10):
        block_step(step(acme, "passing-autotests"), ctx(pm, at(DAY, 10), note="Waiting for credentials"))
    thread = SlackThread.objects.get(step=step(acme, "passing-autotests"), channel=PARTNER_CHANNEL)

    delivery.deliver_due(now=at(DAY, 11))  # posted after the change
    delivery.deliver_due(now=at(DAY, 11) + timedelta(seconds=1))
    delivery.deliver_due(now=at(DAY, 11) + timedelta(seconds=2))

    first = fake_slack.messages[PARTNER_CHANNEL][0]
    assert first["ts"] == fresh(thread).ts
    assert "Blocked" in first["text"] and "Not started" not in first["text"]
    assert fresh(thread).status_shown == "blocked"
    [update] = fake_slack.calls("chat.update")
    assert update.body["ts"] == first["ts"]

    # once it shows the status, a later delivery changes nothing more
    delivery.deliver_due(now=at(DAY, 12))
    assert len(fake_slack.calls("chat.update")) == 1


def test_a_first_message_still_showing_its_status_is_not_updated(acme, pm, fake_slack):
    hand_over(acme, pm)
    delivery.deliver_due(now=at(DAY, 11))
    delivery.deliver_due(now=at(DAY, 11) + timedelta(seconds=1))
    assert not fake_slack.calls("chat.update")
    assert not OutboxMessage.objects.filter(kind=K.THREAD_STATUS).exists()


def test_a_reply_waits_for_its_thread_to_start(acme, pm, fake_slack):
    hand_over(acme, pm)
    first = OutboxMessage.objects.get(kind=K.HANDED_OVER)
    OutboxMessage.objects.filter(pk=first.pk).update(not_before=at(DAY, 15))  # not due yet
    with on(DAY, 12):
        block_step(step(acme, "passing-autotests"), ctx(pm, at(DAY, 12), note="No keys"))
    blocked = OutboxMessage.objects.get(kind=K.BLOCKED)

    assert delivery.deliver_due(now=at(DAY, 13)).get("held") == 1
    assert fresh(blocked).state == S.PENDING and not fake_slack.posts(PARTNER_CHANNEL)

    delivery.deliver_due(now=at(DAY, 15))
    delivery.deliver_due(now=at(DAY, 15) + timedelta(seconds=1))
    posts = fake_slack.posts(PARTNER_CHANNEL)
    assert [p["text"] for p in posts] == [first.text, blocked.text]
    assert posts[1]["thread_ts"] == fresh(first).slack_ts


# --- Slack's errors ---


@pytest.mark.parametrize(
    "error", ["channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "invalid_blocks", "msg_too_long"]
)
def test_a_permanent_error_fails_the_row_at_once(acme, fake_slack, error):
    message = row(integration=acme)
    fake_slack.fail_next(error=error)
    assert delivery.deliver_due(now=at(DAY, 11)) == {"failed": 1}
    message = fresh(message)
    assert message.state == S.FAILED and error in message.last_error and message.attempts == 1


def test_a_bad_token_fails_the_row(acme, fake_slack, settings):
    settings.SLACK_BOT_TOKEN = "xoxb-wrong"
    message = row(integration=acme)
    delivery.deliver_due(now=at(DAY, 11))
    assert fresh(message).state == S.FAILED and "invalid_auth" in message.last_error


def test_rate_limited_rows_wait_for_retry_after(acme, fake_slack):
    message = row(integration=acme)
    fake_slack.fail_next(status=429, retry_after=30)
    with time_machine.travel(at(DAY, 11), tick=False) as traveller:
        assert delivery.deliver_due() == {"waiting": 1}
        message = fresh(message)
        assert message.state == S.WAITING and message.not_before == at(DAY, 11) + timedelta(seconds=30)
        assert "retry after 30 s" in message.last_error

        traveller.shift(29)
        assert delivery.deliver_due() == {}
        traveller.shift(1)
        assert delivery.deliver_due() == {"sent": 1}
    assert len(fake_slack.posts()) == 2 and len(fake_slack.messages[PARTNER_CHANNEL]) == 1
    assert fresh(message).state == S.SENT


def test_a_server_error_waits_with_back_off_then_fails_after_eight_attempts(acme, fake_slack):
    message = row(integration=acme)
    fake_slack.fail_next(8, status=500)
    now = at(DAY, 11)
    for attempt in range(1, 8):
        assert delivery.deliver_due(now=now) == {"waiting": 1}
        message = fresh(message)
        wait = (message.not_before - now).total_seconds()
        full = min(30 * 2 ** (attempt - 1), 3600)
        assert message.attempts == attempt and 0.75 * full <= wait <= full, (attempt, wait)
        assert "HTTP 500" in message.last_error
        now = message.not_before
    assert delivery.deliver_due(now=now) == {"failed": 1}
    message = fresh(message)
    assert message.state == S.FAILED and "gave up after 8 attempts" in message.last_error
    assert len(fake_slack.posts()) == 8 and not fake_slack.messages


def test_a_refused_connection_waits(acme, fake_slack, settings):
    message = row(integration=acme)
    port = fake_slack.url.split(":")[2].split("/")[0]
    fake_slack.stop()
    settings.SLACK_API_URL = f"http://127.0.0.1:{port}/api/"
    assert delivery.deliver_due(now=at(DAY, 11)) == {"waiting": 1}
    message = fresh(message)
    assert message.last_error.startswith("Could not connect to Slack")


# --- nothing twice: a post whose outcome is unknown is checked in Slack before posting again ---


@pytest.mark.parametrize("failure", [{"drop": True}, {"stall": 3}], ids=["dropped", "timed-out"])
def test_a_message_slack_received_without_answering_is_not_posted_twice(acme, fake_slack, failure):
    """Rule: a post without an answer is "unknown"; before posting again, Slack is read back
    (conversations.history with metadata); a message naming the row marks it sent."""
    message = row(integration=acme)
    fake_slack.fail_next(methods=("chat.postMessage",), **failure)
    assert delivery.deliver_due(now=at(DAY, 11)) == {"waiting": 1}
    message = fresh(message)
    assert message.last_error.startswith(delivery.UNKNOWN)
    assert len(fake_slack.messages[PARTNER_CHANNEL]) == 1  # Slack has it

    assert delivery.deliver_due(now=message.not_before) == {"sent": 1}
    message = fresh(message)
    assert message.state == S.SENT and message.slack_ts == fake_slack.messages[PARTNER_CHANNEL][0]["ts"]
    assert len(fake_slack.posts()) == 1 and len(fake_slack.messages[PARTNER_CHANNEL]) == 1
    [history] = fake_slack.calls("conversations.history")
    assert history.body["channel"] == PARTNER_CHANNEL and history.body["include_all_metadata"] in ("1", "true")


def test_the_read_back_pages_through_a_busy_channel(acme, fake_slack):
    message = row(integration=acme)
    fake_slack.fail_next(methods=("chat.postMessage",), drop=True)
    delivery.deliver_due(now=at(DAY, 11))
    for n in range(250):
        fake_slack.say(PARTNER_CHANNEL, f"chatter {n}")
    assert delivery.deliver_due(now=fresh(message).not_before) == {"sent": 1}
    assert len(fake_slack.calls("conversations.history")) == 2 and len(fake_slack.posts()) == 1


def test_a_reply_slack_received_without_answering_is_found_in_its_thread(acme, pm, fake_slack):
    hand_over(acme, pm)
    delivery.deliver_due(now=at(DAY, 11))
    with on(DAY, 12):
        block_step(step(acme, "passing-autotests"), ctx(pm, at(DAY, 12), note="No keys"))
    blocked = OutboxMessage.objects.get(kind=K.BLOCKED)
    fake_slack.fail_next(methods=("chat.postMessage",), drop=True)
    delivery.deliver_due(now=at(DAY, 13))
    assert fresh(blocked).state == S.WAITING
    delivery.deliver_due(now=fresh(blocked).not_before)
    assert fresh(blocked).state == S.SENT
    assert [p["text"] for p in fake_slack.posts(PARTNER_CHANNEL)].count(blocked.text) == 1
    assert fake_slack.calls("conversations.replies")


def test_when_slack_cannot_be_read_back_the_row_fails_for_a_human(acme, fake_slack):
    """Rule: a post whose answer was lost, and that Slack cannot show back, may already be posted:
    the row says so, with when the answer was lost and what was seen, and is resent only when a
    person confirms they checked the channel."""
    message = row(integration=acme)
    fake_slack.fail_next(methods=("chat.postMessage",), drop=True)
    fake_slack.history_error = "missing_scope"
    delivery.deliver_due(now=at(DAY, 11))
    assert fresh(message).unknown_since == at(DAY, 11)
    assert delivery.deliver_due(now=fresh(message).not_before) == {"failed": 1}
    message = fresh(message)
    assert message.last_error.startswith("May already be posted: Slack's answer was lost at 3 Mar 2026, 11:00")
    assert "RemoteDisconnected" in message.last_error  # what was seen when the answer was lost
    assert "missing_scope" in message.last_error and "check the channel before resending" in message.last_error
    assert delivery.may_already_be_posted(message)
    assert len(fake_slack.posts()) == 1

    with pytest.raises(delivery.ResendUnconfirmed, match="May already be posted"):
        delivery.retry(message)  # nobody has looked: nothing changes
    assert fresh(message).state == S.FAILED

    delivery.retry(message, confirmed=True)  # a person checked the channel: post it
    message = fresh(message)
    assert message.state == S.PENDING and message.unknown_since is None
    assert delivery.deliver_due(now=message.not_before + timedelta(seconds=2)) == {"sent": 1}
    assert len(fake_slack.posts()) == 2


def test_retry_now_of_a_row_still_being_checked_reads_slack_back_first(acme, fake_slack):
    """A row waiting because its answer was lost may be made due now: it is still read back before any post."""
    message = row(integration=acme)
    fake_slack.fail_next(methods=("chat.postMessage",), drop=True)
    delivery.deliver_due(now=at(DAY, 11))
    delivery.retry(fresh(message))
    assert delivery.deliver_due(now=fresh(message).not_before + timedelta(seconds=2)) == {"sent": 1}
    assert len(fake_slack.posts()) == 1 and fake_slack.calls("conversations.history")
    assert fresh(message).unknown_since is None


def test_a_row_left_sending_by_a_killed_worker_is_reclaimed_and_posted_once(acme, fake_slack):
    message = row(integration=acme)
    assert delivery.claim(message.pk, at(DAY, 11)) is not None  # a worker took it, then died

    assert (
        delivery.deliver_due(
            now=at(
                DAY,
                11,
            )
            + timedelta(minutes=9)
        )
        == {}
    )
    assert fresh(message).state == S.SENDING
    counts = delivery.deliver_due(now=at(DAY, 11) + timedelta(minutes=11))
    assert counts == {"reclaimed": 1, "sent": 1}
    assert len(fake_slack.posts()) == 1 and fake_slack.calls("conversations.history")
    assert fresh(message).attempts == 2


# --- pacing and claiming ---


def test_one_message_per_second_per_channel(acme, fake_slack):
    partner = [row(n, integration=acme) for n in (1, 2, 3)]
    internal = row(4, channel=INTERNAL_CHANNEL, integration=acme)
    now = at(DAY, 11)

    assert delivery.deliver_due(now=now) == {"sent": 2, "paced": 2}
    assert [p["text"] for p in fake_slack.posts()] == ["Message 1", "Message 4"]
    assert fresh(partner[1]).not_before == now + timedelta(seconds=1) and fresh(partner[1]).attempts == 0
    assert fresh(internal).state == S.SENT

    assert delivery.deliver_due(now=now + timedelta(milliseconds=500)) == {}  # across runs too
    assert delivery.deliver_due(now=now + timedelta(seconds=1)) == {"sent": 1, "paced": 1}
    assert delivery.deliver_due(now=now + timedelta(seconds=2)) == {"sent": 1}
    assert [p["text"] for p in fake_slack.posts(PARTNER_CHANNEL)] == ["Message 1", "Message 2", "Message 3"]


def test_two_runs_over_the_same_rows_post_each_once(acme, fake_slack):
    rows = [row(n, channel=f"C{n}", integration=acme) for n in range(5)]
    now = at(DAY, 11)
    first = delivery.deliver_due(now=now)
    second = delivery.deliver_due(now=now)
    assert first == {"sent": 5} and second == {}
    assert sorted(p["channel"] for p in fake_slack.posts()) == [f"C{n}" for n in range(5)]
    assert all(fresh(r).attempts == 1 for r in rows)


def test_a_row_claimed_by_another_worker_is_skipped(acme, fake_slack, monkeypatch):
    message = row(integration=acme)
    other = row(2, channel="COTHER", integration=acme)
    real_claim = delivery.claim

    def racing_claim(row_id, now):
        if row_id == message.pk:
            real_claim(row_id, now)  # the other worker wins the race between selecting and claiming
        return real_claim(row_id, now)

    monkeypatch.setattr(delivery, "claim", racing_claim)
    assert delivery.deliver_due(now=at(DAY, 11)) == {"skipped": 1, "sent": 1}
    assert [p["channel"] for p in fake_slack.posts()] == ["COTHER"]
    assert delivery.claim(other.pk, at(DAY, 11)) is None  # sent: nobody claims it again


# --- not configured, e-mail ---


def test_without_a_token_slack_rows_wait_and_e_mails_still_go(acme, slack_off, mailoutbox, settings):
    slack_row = row(integration=acme)
    mail = queued(
        "launch:1", K.LAUNCH_EMAIL, text="Acme is live\n\nDetails.", emails=["ops@acme.example"], not_before=at(DAY, 9)
    )

    counts = delivery.deliver_due(now=at(DAY, 11))

    assert counts == {"not_configured": 1, "sent": 1}
    slack_row = fresh(slack_row)
    assert slack_row.state == S.PENDING and slack_row.last_error == "Slack not configured" and slack_row.attempts == 0
    [email] = mailoutbox
    assert email.to == ["ops@acme.example"] and email.subject == "Acme is live"
    assert email.from_email == settings.DEFAULT_FROM_EMAIL and "Details." in email.body
    assert fresh(mail).state == S.SENT
    assert delivery.deliver_due(now=at(DAY, 12)) == {}  # nothing rewritten, nothing crashes


def test_an_e_mail_that_cannot_be_sent_waits(acme, fake_slack, settings, monkeypatch):
    mail = queued("launch:1", K.LAUNCH_EMAIL, text="Acme is live", emails=["ops@acme.example"], not_before=at(DAY, 9))
    no_recipients = queued("launch:2", K.LAUNCH_EMAIL, text="Nobody", emails=[], not_before=at(DAY, 9))

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("no SMTP server")

    monkeypatch.setattr(delivery, "send_mail", refuse)  # no SMTP server can run here
    assert delivery.deliver_due(now=at(DAY, 11)) == {"waiting": 1, "failed": 1}
    assert "no SMTP server" in fresh(mail).last_error
    assert fresh(no_recipients).state == S.FAILED


def test_the_command_delivers_and_prints_counts(acme, fake_slack, capsys):
    row(integration=acme)
    with time_machine.travel(at(DAY, 11), tick=False):
        call_command("deliver_outbox")
        assert "sent: 1" in capsys.readouterr().out
        call_command("deliver_outbox")
        assert "Nothing due." in capsys.readouterr().out


# --- the admin ---

OUTBOX = reverse("admin:notifications_outboxmessage_changelist")


@pytest.fixture
def admin_client(client, pm):
    pm.is_superuser = True
    pm.save()
    client.force_login(pm)
    return client


def test_the_outbox_list_shows_the_rows_and_retry_now_makes_a_failed_row_due(acme, fake_slack, admin_client):
    message = row(integration=acme, text="Plan moved")
    fake_slack.fail_next(error="channel_not_found")
    delivery.deliver_due(now=at(DAY, 11))

    page = admin_client.get(OUTBOX).content.decode()
    assert "channel_not_found" in page and PARTNER_CHANNEL in page and "Retry now" in page
    assert NOT_CONFIGURED_BANNER not in page
    assert admin_client.get(OUTBOX, {"state__exact": "failed", "q": "channel_not_found"}).status_code == 200

    response = admin_client.post(OUTBOX, {"action": "retry_now", "_selected_action": [message.pk]}, follow=True)
    assert "Due again now" in response.content.decode()
    message = fresh(message)
    assert message.state == S.PENDING and message.attempts == 0
    delivery.deliver_due(now=message.not_before + timedelta(seconds=1))
    assert fresh(message).state == S.SENT


def test_retry_now_refuses_a_sent_row(acme, fake_slack, admin_client):
    message = row(integration=acme)
    delivery.deliver_due(now=at(DAY, 11))
    response = admin_client.post(OUTBOX, {"action": "retry_now", "_selected_action": [message.pk]}, follow=True)
    assert "Only a waiting or failed message can be retried" in response.content.decode()
    assert fresh(message).state == S.SENT


def test_a_row_that_may_already_be_posted_is_resent_only_after_confirming(acme, fake_slack, admin_client):
    message = row(integration=acme, text="Plan moved")
    fake_slack.fail_next(methods=("chat.postMessage",), drop=True)
    fake_slack.history_error = "missing_scope"
    delivery.deliver_due(now=at(DAY, 11))
    delivery.deliver_due(now=fresh(message).not_before)
    assert fresh(message).state == S.FAILED

    page = admin_client.get(OUTBOX).content.decode()
    assert "May already be posted" in page and "check the channel before resending" in page

    response = admin_client.post(OUTBOX, {"action": "retry_now", "_selected_action": [message.pk]}, follow=True)
    assert "May already be posted" in response.content.decode() and "Resend after checking" in response.content.decode()
    assert fresh(message).state == S.FAILED

    change = admin_client.get(reverse("admin:notifications_outboxmessage_change", args=[message.pk])).content.decode()
    assert "Resend after checking the channel" in change and "retry_now" not in change
    resend = reverse("admin:notifications_outboxmessage_operation", args=[message.pk, "resend_checked"])
    page = admin_client.get(resend).content.decode()
    assert (
        "lost at 3 Mar 2026, 11:00" in page and "missing_scope" in page
    )  # the risk and what was seen, before deciding
    response = admin_client.post(resend, {})
    assert response.status_code == 200 and fresh(message).state == S.FAILED  # not confirmed: nothing changes
    response = admin_client.post(resend, {"checked": "on"})
    assert response.status_code == 302
    message = fresh(message)
    assert message.state == S.PENDING and message.unknown_since is None
    delivery.deliver_due(now=message.not_before + timedelta(seconds=2))
    assert fresh(message).state == S.SENT and len(fake_slack.posts()) == 2


def test_the_outbox_page_is_read_only_and_says_when_slack_is_not_configured(acme, slack_off, admin_client):
    message = row(integration=acme)
    page = admin_client.get(OUTBOX).content.decode()
    assert NOT_CONFIGURED_BANNER in page
    change = admin_client.get(reverse("admin:notifications_outboxmessage_change", args=[message.pk]))
    assert change.status_code == 200 and 'name="text"' not in change.content.decode()
    assert admin_client.get(reverse("admin:notifications_outboxmessage_add")).status_code == 403


def test_a_slack_user_is_linked_in_the_admin(admin_client, partner_dev):
    response = admin_client.post(
        reverse("admin:notifications_slackuser_add"), {"user": partner_dev.pk, "slack_user_id": "U123"}
    )
    assert response.status_code == 302
    assert partner_dev.slack_account.slack_user_id == "U123"
    assert admin_client.get(reverse("admin:notifications_slackthread_changelist")).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_post_each_row_once(fake_slack):
    """Two deliveries racing over the same rows, each in its own thread and database connection."""
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (the SQLite test database is one in-memory file)")
    rows = [row(n, channel=f"C{n:02d}") for n in range(30)]
    results, start = [], threading.Barrier(2)

    def worker():
        try:
            start.wait()
            results.append(delivery.deliver_due(now=at(DAY, 11)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(r.get("sent", 0) for r in results) == 30
    assert sorted(p["channel"] for p in fake_slack.posts()) == [f"C{n:02d}" for n in range(30)]
    assert all(fresh(r).attempts == 1 for r in rows)


# --- the task's soft time limit ---


@pytest.fixture
def soft_limit_in():
    """Raise Celery's SoftTimeLimitExceeded in this thread after ``seconds``, as the prefork pool's signal does."""
    import signal

    from celery.exceptions import SoftTimeLimitExceeded

    def expire(signum, frame):
        raise SoftTimeLimitExceeded("SoftTimeLimitExceeded()")

    previous = signal.signal(signal.SIGALRM, expire)

    def arm(seconds: float):
        signal.setitimer(signal.ITIMER_REAL, seconds)

    try:
        yield arm
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_the_soft_time_limit_stops_delivery_and_the_row_is_due_again(acme, fake_slack, soft_limit_in):
    """Rule: the soft limit is not a Slack failure. It ends the run at once (the next rows wait for the
    next run), and the row being posted is due again, marked unknown (Slack may have it): never left
    "sending" until the 10-minute reclaim."""
    from celery.exceptions import SoftTimeLimitExceeded

    first = row(1, integration=acme)
    second = row(2, channel=INTERNAL_CHANNEL, integration=acme)
    fake_slack.fail_next(methods=("chat.postMessage",), stall=0.8)  # Slack is slow: the limit strikes meanwhile
    soft_limit_in(0.3)
    with pytest.raises(SoftTimeLimitExceeded):
        delivery.deliver_due(now=at(DAY, 11))

    first, second = fresh(first), fresh(second)
    assert first.state == S.WAITING and first.not_before == at(DAY, 11) and first.claimed_at is None
    assert first.last_error.startswith(delivery.UNKNOWN) and "time limit" in first.last_error
    assert second.state == S.PENDING and second.attempts == 0  # not touched by the stopped run

    threading.Event().wait(0.8)  # the stalled post lands in the fake Slack
    assert delivery.deliver_due(now=at(DAY, 11) + timedelta(minutes=5)) == {"sent": 2}
    assert [p["text"] for p in fake_slack.posts(PARTNER_CHANNEL)] == ["Message 1"]  # found, not posted again
    assert fresh(first).slack_ts == fake_slack.messages[PARTNER_CHANNEL][0]["ts"]
