"""What the product keeps of Jenkins: the linked jobs (with their tokens), their builds, and the deliveries.

A ``JenkinsJob`` is one Jenkins job linked by a PM to one part (data or trading) of one
integration; its token is an ``IssuedToken``, so only its SHA-256 is stored and it is revocable.
A ``JenkinsBuild`` is one build (a run) of a job, as the Notification plugin last told of it. A
``JenkinsDelivery`` is one POST as received, stored before Jenkins hears 2xx, and replayable.
"""

import hashlib
import hmac

from django.conf import settings
from django.db import models
from django.utils import timezone

from integrations.issued_tokens import IssuedToken
from integrations.visibility import VisibleQuerySet


class Part(models.TextChoices):
    DATA = "data", "Data"
    TRADING = "trading", "Trading"


class Phase(models.TextChoices):
    """The Notification plugin's phases, in the order a build goes through them."""

    QUEUED = "QUEUED", "Queued"
    STARTED = "STARTED", "Started"
    COMPLETED = "COMPLETED", "Completed"
    FINALIZED = "FINALIZED", "Finalized"


PHASE_ORDER = {phase: rank for rank, phase in enumerate(Phase.values)}
FINISHED_PHASES = (Phase.COMPLETED, Phase.FINALIZED)
RUNNING_PHASES = (Phase.STARTED, *FINISHED_PHASES)  # the build has run (is running or has run)


class BuildStatus(models.TextChoices):
    """Jenkins' results of a finished build."""

    SUCCESS = "SUCCESS", "Success"
    FAILURE = "FAILURE", "Failure"
    UNSTABLE = "UNSTABLE", "Unstable"
    ABORTED = "ABORTED", "Aborted"
    NOT_BUILT = "NOT_BUILT", "Not built"


class JenkinsJob(IssuedToken):
    """A Jenkins job that runs the autotests of one part of one integration."""

    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE, related_name="jenkins_jobs")
    part = models.CharField(max_length=10, choices=Part.choices)
    job_name = models.CharField(
        max_length=200, help_text="The job's name as Jenkins sends it ('name' in the Notification plugin's JSON)."
    )

    PARTNER_LOOKUP = "integration__partner"
    objects = VisibleQuerySet.as_manager()

    class Meta(IssuedToken.Meta):
        app_label = "integrations"  # the tables and migrations stay with the integrations app
        verbose_name = "Jenkins job"
        indexes = [models.Index(fields=["integration", "part"])]

    def __str__(self):
        return f"{self.job_name} ({self.get_part_display().lower()} autotests of {self.integration})"

    def signing_secret(self) -> str:
        """The secret Jenkins signs bodies with (``X-Jenkins-Signature``), shown once with the token.

        Derived from the token's hash and ``SECRET_KEY`` rather than stored: the database alone
        gives neither the token nor the secret. Changing ``SECRET_KEY`` changes it."""
        key = settings.SECRET_KEY.encode()
        return hmac.new(key, f"jenkins-job-signing:{self.token_hash}".encode(), hashlib.sha256).hexdigest()


class JenkinsBuild(models.Model):
    """One build of a linked job: its latest phase and status, its link and times, the payload last applied."""

    job = models.ForeignKey(JenkinsJob, on_delete=models.CASCADE, related_name="builds")
    # Copied from the job so a part's runs are read without joining it (and outlive a revoked token).
    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE, related_name="jenkins_builds")
    part = models.CharField(max_length=10, choices=Part.choices)
    number = models.PositiveIntegerField()
    phase = models.CharField(max_length=10, choices=Phase.choices)
    status = models.CharField(max_length=10, choices=BuildStatus.choices, blank=True)
    url = models.URLField(max_length=500, blank=True, help_text="build.full_url: the build's page in Jenkins.")
    started_at = models.DateTimeField(null=True, blank=True, help_text="When the build ran (its STARTED news).")
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When it finished (COMPLETED or FINALIZED).")
    updated_at = models.DateTimeField(default=timezone.now)
    payload = models.JSONField(default=dict, help_text="The Notification plugin's JSON last applied to this build.")

    PARTNER_LOOKUP = "integration__partner"
    objects = VisibleQuerySet.as_manager()

    class Meta:
        app_label = "integrations"
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="jenkins_build_once_per_job")]
        indexes = [models.Index(fields=["integration", "part", "phase"])]

    def __str__(self):
        return f"{self.get_part_display()} autotests: build #{self.number} {self.status or self.phase}"

    @property
    def finished(self) -> bool:
        return self.phase in FINISHED_PHASES and bool(self.status)

    @property
    def passed(self) -> bool:
        return self.finished and self.status == BuildStatus.SUCCESS

    @property
    def link(self) -> str:
        """The build's URL when it is an http(s) address; '' otherwise (no other scheme reaches a page)."""
        url = (self.url or "").strip()
        return url if url.lower().startswith(("https://", "http://")) else ""

    def describe(self) -> str:
        """ "Trading autotests: build #42 FAILURE": how refusals and pages name a run."""
        return f"{self.get_part_display()} autotests: build #{self.number} {self.status or self.phase}"


class JenkinsDelivery(models.Model):
    """A POST of the Notification plugin, stored before Jenkins hears 2xx, applied from here (and replayable)."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        APPLIED = "applied", "Applied"
        IGNORED = "ignored", "Ignored"
        DUPLICATE = "duplicate", "Duplicate"
        FAILED = "failed", "Failed"

    job = models.ForeignKey(JenkinsJob, on_delete=models.CASCADE, related_name="deliveries")
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    authenticated_by = models.CharField(max_length=10, help_text="token or hmac")
    number = models.PositiveIntegerField(null=True, blank=True)
    phase = models.CharField(max_length=10, blank=True)
    status = models.CharField(max_length=10, blank=True)
    body = models.JSONField()
    outcome = models.CharField(max_length=12, choices=State.choices, default=State.PENDING, db_index=True)
    detail = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "integrations"
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "Jenkins deliveries"

    def __str__(self):
        return f"{self.job.job_name} #{self.number} {self.phase} {self.status}".strip()
