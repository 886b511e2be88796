"""The outbox in the admin: what was sent, what waits and why, and "Retry now" for what waits or failed."""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from integrations.admin.operations import Operation, OperationsOnlyAdmin
from notifications import delivery
from notifications.models import OutboxMessage, SlackThread, SlackUser

NOT_CONFIGURED_BANNER = "Slack not configured (SLACK_BOT_TOKEN not set): messages wait here."
RETRYABLE = (OutboxMessage.State.WAITING, OutboxMessage.State.FAILED)


def _retry(row, data, user):
    if row.state not in RETRYABLE:
        raise ValidationError(
            f"Only a waiting or failed message can be retried; this one is {row.get_state_display()}."
        )
    return delivery.retry(row)


OUTBOX_OPERATIONS = (
    Operation(
        "retry_now",
        "Retry now",
        "Due again now",
        run=_retry,
        available=lambda row, user: row.state in RETRYABLE,
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
