"""The hand-overs the product keeps: URL checks and the authorisation sheet.

The URLs themselves are fields of ``Integration`` (``trading_production_url`` ...) and the beta
testers are ``Integration.beta_testers``; a ``UrlCheck`` row records one check of one URL, pending
("checking") from the hand-over until the worker has run it.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from integrations.models import ChangeSource
from integrations.visibility import VisibleQuerySet


class Part(models.TextChoices):
    DATA = "data", "Data"
    TRADING = "trading", "Trading"


class Environment(models.TextChoices):
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"


class UrlCheck(models.Model):
    """One check of a partner's base URL: HTTPS, it answers, CORS for the trading part.

    Written pending (``CHECKING``) when the URL is handed over; the worker claims it
    (``started_at``, ``attempts``), probes the URL and records the outcome (``finished_at``).
    """

    class Outcome(models.TextChoices):
        CHECKING = "checking", "Checking"
        OK = "ok", "Passed"
        NOT_HTTPS = "not_https", "Not HTTPS"
        PRIVATE_ADDRESS = "private_address", "Private address"
        UNRESOLVABLE = "unresolvable", "Name does not resolve"
        UNREACHABLE = "unreachable", "Unreachable"
        TIMEOUT = "timeout", "Timed out"
        TLS_ERROR = "tls_error", "TLS error"
        BAD_STATUS = "bad_status", "Server error"
        NO_CORS = "no_cors", "CORS missing"

    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE, related_name="url_checks")
    part = models.CharField(max_length=10, choices=Part.choices)
    environment = models.CharField(max_length=12, choices=Environment.choices)
    url = models.URLField(max_length=500)
    checked_at = models.DateTimeField(default=timezone.now, help_text="When the URL was handed over for this check.")
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(max_length=10, choices=ChangeSource.choices, default=ChangeSource.WEB)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    detail = models.TextField(blank=True, help_text="What was seen, in words for the partner.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    elapsed_ms = models.PositiveIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True, help_text="When a worker last took the check up.")
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker took the check up.")
    finished_at = models.DateTimeField(null=True, blank=True, help_text="When the result was recorded.")

    PARTNER_LOOKUP = "integration__partner"  # what visible_to() filters on
    objects = VisibleQuerySet.as_manager()

    class Meta:
        app_label = "integrations"  # the tables and migrations stay with the integrations app
        ordering = ["-checked_at", "-id"]
        indexes = [
            models.Index(fields=["integration", "part", "environment", "-checked_at"]),
            # What beat's re-queue looks for: the few checks still pending.
            models.Index(fields=["checked_at"], condition=models.Q(outcome="checking"), name="url_check_pending"),
        ]

    def __str__(self):
        return f"{self.url}: {self.get_outcome_display()}"

    @property
    def passed(self) -> bool:
        return self.outcome == self.Outcome.OK

    @property
    def pending(self) -> bool:
        """Handed over, not checked yet: the worker has it queued or running."""
        return self.outcome == self.Outcome.CHECKING


class AuthorisationSheet(models.Model):
    """The non-secret half of the sheet for a part's authorisation type. Secrets (client secrets,
    passwords, private keys) are never typed into the product: they travel by TradingView's
    secure channel."""

    integration = models.ForeignKey("integrations.Integration", on_delete=models.CASCADE, related_name="auth_sheets")
    part = models.CharField(max_length=10, choices=Part.choices)
    client_id = models.CharField("client id", max_length=200, blank=True)
    authorization_uri = models.URLField("authorisation URI", max_length=500, blank=True)
    token_uri = models.URLField("token URI", max_length=500, blank=True)
    ip_addresses = models.TextField(
        "IP addresses to whitelist", blank=True, help_text="The partner's addresses, one per line (IPv4/IPv6 or CIDR)."
    )
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    PARTNER_LOOKUP = "integration__partner"  # what visible_to() filters on
    objects = VisibleQuerySet.as_manager()

    class Meta:
        app_label = "integrations"  # the tables and migrations stay with the integrations app
        ordering = ["integration", "part"]
        constraints = [models.UniqueConstraint(fields=["integration", "part"], name="unique_auth_sheet_part")]

    def __str__(self):
        return f"{self.integration}: {self.get_part_display()} authorisation sheet"
