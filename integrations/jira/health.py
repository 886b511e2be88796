"""The Jira sync's health: whether it is on, how its pull is doing and what waits in its inbox.

Shown on the admin's front page (the ``jira_sync`` template tag) and above the integrations list.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse

from integrations.jira.models import JiraConnection, JiraDelivery

JIRA_CREDENTIALS = ("JIRA_URL", "JIRA_USER", "JIRA_API_TOKEN")


@dataclass(frozen=True)
class JiraHealth:
    enabled: bool
    off_reason: str = ""
    connection: JiraConnection | None = None
    waiting: int = 0
    failed: int = 0
    inbox_url: str = field(default="", compare=False)

    @property
    def waiting_url(self) -> str:
        return f"{self.inbox_url}?outcome__exact={JiraDelivery.State.WAITING}"

    @property
    def failed_url(self) -> str:
        return f"{self.inbox_url}?outcome__exact={JiraDelivery.State.FAILED}"


def jira_health() -> JiraHealth:
    """Whether the sync is on, how its pull is doing and what waits in its inbox. Two queries when on."""
    if not settings.JIRA_ENABLED:
        missing = [name for name in JIRA_CREDENTIALS if not getattr(settings, name, "")]
        why = f"{', '.join(missing)} not set" if missing else "JIRA_ENABLED is off"
        return JiraHealth(enabled=False, off_reason=why)
    W, F = JiraDelivery.State.WAITING, JiraDelivery.State.FAILED
    counts = JiraDelivery.objects.filter(outcome__in=(W, F)).aggregate(
        waiting=Count("pk", filter=Q(outcome=W)), failed=Count("pk", filter=Q(outcome=F))
    )
    return JiraHealth(
        enabled=True,
        # Read, not created: a page view writes nothing; the pull makes the row.
        connection=JiraConnection.objects.order_by("pk").first(),
        waiting=counts["waiting"],
        failed=counts["failed"],
        inbox_url=reverse("admin:integrations_jiradelivery_changelist"),
    )
