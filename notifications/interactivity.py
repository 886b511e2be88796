"""Slack's buttons acting on steps: the signature check and what a click does.

Slack POSTs every click to ``/hooks/slack/interactivity``, signed with the app's signing secret,
and waits 3 seconds for an answer, whose body it ignores. So the view answers an empty 200 and the
reply worked out here is posted to the click's ``response_url`` (``notifications.replies``): a
success replaces the message the button was on with the step as it now stands (the step's first
message in each channel is updated through the outbox, as after any change); a refusal is an
ephemeral message, seen only by the one who clicked, saying why. A click changes a step through
``integrations.steps.apply_action``, as the clicker's linked product user
(``notifications.models.SlackUser``), so the rules are the web's: who may, the step's status,
prerequisites, open bugs, a paused or ended integration.

Replays. The signature covers a timestamp that must be within ``MAX_AGE_SECONDS`` of now, so a
captured request can be replayed only inside that window. Two guards, on purpose:
- the step's own state is the guarantee: completing a step that is done is refused (the status is
  checked again under the integration's row lock in ``change_status``), so neither a replay nor a
  double click nor two workers can complete it twice or write a second history row;
- a replayed request (the same signature again) is also recognised by the cache (``seen_before``,
  10 minutes, longer than the window) and answered without looking at the step at all. The
  default cache is per process, so this is a cheap extra, not the guarantee; it keeps a replay from
  re-running any action whose repetition the step's state would not refuse.
"""

import hashlib
import json
import logging
import time

from django.conf import settings
from django.core.cache import cache
from slack_sdk.signature import Clock, SignatureVerifier

from integrations.context import ChangeContext
from integrations.hooks import Refused
from integrations.models import ChangeSource, IntegrationStep
from integrations.steps import apply_action
from notifications.messages import MARK_DONE, escape, mention, mrkdwn, readers_of, thread_status_blocks
from notifications.models import SlackUser
from roadmap.models import StepStatus
from roadmap.refusals import Refusal

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
MAX_AGE_SECONDS = 300  # Slack's advice (and slack_sdk's limit): refuse a timestamp over 5 minutes from now
REPLAY_TTL_SECONDS = 600  # remember a handled signature longer than a signature stays valid

NOT_FOUND = "There is no such step, or it is not yours to change."


def verify_signature(secret: str, timestamp: str | None, body: bytes, signature: str | None, now=None) -> None:
    """Raise ``Refused(401)`` unless ``signature`` is Slack's ``v0=`` HMAC of ``v0:{timestamp}:{body}``.

    ``now`` (seconds since the epoch) defaults to the clock; the timestamp must be within
    ``MAX_AGE_SECONDS`` of it, either way. The HMAC is slack_sdk's ``SignatureVerifier``; the checks
    before it are ours, so each refusal says what was wrong.
    """
    if not secret or not secret.strip():
        raise Refused(401, "Slack requests cannot be checked: SLACK_SIGNING_SECRET is not configured.")
    if not timestamp or not signature:
        raise Refused(401, f"The request is not signed: {SIGNATURE_HEADER} and {TIMESTAMP_HEADER} are required.")
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise Refused(401, f"{TIMESTAMP_HEADER} is not a time in seconds.")
    clock = _FixedClock(time.time() if now is None else now)
    if abs(clock.now() - int(timestamp)) > MAX_AGE_SECONDS:
        raise Refused(401, "The request's timestamp is too far from now; it may be a replay.")
    verifier = SignatureVerifier(secret, clock=clock)  # the same moment for its own 5-minute check
    try:
        # compare_digest takes ASCII text only, and the verifier decodes the body as UTF-8.
        valid = signature.isascii() and verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
    except UnicodeDecodeError:
        valid = False
    if not valid:
        raise Refused(401, "The request's signature does not match.")


class _FixedClock(Clock):
    """slack_sdk's clock, stopped at the moment the request is checked."""

    def __init__(self, moment: float):
        self.moment = moment

    def now(self) -> float:
        return self.moment


