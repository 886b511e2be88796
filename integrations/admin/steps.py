"""A step's page: what it is, when it is due, what it waits on, its Jira issues and its history.

Steps are planned at kick-off and change only through the operations, the admin's form of the
actions of ``integrations.actions``: each offered when ``step_actions`` allows it.
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst

from integrations.actions import ACTIONS, step_actions
from integrations.admin.common import days_overdue_html, step_url
from integrations.admin.jira import issue_list
from integrations.admin.operations import Operation, OperationsOnlyAdmin
from integrations.context import ChangeContext
from integrations.forms import ReasonForm
from integrations.models import IntegrationStep, StepChange
from integrations.read_models.history import history
from integrations.standing import standing
from integrations.steps import apply_action
from integrations.text import day_text
from roadmap.models import Channel
from roadmap.schedule import due_words


def _step_actions(step, user) -> list:
    """``step_actions`` for the step and user, worked out once per request (the page asks per button)."""
    cache = step.__dict__.setdefault("_admin_actions", {})
    if user.pk not in cache:
        cache[user.pk] = step_actions(step, user, list(step.integration.steps.all()))
    return cache[user.pk]


def _offered(step, user, name: str) -> bool:
    return any(a.name == name and a.allowed for a in _step_actions(step, user))


def _step_operation(name: str, done: str) -> Operation:
    """The admin's form of an action of ``integrations.actions``: offered when allowed_actions offers it."""
    action = ACTIONS[name]
    return Operation(
        name,
        action.label,
        done,
        run=lambda step, data, user: apply_action(
            step, name, ChangeContext.web(user, data.get("reason", ""), data.get("shared_with_partner", False))
        ),
        form_class=ReasonForm if action.needs_note else None,
        available=lambda step, user: _offered(step, user, name),
    )


STEP_OPERATIONS = (
    _step_operation("start", "Started"),
    _step_operation("complete", "Marked done"),
    _step_operation("block", "Blocked"),
    _step_operation("unblock", "Unblocked"),
    _step_operation("reopen", "Reopened"),
    _step_operation("not_applicable", "Marked not applicable"),
    _step_operation("verify", "Fixes verified"),
)


@admin.register(IntegrationStep)
class IntegrationStepAdmin(OperationsOnlyAdmin):
    """Steps are planned at kick-off and change only through the operations, so their page is read-only."""

    operations = STEP_OPERATIONS
    list_display = ("step", "integration", "status", "planned_due_date", "due_date")
    list_select_related = ("integration", "integration__partner")
    list_filter = ("status", "side", "integration__state")
    search_fields = ("title", "code", "integration__name", "integration__partner__name")
    fieldsets = (
        (None, {"fields": ("integration", "step", "position", "code", "description")}),
        (
            "Status",
            {
                "fields": (
                    "status",
                    "overdue",
                    "prerequisites",
                    "started_at",
                    "completed_at",
                    "blocked_reason",
                    "applicability_note",
                )
            },
        ),
        (
            "Plan",
            {
                "fields": (
                    "due",
                    "window_start",
                    "planned",
                    "deadline",
                    "tells",
                    "checklist_items",
                )
            },
        ),
        ("Jira", {"fields": ("jira_issues",)}),
    )
    readonly_fields = (
        "step",
        "overdue",
        "prerequisites",
        "checklist_items",
        "due",
        "planned",
        "deadline",
        "tells",
        "jira_issues",
    )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("integration", "integration__partner")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        notice = "Change the status with the buttons above; each change is kept in the history."
        if obj is not None:
            # Why an action the status offers is not offered now: paused, prerequisites open...
            refusals = dict.fromkeys(a.refusal.message for a in _step_actions(obj, request.user) if a.refusal)
            if refusals:
                notice = " ".join([notice, *refusals])
            context["history"] = history(request, StepChange.objects.filter(step=obj), show_subject=False)
        context["change_notice"] = notice
        return super().render_change_form(request, context, add, change, form_url, obj)

    def operation_subject_prefix(self, step) -> str:
        return f"{step.integration} — "

    def operation_error(self, step, message: str) -> str:
        # A step's name alone does not say which integration it belongs to.
        return message if str(step.integration) in message else f"{step.integration} — {message}"

    @admin.display(description="step", ordering="position")
    def step(self, step):
        """Its roadmap number, side and title: "3 · TradingView · Sandbox access configuration"."""
        return str(step)

    @admin.display(description="due")
    def due(self, step):
        # The template page's words: a task prepared during the partner's week says so.
        return capfirst(due_words(step, list(step.integration.steps.all())))

    @admin.display(description="planned date")
    def planned(self, step):
        """The plan's date: set at kick-off, moved by re-planning and pauses."""
        return day_text(step.planned_due_date) or "-"

    @admin.display(description="deadline")
    def deadline(self, step):
        if step.due_date and step.planned_due_date and step.due_date != step.planned_due_date:
            return f"{day_text(step.due_date)} (moved from the planned date by a late hand-over)"
        return day_text(step.due_date) or "-"

    @admin.display(description="tells the other side via")
    def tells(self, step):
        return ", ".join(Channel(c).label if c in Channel.values else c for c in step.tells_via) or "-"

    @admin.display(description="working days overdue")
    def overdue(self, step):
        return days_overdue_html(standing(step.integration).days_overdue(step))

    @admin.display(description="depends on")
    def prerequisites(self, step):
        if not step.depends_on:
            return self.get_empty_value_display()
        others = step.integration.steps.filter(code__in=step.depends_on).order_by("position")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", '<li><a href="{}">{}</a>: {}</li>', ((step_url(s.pk), s, s.get_status_display()) for s in others)
            ),
        )

    @admin.display(description="Jira issues")
    def jira_issues(self, step):
        """The Jira issues that move this step (tasks) or hold it open (bugs), and how to link one."""
        issues = list(step.jira_issues.order_by("key"))
        add = format_html(
            '<a href="{}?integration={}&amp;step={}">Add a Jira issue to this step by its key</a>',
            reverse("admin:integrations_jiraissue_add"),
            step.integration_id,
            step.pk,
        )
        if not issues:
            return format_html("None linked. {}", add)
        return format_html("{}\n<div>{}</div>", issue_list(issues, show_kind=True), add)

    @admin.display(description="checklist")
    def checklist_items(self, step):
        if not step.checklist:
            return self.get_empty_value_display()
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((item,) for item in step.checklist)))
