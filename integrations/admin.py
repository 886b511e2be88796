"""Admin for partners and their integrations: enough for a TradingView PM to track every partner.

Fields that are plain data are edited here (and validated by the models). Every change of plan or
of a step's status is an operation calling ``integrations.plan`` or ``integrations.steps``,
recorded as made on the web by the signed-in user.
"""

from contextlib import suppress

from django.contrib import admin
from django.db import models
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from integrations import plan
from integrations.actions import ACTIONS, allowed_actions
from integrations.admin_forms import KickoffForm, NoteForm, ReasonForm, ReplanForm
from integrations.context import ChangeContext
from integrations.models import (
    ChangeSource,
    Heartbeat,
    Integration,
    IntegrationEvent,
    IntegrationStep,
    Partner,
    PartnerContact,
    StepChange,
    TeamMember,
)
from integrations.standing import standing
from integrations.steps import apply_action
from integrations.templatetags.heartbeats import heartbeat_age
from roadmap import default_template, progress
from roadmap.admin_operations import Operation, OperationsAdmin
from roadmap.lineup import RECOMMENDED_LINEUP, lineup_gaps
from roadmap.models import RoadmapTemplate, Side


def _web(user, note="") -> ChangeContext:
    return ChangeContext(source=ChangeSource.WEB, by=user, note=note)


class ReadOnlyInline(admin.TabularInline):
    """Rows written only by the service functions: shown, never edited here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _days_overdue(days: int):
    """The days in red, or the admin's dash when not overdue."""
    return format_html('<strong style="color: var(--error-fg)">{}</strong>', days) if days else "-"


# --- partners -----------------------------------------------------------------------------------


class PartnerContactInline(admin.TabularInline):
    model = PartnerContact
    extra = 0
    fields = ("name", "title", "email", "is_primary")


