"""Admin for roadmap templates: versions, their steps, and making a new version."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from roadmap.admin_operations import Operation, OperationsAdmin
from roadmap.models import RoadmapTemplate, TemplateStep

# --- roadmap templates ------------------------------------------------------------------------


class TemplateStepInline(admin.StackedInline):
    """A template's steps; read-only once the template is frozen (TemplateStep.clean refuses too)."""

    model = TemplateStep
    extra = 0
    ordering = ("position",)
    fields = (
        ("position", "number", "side", "code"),
        "title",
        "description",
        ("due_week", "due_week_last"),
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


def _new_version_message(template, copy):
    url = reverse("admin:roadmap_roadmaptemplate_change", args=[copy.pk])
    return format_html('Made <a href="{}">{}</a> from {}; edit its steps there.', url, copy, template)


@admin.register(RoadmapTemplate)
class RoadmapTemplateAdmin(OperationsAdmin):
    list_display = ("name", "key", "version", "frozen_at", "step_count")
    list_filter = ("key",)
    search_fields = ("name", "key")
    fields = ("key", "version", "name", "description", "created_at", "frozen_at")
    readonly_fields = ("created_at", "frozen_at")
    inlines = [TemplateStepInline]
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
        return super().get_queryset(request).annotate(step_count=Count("steps"))

    @admin.display(description="steps", ordering="step_count")
    def step_count(self, template):
        return template.step_count

    def has_change_permission(self, request, obj=None):
        return not _frozen(obj) and super().has_change_permission(request, obj)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if _frozen(obj):
            context["change_notice"] = (
                f"In use by integrations since {obj.frozen_at:%Y-%m-%d}: this version and its steps can no "
                "longer change. To change the process, make a new version and edit that."
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        # The graph can only be checked once every step is saved; a draft may stay incomplete.
        try:
            form.instance.validate_steps()
        except ValidationError as error:
            for message in error.messages:
                self.message_user(request, message, messages.WARNING)
