"""Pieces several admin pages share: the change context of a web edit, step links, tabular and read-only
inlines, and dates as the admin's columns show them."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from integrations.text import day_text, working_days


def step_url(step_id) -> str:
    return reverse("admin:integrations_integrationstep_change", args=[step_id])


def step_link(step):
    """The step's label ("3 · TradingView · Sandbox access configuration"), linking to its page."""
    return format_html('<a href="{}">{}</a>', step_url(step.pk), step)


class TabularInline(admin.TabularInline):
    """A tabular inline whose rows read as cards on a phone, each value under its column's name
    (``admin/edit_inline/tabular_stacks.html``, ``static/css/admin.css``): nothing scrolls sideways."""

    template = "admin/edit_inline/tabular_stacks.html"


class ReadOnlyInline(admin.TabularInline):
    """Rows written only by the service functions: shown, never edited here.

    Its template shows the fields only, without the object's name above each row (the fields
    already say which row it is, and the name could cost a query a row); on a phone, as cards.
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


def days_overdue_html(days: int):
    """The days overdue in red and in words, or the admin's dash when not overdue."""
    if not days:
        return "-"
    return format_html('<strong class="error-text">{} overdue</strong>', working_days(days))


def date_html(day):
    """A date ("4 Mar 2026") that does not break at its spaces in a narrow column."""
    return format_html('<span class="nowrap">{}</span>', day_text(day))


def plural_s(n: int) -> str:
    return "" if n == 1 else "s"
