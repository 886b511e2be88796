"""POST /hooks/slack/interactivity: signed clicks on "Mark done", applied by the web's rules.

Slack ignores the body of the HTTP answer to a block action: the product answers an empty 200 at
once and says what happened by posting to the payload's ``response_url`` (here the fake Slack's,
``fake_slack.replies``), only to hosts of ``SLACK_RESPONSE_URL_HOSTS``.
"""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.core.cache import cache

from integrations.hooks import Refused
from integrations.models import ChangeSource, StepChange
from notifications.interactivity import NOT_FOUND, verify_signature
from notifications.models import SlackUser
from roadmap.models import StepStatus
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory
from tests.integrations.helpers import KICKOFF, at, ctx, step
from tests.notifications.conftest import INTERNAL_CHANNEL, PARTNER_CHANNEL, SITE_URL

URL = "/hooks/slack/interactivity"
SECRET = "s3cr3t-for-tests"
CLICK_DAY = "2026-03-04"  # Wednesday of the kick-off week

# Slack's worked example (https://api.slack.com/authentication/verifying-requests-from-slack).
VECTOR_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
VECTOR_TIMESTAMP = 1531420618
VECTOR_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
VECTOR_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


@pytest.fixture(autouse=True)
def _signing_secret(settings, fake_slack, eager_tasks):
    settings.SLACK_SIGNING_SECRET = SECRET
    settings.SITE_URL = SITE_URL
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clicking():
    """The clock frozen at noon on the click day: signatures and changes are dated then."""
    with time_machine.travel(at(CLICK_DAY, 12), tick=False) as traveller:
        yield traveller


@pytest.fixture
def pm_on_slack(pm):
    SlackUser.objects.create(user=pm, slack_user_id="UALICE")
    return pm


@pytest.fixture
def partner_on_slack(partner_user):
    SlackUser.objects.create(user=partner_user, slack_user_id="UBOB")
    return partner_user


def click_payload(
    step_id,
    slack_user="UALICE",
    action_id="step:complete",
    action_ts="1772625600.000100",
    channel=INTERNAL_CHANNEL,
    response_url=None,
) -> dict:
    """A ``block_actions`` payload as Slack sends it for a click on a button of a channel message."""
    return {
        "type": "block_actions",
        "team": {"id": "T1", "domain": "tradingview"},
        "user": {"id": slack_user, "username": "someone", "team_id": "T1"},
        "api_app_id": "A1",
        "token": "verification-token-not-used",
        "container": {
            "type": "message",
            "message_ts": "1772625000.000200",
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": "123.456.abc",
        "channel": {"id": channel, "name": "integration"},
        "message": {"type": "message", "ts": "1772625000.000200", "text": "A step", "blocks": []},
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "block_id": "b1",
                "action_id": action_id,
                "text": {"type": "plain_text", "text": "Mark done"},
                "value": str(step_id),
                "action_ts": action_ts,
            },
        ],
    }


def as_form(payload: dict) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def sign(body: bytes, timestamp=None, secret=SECRET) -> dict:
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": f"v0={digest}"}


def post(client, body: bytes, headers=None):
    headers = sign(body) if headers is None else headers
    return client.post(URL, data=body, content_type="application/x-www-form-urlencoded", headers=headers)


@pytest.fixture
def click(client, fake_slack):
    """Click a button as Slack reports it: the HTTP answer must be an empty 200; returns what was posted
    to the click's response_url (None when nothing was)."""

    def click(step_id, slack_user="UALICE", body=None, headers=None, **payload):
        if body is None:
            payload.setdefault("response_url", fake_slack.response_url())
            body = as_form(click_payload(step_id, slack_user, **payload))
        before = len(fake_slack.replies)
        response = post(client, body, headers)
        assert (response.status_code, response.content) == (200, b"")
        replies = fake_slack.replies[before:]
        assert len(replies) <= 1
        return replies[0].body if replies else None

    return click


def history(integration) -> list[tuple]:
    return list(
        StepChange.objects.filter(step__integration=integration)
        .order_by("id")
        .values_list("step__code", "to_status", "source", "by__username")
    )


# --- signatures ------------------------------------------------------------------------------


