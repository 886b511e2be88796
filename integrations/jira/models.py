"""What the product keeps of Jira: issues, webhook deliveries (the inbox) and the pull's state."""

from django.db import models
from django.utils import timezone

from integrations.visibility import VisibleQuerySet


class StatusCategory(models.TextChoices):
    """Jira's three status categories: whatever a project names its statuses, each is one of these."""

    NEW = "new", "To do"
    INDETERMINATE = "indeterminate", "In progress"
    DONE = "done", "Done"


class JiraIssue(models.Model):
    """One Jira issue as last seen, and the roadmap step it moves (a task) or holds (a bug)."""

    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE, related_name="jira_issues")
    key = models.CharField(max_length=32, unique=True, help_text="E.g. BRK-42.")
    jira_id = models.CharField(max_length=32, blank=True)
    summary = models.CharField(max_length=500, blank=True)
    issue_type = models.CharField(max_length=60, blank=True)
    labels = models.JSONField(default=list, blank=True)
    status_name = models.CharField(max_length=100, blank=True)
    status_category = models.CharField(max_length=20, choices=StatusCategory.choices, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True, help_text="Jira's own 'updated' time of what we saw.")
    deleted = models.BooleanField(default=False)
    step = models.ForeignKey(
        "integrations.IntegrationStep",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jira_issues",
        help_text="The step this issue moves (a task) or holds open (a bug of its testing round).",
    )
    linked_in_admin = models.BooleanField(
        default=False, help_text="Linked to its step by a person: labels no longer move it to another step."
    )
    is_bug = models.BooleanField(default=False)
    testing_round = models.CharField(max_length=40, blank=True, help_text="The testing-round label of a bug.")
    affects_ux = models.BooleanField(default=False, help_text="A bug labelled 'ux': it holds the closed release.")
    seen_at = models.DateTimeField(default=timezone.now)

    PARTNER_LOOKUP = "integration__partner"  # what visible_to() filters on
    objects = VisibleQuerySet.as_manager()

    class Meta:
        app_label = "integrations"  # the tables and migrations stay with the integrations app
        ordering = ["key"]
        indexes = [models.Index(fields=["step", "is_bug", "status_category"])]

    def __str__(self):
        return self.key

    @property
    def is_open(self) -> bool:
        return not self.deleted and self.status_category != StatusCategory.DONE

    def describe(self) -> str:
        """ "BRK-42 (In Progress)": the key and the status a PM would look for in Jira."""
        return f"{self.key} ({self.status_name or self.get_status_category_display() or 'status unknown'})"


class JiraDelivery(models.Model):
    """A webhook delivery, stored before Jira hears 2xx, processed from here (and replayable)."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        APPLIED = "applied", "Applied"
        WAITING = "waiting", "Waiting"
        IGNORED = "ignored", "Ignored"
        DUPLICATE = "duplicate", "Duplicate"
        FAILED = "failed", "Failed"

    delivery_id = models.CharField(max_length=200, unique=True, help_text="X-Atlassian-Webhook-Identifier.")
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    event = models.CharField(max_length=60, help_text="webhookEvent, e.g. jira:issue_updated.")
    issue_key = models.CharField(max_length=32, blank=True, db_index=True)
    retry_number = models.PositiveIntegerField(default=0, help_text="X-Atlassian-Webhook-Retry.")
    body = models.JSONField()
    outcome = models.CharField(max_length=20, choices=State.choices, default=State.PENDING, db_index=True)
    detail = models.TextField(blank=True, help_text="What was done, or why it waits, was ignored or failed.")
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True, help_text="A waiting delivery is tried again after this.")
    content_key = models.CharField(
        max_length=255,
        blank=True,
        db_index=True,
        help_text="What it says: event, issue key, the issue's 'updated' and the changelog id. Blank: cannot tell.",
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
        help_text="The earlier delivery that said the same (resent under another delivery id); this one was not applied.",
    )

    class Meta:
        app_label = "integrations"  # the tables and migrations stay with the integrations app
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "Jira deliveries"

    def __str__(self):
        return f"{self.event} {self.issue_key or ''} ({self.delivery_id})".strip()


class JiraConnection(models.Model):
    """The pull's state: how far it has read, and whether Jira is answering. One row."""

    watermark = models.DateTimeField(null=True, blank=True, help_text="Issues updated before this are read.")
    last_pull_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    retry_at = models.DateTimeField(null=True, blank=True, help_text="No pull before this (back-off after a failure).")
    # What hardly ever changes in Jira, read again once a day rather than on every cycle.
    field_ids = models.JSONField(default=dict, blank=True, help_text="Jira's field ids by JQL name (GET field).")
    fields_read_at = models.DateTimeField(null=True, blank=True)
    unknown_projects = models.JSONField(
        default=list, blank=True, help_text="Project keys Jira said it does not know: left out of the search."
    )
    projects_checked_at = models.DateTimeField(
        null=True, blank=True, help_text="When every project key was last put to Jira (unknown ones included)."
    )

    class Meta:
        app_label = "integrations"  # the tables and migrations stay with the integrations app
        verbose_name = "Jira connection"

    def __str__(self):
        return "Jira connection"

    @classmethod
    def get(cls) -> "JiraConnection":
        return cls.objects.get_or_create(pk=1)[0]

    @property
    def is_failing(self) -> bool:
        return self.failing_since is not None
