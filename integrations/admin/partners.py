"""Partners: their contacts, edited here, and their integrations, listed (each linking to its page)."""

from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from integrations.admin.common import ReadOnlyInline
from integrations.models import Integration, Partner, PartnerContact


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