def test_slacks_test_vector_verifies_at_its_own_time_and_not_301_seconds_later():
    verify_signature(VECTOR_SECRET, str(VECTOR_TIMESTAMP), VECTOR_BODY, VECTOR_SIGNATURE, now=VECTOR_TIMESTAMP)
    verify_signature(VECTOR_SECRET, str(VECTOR_TIMESTAMP), VECTOR_BODY, VECTOR_SIGNATURE, now=VECTOR_TIMESTAMP + 300)

    with pytest.raises(Refused) as caught:
        verify_signature(
            VECTOR_SECRET, str(VECTOR_TIMESTAMP), VECTOR_BODY, VECTOR_SIGNATURE, now=VECTOR_TIMESTAMP + 301
        )
    assert caught.value.status == 401
    with pytest.raises(Refused):
        verify_signature(
            VECTOR_SECRET, str(VECTOR_TIMESTAMP), VECTOR_BODY + b"x", VECTOR_SIGNATURE, now=VECTOR_TIMESTAMP
        )


def test_our_check_agrees_with_slack_sdks_verifier():
    from slack_sdk.signature import SignatureVerifier

    body = b"payload=%7B%7D"
    signature = SignatureVerifier(SECRET).generate_signature(timestamp="1772625600", body=body)

    verify_signature(SECRET, "1772625600", body, signature, now=1772625600)
    assert SignatureVerifier(VECTOR_SECRET).generate_signature(timestamp=str(VECTOR_TIMESTAMP), body=VECTOR_BODY) == (
        VECTOR_SIGNATURE
    )


@pytest.mark.parametrize(
    "body, signature",
    [
        (b"payload=\xff\xfe", None),  # not UTF-8: refused, not a crash
        (b"payload=%7B%7D", "v0=\u00e9" + "0" * 63),  # not ASCII: refused, not a crash
        (b"payload=%7B%7D", "v1=" + "0" * 64),
    ],
    ids=["body-not-utf8", "signature-not-ascii", "other-version"],
)
def test_an_odd_body_or_signature_is_refused_as_not_matching(body, signature):
    signature = signature or sign(body)["X-Slack-Signature"]

    with pytest.raises(Refused) as caught:
        verify_signature(SECRET, "1772625600", body, signature, now=1772625600)

    assert caught.value.status == 401
    assert "does not match" in caught.value.message


def test_a_blank_secret_is_not_configured():
    with pytest.raises(Refused) as caught:
        verify_signature("  ", "1772625600", b"payload=%7B%7D", "v0=" + "0" * 64, now=1772625600)

    assert "SLACK_SIGNING_SECRET is not configured" in caught.value.message


def test_slacks_test_vector_through_the_endpoint_with_the_clock_frozen(client, settings, db):
    settings.SLACK_SIGNING_SECRET = VECTOR_SECRET
    headers = {"X-Slack-Request-Timestamp": str(VECTOR_TIMESTAMP), "X-Slack-Signature": VECTOR_SIGNATURE}
    signed_at = datetime.fromtimestamp(VECTOR_TIMESTAMP, tz=UTC)

    with time_machine.travel(signed_at, tick=False):
        accepted = post(client, VECTOR_BODY, headers)
    with time_machine.travel(signed_at + timedelta(seconds=301), tick=False):
        stale = post(client, VECTOR_BODY, headers)

    # The vector is a slash command, so past the signature it has no payload: 400, not 401.
    assert accepted.status_code == 400
    assert "payload" in accepted.json()["error"]
    assert stale.status_code == 401
    assert "too far from now" in stale.json()["error"]


@pytest.mark.parametrize(
    "headers, why",
    [
        (lambda body: sign(body, secret="another-secret"), "does not match"),
        (lambda body: {}, "not signed"),
        (lambda body: {"X-Slack-Request-Timestamp": str(int(time.time()))}, "not signed"),
        (lambda body: sign(body, timestamp=int(time.time()) - 301), "too far from now"),
        (lambda body: sign(body, timestamp=int(time.time()) + 301), "too far from now"),
        (lambda body: {**sign(body), "X-Slack-Request-Timestamp": "soon"}, "not a time"),
        (lambda body: {**sign(body), "X-Slack-Signature": "v0=" + "0" * 64}, "does not match"),
    ],
    ids=["wrong-secret", "missing", "no-signature", "stale", "future", "bad-timestamp", "forged"],
)
def test_a_bad_missing_or_stale_signature_is_refused_and_nothing_changes(
    client, fake_slack, started_integration, pm_on_slack, clicking, headers, why
):
    target = step(started_integration, "slack-jira-onboarding")
    before = history(started_integration)
    body = as_form(click_payload(target.pk, response_url=fake_slack.response_url()))

    response = post(client, body, headers(body))

    assert response.status_code == 401
    assert why in response.json()["error"]
    assert step(started_integration, "slack-jira-onboarding").status == StepStatus.NOT_STARTED
    assert history(started_integration) == before
    assert fake_slack.replies == []


