"""The outbox in the admin: what was sent, what waits and why, and "Retry now" for what waits or failed.

A row that may already be in Slack (its answer was lost and Slack could not be read back) is not
"Retry now": "Resend after checking the channel" shows the risk and what was seen, and asks the
person to confirm they looked.
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from integrations.admin.operations import Operation, OperationsOnlyAdmin
from notifications import delivery
from notifications.models import OutboxMessage, SlackThread, SlackUser

NOT_CONFIGURED_BANNER = "Slack not configured (SLACK_BOT_TOKEN not set): messages wait here."
RESEND = delivery.RESEND


def _retry(row, data, user):
    try:
        return delivery.retry_now(row)
    except (delivery.NotRetryable, delivery.ResendUnconfirmed) as refusal:
        raise ValidationError(str(refusal)) from None


def _resend(row, data, user):
    try:
        return delivery.resend_checked(row, checked=bool(data.get("checked")))
    except (delivery.NotRetryable, delivery.ResendUnconfirmed) as refusal:
        raise ValidationError(str(refusal)) from None


class CheckedTheChannel(forms.Form):
    checked = forms.BooleanField(
        required=True,
        label="I checked the channel: this message is not there. Post it again.",
        help_text="Slack may already show it: its answer was lost and the channel could not be read back.",
    )


OUTBOX_OPERATIONS = (
    Operation(
        "retry_now",
        "Retry now",
        "Due again now",
        run=_retry,
        available=lambda row, user: delivery.can_retry_now(row),
    ),
    Operation(
        "resend_checked",
        RESEND,
        "Due again now, checked by hand",
        run=_resend,
        form_class=CheckedTheChannel,
        available=lambda row, user: delivery.needs_check(row),
    ),
)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(OperationsOnlyAdmin):
    """Rows are written by the product and changed only by delivery, so the page is read-only."""

    operations = OUTBOX_OPERATIONS
    list_display = (
        "created_at",
        "kind",
        "integration",
        "step_label",
        "destination",
        "state",
        "attempts",
        "not_before",
        "last_error",
        "sent_at",
    )
    list_filter = ("state", "kind")
    list_select_related = ("integration", "integration__partner", "step")
    search_fields = ("reason_key", "text", "channel", "last_error", "integration__name", "step__title")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")

    def operation_object_name(self, row) -> str:
        """On the confirmation page each row shows what happened to it, so the risk is read before deciding."""
        return f"{row} — {row.last_error}" if row.last_error else str(row)

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.opts.fields]

    def changelist_view(self, request, extra_context=None):
        if not settings.SLACK_ENABLED and request.method == "GET":
            messages.warning(request, NOT_CONFIGURED_BANNER)
        return super().changelist_view(request, extra_context)

    @admin.display(description="step", ordering="step__position")
    def step_label(self, row):
        return row.step.title if row.step_id else "-"

    @admin.display(description="channel or e-mails")
    def destination(self, row):
        return row.channel or ", ".join(row.emails) or "-"


@admin.register(SlackThread)
class SlackThreadAdmin(admin.ModelAdmin):
    list_display = ("step", "channel", "ts", "status_shown")
    list_select_related = ("step", "step__integration")
    search_fields = ("channel", "ts", "step__title", "step__integration__name")
    readonly_fields = ("step", "channel", "ts", "status_shown")

    def has_add_permission(self, request):
        return False


@admin.register(SlackUser)
class SlackUserAdmin(admin.ModelAdmin):
    """Link a product user to their Slack user id (buttons act as them; mentions find them)."""

    list_display = ("user", "slack_user_id")
    search_fields = ("user__username", "user__email", "user__first_name", "user__last_name", "slack_user_id")
    autocomplete_fields = ("user",)