def seen_before(signature: str) -> bool:
    """True when a request with this signature was handled already; otherwise remember it (atomic add)."""
    key = "slack:interactivity:" + hashlib.sha256(signature.encode("utf-8", "replace")).hexdigest()
    return not cache.add(key, 1, REPLAY_TTL_SECONDS)


def forget(signature: str) -> None:
    """Let a request that could not be handled be handled when it comes again."""
    cache.delete("slack:interactivity:" + hashlib.sha256(signature.encode("utf-8", "replace")).hexdigest())


def parse_payload(form_payload: str | None) -> dict:
    """The JSON of the form field ``payload``; ``Refused(400)`` when missing or not a JSON object."""
    if not form_payload:
        raise Refused(400, "The request has no payload field; Slack sends interactions as payload=<json>.")
    try:
        payload = json.loads(form_payload)
    except ValueError:
        raise Refused(400, "The payload field is not JSON.") from None
    if not isinstance(payload, dict):
        raise Refused(400, "The payload field is not a JSON object.")
    return payload


def ephemeral(text: str) -> dict:
    """An answer only the clicker sees; the message the button was on stays as it was. ``text`` is
    escaped: refusals name steps, integrations and what Jira calls its statuses."""
    return {"response_type": "ephemeral", "replace_original": False, "text": escape(text)}


def handle(payload: dict) -> dict | None:
    """What to reply to an interaction (posted to its response_url), or None for nothing."""
    if payload.get("type") != "block_actions":
        return None
    actions = payload.get("actions")
    action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
    action_id = action.get("action_id")
    if action_id != MARK_DONE:
        return None  # OPEN_STEP (a link: the browser does the work) and anything we do not know: ignored
    user = payload.get("user") if isinstance(payload.get("user"), dict) else {}
    return mark_done(str(user.get("id") or ""), action.get("value"), _channel(payload))


def _channel(payload: dict) -> str:
    """The channel of the message the button was on."""
    for key, field in (("container", "channel_id"), ("channel", "id")):
        value = payload.get(key)
        if isinstance(value, dict) and isinstance(value.get(field), str):
            return value[field]
    return ""


def mark_done(slack_user_id: str, step_id, channel: str = "") -> dict:
    """The "Mark done" button: complete step ``step_id`` as the product user linked to ``slack_user_id``."""
    account = SlackUser.objects.select_related("user").filter(slack_user_id=slack_user_id).first()
    if not slack_user_id or account is None or not account.user.is_active:
        return ephemeral(
            "Your Slack account is not linked to a user of the integrations roadmap, so the step was not changed. "
            "Ask your TradingView project manager to link it."
        )
    user = account.user
    step = _visible_step(user, step_id)
    if step is None:
        return ephemeral(NOT_FOUND)
    if step.status == StepStatus.DONE:
        return ephemeral(f"{step} is already done.")
    context = ChangeContext(source=ChangeSource.SLACK, by=user, note="Marked done from Slack.")
    try:
        step = apply_action(step, "complete", context)
    except Refusal as refusal:
        logger.info("slack.interactivity.refused step=%s user=%s code=%s", step.pk, user.pk, refusal.code)
        return ephemeral(refusal.message)
    logger.info("slack.interactivity.done step=%s user=%s", step.pk, user.pk)
    readers = readers_of(step.integration, channel)
    text, blocks = thread_status_blocks(step, due=step.due_date, readers=readers)
    done_by = mrkdwn("Marked done by {} from Slack.", mention(user))  # the linked account, not the payload
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": done_by}]})
    return {"replace_original": True, "text": mrkdwn("{} {}", text, done_by), "blocks": blocks}


def _visible_step(user, step_id) -> IntegrationStep | None:
    """The step, if ``user`` may know of it (``visible_to``): another partner's step answers exactly
    as a step that does not exist does."""
    if not isinstance(step_id, str) or not (step_id.isascii() and step_id.isdigit()) or len(step_id) > 18:
        return None
    return (
        IntegrationStep.objects.visible_to(user)
        .select_related("integration", "integration__partner")
        .filter(pk=step_id)
        .first()
    )


def secret() -> str:
    return settings.SLACK_SIGNING_SECRET or ""
