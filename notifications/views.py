"""Slack's requests: thin views over ``notifications.interactivity``."""

import logging

from django.http import HttpResponse, JsonResponse, QueryDict
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from notifications import interactivity as slack

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def interactivity(request):
    """POST /hooks/slack/interactivity: a signed click on one of our buttons, answered within Slack's 3 s."""
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
        return JsonResponse(slack.ephemeral("This click was handled already; nothing was changed again."))
    try:
        answer = slack.handle(payload)
    except Exception:  # answer within the 3 s all the same; the change rolled back with its transaction
        logger.exception("slack.interactivity.error")
        slack.forget(signature)
        return JsonResponse(slack.ephemeral("The click could not be handled; nothing was changed. Try again."))
    return HttpResponse(status=200) if answer is None else JsonResponse(answer)
