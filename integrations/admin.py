"""Admin for partners and their integrations: enough for a TradingView PM to track every partner.

Fields that are plain data are edited here (and validated by the models). Every change of plan or
of a step's status is an operation calling ``integrations.plan`` or ``integrations.steps``,
recorded as made on the web by the signed-in user.

Every step is shown by its label, "3 · TradingView · Sandbox access configuration": its roadmap
number, its side and its title. Pages cost a fixed number of queries, however many integrations,
partners, users, steps, history rows or Jira issues there are.

The Jira sync is steered here too: Jira issues (linked to a step by hand, or by their labels),
the webhook inbox (replayable), and the sync's health on the front page and the integrations list.
"""

import json
import math
import re
from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, Prefetch, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from integrations import plan
from integrations.actions import ACTIONS, step_actions
from integrations.admin_forms import KickoffForm, NoteForm, ReasonForm, ReplanForm
from integrations.context import ChangeContext
from integrations.history import MergedHistory
from integrations.jira.issues import Outcome, _step_for, sync_step
from integrations.jira.models import JiraConnection, JiraDelivery, JiraIssue, StatusCategory
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
from roadmap.models import Channel, RoadmapTemplate, Side, StepStatus


def _web(user, note="") -> ChangeContext:
    return ChangeContext(source=ChangeSource.WEB, by=user, note=note)


def _step_url(step_id) -> str:
    return reverse("admin:integrations_integrationstep_change", args=[step_id])


def _step_link(step):
    """The step's label ("3 · TradingView · Sandbox access configuration"), linking to its page."""
    return format_html('<a href="{}">{}</a>', _step_url(step.pk), step)


class ReadOnlyInline(admin.TabularInline):
    """Rows written only by the service functions: shown, never edited here.

    Its template shows the fields only, without the object's name above each row (the fields
    already say which row it is, and the name could cost a query a row).
    """

    extra = 0
    can_delete = False
    template = "admin/edit_inline/readonly_tabular.html"

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _days_overdue(days: int):
    """The days overdue in red and in words, or the admin's dash when not overdue."""
    if not days:
        return "-"
    return format_html('<strong style="color: var(--error-fg)">{} day{} overdue</strong>', days, _s(days))


def _date_html(day):
    """An ISO date that does not break at its hyphens in a narrow column."""
    return format_html('<span class="nowrap">{}</span>', _day(day))


def _s(n: int) -> str:
    return "" if n == 1 else "s"


def _day(value) -> str:
    return f"{value:%Y-%m-%d}" if value else ""


# --- history ------------------------------------------------------------------------------------

HISTORY_PER_PAGE = 50
HISTORY_PAGE_PARAM = "history_page"


@dataclass(frozen=True)
class HistoryRow:
    """One change, as the history table shows it."""

    at: datetime
    subject: str  # the step's label, or "Integration"
    subject_url: str
    change: str
    who: str
    source: str
    note: str


@dataclass(frozen=True)
class History:
    rows: list
    total: int
    page: int
    pages: int
    per_page: int
    param: str = HISTORY_PAGE_PARAM
    show_subject: bool = True  # False on a step's page: every row is that step's

    @property
    def page_numbers(self) -> range:
        return range(1, self.pages + 1)


def _status_label(code: str) -> str:
    return StepStatus(code).label if code in StepStatus.values else code


def _step_change_text(change: StepChange) -> str:
    parts = []
    if not change.from_status:
        parts.append(f"Planned: {_status_label(change.to_status)}")
    elif change.from_status != change.to_status:
        parts.append(f"{_status_label(change.from_status)} → {_status_label(change.to_status)}")
    if change.from_due != change.to_due:
        if change.from_due is None:
            parts.append(f"due {_day(change.to_due)}")
        else:
            parts.append(f"due {_day(change.from_due)} → {_day(change.to_due) or '-'}")
    return "; ".join(parts) or _status_label(change.to_status)


def _event_text(event: IntegrationEvent) -> str:
    kind, before, after = event.kind, event.from_value, event.to_value
    K = IntegrationEvent.Kind
    if kind == K.KICKED_OFF:
        return f"Kicked off on {after}"
    if kind == K.REPLANNED:
        return f"Re-planned: kick-off {before} → {after}"
    if kind == K.PAUSED:
        return f"Paused on {after}"
    if kind == K.RESUMED:
        return f"Resumed on {after} (paused since {before})" if before else f"Resumed on {after}"
    if kind == K.LAUNCHED:
        return f"Launched on {after}"
    if kind == K.CANCELLED:
        was = Integration.State(before).label if before in Integration.State.values else before
        return f"Cancelled (was {was})" if was else "Cancelled"
    return event.get_kind_display()