def test_a_stale_but_otherwise_good_signature_signed_301_seconds_ago_is_refused(
    client, fake_slack, started_integration, pm_on_slack, clicking
):
    target = step(started_integration, "slack-jira-onboarding")
    body = as_form(click_payload(target.pk, response_url=fake_slack.response_url()))
    headers = sign(body)  # signed now...
    clicking.shift(timedelta(seconds=301))  # ...arriving 301 s later

    response = post(client, body, headers)

    assert response.status_code == 401
    assert step(started_integration, "slack-jira-onboarding").status == StepStatus.NOT_STARTED
    assert fake_slack.replies == []


def test_without_a_signing_secret_every_request_is_refused(
    client, settings, started_integration, pm_on_slack, clicking
):
    settings.SLACK_SIGNING_SECRET = ""
    target = step(started_integration, "slack-jira-onboarding")
    body = as_form(click_payload(target.pk))

    response = post(client, body, sign(body, secret=""))

    assert response.status_code == 401
    assert "SLACK_SIGNING_SECRET is not configured" in response.json()["error"]
    assert step(started_integration, "slack-jira-onboarding").status == StepStatus.NOT_STARTED


def test_only_post_is_accepted(client, db):
    assert client.get(URL).status_code == 405


# --- payloads ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, why",
    [
        (b"token=abc", "no payload field"),
        (b"payload=", "no payload field"),
        (b"payload=%7Bnot+json", "not JSON"),
        (b"payload=%5B1%2C2%5D", "not a JSON object"),
    ],
    ids=["missing", "empty", "not-json", "a-list"],
)
def test_a_malformed_payload_is_answered_400(client, clicking, db, body, why):
    response = post(client, body)

    assert response.status_code == 400
    assert why in response.json()["error"]


def test_the_open_link_button_and_unknown_actions_are_answered_empty_and_nothing_is_posted(
    click, started_integration, pm_on_slack, clicking
):
    target = step(started_integration, "slack-jira-onboarding")
    before = history(started_integration)

    opened = click(target.pk, action_id="step:open")
    unknown = click(target.pk, action_id="step:explode", action_ts="2")
    other_type = click(None, body=as_form({"type": "view_submission"}))

    assert opened is unknown is other_type is None
    assert history(started_integration) == before


# --- the answer goes to the response_url, and only to Slack ------------------------------------


def test_the_http_answer_is_empty_and_the_reply_is_posted_to_the_response_url(
    client, fake_slack, started_integration, pm_on_slack, clicking
):
    target = step(started_integration, "slack-jira-onboarding")
    response_url = fake_slack.response_url()

    response = post(client, as_form(click_payload(target.pk, response_url=response_url)))

    assert (response.status_code, response.content) == (200, b"")
    [reply] = fake_slack.replies
    assert "/actions/T1/" in response_url and reply.method == "response_url"
    assert reply.headers["Content-Type"].startswith("application/json")
    assert "Authorization" not in reply.headers  # a response_url needs no token
    assert reply.body["replace_original"] is True
    assert step(started_integration, "slack-jira-onboarding").status == StepStatus.DONE


@pytest.mark.parametrize(
    "response_url",
    [
        "https://attacker.example/actions/T1/1/x",
        "https://hooks.slack.com.attacker.example/actions/T1/1/x",
        "https://user@attacker.example/actions/T1/1/x",
        "ftp://hooks.slack.com/actions/T1/1/x",
        "http://hooks.slack.com/actions/T1/1/x",
        "not a url",
        "",
        None,
        42,
    ],
    ids=["other-host", "lookalike", "userinfo", "ftp", "plain-http", "garbage", "empty", "missing", "a-number"],
)
def test_a_response_url_off_slacks_hosts_is_never_posted_to(
    click, settings, monkeypatch, started_integration, pm_on_slack, clicking, response_url
):
    from notifications import replies

    settings.SLACK_RESPONSE_URL_HOSTS = ["hooks.slack.com"]
    target = step(started_integration, "slack-jira-onboarding")
    posted = []
    monkeypatch.setattr(replies, "post_reply", lambda url, body: posted.append(url))

    assert click(target.pk, response_url=response_url) is None

    assert posted == []
    # The click itself was a good one: the step is done (its thread's first message tells everyone).
    assert step(started_integration, "slack-jira-onboarding").status == StepStatus.DONE


