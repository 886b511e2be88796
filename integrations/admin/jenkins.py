"""Jenkins in the admin: the linked jobs (revocable; made on the integration's page, where the token
is shown once), their builds as recorded, and the deliveries as received, replayable."""

import json

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from integrations.admin.operations import Operation, OperationsOnlyAdmin
from integrations.jenkins.models import JenkinsBuild, JenkinsDelivery, JenkinsJob


def _revoke(job, data, user):
    job.revoke()


@admin.register(JenkinsJob)
class JenkinsJobAdmin(OperationsOnlyAdmin):
    """Jobs are linked on the integration's page (the token is shown there, once); here they are read and revoked."""

    operations = (Operation("revoke", "Revoke the token", "Revoked", run=_revoke, available=lambda j, u: j.is_live()),)
    list_display = ("job_name", "integration", "part", "prefix", "state", "created_at", "last_used_at")
    list_filter = ("part", "revoked_at")
    list_select_related = ("integration",)
    search_fields = ("job_name", "integration__name", "integration__partner__name", "prefix")
    fields = ("integration", "part", "job_name", "prefix", "created_at", "created_by", "revoked_at", "last_used_at")
    readonly_fields = fields


@admin.register(JenkinsBuild)
class JenkinsBuildAdmin(OperationsOnlyAdmin):
    list_display = ("number", "job", "part", "phase", "status", "started_at", "finished_at")
    list_filter = ("part", "phase", "status")
    list_select_related = ("job__integration",)
    search_fields = ("job__job_name", "integration__name")
    ordering = ("-updated_at", "-id")
    fields = ("job", "integration", "part", "number", "phase", "status", "url", "started_at", "finished_at", "payload")
    readonly_fields = fields


def _replay(delivery, data, user):
    from integrations.jenkins import inbox  # imported when used: it needs the roadmap's services

    state = inbox.replay(delivery)
    if state is None:
        raise ValidationError(f"{delivery} is being applied right now; replay it once its outcome is recorded.")
    return state


def _replayed(delivery, result) -> str:
    delivery.refresh_from_db()
    detail = f": {delivery.detail}" if delivery.detail else ""
    return f"Replayed {delivery}: {delivery.get_outcome_display().lower()}{detail}"


@admin.register(JenkinsDelivery)
class JenkinsDeliveryAdmin(OperationsOnlyAdmin):
    """Notifications as Jenkins sent them, newest first: read here, replayed on demand, never edited."""

    operations = (Operation("replay", "Replay", "Replayed", run=_replay, message=_replayed),)
    list_display = ("received_at", "job", "number", "phase", "status", "outcome", "attempts", "processed_at")
    list_filter = ("outcome", "phase", "status")
    list_select_related = ("job__integration",)
    search_fields = ("job__job_name",)
    ordering = ("-received_at", "-id")
    list_per_page = 50
    show_full_result_count = False
    fields = (
        "job",
        "received_at",
        "authenticated_by",
        "number",
        "phase",
        "status",
        "outcome",
        "detail",
        "attempts",
        "claimed_at",
        "processed_at",
        "pretty_body",
    )
    readonly_fields = fields

    @admin.display(description="body")
    def pretty_body(self, delivery):
        return format_html("<pre>{}</pre>", json.dumps(delivery.body, indent=2, ensure_ascii=False))
