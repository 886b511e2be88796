"""The Slack and e-mail messages on an integration's page: what a stuck one says, and sending it again.

Staff only; forms POST with CSRF. A message that waits or failed offers "Retry now". A failed one
that may already be in Slack (its answer was lost and the channel could not be read back) shows
when the answer was lost and what was seen, and offers "Resend after checking the channel" only:
its tick box is required (400 with the reason without it). Both go through
``notifications.delivery`` (``retry_now``, ``resend_checked``), as the admin's operations do.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from integrations.dashboard.access import staff_required
from notifications import delivery
from notifications.models import OutboxMessage

CHECKED_LABEL = "I checked the channel: this message is not there."


def shown(rows: list) -> list:
    """The page's rows, each told what a person can do with it (``can_retry``, ``needs_check``)."""
    for row in rows:
        row.needs_check = delivery.needs_check(row)
        row.can_retry = delivery.can_retry_now(row)
    return rows


def _message(pk: int) -> OutboxMessage:
    return get_object_or_404(OutboxMessage.objects.select_related("integration"), pk=pk, integration__isnull=False)


def _back(row: OutboxMessage):
    return redirect(reverse("integration-page", args=[row.integration_id]) + "#slack-title")


def _refused(request, row: OutboxMessage, refusal: Exception, status: int):
    context = {"integration": row.integration, "row": row, "refusal": str(refusal)}
    return render(request, "dashboard/outbox_refused.html", context, status=status)


@require_POST
@staff_required
def retry_message(request, pk: int):
    """ "Retry now": the message is due again at once, with a fresh count of attempts."""
    row = _message(pk)
    try:
        delivery.retry_now(row)
    except delivery.ResendUnconfirmed as refusal:
        return _refused(request, row, refusal, status=409)
    except delivery.NotRetryable as refusal:
        return _refused(request, row, refusal, status=409)
    messages.success(request, f"{row.get_kind_display()} is due again now: the next delivery run sends it.")
    return _back(row)


@require_POST
@staff_required
def resend_message(request, pk: int):
    """ "Resend after checking the channel": only with the tick box saying the channel was checked."""
    row = _message(pk)
    try:
        delivery.resend_checked(row, checked=request.POST.get("checked") == "on")
    except delivery.ResendUnconfirmed as refusal:
        return _refused(request, row, refusal, status=400)
    except delivery.NotRetryable as refusal:
        return _refused(request, row, refusal, status=409)
    messages.success(request, f"{row.get_kind_display()} will be posted again now, checked by hand.")
    return _back(row)


urlpatterns = [
    path("messages/<int:pk>/retry/", retry_message, name="outbox-retry"),
    path("messages/<int:pk>/resend/", resend_message, name="outbox-resend"),
]