@pytest.mark.parametrize(
    "url, taken",
    [
        ("https://hooks.slack.com/actions/T1/1/x", True),
        ("HTTPS://Hooks.Slack.COM/actions/T1/1/x", True),
        ("https://hooks.slack.com:443/actions/T1/1/x", True),
        ("http://127.0.0.1:8765/actions/T1/1/x", True),  # a listed loopback host: the tests' fake
        ("http://hooks.slack.com/actions/T1/1/x", False),  # listed, but not loopback: https only
        ("https://hooks.slack.com:99999/actions/T1/1/x", False),
        ("https://127.0.0.2/actions/T1/1/x", False),
        ("https://[::1]/actions/T1/1/x", False),
    ],
)
def test_which_response_urls_are_taken(settings, url, taken):
    from notifications.replies import allowed

    settings.SLACK_RESPONSE_URL_HOSTS = ["hooks.slack.com", "127.0.0.1"]

    assert allowed(url) is taken


def test_the_fake_slacks_host_is_accepted_only_because_the_tests_add_it(
    click, settings, fake_slack, started_integration, pm_on_slack, clicking
):
    settings.SLACK_RESPONSE_URL_HOSTS = ["hooks.slack.com"]
    target = step(started_integration, "slack-jira-onboarding")

    assert click(target.pk) is None
    assert fake_slack.replies == []


def test_a_reply_slack_could_not_take_is_posted_again(client, fake_slack, started_integration, pm_on_slack, clicking):
    fake_slack.fail_next(status=500, methods=("response_url",))
    target = step(started_integration, "slack-jira-onboarding")

    response = post(client, as_form(click_payload(target.pk, response_url=fake_slack.response_url())))

    assert (response.status_code, response.content) == (200, b"")
    failed, posted = fake_slack.replies
    assert failed.body == posted.body and posted.body["replace_original"] is True
    assert step(started_integration, "slack-jira-onboarding").status == StepStatus.DONE


def test_a_reply_to_an_expired_response_url_is_dropped_and_the_change_stands(
    client, fake_slack, started_integration, pm_on_slack, clicking
):
    fake_slack.fail_next(status=404, error="expired_url", methods=("response_url",))
    target = step(started_integration, "slack-jira-onboarding")

    response = post(client, as_form(click_payload(target.pk, response_url=fake_slack.response_url())))

    assert (response.status_code, response.content) == (200, b"")
    assert len(fake_slack.replies) == 1
    assert step(started_integration, "slack-jira-onboarding").status == StepStatus.DONE


# --- clicks -----------------------------------------------------------------------------------


