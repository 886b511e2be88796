"""The Jira webhook inbox: deliveries as received, newest first; read here, replayed on demand, never edited."""

import json

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from integrations.admin.operations import Operation, OperationsOnlyAdmin
from integrations.jira.models import JiraDelivery


def _replay(delivery, data, user):
    from integrations.jira import inbox  # the inbox is imported when used: it needs the whole Jira sync

    state = inbox.replay(delivery)
    if state is None:
        raise ValidationError(f"{delivery} is being processed right now; replay it once its outcome is recorded.")
    delivery.refresh_from_db()
    return state


def _replayed(delivery, result) -> str:
    detail = f": {delivery.detail}" if delivery.detail else ""
    return f"Replayed {delivery}: {delivery.get_outcome_display().lower()}{detail}"


@admin.register(JiraDelivery)
class JiraDeliveryAdmin(OperationsOnlyAdmin):
    """Webhook deliveries as received, newest first: read here, replayed on demand, never edited."""

    operations = (Operation("replay", "Replay", "Replayed", run=_replay, message=_replayed),)
    list_display = ("received_at", "event", "issue", "outcome_text", "attempts", "processed_at")
    list_filter = ("outcome", "event")
    search_fields = ("issue_key", "delivery_id")
    search_help_text = "Search by issue key or delivery id."
    ordering = ("-received_at", "-id")
    list_per_page = 50
    show_full_result_count = False  # no count of the whole inbox under a filtered page
    fields = (
        "delivery_id",
        "received_at",
        "event",
        "issue",
        "retry_number",
        "outcome_text",
        "attempts",
        "claimed_at",
        "processed_at",
        "not_before",
        "pretty_body",
    )
    readonly_fields = fields

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["change_notice"] = "Stored as Jira sent it. “Replay” applies it again and reports the new outcome."
        return super().render_change_form(request, context, add, change, form_url, obj)

    @admin.display(description="issue", ordering="issue_key")
    def issue(self, delivery):
        if not delivery.issue_key:
            return self.get_empty_value_display()
        url = f"{reverse('admin:integrations_jiraissue_changelist')}?q={delivery.issue_key}"
        return format_html('<a href="{}">{}</a>', url, delivery.issue_key)

    @admin.display(description="outcome", ordering="outcome")
    def outcome_text(self, delivery):
        label = delivery.get_outcome_display()
        if delivery.outcome == JiraDelivery.State.FAILED:
            label = format_html('<strong class="error-text">{}</strong>', label)
        elif delivery.outcome == JiraDelivery.State.WAITING and delivery.not_before:
            label = format_html(
                "{} (next try after {})", label, date_format(timezone.localtime(delivery.not_before), "DATETIME_FORMAT")
            )
        if not delivery.detail:
            return label
        return format_html("{}<br>{}", label, delivery.detail)

    @admin.display(description="body")
    def pretty_body(self, delivery):
        text = json.dumps(delivery.body, indent=2, ensure_ascii=False)
        return format_html('<pre class="jira-body">{}</pre>', text)
