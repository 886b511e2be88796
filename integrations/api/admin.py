"""API tokens in the admin: staff issue one for a user, see it once, and revoke it.

The raw token is shown once, in a message right after it is created ("copy it now"); only its
hash is stored, and the hash is never shown. The list tells tokens apart by their prefix.
"""

from django.contrib import admin, messages
from django.utils.html import format_html

from integrations.api.models import ApiToken


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "state_label", "created_at", "expires_at", "last_used_at"]
    list_filter = ["revoked_at", "expires_at"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    actions = ["revoke"]
    fields = ["user", "name", "expires_at", "prefix", "created_at", "created_by", "revoked_at", "last_used_at"]
    readonly_fields = ["prefix", "created_at", "created_by", "revoked_at", "last_used_at"]

    # Any active staff member may issue and revoke tokens, as the brief for the API asks; the
    # admin itself admits only active staff.
    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    has_add_permission = has_change_permission = has_module_permission = has_view_permission

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser  # revoke instead: it keeps the record

    def get_readonly_fields(self, request, obj=None):
        # A token's user never changes: a new user gets a new token.
        return [*self.readonly_fields, "user"] if obj else self.readonly_fields

    def get_fields(self, request, obj=None):
        return ["user", "name", "expires_at"] if obj is None else self.fields

    @admin.display(description="state")
    def state_label(self, token):
        return token.state

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        row, raw = ApiToken.issue(user=obj.user, name=obj.name, expires_at=obj.expires_at, created_by=request.user)
        obj.pk, obj.token_hash, obj.prefix, obj.created_at = row.pk, row.token_hash, row.prefix, row.created_at
        obj.created_by = request.user
        messages.warning(
            request,
            format_html(
                "The new token for {}: <code>{}</code> — copy it now; it will not be shown again.",
                obj.user.get_username(),
                raw,
            ),
        )

    @admin.action(description="Revoke the selected tokens")
    def revoke(self, request, queryset):
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            token.revoke()
        self.message_user(request, f"Revoked {len(tokens)} token{'s' if len(tokens) != 1 else ''}.")
