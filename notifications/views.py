"""Slack's requests: thin views over ``notifications.interactivity``."""

import logging

from django.http import HttpResponse, JsonResponse, QueryDict
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from notifications import interactivity as slack
from notifications import replies, tasks

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def interactivity(request):
    """POST /hooks/slack/interactivity: a signed click on one of our buttons.

    Answered with an empty 200 within Slack's 3 s (Slack ignores its body); what the clicker should
    hear is posted to the payload's response_url by a task.
    """
    signature = request.headers.get(slack.SIGNATURE_HEADER)
    try:
        raw = request.body
        slack.verify_signature(slack.secret(), request.headers.get(slack.TIMESTAMP_HEADER), raw, signature)
        payload = slack.parse_payload(QueryDict(raw, encoding="utf-8").get("payload"))
    except slack.Refused as refused:
        logger.warning("slack.interactivity.refused status=%s: %s", refused.status, refused.message)
        return JsonResponse({"error": refused.message}, status=refused.status)
    if slack.seen_before(signature):
        logger.warning("slack.interactivity.replay")
        answer = slack.ephemeral("This click was handled already; nothing was changed again.")
    else:
        try:
            answer = slack.handle(payload)
        except Exception:  # answer all the same; the change rolled back with its transaction
            logger.exception("slack.interactivity.error")
            slack.forget(signature)
            answer = slack.ephemeral("The click could not be handled; nothing was changed. Try again.")
    _reply(payload, answer)
    return HttpResponse(status=200)


def _reply(payload: dict, answer: dict | None):
    url = replies.response_url(payload)
    if answer is None or url is None:
        return
    try:
        tasks.reply_in_slack.delay(url, answer)
    except Exception:  # noqa: BLE001 - kombu and redis raise many kinds; the change itself stands
        logger.exception("slack.reply.not_queued")