def _step_change_row(change: StepChange) -> HistoryRow:
    step = change.step
    return HistoryRow(
        at=change.at,
        subject=str(step),
        subject_url=_step_url(step.pk),
        change=_step_change_text(change),
        who=change.who,
        source=change.get_source_display(),
        note=change.note,
    )


def _event_row(event: IntegrationEvent) -> HistoryRow:
    return HistoryRow(
        at=event.at,
        subject="Integration",
        subject_url="",
        change=_event_text(event),
        who=event.who,
        source=event.get_source_display(),
        note=event.note,
    )


def history(request, step_changes, events=None, per_page: int = HISTORY_PER_PAGE, show_subject=True) -> History:
    """One page of step changes and integration events merged, newest first; four queries
    whatever the number of rows (``integrations.history.MergedHistory``)."""
    merged = MergedHistory(step_changes, events)
    total = merged.count()
    pages = max(1, math.ceil(total / per_page))
    try:
        page = min(max(1, int(request.GET.get(HISTORY_PAGE_PARAM, 1))), pages)
    except ValueError:
        page = 1
    end = page * per_page
    rows = [
        _event_row(r) if isinstance(r, IntegrationEvent) else _step_change_row(r) for r in merged[end - per_page : end]
    ]
    return History(rows, total, page, pages, per_page, show_subject=show_subject)


# --- partners -----------------------------------------------------------------------------------


class PartnerContactInline(admin.TabularInline):
    model = PartnerContact
    extra = 0
    fields = ("name", "title", "email", "is_primary")


class PartnerIntegrationInline(ReadOnlyInline):
    model = Integration
    fields = ("integration", "parts", "state", "ball_side", "next_due_on", "forecast_launch_on")
    verbose_name_plural = "integrations"

    @admin.display(description="integration")
    def integration(self, integration):
        url = reverse("admin:integrations_integration_change", args=[integration.pk])
        return format_html('<a href="{}">{}</a>', url, integration)


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "time_zone", "integration_count")
    ordering = ("name",)  # Meta.ordering does not apply to the annotated (GROUP BY) queryset
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
        if self.value() == "yes":
            return queryset.late()
        if self.value() == "no":
            return queryset.not_late()
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


class BlockedFilter(admin.SimpleListFilter):
    title = "blocked"
    parameter_name = "blocked"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.blocked()
        if self.value() == "no":
            return queryset.not_blocked()
        return queryset


class TeamMemberInline(admin.TabularInline):
    model = TeamMember
    extra = 0
    fields = ("name", "role", "email", "slack_user_id")
    verbose_name_plural = "partner team"


class IntegrationStepInline(ReadOnlyInline):
    model = IntegrationStep
    fields = ("step", "status_text", "planned", "deadline", "reason")
    verbose_name_plural = "steps"

    @admin.display(description="planned")
    def planned(self, step):
        return _day(step.planned_due_date) or "-"

    @admin.display(description="deadline")
    def deadline(self, step):
        """The deadline; in bold when a late hand-over moved it from the planned date."""
        if step.due_date and step.due_date != step.planned_due_date:
            return format_html("<strong>{}</strong>", _day(step.due_date))
        return _day(step.due_date) or "-"

    @admin.display(description="step")
    def step(self, step):
        return _step_link(step)

    @admin.display(description="status")
    def status_text(self, step):
        if step.status == StepStatus.BLOCKED:
            return format_html("<strong>{}</strong>", step.get_status_display())
        return step.get_status_display()

    @admin.display(description="why")
    def reason(self, step):
        return step.blocked_reason or step.applicability_note or "-"


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


@dataclass(frozen=True)
class OwedStep:
    """A step a side owes, as the standing block lists it."""

    step: IntegrationStep
    deadline: object  # date
    planned: object  # date, as the plan stands (moved by the days paused while paused)
    days_overdue: int


