"""Partners: their contacts, edited here, and their integrations, listed (each linking to its page)."""

from django.contrib import admin
from django.db import models
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html

from integrations import plan
from integrations.admin.common import ReadOnlyInline, TabularInline
from integrations.context import ChangeContext
from integrations.models import Integration, Partner, PartnerContact, PartnerUser
from integrations.text import moment_text


class PartnerContactInline(TabularInline):
    model = PartnerContact
    extra = 0
    fields = ("name", "title", "email", "is_primary")


class PartnerUserInline(TabularInline):
    """The logins of the partner's team; PMs invite people from the integration page."""

    model = PartnerUser
    extra = 0
    raw_id_fields = ("user",)
    fields = ("user", "name", "email", "active", "last_login", "invited_by", "invited_at")
    readonly_fields = ("name", "email", "active", "last_login", "invited_by", "invited_at")
    verbose_name = "partner user"
    verbose_name_plural = "partner users (logins of the partner's team)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user", "invited_by")

    @admin.display(description="name")
    def name(self, account):
        return account.user.get_full_name() or "-"

    @admin.display(description="e-mail")
    def email(self, account):
        return account.user.email or "-"

    @admin.display(description="can sign in", boolean=True)
    def active(self, account):
        return account.user.is_active

    @admin.display(description="last came")
    def last_login(self, account):
        return f"{moment_text(account.user.last_login)}" if account.user.last_login else "never"


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
    list_display = ("name", "kind", "time_zone", "country", "integration_count")
    ordering = ("name",)  # Meta.ordering does not apply to the annotated (GROUP BY) queryset
    list_filter = ("kind",)
    search_fields = ("name",)
    fields = ("name", "kind", "website", "time_zone", "country", "subdivision", "team_may_invite", "notes")
    inlines = [PartnerContactInline, PartnerUserInline, PartnerIntegrationInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(integration_count=Count("integrations"))

    def save_model(self, request, obj, form, change):
        if not change:
            obj.default_country_from_zone()
        was = Partner.objects.get(pk=obj.pk).calendar if change else None
        super().save_model(request, obj, form, change)
        if was is not None and was != obj.calendar:
            # Its running integrations' open deadlines follow its new holidays (the plan's rule).
            plan.holidays_changed(obj, was, ChangeContext.web(request.user))

    @admin.display(description="integrations", ordering="integration_count")
    def integration_count(self, partner):
        return partner.integration_count