def test_mark_done_completes_the_step_as_the_linked_user_from_slack(click, started_integration, pm_on_slack, clicking):
    target = step(started_integration, "slack-jira-onboarding")

    answer = click(target.pk)

    assert answer["replace_original"] is True
    assert "response_type" not in answer
    done = step(started_integration, "slack-jira-onboarding")
    assert done.status == StepStatus.DONE
    assert done.completed_at == at(CLICK_DAY, 12)
    change = StepChange.objects.filter(step=done).latest("id")
    assert (change.to_status, change.source, change.by, change.note, change.at) == (
        StepStatus.DONE,
        ChangeSource.SLACK,
        pm_on_slack,
        "Marked done from Slack.",
        at(CLICK_DAY, 12),
    )
    # The message is replaced by the step as it now stands: done, no "Mark done" button, marked by whom.
    assert "Done" in answer["text"] and "<@UALICE>" in answer["text"]
    action_ids = [e["action_id"] for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert action_ids == ["step:open"]
    assert answer["blocks"][-1]["elements"][0]["text"] == "Marked done by <@UALICE> from Slack."


def test_the_replaced_message_links_where_its_channel_may_go(
    click, started_integration, pm_on_slack, partner_on_slack, clicking
):
    started_integration.slack_channel_id = PARTNER_CHANNEL
    started_integration.save(update_fields=["slack_channel_id"])
    onboarding = step(started_integration, "slack-jira-onboarding")
    endpoints = step(started_integration, "endpoints-implementation")

    internal = click(onboarding.pk, channel=INTERNAL_CHANNEL)
    partners = click(endpoints.pk, slack_user="UBOB", channel=PARTNER_CHANNEL, action_ts="2")

    def open_url(answer):
        [url] = [e["url"] for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
        return url

    assert open_url(internal) == f"{SITE_URL}/integrations/{started_integration.pk}/#step-{onboarding.pk}"
    assert open_url(partners) == f"{SITE_URL}/partner/integrations/{started_integration.pk}/"
    assert "/admin/" not in json.dumps([internal, partners])


def test_the_step_s_first_message_is_updated_through_the_outbox(
    click, fake_slack, started_integration, pm_on_slack, clicking
):
    from notifications import delivery
    from notifications.models import OutboxMessage, SlackThread

    started_integration.slack_channel_id = PARTNER_CHANNEL
    started_integration.save(update_fields=["slack_channel_id"])
    endpoints = step(started_integration, "endpoints-implementation")
    ts = fake_slack.say(PARTNER_CHANNEL, "1 · Partner · Data / trading endpoints implementation")
    SlackThread.objects.create(step=endpoints, channel=PARTNER_CHANNEL, ts=ts, status_shown="not_started")

    click(endpoints.pk, channel=PARTNER_CHANNEL)
    delivery.deliver_due(now=at(CLICK_DAY, 13))

    update = OutboxMessage.objects.get(kind=OutboxMessage.Kind.THREAD_STATUS)
    assert update.state == OutboxMessage.State.SENT
    [call] = fake_slack.calls("chat.update")
    assert call.body["ts"] == ts and "Done" in call.body["text"]
    assert fake_slack.messages[PARTNER_CHANNEL][0]["text"] == update.text


def test_an_unknown_slack_user_is_told_they_are_not_linked(click, started_integration, pm_on_slack, clicking):
    target = step(started_integration, "slack-jira-onboarding")
    before = history(started_integration)

    answer = click(target.pk, slack_user="USTRANGER")

    assert answer["response_type"] == "ephemeral"
    assert answer["replace_original"] is False
    assert "not linked" in answer["text"]
    assert "project manager" in answer["text"]
    assert history(started_integration) == before


def test_a_refused_action_is_answered_ephemerally_with_the_refusal_and_changes_nothing(
    click, started_integration, pm_on_slack, clicking
):
    target = step(started_integration, "passing-autotests")
    before = history(started_integration)

    answer = click(target.pk)

    assert (answer["response_type"], answer["replace_original"]) == ("ephemeral", False)
    assert answer["text"].startswith("2 · Partner · Passing REST API autotests cannot be done before the steps")
    assert "REST API autotests configuration (not started)" in answer["text"]
    assert step(started_integration, "passing-autotests").status == StepStatus.NOT_STARTED
    assert history(started_integration) == before


def test_a_paused_integration_refuses_the_click(click, started_integration, pm_on_slack, clicking):
    from integrations import plan

    plan.pause(started_integration, ctx(pm_on_slack, at(CLICK_DAY, 11)))
    target = step(started_integration, "slack-jira-onboarding")

    answer = click(target.pk)

    assert answer["response_type"] == "ephemeral"
    assert "resume it first" in answer["text"]
    assert step(started_integration, "slack-jira-onboarding").status == StepStatus.NOT_STARTED


def test_a_partner_user_completes_its_own_partner_side_step(click, started_integration, partner_on_slack, clicking):
    target = step(started_integration, "endpoints-implementation")

    answer = click(target.pk, slack_user="UBOB")

    assert answer["replace_original"] is True
    assert step(started_integration, "endpoints-implementation").status == StepStatus.DONE
    assert history(started_integration)[-1] == ("endpoints-implementation", "done", "slack", "dev.bob")


def test_a_partner_user_may_not_complete_a_tradingview_step(click, started_integration, partner_on_slack, clicking):
    target = step(started_integration, "slack-jira-onboarding")
    before = history(started_integration)

    answer = click(target.pk, slack_user="UBOB")

    assert answer["response_type"] == "ephemeral"
    assert "only TradingView can change it" in answer["text"]
    assert step(started_integration, "slack-jira-onboarding").status == StepStatus.NOT_STARTED
    assert history(started_integration) == before


def test_another_partners_step_is_refused_exactly_as_a_step_that_does_not_exist(
    click, started_integration, partner_on_slack, pm, clicking
):
    from integrations import plan

    rival = IntegrationFactory(partner=PartnerFactory(name="Rival Broker"), tv_pm=pm)
    with time_machine.travel(at(KICKOFF, 9), tick=False):
        plan.start_integration(rival, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    theirs = step(rival, "endpoints-implementation")
    before = history(rival)

    other_partner = click(theirs.pk, slack_user="UBOB")
    missing = click(999_999, slack_user="UBOB", action_ts="2")
    garbage = click("1; drop", slack_user="UBOB", action_ts="3")

    assert other_partner == missing == garbage
    assert other_partner["text"] == NOT_FOUND
    assert "Rival" not in other_partner["text"]
    assert history(rival) == before


def test_a_user_of_no_partner_and_not_staff_sees_no_step(click, started_integration, clicking):
    outsider = UserFactory(username="carol")
    SlackUser.objects.create(user=outsider, slack_user_id="UCAROL")

    answer = click(step(started_integration, "endpoints-implementation").pk, "UCAROL")

    assert answer["text"] == NOT_FOUND
    assert step(started_integration, "endpoints-implementation").status == StepStatus.NOT_STARTED


def test_a_deactivated_linked_user_is_treated_as_not_linked(click, started_integration, pm_on_slack, clicking):
    pm_on_slack.is_active = False
    pm_on_slack.save()

    answer = click(step(started_integration, "slack-jira-onboarding").pk)

    assert "not linked" in answer["text"]
    assert step(started_integration, "slack-jira-onboarding").status == StepStatus.NOT_STARTED


# --- replays and double clicks ------------------------------------------------------------------


def test_a_replayed_request_changes_nothing_twice(click, fake_slack, started_integration, pm_on_slack, clicking):
    target = step(started_integration, "slack-jira-onboarding")
    body = as_form(click_payload(target.pk, response_url=fake_slack.response_url()))
    headers = sign(body)

    first = click(None, body=body, headers=headers)
    clicking.shift(timedelta(seconds=30))
    replay = click(None, body=body, headers=headers)
    cache.clear()  # as if the replay reached another process, whose cache never saw the first
    replay_elsewhere = click(None, body=body, headers=headers)

    assert first["replace_original"] is True
    assert replay["response_type"] == "ephemeral"
    assert "handled already" in replay["text"]
    assert replay_elsewhere["response_type"] == "ephemeral"
    assert replay_elsewhere["text"] == f"{target} is already done."
    done = [row for row in history(started_integration) if row[0] == "slack-jira-onboarding" and row[1] == "done"]
    assert done == [("slack-jira-onboarding", "done", "slack", "alice")]
    assert step(started_integration, "slack-jira-onboarding").completed_at == at(CLICK_DAY, 12)


def test_a_double_click_completes_once_and_the_second_click_hears_already_done(
    click, started_integration, pm_on_slack, partner_on_slack, clicking
):
    target = step(started_integration, "endpoints-implementation")

    first = click(target.pk, slack_user="UBOB", action_ts="1772625600.000100")
    clicking.shift(timedelta(seconds=1))
    second = click(target.pk, slack_user="UALICE", action_ts="1772625601.000100")

    assert first["replace_original"] is True
    assert second == {
        "response_type": "ephemeral",
        "replace_original": False,
        "text": "1 · Partner · Data / trading endpoints implementation is already done.",
    }
    done = [row for row in history(started_integration) if row[0] == "endpoints-implementation" and row[1] == "done"]
    assert done == [("endpoints-implementation", "done", "slack", "dev.bob")]


def test_a_click_that_raised_may_be_sent_again(
    click, fake_slack, started_integration, pm_on_slack, clicking, monkeypatch
):
    from notifications import interactivity

    target = step(started_integration, "slack-jira-onboarding")
    body = as_form(click_payload(target.pk, response_url=fake_slack.response_url()))
    headers = sign(body)

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(interactivity, "apply_action", broken)
    failed = click(None, body=body, headers=headers)
    monkeypatch.undo()
    again = click(None, body=body, headers=headers)

    assert failed["response_type"] == "ephemeral" and "nothing was changed" in failed["text"]
    assert again["replace_original"] is True
    assert step(started_integration, "slack-jira-onboarding").status == StepStatus.DONE
