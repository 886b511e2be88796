"""The background jobs' heartbeats (Celery worker and beat): read here to see they are alive."""

from django.contrib import admin

from integrations.models import Heartbeat


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
        return heartbeat.age_text

    @admin.display(description="stale", boolean=True)
    def stale(self, heartbeat):
        return heartbeat.is_stale
