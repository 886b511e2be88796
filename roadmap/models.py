"""Roadmap templates: the integration process as data.

A template is one version of a process (``key`` + ``version``). Its steps are ordered by
``position``; each belongs to a side, is due a number of weeks after kick-off (or in a window of
weeks, for the launch), depends on earlier steps, and may apply only under a condition.

Versioning: when the first integration starts on a version it is frozen, and a frozen version can
no longer be edited; changes go into a new version (``RoadmapTemplate.new_version``). Integrations
also copy what they need from each step when planned, so they never change under a running
integration.
"""

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from roadmap.conditions import CONDITION_CHOICES, CONDITIONS
from roadmap.fields import ChoiceListField


class Side(models.TextChoices):
    TRADINGVIEW = "tradingview", "TradingView"
    PARTNER = "partner", "Partner"


class StepStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    DONE = "done", "Done"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


OPEN_STATUSES = (StepStatus.NOT_STARTED, StepStatus.IN_PROGRESS, StepStatus.BLOCKED)
# A prerequisite in one of these states no longer holds anything up.
SETTLED_STATUSES = (StepStatus.DONE, StepStatus.NOT_APPLICABLE)


class Channel(models.TextChoices):
    SLACK = "slack", "Slack"
    JIRA = "jira", "Jira"
    EMAIL = "email", "Email"


class RoadmapTemplate(models.Model):
    key = models.SlugField(help_text="Names the process; all versions of one process share it.")
    version = models.PositiveIntegerField(default=1)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    frozen_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the first integration starts on this version."
    )

    class Meta:
        ordering = ["key", "-version"]
        constraints = [models.UniqueConstraint(fields=["key", "version"], name="unique_template_version")]

    def __str__(self):
        return f"{self.name} v{self.version}"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None

    @classmethod
    def latest(cls, key: str) -> "RoadmapTemplate":
        """The newest version of the process ``key``."""
        template = cls.objects.filter(key=key).order_by("-version").first()
        if template is None:
            raise cls.DoesNotExist(f"No roadmap template with key {key!r}.")
        return template

    def freeze(self):
        """Lock this version against edits; called when an integration starts on it."""
        if self.frozen_at is None:
            type(self).objects.filter(pk=self.pk, frozen_at__isnull=True).update(frozen_at=timezone.now())
            self.refresh_from_db(fields=["frozen_at"])

    @transaction.atomic
    def new_version(self) -> "RoadmapTemplate":
        """A new, editable version of this process holding copies of this version's steps."""
        newest = RoadmapTemplate.latest(self.key)
        copy = RoadmapTemplate.objects.create(
            key=self.key, version=newest.version + 1, name=self.name, description=self.description
        )
        TemplateStep.objects.bulk_create(
            TemplateStep(
                template=copy,
                **{
                    f.name: getattr(step, f.name)
                    for f in TemplateStep._meta.concrete_fields
                    if f.name not in ("id", "template")
                },
            )
            for step in self.steps.all()
        )
        return copy

    def validate_steps(self):
        """Check the step graph: codes unique, dependencies known and earlier, a dated last step."""
        steps = list(self.steps.all())
        seen = set()
        errors = []
        for step in steps:
            for code in step.depends_on:
                if code not in seen:
                    errors.append(f"Step {step.code!r} depends on {code!r}, which is not an earlier step.")
            seen.add(step.code)
        if steps and steps[-1].due_week is None:
            errors.append(f"The last step ({steps[-1].code!r}) is the launch and must have a due week.")
        if errors:
            raise ValidationError(errors)


class TemplateStep(models.Model):
    template = models.ForeignKey(RoadmapTemplate, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(help_text="Order within the roadmap; 1 comes first.")
    code = models.SlugField(max_length=60, help_text="Stable name of the step, used by Jira labels and the API.")
    number = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The roadmap's step pair (1-7) this task belongs to; empty for the launch."
    )
    side = models.CharField(max_length=20, choices=Side.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    checklist = models.JSONField(
        default=list,
        blank=True,
        help_text='What "done" means, as a list of {"text": ..., "condition": ...} items.',
    )
    due_week = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Weeks after kick-off. Empty: due with the next step that has a due week.",
    )
    due_week_last = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Last week of a due window (the launch: weeks 11-12)."
    )
    depends_on = models.JSONField(
        default=list, blank=True, help_text="Codes of earlier steps that must be settled first."
    )
    tells_via = ChoiceListField(choice_list=Channel.choices, help_text="How the other side hears the step is done.")
    condition = models.CharField(max_length=40, choices=CONDITION_CHOICES, default="always")

    class Meta:
        ordering = ["template", "position"]
        constraints = [
            models.UniqueConstraint(fields=["template", "position"], name="unique_step_position"),
            models.UniqueConstraint(fields=["template", "code"], name="unique_step_code"),
        ]

    def __str__(self):
        prefix = f"{self.number}. " if self.number and self.side == Side.PARTNER else ""
        return f"{prefix}{self.title}"

    @property
    def due_label(self) -> str:
        if self.due_week is None:
            return "with the next dated step"
        if self.due_week_last:
            return f"weeks {self.due_week}-{self.due_week_last}"
        return f"week {self.due_week}"

    def clean(self):
        errors = {}
        if self.template_id and self.template.is_frozen:
            raise ValidationError(
                f"{self.template} is in use by integrations and can no longer change; "
                "make a new version of the template and edit that."
            )
        if self.due_week_last is not None:
            if self.due_week is None:
                errors["due_week_last"] = "A due window needs its first week in 'due week'."
            elif self.due_week_last < self.due_week:
                errors["due_week_last"] = "The window cannot end before it starts."
        if not isinstance(self.depends_on, list) or not all(isinstance(c, str) for c in self.depends_on):
            errors["depends_on"] = 'List the codes of the steps this one depends on, e.g. ["sandbox-access"].'
        elif self.code in self.depends_on:
            errors["depends_on"] = "A step cannot depend on itself."
        checklist_error = _checklist_error(self.checklist)
        if checklist_error:
            errors["checklist"] = checklist_error
        if errors:
            raise ValidationError(errors)


def _checklist_error(checklist) -> str:
    if not isinstance(checklist, list):
        return 'The checklist is a list of {"text": ..., "condition": ...} items.'
    for item in checklist:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str) or not item["text"].strip():
            return 'Each checklist item needs a "text".'
        condition = item.get("condition", "always")
        if condition not in CONDITIONS:
            return f"Unknown checklist condition {condition!r}; choose from {', '.join(CONDITIONS)}."
    return ""
