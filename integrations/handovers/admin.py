"""Admin screens for the hand-overs: the URL checks, read-only (they record what a probe saw), and
the authorisation sheets, edited under the same rules as on the stage page."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models

from integrations.handovers.models import AuthorisationSheet, UrlCheck
from integrations.handovers.records import SHEET_FIELDS, clean_sheet_values

# A URI typed without a scheme is read as https, the only scheme the sheet takes.
HTTPS_URLS = {models.URLField: {"assume_scheme": "https"}}


@admin.register(UrlCheck)
class UrlCheckAdmin(admin.ModelAdmin):
    """Every check of a partner's URL, newest first; written only by the hand-over and the worker."""

    list_display = ("checked_at", "integration", "part", "environment", "url", "outcome", "status_code", "elapsed_ms")
    list_filter = ("outcome", "part", "environment")
    formfield_overrides = HTTPS_URLS
    list_select_related = ("integration",)
    search_fields = ("integration__name", "integration__partner__name", "url")
    search_help_text = "Search by integration, partner or URL."
    ordering = ("-checked_at", "-id")
    list_per_page = 50
    fields = (
        "integration",
        "part",
        "environment",
        "url",
        "checked_at",
        "checked_by",
        "source",
        "outcome",
        "detail",
        "status_code",
        "elapsed_ms",
        "started_at",
        "attempts",
        "finished_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _https_formfield(field, **kwargs):
    return field.formfield(**HTTPS_URLS.get(type(field), {}), **kwargs)


class AuthorisationSheetForm(forms.ModelForm):
    class Meta:
        model = AuthorisationSheet
        fields = ("integration", "part", *SHEET_FIELDS)
        formfield_callback = _https_formfield

    def clean(self):
        cleaned = super().clean()
        present = {name: cleaned.get(name) or "" for name in SHEET_FIELDS if name in cleaned}
        try:
            cleaned.update(clean_sheet_values(present))
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                self.add_error(name, messages)
        integration, part = cleaned.get("integration"), cleaned.get("part")
        if integration and part:
            has_part = integration.has_trading_part if part == "trading" else integration.has_data_part
            if not has_part:
                self.add_error("part", f"{integration} has no {part} part.")
        return cleaned


@admin.register(AuthorisationSheet)
class AuthorisationSheetAdmin(admin.ModelAdmin):
    """The non-secret half of each part's authorisation sheet. Secrets never come here."""

    form = AuthorisationSheetForm
    formfield_overrides = HTTPS_URLS
    list_display = ("integration", "part", "client_id", "updated_at", "updated_by")
    list_filter = ("part",)
    list_select_related = ("integration", "updated_by")
    search_fields = ("integration__name", "integration__partner__name", "client_id")
    readonly_fields = ("updated_at", "updated_by")

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
