"""Admin for roadmap templates: versions, their steps, and making a new version.

A template's page shows its steps as a readable table (due, dependencies, checklist and the
conditions under which each applies). A draft version's steps are edited in the inline below it;
a frozen version (in use by integrations) shows the table only. A version that integrations use
cannot be deleted.
"""

from types import SimpleNamespace

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html

from integrations.admin.operations import Operation, OperationsAdmin
from integrations.models import Integration
from integrations.text import day_text, working_days
from roadmap.conditions import CONDITIONS
from roadmap.models import Channel, RoadmapTemplate, Side, TemplateStep, step_label, template_problems
from roadmap.schedule import due_words, roadmap_side_days


class TemplateStepFormSet(BaseInlineFormSet):
    """A template's steps are saved together only if they make a plan that can finish."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        fields = ("position", "code", "side", "depends_on", "due_week", "due_week_last")
        steps = [
            SimpleNamespace(**{name: form.cleaned_data.get(name) for name in fields})
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        for step in steps:
            step.depends_on = step.depends_on or []
        problems = template_problems([s for s in steps if s.position is not None and s.code])
        if problems:
            raise ValidationError(["These steps cannot be planned, so nothing was saved:", *problems])


class TemplateStepInline(admin.StackedInline):
    """A draft template's steps; a frozen template has no inline (TemplateStep.clean refuses too)."""

    model = TemplateStep
    formset = TemplateStepFormSet
    extra = 0
    ordering = ("position",)
    fields = (
        ("position", "number", "side", "code"),
        "title",
        "description",
        ("due_week", "due_week_last", "turnaround_days"),
        ("prepared_ahead", "keeps_days"),
        "depends_on",
        "tells_via",
        "condition",
        "checklist",
    )

    def has_add_permission(self, request, obj=None):
        return not _frozen(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _frozen(obj) and super().has_delete_permission(request, obj)


def _frozen(template) -> bool:
    return template is not None and template.is_frozen


def integration_count(template) -> int:
    """How many integrations follow ``template`` (annotated by the admin's queryset, else counted)."""
    count = getattr(template, "integration_count", None)
    if count is None:
        count = Integration.objects.filter(template=template).count()
    return count


def delete_refusal(template) -> str:
    """Why ``template`` cannot be deleted, or "" when it can."""
    count = integration_count(template)
    users = f"{count} integration{'' if count == 1 else 's'} follow{'s' if count == 1 else ''} it"
    if template.is_frozen:
        return (
            f"{template} is in use (frozen since {day_text(template.frozen_at)}"
            f"{'; ' + users if count else ''}): it cannot be deleted."
        )
    if count:
        return f"{template} cannot be deleted: {users}."
    return ""


def _new_version_message(template, copy):
    url = reverse("admin:roadmap_roadmaptemplate_change", args=[copy.pk])
    return format_html('Made <a href="{}">{}</a> from {}; edit its steps there.', url, copy, template)


def _checklist_rows(checklist) -> list[tuple[str, str]]:
    """(text, condition label or "") per checklist item; a malformed draft item shown as it is."""
    if not isinstance(checklist, list):
        return [(f"Not a list: {checklist!r}", "")]
    rows = []
    for item in checklist:
        if not isinstance(item, dict):
            rows.append((repr(item), ""))
            continue
        code = item.get("condition", "always")
        condition = CONDITIONS[code].label if code in CONDITIONS else f"unknown condition {code!r}"
        rows.append((str(item.get("text", "")) or "(no text)", "" if code == "always" else condition))
    return rows


def _days_text(step, days: int | None) -> str:
    """ "Partner: 5 working days": the working days the roadmap gives the step's side for it."""
    if days is None:
        return ""
    side = Side(step.side).label if step.side in Side.values else step.side
    return f"{side}: {working_days(days)}"


def step_summaries(steps) -> list[dict]:
    """What the template's steps say, in words: the rows of the steps table."""
    steps = sorted(steps, key=lambda s: s.position)
    by_code = {s.code: s for s in steps}
    days = roadmap_side_days(steps) if not template_problems(steps) else {}
    rows = []
    for step in steps:
        depends_on = step.depends_on if isinstance(step.depends_on, list) else [step.depends_on]
        condition = CONDITIONS.get(step.condition)
        rows.append(
            {
                "position": step.position,
                "number_side": step_label(step).removesuffix(f" · {step.title}"),
                "title": step.title,
                "code": step.code,
                "due": due_words(step, steps),
                "days": _days_text(step, days.get(step.code)),
                "depends_on": [
                    str(by_code[code]) if code in by_code else f"{code!r} (no such step)" for code in depends_on
                ],
                "checklist": _checklist_rows(step.checklist),
                "applies": "" if step.condition == "always" else (condition.label if condition else step.condition),
                "tells_via": ", ".join(Channel(c).label if c in Channel.values else c for c in step.tells_via),
            }
        )
    return rows


@admin.register(RoadmapTemplate)
class RoadmapTemplateAdmin(OperationsAdmin):
    list_display = ("name", "key", "version", "frozen_at", "step_count", "integration_count")
    list_filter = ("key",)
    search_fields = ("name", "key")
    ordering = ("key", "-version")  # Meta.ordering does not apply to the annotated (GROUP BY) queryset
    readonly_fields = ("created_at", "frozen_at", "in_use")
    operations = (
        Operation(
            "new_version",
            "Make a new version",
            "Made a new version",
            run=lambda template, data, user: template.new_version(),
            permission="add",
            message=_new_version_message,
        ),
    )

    def get_queryset(self, request):
        uses = (
            Integration.objects.filter(template=OuterRef("pk"))
            .order_by()
            .values("template")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                step_count=Count("steps"),
                integration_count=Coalesce(Subquery(uses, output_field=IntegerField()), Value(0)),
            )
        )

    def get_fieldsets(self, request, obj=None):
        fields = ("key", "version", "name", "description", "created_at", "frozen_at")
        if obj is None:
            return [(None, {"fields": fields})]
        return [(None, {"fields": (*fields, "in_use")})]

    def get_inlines(self, request, obj):
        # A frozen version shows its steps as the readable table only.
        return [] if _frozen(obj) else [TemplateStepInline]

    @admin.display(description="steps", ordering="step_count")
    def step_count(self, template):
        return template.step_count

    @admin.display(description="integrations", ordering="integration_count")
    def integration_count(self, template):
        return integration_count(template)

    @admin.display(description="in use")
    def in_use(self, template):
        count = integration_count(template)
        if not count:
            return "No integration follows this version."
        return f"{count} integration{'' if count == 1 else 's'} follow{'s' if count == 1 else ''} this version."

    def steps_summary(self, template) -> str:
        """The template's steps as a readable table: due, dependencies, checklist, conditions."""
        return render_to_string(
            "admin/roadmap/roadmaptemplate/steps_summary.html", {"rows": step_summaries(template.steps.all())}
        )

    def has_change_permission(self, request, obj=None):
        return not _frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and delete_refusal(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if "delete_selected" in actions:
            delete_selected, name, description = actions["delete_selected"]
            actions["delete_selected"] = (self._refusing_in_use(delete_selected), name, description)
        return actions

    @staticmethod
    def _refusing_in_use(delete_selected):
        """The delete action, refused as a whole when a selected version is in use."""

        def action(modeladmin, request, queryset):
            refusals = [r for r in map(delete_refusal, queryset) if r]
            if refusals:
                for refusal in refusals:
                    modeladmin.message_user(request, refusal, messages.ERROR)
                modeladmin.message_user(
                    request, "Nothing was deleted; select only versions no integration uses.", messages.WARNING
                )
                return None
            return delete_selected(modeladmin, request, queryset)

        action.__name__ = delete_selected.__name__
        return action

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk is not None:
            if _frozen(obj):
                count = integration_count(obj)
                context["change_notice"] = (
                    f"In use since {day_text(obj.frozen_at)} ({count} integration{'' if count == 1 else 's'}): "
                    "this version and its steps can no longer change, and it cannot be deleted. "
                    "To change the process, make a new version and edit that."
                )
            else:
                context["change_notice"] = delete_refusal(obj)
            # Full width, between the template's fields and the editor of a draft's steps.
            context["sections"] = [("Steps", self.steps_summary(obj))]
        return super().render_change_form(request, context, add, change, form_url, obj)