@admin.register(Integration)
class IntegrationAdmin(OperationsAdmin):
    operations = INTEGRATION_OPERATIONS
    list_display = (
        "integration",
        "current_step_link",
        "ball_in_court",
        "next_due",
        "launch",
        "slip_split",
        "pm",
    )
    list_display_links = ("integration",)
    list_select_related = ("partner", "current_step", "tv_pm")
    list_filter = (
        "ball_side",
        OverdueFilter,
        BlockedFilter,
        ("tv_pm", admin.RelatedOnlyFieldListFilter),
        DataTypeFilter,
        "state",
        "parts",
    )
    search_fields = ("partner__name", "name", "jira_project_key")
    # Search widgets, not a <select> holding every partner, user and template.
    autocomplete_fields = ("partner", "template", "tv_pm", "business_manager", "tech_contact")
    readonly_fields = ("state", *PLAN_FIELDS, "standing_summary")
    inlines = [TeamMemberInline, IntegrationStepInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        blocked = IntegrationStep.objects.filter(status=StepStatus.BLOCKED).order_by("position")
        return (
            super()
            .get_queryset(request)
            # Also the list's: a queryset that already selects related rows keeps list_select_related out.
            .select_related(*self.list_select_related)
            .prefetch_related(Prefetch("steps", queryset=blocked, to_attr="blocked_steps"))
        )

    def get_fieldsets(self, request, obj=None):
        fieldsets = [("Partner & roadmap", {"fields": ("partner", "name", "template", "state")})]
        if obj is not None:
            fieldsets += [
                ("Standing", {"fields": ("standing_summary",)}),
                # The stored columns the lists sort and filter on; the standing above is the live view.
                ("Plan", {"fields": PLAN_FIELDS, "classes": ("collapse",)}),
            ]
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
            ("Channels", {"fields": ("slack_channel_id", "jira_project_key", "jira_epic_key")}),
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

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context["history"] = history(
                request,
                StepChange.objects.filter(step__integration=obj),
                IntegrationEvent.objects.filter(integration=obj),
            )
            context["sections"] = [("Jira", jira_section(obj))]
        return super().render_change_form(request, context, add, change, form_url, obj)

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"jira_health": jira_health(), **(extra_context or {})})

    # --- the list ---

    @admin.display(description="integration", ordering="partner__name")
    def integration(self, integration):
        """The partner, and the integration's own name when it differs (a partner may have several)."""
        if integration.name and integration.name != integration.partner.name:
            return f"{integration.partner.name} · {integration.name}"
        return integration.partner.name

    @admin.display(description="ball in court", ordering="ball_side")
    def ball_in_court(self, integration):
        """Who owes the next move, and the blocked step if any; for one not running, its state."""
        if integration.state != Integration.State.ACTIVE:
            who = format_html("<em>{}</em>", integration.get_state_display())
        else:
            who = integration.get_ball_side_display() or "-"
        blocked = getattr(integration, "blocked_steps", [])
        if not blocked or not integration.is_running:
            return who
        more = f" (+{len(blocked) - 1} more)" if len(blocked) > 1 else ""
        return format_html(
            '{}<br><strong class="blocked-marker">Blocked:</strong> {}{}', who, _step_link(blocked[0]), more
        )

    @admin.display(description="current step", ordering="current_step__position")
    def current_step_link(self, integration):
        step = integration.current_step
        if step is None:
            return self.get_empty_value_display()
        return _step_link(step)

    @admin.display(description="next due", ordering="next_due_on")
    def next_due(self, integration):
        """The earliest deadline owed now, and how many days it is past."""
        if integration.next_due_on is None:
            return self.get_empty_value_display()
        days = integration.days_overdue()
        if not days:
            return _date_html(integration.next_due_on)
        return format_html("{}<br>{}", _date_html(integration.next_due_on), _days_overdue(days))

    @admin.display(description="forecast launch", ordering="forecast_launch_on")
    def launch(self, integration):
        """The forecast launch, against the current plan's and the first plan's (the baseline)."""
        forecast = integration.forecast_launch_on
        if forecast is None:
            return self.get_empty_value_display()
        lines = [_date_html(forecast)]
        for label, other in (("plan", integration.planned_launch_on), ("baseline", integration.baseline_launch_on)):
            if other is None or (label == "baseline" and other == integration.planned_launch_on):
                continue
            days = (forecast - other).days
            delta = "on time" if days == 0 else f"{days:+d}\u00a0d"
            lines.append(format_html('<span class="quiet">{} {} ({})</span>', label, _date_html(other), delta))
        return format_html_join(mark_safe("<br>"), "{}", ((line,) for line in lines))

    @admin.display(description="slip by side", ordering="-delay_partner_days")
    def slip_split(self, integration):
        """Who lost the days the forecast launch lies after the plan's (none without a forecast)."""
        if integration.forecast_launch_on is None:
            return self.get_empty_value_display()
        parts = [
            (label, days)
            for label, days in (
                ("TradingView", integration.delay_tradingview_days),
                ("Partner", integration.delay_partner_days),
                ("Both", integration.delay_both_days),
            )
            if days
        ]
        if not parts:
            return self.get_empty_value_display()
        return format_html_join(mark_safe("<br>"), "{} {}\u00a0d", parts)

    @admin.display(description="PM", ordering="tv_pm__username")
    def pm(self, integration):
        """The TradingView PM (a short header keeps the list narrow)."""
        return integration.tv_pm.get_username() if integration.tv_pm else self.get_empty_value_display()

    # --- the change page ---

    @admin.display(description="standing")
    def standing_summary(self, integration):
        now = standing(integration)
        counts = integration.team_counts()
        return render_to_string(
            "admin/integrations/integration/standing.html",
            {
                "integration": integration,
                "standing": now,
                "owed": self.owed_steps(now),
                "lineup": [
                    (TeamMember.Role(role).label, counts.get(role, 0), wanted)
                    for role, wanted in RECOMMENDED_LINEUP.items()
                ],
                # lineup_gaps() is what Integration.team_gaps() applies; reusing counts saves a query.
                "gaps": lineup_gaps(counts),
            },
        )

    @staticmethod
    def owed_steps(now) -> list[tuple[str, list[OwedStep]]]:
        """The steps each side owes, with deadline and days overdue.

        A paused integration owes nothing while paused; it is shown as it would stand if resumed
        today (the standing moves its open dates by the days paused), so the PM sees what resuming
        hands to whom.
        """
        paused = now.integration.state == Integration.State.PAUSED
        ball = progress.ball_in_court(now.steps) if paused else now.ball
        owed = []
        for side, label in Side.choices:
            items = []
            for step in ball.for_side(side):
                outlook = now.of(step)
                if outlook is None:
                    items.append(OwedStep(step, step.due_date, step.planned_due_date, 0))
                else:
                    items.append(OwedStep(step, outlook.deadline, outlook.step.planned_due_date, outlook.days_overdue))
            if items:
                owed.append((label, items))
        return owed


