"""The history of an integration: every change of a step's status or deadline, and of the integration.

Each row says who made the change, when, through which channel (web, API, Jira, Slack, the system)
and why.

Which notes the partner reads (the one rule; every surface a partner sees reads it from here):
the notes on the partner's own steps, the reason of a re-plan (its Slack channel is told it
too), and any note a PM marks ``shared_with_partner``. Everything else (notes on TradingView's
steps, on kick-offs, pauses, resumes, launches and cancellations) stays TradingView's. The rows
themselves are the partner's to see; only the note is withheld. ``PARTNER_READS`` is the rule as
a query; ``with_partner_view()`` annotates each row with ``partner_sees_note`` and
``note_seen_by(user)`` gives the note as a user may read it.
"""

from django.conf import settings
from django.db import models
from django.db.models import BooleanField, Case, F, Q, Value, When
from django.utils import timezone

from integrations.models.integration import Integration, IntegrationStep
from integrations.visibility import VisibleQuerySet, sees_everything
from roadmap.models import Side, StepStatus


class ChangeSource(models.TextChoices):
    WEB = "web", "Web"
    API = "api", "API"
    JIRA = "jira", "Jira"
    SLACK = "slack", "Slack"
    SYSTEM = "system", "System"
    JENKINS = "jenkins", "Jenkins"


class HistoryQuerySet(VisibleQuerySet):
    def notes_seen_by_partner(self):
        """The rows whose note the partner reads."""
        return self.filter(self.model.PARTNER_READS)

    def with_partner_view(self):
        """Each row with ``partner_sees_note``: whether the partner reads its note."""
        seen = Case(When(self.model.PARTNER_READS, then=Value(True)), default=Value(False), output_field=BooleanField())
        return self.annotate(partner_sees_note=seen)


class StepChangeQuerySet(HistoryQuerySet):
    def status_changes(self):
        """The rows that moved a step's status: not the plan's own rows (kick-off) nor deadline moves.
        No change of the step, nor of its integration (a pause), may be dated before the last of them."""
        return self.exclude(from_status="").exclude(from_status=F("to_status"))


class RecordedChange(models.Model):
    """Who made a change, when, and through which channel: shared by every history row."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    entered_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it was entered, when that was later than it happened (a back-dated entry); "
        "``at`` is when it happened, and the standing reads that.",
    )
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    by_name = models.CharField(max_length=200, blank=True, help_text="Who, when not a user here (e.g. a Jira user).")
    source = models.CharField(max_length=10, choices=ChangeSource.choices)
    note = models.TextField(blank=True)
    shared_with_partner = models.BooleanField(
        default=False,
        help_text="A PM shared this note with the partner. Notes on the partner's own steps, and re-plan "
        "reasons, are the partner's to read anyway; the others stay TradingView's unless shared.",
    )

    PARTNER_READS = Q(shared_with_partner=True)  # widened by each kind of row

    class Meta:
        abstract = True
        ordering = ["at", "id"]

    @property
    def who(self) -> str:
        if self.by_id:
            return self.by.get_username()
        return self.by_name or self.get_source_display()

    def note_seen_by(self, user) -> str:
        """The note as ``user`` may read it: all of it for TradingView's staff; for anyone else,
        only when the partner reads it (the row must come ``with_partner_view()``), else ''."""
        if sees_everything(user) or self.partner_sees_note:
            return self.note
        return ""


class StepChange(RecordedChange):
    """A row of a step's history: a status change, a due-date move, or both."""

    step = models.ForeignKey(IntegrationStep, on_delete=models.CASCADE, related_name="history")
    from_status = models.CharField(max_length=20, choices=StepStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=StepStatus.choices)
    from_due = models.DateField(null=True, blank=True)
    to_due = models.DateField(null=True, blank=True)

    PARTNER_LOOKUP = "step__integration__partner"  # what visible_to() filters on
    PARTNER_READS = RecordedChange.PARTNER_READS | Q(step__side=Side.PARTNER)
    objects = StepChangeQuerySet.as_manager()

    class Meta(RecordedChange.Meta):
        pass

    def __str__(self):
        return f"{self.step}: {self.from_status or '-'} -> {self.to_status}"


class IntegrationEvent(RecordedChange):
    """A change to the integration as a whole: kick-off, re-plan, pause, resume, state, what the partner sees."""

    class Kind(models.TextChoices):
        KICKED_OFF = "kicked_off", "Kicked off"
        REPLANNED = "replanned", "Re-planned"
        PAUSED = "paused", "Paused"
        RESUMED = "resumed", "Resumed"
        LAUNCHED = "launched", "Launched"
        CANCELLED = "cancelled", "Cancelled"
        FORECAST_SHOWN = "forecast_shown", "The partner's view of the P50 launch"
        FIXES_VERIFIED = "fixes_verified", "Fixes verified"
        LAUNCH_AGREED = "launch_agreed", "Launch date agreed"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    from_value = models.CharField(max_length=200, blank=True)
    to_value = models.CharField(max_length=200, blank=True)

    PARTNER_LOOKUP = "integration__partner"  # what visible_to() filters on
    PARTNER_READS = RecordedChange.PARTNER_READS | Q(kind=Kind.REPLANNED)
    objects = HistoryQuerySet.as_manager()

    class Meta(RecordedChange.Meta):
        pass

    def __str__(self):
        return f"{self.integration}: {self.get_kind_display()}"


# The step's fields that keep a copy of a change's note, by the status that change moved it to.
STEP_NOTE_FIELDS = {StepStatus.BLOCKED: "blocked_reason", StepStatus.NOT_APPLICABLE: "applicability_note"}


def step_notes_seen_by_partner(steps) -> set[tuple[int, str]]:
    """(step id, field) of the blocked reasons and not-applicable notes of ``steps`` the partner reads,
    by the rule of the history: all of its own steps'; of TradingView's steps, those whose latest
    change into that status (which wrote the field) has a note the partner reads. One query."""
    seen = {(s.pk, name) for s in steps if s.side == Side.PARTNER for name in STEP_NOTE_FIELDS.values()}
    theirs = [s.pk for s in steps if s.side != Side.PARTNER]
    if not theirs:
        return seen
    latest = {}
    changes = (
        StepChange.objects.filter(step_id__in=theirs, to_status__in=list(STEP_NOTE_FIELDS))
        .exclude(from_status=F("to_status"))  # a deadline moved: the field keeps its note
        .with_partner_view()
        .order_by("at", "id")
        .values_list("step_id", "to_status", "partner_sees_note")
    )
    for step_id, status, partner_sees_note in changes:
        latest[(step_id, STEP_NOTE_FIELDS[status])] = partner_sees_note  # the newest wins
    return seen | {key for key, partner_sees_note in latest.items() if partner_sees_note}
