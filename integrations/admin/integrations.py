"""Integrations: the list a TradingView PM tracks every partner by, and each integration's page.

Fields that are plain data are edited here (and validated by the models). Every change of plan is
an operation calling ``integrations.plan``, recorded as made on the web by the signed-in user. The
list and the page cost a fixed number of queries, however many integrations, steps, history rows
or Jira issues there are.
"""

from contextlib import suppress
from dataclasses import dataclass

from django.contrib import admin
from django.db import models
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from integrations import agreed_launch, plan
from integrations.admin.common import ReadOnlyInline, TabularInline, date_html, days_overdue_html, step_link
from integrations.admin.jira import jira_section
from integrations.admin.operations import Operation, OperationsAdmin
from integrations.context import ChangeContext
from integrations.forms import AgreedLaunchForm, KickoffForm, NoteForm, ReasonForm, ReplanForm
from integrations.jira.health import jira_health
from integrations.models import Integration, IntegrationEvent, IntegrationStep, StepChange, TeamMember
from integrations.read_models.history import history
from integrations.standing import standing
from integrations.text import day_text
from roadmap import default_template
from roadmap import standing as rules
from roadmap.lineup import RECOMMENDED_LINEUP, lineup_gaps
from roadmap.models import RoadmapTemplate, Side, StepStatus


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


class TeamMemberInline(TabularInline):
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
        return day_text(step.planned_due_date) or "-"

    @admin.display(description="deadline")
    def deadline(self, step):
        """The deadline; in bold when a late hand-over moved it from the planned date."""
        if step.due_date and step.due_date != step.planned_due_date:
            return format_html("<strong>{}</strong>", day_text(step.due_date))
        return day_text(step.due_date) or "-"

    @admin.display(description="step")
    def step(self, step):
        return step_link(step)

    @admin.display(description="status")
    def status_text(self, step):
        if step.status == StepStatus.BLOCKED:
            return format_html("<strong>{}</strong>", step.get_status_display())
        return step.get_status_display()

    @admin.display(description="why")
    def reason(self, step):
        return step.blocked_reason or step.applicability_note or "-"


def _context(user, data: dict, note_field: str) -> ChangeContext:
    """The change as the operation's form gives it: its note, and whether the PM shares it with the partner."""
    return ChangeContext.web(user, data.get(note_field, ""), data.get("shared_with_partner", False))


INTEGRATION_OPERATIONS = (
    Operation(
        "kick_off",
        "Kick off",
        "Kicked off",
        run=lambda i, data, user: plan.start_integration(i, data["kickoff_on"], _context(user, data, "note")),
        form_class=KickoffForm,
        available=lambda i, user: not i.is_started and i.is_active,
    ),
    Operation(
        "replan",
        "Re-plan",
        "Re-planned",
        run=lambda i, data, user: plan.replan(i, data["kickoff_on"], ChangeContext.web(user, data["note"])),
        form_class=ReplanForm,
        available=lambda i, user: i.is_started and i.is_running,
    ),
    Operation(
        "agree_launch",
        "Record the agreed launch date",
        "Launch date agreed",
        run=lambda i, data, user: agreed_launch.agree_launch(
            i, data["agreed_launch_on"], data["agreed_by"], ChangeContext.web(user, data["note"])
        ),
        form_class=AgreedLaunchForm,
        available=lambda i, user: i.is_started and i.is_running,
    ),
    Operation(
        "pause",
        "Pause",
        "Paused",
        run=lambda i, data, user: plan.pause(i, _context(user, data, "note")),
        form_class=NoteForm,
        available=lambda i, user: i.is_started and i.is_active,
    ),
    Operation(
        "resume",
        "Resume",
        "Resumed",
        run=lambda i, data, user: plan.resume(i, ChangeContext.web(user)),
        available=lambda i, user: i.is_paused,
    ),
    Operation(
        "cancel_integration",
        "Cancel",
        "Cancelled",
        run=lambda i, data, user: plan.cancel(i, _context(user, data, "reason")),
        form_class=ReasonForm,
        available=lambda i, user: i.is_running,
    ),
)