# --- steps --------------------------------------------------------------------------------------


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
        run=lambda step, data, user: apply_action(step, name, _web(user, data.get("reason", ""))),
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
)


@admin.register(IntegrationStep)
class IntegrationStepAdmin(OperationsAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Model-level permission (obj None) still grants the operations.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

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
        if step.due_week is None:
            return f"{step.turnaround_days} working day{_s(step.turnaround_days)} after it becomes actionable"
        if step.due_week_last:
            return f"Weeks {step.due_week}-{step.due_week_last} after kick-off"
        return f"Week {step.due_week} after kick-off"

    @admin.display(description="planned date")
    def planned(self, step):
        """The plan's date: set at kick-off, moved by re-planning and pauses."""
        return _day(step.planned_due_date) or "-"

    @admin.display(description="deadline")
    def deadline(self, step):
        if step.due_date and step.planned_due_date and step.due_date != step.planned_due_date:
            return f"{_day(step.due_date)} (moved from the planned date by a late hand-over)"
        return _day(step.due_date) or "-"

    @admin.display(description="tells the other side via")
    def tells(self, step):
        return ", ".join(Channel(c).label if c in Channel.values else c for c in step.tells_via) or "-"

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
                "", '<li><a href="{}">{}</a>: {}</li>', ((_step_url(s.pk), s, s.get_status_display()) for s in others)
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
        return format_html("{}\n<div>{}</div>", _issue_list(issues, show_kind=True), add)

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


# --- Jira ---------------------------------------------------------------------------------------


def _issue_url(issue) -> str:
    return reverse("admin:integrations_jiraissue_change", args=[issue.pk])


def _issue_html(issue, show_kind: bool = False):
    """ "ACME-3 In Progress (in progress) · UX": the key, linking to its page, and what to look for in Jira."""
    status = issue.status_name or issue.get_status_category_display() or "status unknown"
    markers = []
    if show_kind:
        markers.append(_kind(issue))
    elif issue.affects_ux:
        markers.append("UX")
    if issue.linked_in_admin:
        markers.append("linked by hand")
    if issue.deleted:
        markers.append("deleted in Jira")
    extra = format_html(" · {}", " · ".join(markers)) if markers else ""
    key = format_html('<a href="{}">{}</a>', _issue_url(issue), issue.key)
    if issue.deleted:
        key = format_html("<del>{}</del>", key)
    return format_html("{} {}{}", key, status, extra)


def _issue_list(issues, show_kind: bool = False):
    return format_html(
        "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((_issue_html(i, show_kind),) for i in issues))
    )


def _kind(issue) -> str:
    """ "Bug · smoke-test · UX", "Bug" or "Task": what the issue does to its step."""
    if not issue.is_bug:
        return issue.issue_type or "Task"
    return " · ".join(part for part in ("Bug", issue.testing_round, "UX" if issue.affects_ux else "") if part)


@dataclass(frozen=True)
class BugRound:
    """The open bugs of one testing round of a fixing step ("" when linked by hand without a round label)."""

    step: IntegrationStep
    round: str
    bugs: list
    first: bool  # the step's first round: its row names the step

    @property
    def bugs_html(self):
        return _issue_list(self.bugs) if self.bugs else ""


def jira_overview(integration) -> dict:
    """What the integration's page shows of Jira. Two queries: its steps and its issues."""
    steps = list(integration.steps.all())
    issues = list(JiraIssue.objects.filter(integration=integration).order_by("key"))
    by_step = defaultdict(list)
    for issue in issues:
        by_step[issue.step_id].append(issue)
    rounds = []
    for step in steps:
        if not step.jira_bug_labels:
            continue
        open_bugs = [i for i in by_step[step.pk] if i.is_bug and i.is_open]
        labels = list(step.jira_bug_labels)
        if any(b.testing_round not in labels for b in open_bugs):
            labels.append("")
        for n, label in enumerate(labels):
            rounds.append(BugRound(step, label, [b for b in open_bugs if b.testing_round == label], n == 0))
    ux_bugs = [i for i in issues if i.is_bug and i.affects_ux and i.is_open]
    return {
        "integration": integration,
        "issue_count": len(issues),
        "rounds": rounds,
        "ux_steps": [s for s in steps if s.held_by_ux_bugs],
        "ux_bugs": _issue_list(ux_bugs) if ux_bugs else "",
        "by_step": [(step, _issue_list(by_step[step.pk], show_kind=True)) for step in steps if by_step[step.pk]],
        "no_step": _issue_list(by_step[None], show_kind=True) if by_step[None] else "",
        "issues_url": f"{reverse('admin:integrations_jiraissue_changelist')}?integration__id__exact={integration.pk}",
        "add_url": f"{reverse('admin:integrations_jiraissue_add')}?integration={integration.pk}",
    }


def jira_section(integration) -> str:
    return render_to_string("admin/integrations/integration/jira.html", jira_overview(integration))


# The Jira sync's health: on the admin's front page and above the integrations list.

JIRA_CREDENTIALS = ("JIRA_URL", "JIRA_USER", "JIRA_API_TOKEN")


@dataclass(frozen=True)
class JiraHealth:
    enabled: bool
    off_reason: str = ""
    connection: JiraConnection | None = None
    waiting: int = 0
    failed: int = 0
    inbox_url: str = field(default="", compare=False)

    @property
    def waiting_url(self) -> str:
        return f"{self.inbox_url}?outcome__exact={JiraDelivery.Outcome.WAITING}"

    @property
    def failed_url(self) -> str:
        return f"{self.inbox_url}?outcome__exact={JiraDelivery.Outcome.FAILED}"


def jira_health() -> JiraHealth:
    """Whether the sync is on, how its pull is doing and what waits in its inbox. Two queries when on."""
    if not settings.JIRA_ENABLED:
        missing = [name for name in JIRA_CREDENTIALS if not getattr(settings, name, "")]
        why = f"{', '.join(missing)} not set" if missing else "JIRA_ENABLED is off"
        return JiraHealth(enabled=False, off_reason=why)
    W, F = JiraDelivery.Outcome.WAITING, JiraDelivery.Outcome.FAILED
    counts = JiraDelivery.objects.filter(outcome__in=(W, F)).aggregate(
        waiting=Count("pk", filter=Q(outcome=W)), failed=Count("pk", filter=Q(outcome=F))
    )
    return JiraHealth(
        enabled=True,
        # Read, not created: a page view writes nothing; the pull makes the row.
        connection=JiraConnection.objects.order_by("pk").first(),
        waiting=counts["waiting"],
        failed=counts["failed"],
        inbox_url=reverse("admin:integrations_jiradelivery_changelist"),
    )


# Jira issues: linked to a step by hand here, or by their labels.

JIRA_KEY = re.compile(r"[A-Z][A-Z0-9_]*-[1-9][0-9]*")


def _bug_round(issue, step) -> str:
    """The testing round of a bug linked by hand to ``step``: its label among the step's rounds, if any."""
    if not issue.is_bug or step is None:
        return ""
    return next((label for label in issue.labels if label in step.jira_bug_labels), "")


def link_issue(issue: JiraIssue, step: IntegrationStep | None, context: ChangeContext):
    """Link ``issue`` to ``step`` by hand, or (``step`` None) let its labels decide its step again.

    The steps it leaves and joins are then moved to what their Jira tasks say (``sync_step``).
    Returns the issue as saved and the sync's outcome for each step, the one it joins first.
    """
    with transaction.atomic():
        issue = JiraIssue.objects.select_for_update(of=("self",)).select_related("integration", "step").get(pk=issue.pk)
        if step is not None and step.integration_id != issue.integration_id:
            raise ValidationError(
                f"{issue.key} belongs to {issue.integration}; “{step}” is a step of {step.integration}. "
                f"Choose one of {issue.integration}'s steps."
            )
        before = issue.step
        if step is None:
            issue.linked_in_admin = False
            issue.step, issue.testing_round = _step_for(issue, issue.integration)
        else:
            issue.linked_in_admin = True
            issue.step, issue.testing_round = step, _bug_round(issue, step)
        issue.save(update_fields=["step", "linked_in_admin", "testing_round"])
        # An issue added by key that Jira has not reported yet says nothing of its step's status.
        touched = [issue.step] if issue.step is not None and _reported(issue) else []
        # A task leaving a step may leave it done (or not) in Jira's eyes; a bug moves no step.
        if before is not None and before != issue.step and not issue.is_bug:
            touched.append(before)
        outcomes = [(s, sync_step(s, context)) for s in touched]
    return issue, outcomes


def _reported(issue) -> bool:
    """Whether Jira has said anything of the issue (one added by key has no status until it does)."""
    return bool(issue.updated_at or issue.status_category)


REFUSAL_PREFIX = re.compile(r"^[a-z_]+: ")


def _sync_messages(issue, outcomes) -> list[tuple[int, str]]:
    """The messages a PM reads after a link: where the issue now is, and what each step did."""
    if issue.step is None:
        where = f"{issue.key} is linked to no step; Jira's news about it moves nothing."
    elif issue.linked_in_admin:
        where = f"{issue.key} is linked by hand to “{issue.step}”; its labels no longer move it."
    else:
        where = f"{issue.key} is no longer linked by hand; its labels link it to “{issue.step}”."
    if issue.is_bug and issue.step is not None:
        where += " As a bug it holds that step open while it is open."
    if issue.step is not None and not _reported(issue):
        where += " Jira has not reported it yet: its step moves when Jira does."
    result = [(messages.SUCCESS, where)]
    for step, outcome in outcomes:
        detail = REFUSAL_PREFIX.sub("", outcome.detail)
        if outcome.state == Outcome.APPLIED:
            result.append((messages.SUCCESS, f"Re-synced from its Jira tasks: {detail}"))
        else:
            result.append((messages.WARNING, f"“{step}” not moved to what its Jira tasks say: {detail}"))
    return result


class StepByLabelField(forms.ModelChoiceField):
    """A step chosen by its label; any step validates, so another integration's is refused by name."""

    def label_from_instance(self, step):
        return str(step)


class JiraIssueForm(forms.ModelForm):
    step = StepByLabelField(
        queryset=IntegrationStep.objects.select_related("integration"),
        required=False,
        help_text="Linked by hand, the issue stays on this step whatever its labels say. "
        "Leave empty to let its labels (roadmap-<step code>, a testing round) decide.",
    )

    class Meta:
        model = JiraIssue
        fields = ("integration", "key", "summary", "step")
        help_texts = {"key": "E.g. BRK-42: the issue may be added before Jira has sent anything about it."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        integration_id = self._integration_id()
        steps = IntegrationStep.objects.filter(integration_id=integration_id) if integration_id else []
        # Offered: the issue's integration's steps only (a select, by label, in roadmap order).
        self.fields["step"].widget.choices = [("", "---------"), *((s.pk, str(s)) for s in steps)]
        if not integration_id:
            self.fields["step"].help_text = "Choose the integration and save; then its steps are offered here."

    def _integration_id(self):
        if self.instance.integration_id:
            return self.instance.integration_id
        value = (self.data or {}).get("integration") or self.initial.get("integration")
        try:
            return int(getattr(value, "pk", value))
        except (TypeError, ValueError):
            return None

    def clean_key(self):
        key = self.cleaned_data["key"].strip().upper()
        if not JIRA_KEY.fullmatch(key):
            raise ValidationError("A Jira issue key is its project key, a hyphen and a number, e.g. BRK-42.")
        return key

    def clean(self):
        cleaned = super().clean()
        integration = cleaned.get("integration") or (self.instance.integration if self.instance.pk else None)
        step, key = cleaned.get("step"), cleaned.get("key")
        if integration and step and step.integration_id != integration.pk:
            self.add_error(
                "step",
                f"“{step}” is a step of {step.integration}, not of {integration}. Choose one of {integration}'s steps.",
            )
        project = integration.jira_project_key if integration else ""
        if key and project and key.rsplit("-", 1)[0] != project:
            self.add_error("key", f"{key} is not in {integration}'s Jira project {project}.")
        return cleaned


class IntegrationStateFilter(admin.SimpleListFilter):
    title = "integration state"
    parameter_name = "integration_state"

    def lookups(self, request, model_admin):
        return Integration.State.choices

    def queryset(self, request, queryset):
        if self.value() in Integration.State.values:
            return queryset.filter(integration__state=self.value())
        return queryset


class TestingRoundFilter(admin.SimpleListFilter):
    """The testing rounds bugs were seen with (one query), and "None" for issues of no round."""

    title = "testing round"
    parameter_name = "round"

    def lookups(self, request, model_admin):
        rounds = JiraIssue.objects.exclude(testing_round="").order_by("testing_round")
        return [*((r, r) for r in rounds.values_list("testing_round", flat=True).distinct()), ("-", "None")]

    def queryset(self, request, queryset):
        if self.value() == "-":
            return queryset.filter(testing_round="")
        if self.value():
            return queryset.filter(testing_round=self.value())
        return queryset


class StatusCategoryFilter(admin.SimpleListFilter):
    """Jira's status category; "Open" (not done) is what holds steps."""

    title = "status category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return [("open", "Open (not done)"), *StatusCategory.choices, ("unknown", "Unknown")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "open":
            return queryset.exclude(status_category=StatusCategory.DONE)
        if value == "unknown":
            return queryset.filter(status_category="")
        if value in StatusCategory.values:
            return queryset.filter(status_category=value)
        return queryset


def _unlink(issue, data, user):
    return link_issue(issue, None, _web(user))


JIRA_ISSUE_OPERATIONS = (
    Operation(
        "unlink",
        "Unlink from its step",
        "Unlinked",
        run=_unlink,
        available=lambda issue, user: issue.linked_in_admin,
        message=lambda issue, result: " ".join(text for _level, text in _sync_messages(*result)),
    ),
)

ISSUE_FACTS = (
    "key",
    "integration",
    "summary",
    "kind",
    "labels_text",
    "status_text",
    "updated_at",
    "seen_at",
    "deleted",
)


@admin.register(JiraIssue)
class JiraIssueAdmin(OperationsAdmin):
    """Jira issues as last seen; a PM links one to a step of its integration, or unlinks it."""

    form = JiraIssueForm
    operations = JIRA_ISSUE_OPERATIONS
    list_display = ("key", "integration", "step_text", "status_text", "kind", "updated_at", "deleted")
    list_select_related = ("integration", "integration__partner", "step")
    list_filter = (IntegrationStateFilter, StatusCategoryFilter, "is_bug", TestingRoundFilter, "affects_ux", "deleted")
    search_fields = ("key", "summary")
    search_help_text = "Search by issue key or summary."
    autocomplete_fields = ("integration",)
    ordering = ("key",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("integration", "integration__partner", "step")

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ("integration", "key", "summary", "step")})]
        return [
            ("Issue, as Jira last said", {"fields": ISSUE_FACTS}),
            ("Roadmap step", {"fields": ("step", "link_text")}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else (*ISSUE_FACTS, "link_text")

    def get_changeform_initial_data(self, request):
        # From an integration's or a step's page: ?integration=<id>&step=<id>.
        return {k: v for k, v in super().get_changeform_initial_data(request).items() if k in ("integration", "step")}

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deleted one at a time, and only issues Jira never reported
        return actions

    def has_delete_permission(self, request, obj=None):
        return (obj is None or obj.updated_at is None) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        step = form.cleaned_data.get("step")
        if not change:
            obj.step, obj.linked_in_admin = None, False
            obj.save()
            if step is None:
                return
        elif "step" not in form.changed_data:
            return  # nothing else is edited here: what Jira says is written only by the sync
        try:
            issue, outcomes = link_issue(obj, step, _web(request.user))
        except ValidationError as error:
            for message in error.messages:
                self.message_user(request, message, messages.ERROR)
            return
        obj.step, obj.linked_in_admin, obj.testing_round = issue.step, issue.linked_in_admin, issue.testing_round
        for level, message in _sync_messages(issue, outcomes):
            self.message_user(request, message, level)

    def response_add(self, request, obj, post_url_continue=None):
        # On to the issue's page, where its integration's steps are offered.
        if "_addanother" not in request.POST and "_popup" not in request.POST:
            request.POST = request.POST.copy()
            request.POST["_continue"] = "1"
        return super().response_add(request, obj, post_url_continue)

    @admin.display(description="step", ordering="step__position")
    def step_text(self, issue):
        if issue.step is None:
            return self.get_empty_value_display()
        return format_html("{}{}", _step_link(issue.step), " (by hand)" if issue.linked_in_admin else "")

    @admin.display(description="status", ordering="status_name")
    def status_text(self, issue):
        category = issue.get_status_category_display()
        if not issue.status_name:
            return category or self.get_empty_value_display()
        if not category or category.lower() == issue.status_name.lower():
            return issue.status_name
        return f"{issue.status_name} ({category.lower()})"

    @admin.display(description="kind")
    def kind(self, issue):
        return _kind(issue)

    @admin.display(description="labels")
    def labels_text(self, issue):
        return ", ".join(issue.labels) or self.get_empty_value_display()

    @admin.display(description="linked")
    def link_text(self, issue):
        if issue.linked_in_admin:
            return "By hand (its labels no longer move it): “Unlink from its step” above lets its labels decide again."
        if issue.step is not None:
            return "By its labels."
        return "Not linked: no roadmap-<step code> label, and no testing-round label of a fixing step."


# The webhook inbox.


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
class JiraDeliveryAdmin(OperationsAdmin):
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

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # Model-level permission (obj None) grants the replay; the page itself is read-only.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

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
        if delivery.outcome == JiraDelivery.Outcome.FAILED:
            label = format_html('<strong style="color: var(--error-fg)">{}</strong>', label)
        elif delivery.outcome == JiraDelivery.Outcome.WAITING and delivery.not_before:
            label = format_html(
                "{} (next try after {})", label, timezone.localtime(delivery.not_before).strftime("%Y-%m-%d %H:%M")
            )
        if not delivery.detail:
            return label
        return format_html("{}<br>{}", label, delivery.detail)

    @admin.display(description="body")
    def pretty_body(self, delivery):
        text = json.dumps(delivery.body, indent=2, ensure_ascii=False)
        return format_html('<pre class="jira-body" style="white-space: pre-wrap; margin: 0">{}</pre>', text)


# Admin screens that live with their part of the product.
from integrations.api import admin as api_admin  # noqa: E402, F401
from integrations.handovers import admin as handovers_admin  # noqa: E402, F401
from integrations.stage import admin as stage_admin  # noqa: E402, F401
