"""Admin screens for the partner's ways in: magic links (a PM sends one to a partner user) and
calendar feeds. The raw link is shown once, in a message, right after it is made; only its hash
is kept. Links and feeds are revoked, never edited into working again."""

import smtplib
from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from integrations.stage.magic_links import email_link
from integrations.stage.models import CalendarFeed, MagicLink


def default_expiry():
    return timezone.now() + timedelta(days=settings.MAGIC_LINK_DAYS)


class MagicLinkForm(forms.ModelForm):
    class Meta:
        model = MagicLink
        fields = ["user", "sent_to", "expires_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "user" in self.fields:
            # Only partner users: a link never opens a staff account.
            self.fields["user"].queryset = (
                get_user_model()
                .objects.filter(partner_account__isnull=False, is_active=True, is_staff=False)
                .order_by("username")
            )
            self.fields["user"].help_text = "The partner user the link signs in."
        if "expires_at" in self.fields:
            self.fields["expires_at"].initial = default_expiry
            self.fields["expires_at"].help_text = f"Default: in {settings.MAGIC_LINK_DAYS} days."
        if "sent_to" in self.fields:
            self.fields["sent_to"].help_text = "If given, the product e-mails the link there; it is also shown once."

    def clean_expires_at(self):
        expires_at = self.cleaned_data.get("expires_at")
        if expires_at is None:
            return default_expiry() if self.instance.pk is None else None
        if expires_at <= timezone.now():
            raise forms.ValidationError("Give a time in the future.")
        return expires_at


def _state(row) -> str:
    return row.state.capitalize()


@admin.action(description="Revoke the selected links (their sessions end too)")
def revoke(modeladmin, request, queryset):
    count = 0
    for row in queryset:
        if row.revoked_at is None:
            row.revoke()
            count += 1
    messages.success(request, f"{count} revoked.")


@admin.register(MagicLink)
class MagicLinkAdmin(admin.ModelAdmin):
    form = MagicLinkForm
    list_display = ["__str__", "partner", "sent_to", "state", "created_at", "expires_at", "last_used_at", "created_by"]
    list_filter = ["revoked_at", ("user__partner_account__partner", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__username", "sent_to", "prefix"]
    actions = [revoke]
    readonly_fields = ["prefix", "created_at", "created_by", "revoked_at", "last_used_at"]

    @admin.display(description="State")
    def state(self, row):
        return _state(row)

    @admin.display(description="Partner")
    def partner(self, row):
        account = getattr(row.user, "partner_account", None)
        return account.partner if account else "—"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user__partner_account__partner", "created_by")

    def get_readonly_fields(self, request, obj=None):
        if obj is not None:
            return [*self.readonly_fields, "user", "sent_to", "expires_at"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        row, raw = MagicLink.issue(
            user=obj.user, sent_to=obj.sent_to, expires_at=obj.expires_at, created_by=request.user
        )
        # The admin goes on with ``obj`` (its log entry, its redirect): make it the issued row.
        obj.pk, obj.token_hash, obj.prefix, obj.created_at, obj.created_by = (
            row.pk,
            row.token_hash,
            row.prefix,
            row.created_at,
            row.created_by,
        )
        obj._state.adding = False
        url = request.build_absolute_uri(reverse("stage-magic-link", args=[raw]))
        until = f"{timezone.localtime(obj.expires_at):%Y-%m-%d %H:%M}"
        if not obj.sent_to:
            messages.warning(
                request,
                f"Send this link to {obj.user.get_username()}; it is shown only now, and works until {until}: {url}",
            )
            return
        try:
            email_link(row, url)
        except (OSError, smtplib.SMTPException) as error:
            # The link exists but only this page knows it: the PM must hear the e-mail failed.
            messages.error(
                request,
                f"The link was made, but e-mailing it to {obj.sent_to} failed ({error}). Send it yourself; "
                f"it is shown only now, and works until {until}: {url}",
            )
        else:
            messages.success(
                request,
                f"E-mailed the link to {obj.sent_to}. It works until {until}; shown only now: {url}",
            )


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["__str__", "partner", "state", "created_at", "last_used_at", "created_by"]
    list_filter = ["revoked_at"]
    search_fields = ["partner__name", "prefix"]
    actions = [revoke]
    fields = ["partner", "prefix", "created_at", "created_by", "expires_at", "revoked_at", "last_used_at"]
    readonly_fields = fields

    @admin.display(description="State")
    def state(self, row):
        return _state(row)

    def has_add_permission(self, request):
        return False  # partners make their own feeds on the stage page, where the link is shown once