PLAN_FIELDS = (
    "kickoff_on",
    "baseline_launch_on",
    "planned_launch_on",
    "agreed_launch_on",
    "launch_agreed_by",
    "launch_agreed_at",
    "launch_agreement_note",
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
                {
                    "fields": (
                        "parts",
                        "data_types",
                        "data_source",
                        "own_feed_in_production_on",
                        "trading_auth",
                        "data_auth",
                        "spec_version",
                    )
                },
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
            ("Channels", {"fields": ("slack_channel_id", "jira_project_key", "jira_epic_key", "jira_news_in_slack")}),
            ("People", {"fields": ("tv_pm", "business_manager", "tech_contact", "beta_testers")}),
            ("Launch forecast", {"fields": ("partner_sees_forecast",)}),
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
        if not integration.is_active:
            who = format_html("<em>{}</em>", integration.get_state_display())
        else:
            who = integration.get_ball_side_display() or "-"
        blocked = getattr(integration, "blocked_steps", [])
        if not blocked or not integration.is_running:
            return who
        more = f" (+{len(blocked) - 1} more)" if len(blocked) > 1 else ""
        return format_html(
            '{}<br><strong class="blocked-marker">Blocked:</strong> {}{}', who, step_link(blocked[0]), more
        )

    @admin.display(description="current step", ordering="current_step__position")
    def current_step_link(self, integration):
        step = integration.current_step
        if step is None:
            return self.get_empty_value_display()
        return step_link(step)

    @admin.display(description="next due", ordering="next_due_on")
    def next_due(self, integration):
        """The earliest deadline owed now, and how many days it is past."""
        if integration.next_due_on is None:
            return self.get_empty_value_display()
        days = integration.days_overdue()
        if not days:
            return date_html(integration.next_due_on)
        return format_html("{}<br>{}", date_html(integration.next_due_on), days_overdue_html(days))

    @admin.display(description="forecast launch", ordering="forecast_launch_on")
    def launch(self, integration):
        """The forecast launch, against the current plan's, the agreed date (once agreed) and the first plan's
        (the baseline)."""
        forecast = integration.forecast_launch_on
        if forecast is None:
            return self.get_empty_value_display()
        lines = [date_html(forecast)]
        others = (
            ("plan", integration.planned_launch_on),
            ("agreed", integration.agreed_launch_on),
            ("baseline", integration.baseline_launch_on),
        )
        for label, other in others:
            if other is None or (label == "baseline" and other == integration.planned_launch_on):
                continue
            days = rules.working_days_late(other, forecast) or -rules.working_days_late(forecast, other)
            # Working days, as every count of days late; abbreviated to keep the list on a laptop's screen.
            delta = (
                "on time" if days == 0 else format_html('{}\u00a0<abbr title="working days">wd</abbr>', f"{days:+d}")
            )
            lines.append(format_html('<span class="quiet">{} {} ({})</span>', label, date_html(other), delta))
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
        # Working days, abbreviated to keep the list on a laptop's screen.
        return format_html_join(mark_safe("<br>"), '{} {}\u00a0<abbr title="working days">wd</abbr>', parts)

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
        paused = now.integration.is_paused
        ball = rules.ball_in_court(now.steps) if paused else now.ball
        owed = []
        for side, label in Side.choices:
            items = []
            for step in ball.for_side(side):
                step_standing = now.of(step)
                if step_standing is None:
                    items.append(OwedStep(step, step.due_date, step.planned_due_date, 0))
                else:
                    items.append(
                        OwedStep(
                            step,
                            step_standing.deadline,
                            step_standing.step.planned_due_date,
                            step_standing.days_overdue,
                        )
                    )
            if items:
                owed.append((label, items))
        return owed
