"""Roadmap templates: the integration process as data.

A template is one version of a process (``key`` + ``version``). Its steps are ordered by
``position``; each belongs to a side, is due a number of weeks after kick-off (or in a window of
weeks, for the launch), depends on earlier steps, and may apply only under a condition.

Versioning: when the first integration starts on a version it is frozen, and a frozen version can
no longer be edited; changes go into a new version (``RoadmapTemplate.new_version``). Integrations
also copy what they need from each step when planned, so they never change under a running
integration.
"""

from copy import deepcopy

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from roadmap.conditions import CONDITION_CHOICES, CONDITIONS
from roadmap.fields import ChoiceListField
from roadmap.refusals import InvalidTemplate
from roadmap.schedule import WORKING_DAYS_A_WEEK, due_words


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


# What a partner step may require the partner to hand over before it can be marked done.
# ``integrations.handovers`` holds the hand-overs and says which are missing.
HANDOVER_KINDS = {
    "production_urls": "the production base URL of each part, checked by the product",
    "auth_sheet": "the sheet for the authorisation type (client id, authorisation and token URIs, IP addresses)",
    "beta_testers": "the beta testers' TradingView usernames",
    "staging_url": "the staging base URL of each part, confirmed (a failed check of it is named)",
}

# What a TradingView step may wait for from the partner: its request "confirms the staging URL".
TRADINGVIEW_STEP_HANDOVERS = {"staging_url"}


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
    reminder_policy = models.JSONField(
        default=dict,
        blank=True,
        help_text='Overrides of the reminder defaults, e.g. {"before_days": [7, 2], "overdue_every_days": 3, '
        '"escalate_after_days": 7}.',
    )
    jira_status_map = models.JSONField(
        default=dict,
        blank=True,
        help_text='Jira status names read as another category than Jira gives them, e.g. {"Ready for QA": "done"}.',
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

    # What a new version does not take from the one it copies: its own id, number, creation and freeze.
    NOT_COPIED = ("id", "version", "created_at", "frozen_at")

    @transaction.atomic
    def new_version(self) -> "RoadmapTemplate":
        """A new, editable version of this process: every setting of this version, and copies of its steps.

        The fields are read from the models, so a setting added later is copied too.
        """
        newest = RoadmapTemplate.latest(self.key)
        copy = RoadmapTemplate.objects.create(
            version=newest.version + 1,
            **{
                f.name: deepcopy(getattr(self, f.name))
                for f in self._meta.concrete_fields
                if f.name not in self.NOT_COPIED
            },
        )
        TemplateStep.objects.bulk_create(
            TemplateStep(
                template=copy,
                **{
                    f.name: deepcopy(getattr(step, f.name))
                    for f in TemplateStep._meta.concrete_fields
                    if f.name not in ("id", "template")
                },
            )
            for step in self.steps.all()
        )
        return copy

    def clean(self):
        policy = self.reminder_policy
        known = {"before_days", "on_due_day", "overdue_every_days", "escalate_after_days"}
        if not isinstance(policy, dict) or set(policy) - known:
            raise ValidationError(
                {"reminder_policy": f"The reminder policy is an object with some of: {', '.join(sorted(known))}."}
            )
        map_ = self.jira_status_map
        categories = ("new", "indeterminate", "done")
        if not isinstance(map_, dict) or not all(
            isinstance(name, str) and category in categories for name, category in map_.items()
        ):
            raise ValidationError(
                {
                    "jira_status_map": 'Map Jira status names to a category: {"Ready for QA": "done"}; the '
                    f"categories are {', '.join(categories)}."
                }
            )

    def validate_steps(self, steps=None):
        """Refuse a step graph that cannot be planned and finished (``template_problems``)."""
        problems = template_problems(list(self.steps.all()) if steps is None else steps)
        if problems:
            raise InvalidTemplate(f"{self} cannot be planned: {' '.join(problems)}")


SIDE_LABELS = dict(Side.choices)  # read once: ``Side.values`` builds a new list at each call


def step_label(step) -> str:
    """ "3 · TradingView · Sandbox access configuration": which of the 7 steps, whose side, what."""
    side = SIDE_LABELS.get(step.side, step.side)
    number = f"{step.number} · " if step.number else ""
    return f"{number}{side} · {step.title}"


def template_problems(steps) -> list[str]:
    """What keeps these template steps from making a plan that can finish, one sentence each.

    Dependencies must name earlier steps (so there is no cycle), partner steps need a due week
    and their deadlines may not go backwards, and the last step, the launch, needs its window.
    """
    steps = sorted(steps, key=lambda s: s.position)
    problems = []
    position = {}
    for step in steps:
        if step.code in position:
            problems.append(f"Two steps share the code {step.code!r}.")
        position[step.code] = step.position
    for step in steps:
        for code in step.depends_on:
            if code == step.code:
                problems.append(f"Step {step.code!r} depends on itself.")
            elif code not in position:
                problems.append(f"Step {step.code!r} depends on {code!r}, which is no step of this template.")
            elif position[code] > step.position:
                problems.append(f"Step {step.code!r} depends on {code!r}, which comes after it.")
    cycle = _dependency_cycle(steps)
    if cycle:
        problems.append(f"Steps {' -> '.join(map(repr, cycle))} depend on each other in a cycle.")
    last_week = None
    for step in steps:
        if step.side != Side.PARTNER:
            continue
        if step.due_week is None:
            problems.append(f"Partner step {step.code!r} has no due week.")
            continue
        if last_week is not None and step.due_week < last_week[1]:
            problems.append(
                f"Partner step {step.code!r} is due in week {step.due_week}, before {last_week[0]!r} "
                f"(week {last_week[1]}): partner deadlines may not go backwards."
            )
        last_week = (step.code, step.due_week)
    if steps:
        launch = steps[-1]
        if launch.due_week is None or launch.due_week_last is None:
            problems.append(
                f"The last step, {launch.code!r}, is the launch and needs its window (a due week and a last week)."
            )
    return problems


def _dependency_cycle(steps) -> list[str]:
    """One cycle of the dependency graph as codes (first repeated at the end), or []."""
    graph = {s.code: [c for c in s.depends_on if c != s.code] for s in steps}
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(code):
        state[code] = 1
        path.append(code)
        for dep in graph.get(code, ()):
            if state.get(dep) == 1:
                return path[path.index(dep) :] + [dep]
            if dep in graph and not state.get(dep):
                found = visit(dep)
                if found:
                    return found
        path.pop()
        state[code] = 2
        return []

    for code in graph:
        if not state.get(code):
            found = visit(code)
            if found:
                return found
    return []


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
        help_text="Weeks after kick-off. Empty: due a turnaround of working days after it becomes actionable.",
    )
    due_week_last = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Last week of a due window (the launch: weeks 11-12)."
    )
    turnaround_days = models.PositiveSmallIntegerField(
        default=3,
        help_text="For a step without a due week (TradingView's tasks): working days it is due after "
        "it becomes actionable.",
    )
    prepared_ahead = models.BooleanField(
        default=True,
        help_text="For a step without a due week between two partner weeks one week apart: prepared during "
        "the partner's week and due with the partner's step before it. Untick for a task that works on what "
        "the partner hands over (a testing round tests the fixes): it gets its turnaround after the hand-over.",
    )
    keeps_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="For a step with a due week: the least working days it keeps after the other side's "
        "hand-over. Empty: the roadmap's week before its due week (5 working days without holidays).",
    )
    depends_on = models.JSONField(
        default=list, blank=True, help_text="Codes of earlier steps that must be settled first."
    )
    tells_via = ChoiceListField(choice_list=Channel.choices, help_text="How the other side hears the step is done.")
    condition = models.CharField(max_length=40, choices=CONDITION_CHOICES, default="always")
    jira_bug_labels = models.JSONField(
        default=list,
        blank=True,
        help_text='A fixing step: the testing-round labels of the Jira bugs it fixes, e.g. ["smoke-test"]. '
        "It cannot be completed while one of them is open.",
    )
    held_by_ux_bugs = models.BooleanField(
        default=False, help_text="Cannot be completed while an open Jira bug is labelled 'ux' (the closed release)."
    )
    handovers = models.JSONField(
        default=list,
        blank=True,
        help_text='What the partner must hand over before the step can be done: any of "production_urls", '
        '"auth_sheet", "beta_testers", "staging_url" (the one a TradingView step may wait for: its request '
        "confirms the staging URL).",
    )

    class Meta:
        ordering = ["template", "position"]
        constraints = [
            models.UniqueConstraint(fields=["template", "position"], name="unique_step_position"),
            models.UniqueConstraint(fields=["template", "code"], name="unique_step_code"),
        ]

    def __str__(self):
        return step_label(self)

    @property
    def due_label(self) -> str:
        """When the step is due, in words (``schedule.due_words``), read against its template's steps: a task
        prepared during the partner's week is due with the partner's step, not a turnaround after it."""
        return due_words(self, list(self.template.steps.all()))

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
        if self.keeps_days is not None:
            if self.due_week is None:
                errors["keeps_days"] = (
                    "Only a step with a due week keeps days after a hand-over; a task without one is due "
                    "its turnaround after it."
                )
            elif not 1 <= self.keeps_days <= WORKING_DAYS_A_WEEK * self.due_week:
                errors["keeps_days"] = (
                    f"Keep between 1 and {WORKING_DAYS_A_WEEK * self.due_week} working days (the step's "
                    f"{self.due_week} weeks); empty keeps the roadmap's week."
                )
        if not self.prepared_ahead and self.due_week is not None:
            errors["prepared_ahead"] = (
                "Only a task without a due week can be prepared during the other side's week; leave it ticked."
            )
        if not isinstance(self.depends_on, list) or not all(isinstance(c, str) for c in self.depends_on):
            errors["depends_on"] = 'List the codes of the steps this one depends on, e.g. ["sandbox-access"].'
        elif self.code in self.depends_on:
            errors["depends_on"] = "A step cannot depend on itself."
        if not isinstance(self.jira_bug_labels, list) or not all(
            isinstance(label, str) and label.strip() for label in self.jira_bug_labels
        ):
            errors["jira_bug_labels"] = 'List the testing-round labels, e.g. ["final-test-1", "final-test-2"].'
        if not isinstance(self.handovers, list) or not all(h in HANDOVER_KINDS for h in self.handovers):
            errors["handovers"] = f'List hand-overs from {", ".join(map(repr, HANDOVER_KINDS))}, e.g. ["beta_testers"].'
        elif self.side != Side.PARTNER and set(self.handovers) - TRADINGVIEW_STEP_HANDOVERS:
            errors["handovers"] = (
                "Only a partner step can wait for a hand-over from the partner, but for the staging URL, which "
                "TradingView's request for the production URLs confirms."
            )
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
