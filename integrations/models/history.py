"""The history of an integration: every change of a step's status or deadline, and of the integration.

Each row says who made the change, when, through which channel (web, API, Jira, Slack, the system)
and why.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from integrations.models.integration import Integration, IntegrationStep
from integrations.visibility import VisibleQuerySet
from roadmap.models import StepStatus


class ChangeSource(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    JIRA = "jira", "Jira"
    SLACK = "slack", "Slack"
    SYSTEM = "system", "System"


class RecordedChange(models.Model):
    """Who made a change, when, and through which channel: shared by every history row."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    by_name = models.CharField(max_length=200, blank=True, help_text="Who, when not a user here (e.g. a Jira user).")
    source = models.CharField(max_length=10, choices=ChangeSource.choices)
    note = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    @property
    def who(self) -> str:
        if self.by_id:
            return self.by.get_username()
        return self.by_name or self.get_source_display()


class StepChange(RecordedChange):
    """A row of a step's history: a status change, a due-date move, or both."""

    step = models.ForeignKey(IntegrationStep, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, choices=StepStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=StepStatus.choices)
    from_due = models.DateField(null=True, blank=True)
    to_due = models.DateField(null=True, blank=True)

    PARTNER_LOOKUP = "step__integration__partner"  # what visible_to() filters on
    objects = VisibleQuerySet.as_manager()

    class Meta(RecordedChange.Meta):
        pass

    def __str__(self):
        return f"{self.step}: {self.from_status or '-'} -> {self.to_status}"


class IntegrationEvent(RecordedChange):
    """A change to the integration as a whole: kick-off, re-plan, pause, resume, state."""

    class Kind(models.TextChoices):
        KICKED_OFF = "kicked_off", "Kicked off"
        REPLANNED = "replanned", "Re-planned"
        PAUSED = "paused", "Paused"
        RESUMED = "resumed", "Resumed"
        LAUNCHED = "launched", "Launched"
        CANCELLED = "cancelled", "Cancelled"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_value = models.CharField(max_length=200, blank=True)
    to_value = models.CharField(max_length=200, blank=True)

    PARTNER_LOOKUP = "integration__partner"  # what visible_to() filters on
    objects = VisibleQuerySet.as_manager()

    class Meta(RecordedChange.Meta):
        pass

    def __str__(self):
        return f"{self.integration}: {self.get_kind_display()}"
