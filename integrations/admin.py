"""Admin for partners and their integrations: enough for a TradingView PM to track every partner.

Fields that are plain data are edited here (and validated by the models). Every change of plan or
of a step's status is an operation calling ``integrations.plan`` or ``integrations.steps``,
recorded as made on the web by the signed-in user.

Every step is shown by its label, "3 · TradingView · Sandbox access configuration": its roadmap
number, its side and its title. Pages cost a fixed number of queries, however many integrations,
partners, users, steps or history rows there are.
"""

import math
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from django.contrib import admin
from django.db import models
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
    sort_key: tuple


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


def _sort_key(row, is_event: bool) -> tuple:
    # Newest first; within one instant (a kick-off writes one event and a row a step), the
    # integration's event first, then the steps' rows in the order they were written.
    return (-row.at.timestamp(), 0 if is_event else 1, row.pk)


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
        sort_key=_sort_key(change, False),
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
        sort_key=_sort_key(event, True),
    )


def history(request, step_changes, events=None, per_page: int = HISTORY_PER_PAGE, show_subject=True) -> History:
    """One page of step changes and integration events merged, newest first.

    Four queries whatever the number of rows: each source is counted, and the rows up to the end
    of the asked page are read from each (with their step and user) and merged.
    """
    step_changes = step_changes.select_related("step", "by")
    total = step_changes.count()
    if events is not None:
        events = events.select_related("by")
        total += events.count()
    pages = max(1, math.ceil(total / per_page))
    try:
        page = min(max(1, int(request.GET.get(HISTORY_PAGE_PARAM, 1))), pages)
    except ValueError:
        page = 1
    end = page * per_page
    rows = [_step_change_row(c) for c in step_changes.order_by("-at", "id")[:end]]
    if events is not None:
        rows += [_event_row(e) for e in events.order_by("-at", "id")[:end]]
    rows.sort(key=lambda r: r.sort_key)
    return History(rows[end - per_page : end], total, page, pages, per_page, show_subject=show_subject)


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


class BlockedFilter(admin.SimpleListFilter):
    title = "blocked"
    parameter_name = "blocked"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No")]

    def queryset(self, request, queryset):
        blocked = Q(state__in=Integration.RUNNING_STATES, steps__status=StepStatus.BLOCKED)
        if self.value() == "yes":
            return queryset.filter(blocked).distinct()
        if self.value() == "no":
            return queryset.exclude(pk__in=Integration.objects.filter(blocked).values("pk"))
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

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            context["history"] = history(
                request,
                StepChange.objects.filter(step__integration=obj),
                IntegrationEvent.objects.filter(integration=obj),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

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
    )
    readonly_fields = ("step", "overdue", "prerequisites", "checklist_items", "due", "planned", "deadline", "tells")

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