class PartnerIntegrationInline(ReadOnlyInline):
    model = Integration
    fields = ("name", "parts", "state", "ball_side", "next_due_on", "forecast_launch_on")
    show_change_link = True
    verbose_name_plural = "integrations"


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "time_zone", "integration_count")
    list_filter = ("kind",)
    search_fields = ("name",)
    fields = ("name", "kind", "website", "time_zone", "notes")
    inlines = [PartnerContactInline, PartnerIntegrationInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(integration_count=Count("integrations"))

    @admin.display(description="integrations", ordering="integration_count")
    def integration_count(self, partner):
        return partner.integration_count


# --- integrations -------------------------------------------------------------------------------


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        # The same rule as Integration.days_overdue(), in SQL: the deadline ended in its side's zone.
        overdue = Q(state=Integration.State.ACTIVE, next_deadline_at__lte=timezone.now())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


class DataTypeFilter(admin.SimpleListFilter):
    title = "data type"
    parameter_name = "data_type"

    def lookups(self, request, model_admin):
        return Integration.DataType.choices

    def queryset(self, request, queryset):
        if self.value() in Integration.DataType.values:
            # Stored as comma-separated codes, none a part of another (ChoiceListField.check).
            return queryset.filter(data_types__contains=self.value())
        return queryset


class TeamMemberInline(admin.TabularInline):
    model = TeamMember
    extra = 0
    fields = ("name", "role", "email", "slack_user_id")
    verbose_name_plural = "partner team"


class IntegrationStepInline(ReadOnlyInline):
    model = IntegrationStep
    fields = ("position", "__str__", "planned_due_date", "due_date", "status", "blocked_reason", "applicability_note")
    show_change_link = True
    verbose_name_plural = "steps"


class IntegrationEventInline(ReadOnlyInline):
    model = IntegrationEvent
    fields = ("at", "kind", "who", "source", "from_value", "to_value", "note")
    verbose_name_plural = "history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


INTEGRATION_OPERATIONS = (
    Operation(
        "kick_off",
        "Kick off",
        "Kicked off",
        run=lambda i, data, user: plan.start_integration(i, data["kickoff_on"], _web(user, data["note"])),
        form_class=KickoffForm,
        available=lambda i, user: not i.is_started and i.state == Integration.State.ACTIVE,
    ),
    Operation(
        "replan",
        "Re-plan",
        "Re-planned",
        run=lambda i, data, user: plan.replan(i, data["kickoff_on"], _web(user, data["note"])),
        form_class=ReplanForm,
        available=lambda i, user: i.is_started and i.is_running,
    ),
    Operation(
        "pause",
        "Pause",
        "Paused",
        run=lambda i, data, user: plan.pause(i, _web(user, data["note"])),
        form_class=NoteForm,
        available=lambda i, user: i.is_started and i.state == Integration.State.ACTIVE,
    ),
    Operation(
        "resume",
        "Resume",
        "Resumed",
        run=lambda i, data, user: plan.resume(i, _web(user)),
        available=lambda i, user: i.state == Integration.State.PAUSED,
    ),
    Operation(
        "cancel_integration",
        "Cancel",
        "Cancelled",
        run=lambda i, data, user: plan.cancel(i, _web(user, data["reason"])),
        form_class=ReasonForm,
        available=lambda i, user: i.is_running,
    ),
)

PLAN_FIELDS = (
    "kickoff_on",
    "baseline_launch_on",
    "planned_launch_on",
    "paused_on",
    "launched_on",
    "cancelled_on",
    "current_step",
    "ball_side",
    "next_due_on",
    "forecast_launch_on",
)


@admin.register(Integration)
class IntegrationAdmin(OperationsAdmin):
    operations = INTEGRATION_OPERATIONS
    list_display = (
        "integration",
        "current_step_link",
        "ball_in_court",
        "next_due_on",
        "overdue",
        "forecast_launch_on",
        "tv_pm",
    )
    list_display_links = ("integration",)
    list_select_related = ("partner", "current_step", "tv_pm")
    list_filter = (
        "ball_side",
        OverdueFilter,
        ("tv_pm", admin.RelatedOnlyFieldListFilter),
        DataTypeFilter,
        "state",
        "parts",
    )
    search_fields = ("partner__name", "name", "jira_project_key")
    readonly_fields = ("state", *PLAN_FIELDS, "standing_summary")
    inlines = [TeamMemberInline, IntegrationStepInline, IntegrationEventInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_fieldsets(self, request, obj=None):
        fieldsets = [("Partner & roadmap", {"fields": ("partner", "name", "template", "state")})]
        if obj is not None:
            fieldsets += [("Standing", {"fields": ("standing_summary",)}), ("Plan", {"fields": PLAN_FIELDS})]
        return fieldsets + [
            (
                "Parts & data",
                {"fields": ("parts", "data_types", "data_source", "trading_auth", "data_auth", "spec_version")},
            ),
            (
                "URLs",
                {
                    "fields": (
                        "trading_staging_url",
                        "trading_production_url",
                        "data_staging_url",
                        "data_production_url",
                    )
                },
            ),
            ("Channels", {"fields": ("slack_channel_id", "jira_project_key")}),
            ("People", {"fields": ("tv_pm", "business_manager", "tech_contact", "beta_testers")}),
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        # The steps were copied from the template at kick-off; another template would not change them.
        if obj is not None and obj.is_started:
            readonly = (*readonly, "template")
        return readonly

    def get_changeform_initial_data(self, request):
        initial = {"tv_pm": request.user.pk}
        with suppress(RoadmapTemplate.DoesNotExist):
            initial["template"] = RoadmapTemplate.latest(default_template.KEY).pk
        return {**initial, **super().get_changeform_initial_data(request)}

    @admin.display(description="integration", ordering="partner__name")
    def integration(self, integration):
        """The partner, and the integration's own name when it differs (a partner may have several)."""
        if integration.name and integration.name != integration.partner.name:
            return f"{integration.partner.name} · {integration.name}"
        return integration.partner.name

    @admin.display(description="ball in court", ordering="ball_side")
    def ball_in_court(self, integration):
        """Who owes the next move; for an integration that is not running, its state instead."""
        if integration.state != Integration.State.ACTIVE:
            return format_html("<em>{}</em>", integration.get_state_display())
        return integration.get_ball_side_display() or "-"

    @admin.display(description="current step", ordering="current_step__position")
    def current_step_link(self, integration):
        step = integration.current_step
        if step is None:
            return self.get_empty_value_display()
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:integrations_integrationstep_change", args=[step.pk]), step
        )

    @admin.display(description="days overdue", ordering="-next_due_on")
    def overdue(self, integration):
        return _days_overdue(integration.days_overdue())

    @admin.display(description="standing")
    def standing_summary(self, integration):
        now = standing(integration)
        counts = integration.team_counts()
        return render_to_string(
            "admin/integrations/integration/standing.html",
            {
                "integration": integration,
                "standing": now,
                "ball": [
                    (label, [(step, now.days_overdue(step)) for step in now.ball.for_side(side)])
                    for side, label in Side.choices
                ],
                "lineup": [
                    (TeamMember.Role(role).label, counts.get(role, 0), wanted)
                    for role, wanted in RECOMMENDED_LINEUP.items()
                ],
                # lineup_gaps() is what Integration.team_gaps() applies; reusing counts saves a query.
                "gaps": lineup_gaps(counts),
            },
        )


# --- steps --------------------------------------------------------------------------------------


class StepChangeInline(ReadOnlyInline):
    model = StepChange
    fields = ("at", "who", "source", "from_status", "to_status", "from_due", "to_due", "note")
    verbose_name_plural = "history"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("by")


def _step_operation(name: str, done: str) -> Operation:
    """The admin's form of an action of ``integrations.actions``: offered when allowed_actions offers it."""
    action = ACTIONS[name]
    return Operation(
        name,
        action.label,
        done,
        run=lambda step, data, user: apply_action(step, name, _web(user, data.get("reason", ""))),
        form_class=ReasonForm if action.needs_note else None,
        available=lambda step, user: any(a.name == name for a in allowed_actions(step, user)),
    )


STEP_OPERATIONS = (
    _step_operation("start", "Started"),
    _step_operation("complete", "Marked done"),
    _step_operation("block", "Blocked"),
    _step_operation("unblock", "Unblocked"),
    _step_operation("reopen", "Reopened"),
    _step_operation("not_applicable", "Marked not applicable"),
)


@admin.register(IntegrationStep)
class IntegrationStepAdmin(OperationsAdmin):
    """Steps are planned at kick-off and change only through the operations, so their page is read-only."""

    operations = STEP_OPERATIONS
    list_display = ("__str__", "integration", "status", "planned_due_date", "due_date")
    list_select_related = ("integration", "integration__partner")
    list_filter = ("status", "side", "integration__state")
    search_fields = ("title", "code", "integration__name", "integration__partner__name")
    fieldsets = (
        (None, {"fields": ("integration", "position", "number", "code", "side", "title", "description")}),
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
                    "due_week",
                    "due_week_last",
                    "turnaround_days",
                    "window_start",
                    "planned_due_date",
                    "due_date",
                    "tells_via",
                    "checklist_items",
                )
            },
        ),
    )
    readonly_fields = ("overdue", "prerequisites", "checklist_items")
    inlines = [StepChangeInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Model-level permission (obj None) still grants the operations.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["change_notice"] = "Change the status with the buttons above; each change is kept in the history."
        return super().render_change_form(request, context, add, change, form_url, obj)

    def operation_subject_prefix(self, step) -> str:
        return f"{step.integration} — "

    def operation_error(self, step, message: str) -> str:
        # A step's name alone does not say which integration it belongs to.
        return message if str(step.integration) in message else f"{step.integration} — {message}"

    @admin.display(description="days overdue")
    def overdue(self, step):
        return _days_overdue(standing(step.integration).days_overdue(step))

    @admin.display(description="depends on")
    def prerequisites(self, step):
        if not step.depends_on:
            return self.get_empty_value_display()
        others = step.integration.steps.filter(code__in=step.depends_on).order_by("position")
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "", "<li>{} ({}): {}</li>", ((s, s.get_side_display(), s.get_status_display()) for s in others)
            ),
        )

    @admin.display(description="checklist")
    def checklist_items(self, step):
        if not step.checklist:
            return self.get_empty_value_display()
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((item,) for item in step.checklist)))


# --- background jobs ----------------------------------------------------------------------------


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    """Written by the Celery worker and beat; read here to see they are alive."""

    list_display = ("name", "last_seen_at", "age", "stale", "detail")
    fields = list_display
    readonly_fields = ("age", "stale")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="age")
    def age(self, heartbeat):
        return heartbeat_age(heartbeat)

    @admin.display(description="stale", boolean=True)
    def stale(self, heartbeat):
        return heartbeat.is_stale
