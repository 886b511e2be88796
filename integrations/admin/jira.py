"""Jira in the admin: the issues (linked to a step by hand here, or by their labels) and the Jira
section of an integration's page (its open bugs by testing round, its issues by step).

Linking is ``integrations.jira.links.link_issue``; this module reads the PM's choice and tells
what the link did.
"""

import re
from collections import defaultdict
from dataclasses import dataclass

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from integrations.admin.common import step_link
from integrations.admin.operations import Operation, OperationsAdmin
from integrations.context import ChangeContext
from integrations.jira.issues import Handled
from integrations.jira.links import link_issue, reported
from integrations.jira.models import JiraIssue, StatusCategory
from integrations.jira.rules import held_by_ux_bug
from integrations.models import Integration, IntegrationStep

# --- the Jira section of an integration's page, and issues as a step's page lists them ----------


def _issue_url(issue) -> str:
    return reverse("admin:integrations_jiraissue_change", args=[issue.pk])


def _issue_html(issue, show_kind: bool = False):
    """ "ACME-3 In Progress (in progress) · UX": the key, linking to its page, and what to look for in Jira."""
    status = issue.status_name or issue.get_status_category_display() or "status unknown"
    markers = []
    if show_kind:
        markers.append(_kind(issue))
    elif issue.affects_ux:
        markers.append("UX")
    if issue.linked_in_admin:
        markers.append("linked by hand")
    if issue.deleted:
        markers.append("deleted in Jira")
    extra = format_html(" · {}", " · ".join(markers)) if markers else ""
    key = format_html('<a href="{}">{}</a>', _issue_url(issue), issue.key)
    if issue.deleted:
        key = format_html("<del>{}</del>", key)
    return format_html("{} {}{}", key, status, extra)


def issue_list(issues, show_kind: bool = False):
    return format_html(
        "<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((_issue_html(i, show_kind),) for i in issues))
    )


def _kind(issue) -> str:
    """ "Bug · smoke-test · UX", "Bug" or "Task": what the issue does to its step."""
    if not issue.is_bug:
        return issue.issue_type or "Task"
    return " · ".join(part for part in ("Bug", issue.testing_round, "UX" if issue.affects_ux else "") if part)


@dataclass(frozen=True)
class BugRound:
    """The open bugs of one testing round of a fixing step ("" when linked by hand without a round label)."""

    step: IntegrationStep
    round: str
    bugs: list
    first: bool  # the step's first round: its row names the step

    @property
    def bugs_html(self):
        return issue_list(self.bugs) if self.bugs else ""


def jira_overview(integration) -> dict:
    """What the integration's page shows of Jira. Two queries: its steps and its issues."""
    steps = list(integration.steps.all())
    issues = list(JiraIssue.objects.filter(integration=integration).order_by("key"))
    by_step = defaultdict(list)
    for issue in issues:
        by_step[issue.step_id].append(issue)
    rounds = []
    for step in steps:
        if not step.jira_bug_labels:
            continue
        open_bugs = [i for i in by_step[step.pk] if i.is_bug and i.is_open]
        labels = list(step.jira_bug_labels)
        if any(b.testing_round not in labels for b in open_bugs):
            labels.append("")
        for n, label in enumerate(labels):
            rounds.append(BugRound(step, label, [b for b in open_bugs if b.testing_round == label], n == 0))
    ux_bugs = [i for i in issues if i.is_bug and i.affects_ux and i.is_open]
    return {
        "integration": integration,
        "issue_count": len(issues),
        "rounds": rounds,
        "ux_steps": [s for s in steps if s.held_by_ux_bugs],
        "ux_bugs": issue_list(ux_bugs) if ux_bugs else "",
        "by_step": [(step, issue_list(by_step[step.pk], show_kind=True)) for step in steps if by_step[step.pk]],
        "no_step": issue_list(by_step[None], show_kind=True) if by_step[None] else "",
        "issues_url": f"{reverse('admin:integrations_jiraissue_changelist')}?integration__id__exact={integration.pk}",
        "add_url": f"{reverse('admin:integrations_jiraissue_add')}?integration={integration.pk}",
    }


def jira_section(integration) -> str:
    return render_to_string("admin/integrations/integration/jira.html", jira_overview(integration))


# --- Jira issues: linked to a step by hand here, or by their labels ------------------------------

JIRA_KEY = re.compile(r"[A-Z][A-Z0-9_]*-[1-9][0-9]*")
REFUSAL_PREFIX = re.compile(r"^[a-z_]+: ")


def _ux_held(issue) -> str:
    """The steps a bug affecting the UX holds whatever its step ("“Closed release”"), or "" for any other issue."""
    held = held_by_ux_bug(issue, issue.integration.steps.all()) if issue.integration_id else []
    return ", ".join(f"“{step.title}”" for step in held)


def _sync_messages(issue, outcomes) -> list[tuple[int, str]]:
    """The messages a PM reads after a link: where the issue now is, and what each step did."""
    ux_held = _ux_held(issue) if issue.step is None else ""
    if ux_held:
        where = f"{issue.key} is on no step of its own; as a bug affecting the UX it holds {ux_held} while it is open."
    elif issue.step is None:
        where = f"{issue.key} is linked to no step; Jira's news about it moves nothing."
    elif issue.linked_in_admin:
        where = f"{issue.key} is linked by hand to “{issue.step}”; its labels no longer move it."
    else:
        where = f"{issue.key} is no longer linked by hand; its labels link it to “{issue.step}”."
    if issue.is_bug and issue.step is not None:
        where += " As a bug it holds that step open while it is open."
    if issue.step is not None and not reported(issue):
        where += " Jira has not reported it yet: its step moves when Jira does."
    result = [(messages.SUCCESS, where)]
    for step, outcome in outcomes:
        detail = REFUSAL_PREFIX.sub("", outcome.detail)
        if outcome.state == Handled.APPLIED:
            result.append((messages.SUCCESS, f"Re-synced from its Jira tasks: {detail}"))
        else:
            result.append((messages.WARNING, f"“{step}” not moved to what its Jira tasks say: {detail}"))
    return result


class StepByLabelField(forms.ModelChoiceField):
    """A step chosen by its label; any step validates, so another integration's is refused by name."""

    def label_from_instance(self, step):
        return str(step)


class JiraIssueForm(forms.ModelForm):
    step = StepByLabelField(
        queryset=IntegrationStep.objects.select_related("integration"),
        required=False,
        help_text="Linked by hand, the issue stays on this step whatever its labels say. "
        "Leave empty to let its labels (roadmap-<step code>, a testing round) decide.",
    )

    class Meta:
        model = JiraIssue
        fields = ("integration", "key", "summary", "step")
        help_texts = {"key": "E.g. BRK-42: the issue may be added before Jira has sent anything about it."}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        integration_id = self._integration_id()
        steps = IntegrationStep.objects.filter(integration_id=integration_id) if integration_id else []
        # Offered: the issue's integration's steps only (a select, by label, in roadmap order).
        self.fields["step"].widget.choices = [("", "---------"), *((s.pk, str(s)) for s in steps)]
        if not integration_id:
            self.fields["step"].help_text = "Choose the integration and save; then its steps are offered here."

    def _integration_id(self):
        if self.instance.integration_id:
            return self.instance.integration_id
        value = (self.data or {}).get("integration") or self.initial.get("integration")
        try:
            return int(getattr(value, "pk", value))
        except (TypeError, ValueError):
            return None

    def clean_key(self):
        key = self.cleaned_data["key"].strip().upper()
        if not JIRA_KEY.fullmatch(key):
            raise ValidationError("A Jira issue key is its project key, a hyphen and a number, e.g. BRK-42.")
        return key

    def clean(self):
        cleaned = super().clean()
        integration = cleaned.get("integration") or (self.instance.integration if self.instance.pk else None)
        step, key = cleaned.get("step"), cleaned.get("key")
        if integration and step and step.integration_id != integration.pk:
            self.add_error(
                "step",
                f"“{step}” is a step of {step.integration}, not of {integration}. Choose one of {integration}'s steps.",
            )
        project = integration.jira_project_key if integration else ""
        if key and project and key.rsplit("-", 1)[0] != project:
            self.add_error("key", f"{key} is not in {integration}'s Jira project {project}.")
        return cleaned


class IntegrationStateFilter(admin.SimpleListFilter):
    title = "integration state"
    parameter_name = "integration_state"

    def lookups(self, request, model_admin):
        return Integration.State.choices

    def queryset(self, request, queryset):
        if self.value() in Integration.State.values:
            return queryset.filter(integration__state=self.value())
        return queryset


class TestingRoundFilter(admin.SimpleListFilter):
    """The testing rounds bugs were seen with (one query), and "None" for issues of no round."""

    title = "testing round"
    parameter_name = "round"

    def lookups(self, request, model_admin):
        rounds = JiraIssue.objects.exclude(testing_round="").order_by("testing_round")
        return [*((r, r) for r in rounds.values_list("testing_round", flat=True).distinct()), ("-", "None")]

    def queryset(self, request, queryset):
        if self.value() == "-":
            return queryset.filter(testing_round="")
        if self.value():
            return queryset.filter(testing_round=self.value())
        return queryset


class StatusCategoryFilter(admin.SimpleListFilter):
    """Jira's status category; "Open" (not done) is what holds steps."""

    title = "status category"
    parameter_name = "category"

    def lookups(self, request, model_admin):
        return [("open", "Open (not done)"), *StatusCategory.choices, ("unknown", "Unknown")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "open":
            return queryset.exclude(status_category=StatusCategory.DONE)
        if value == "unknown":
            return queryset.filter(status_category="")
        if value in StatusCategory.values:
            return queryset.filter(status_category=value)
        return queryset


def _unlink(issue, data, user):
    return link_issue(issue, None, ChangeContext.web(user))


JIRA_ISSUE_OPERATIONS = (
    Operation(
        "unlink",
        "Unlink from its step",
        "Unlinked",
        run=_unlink,
        available=lambda issue, user: issue.linked_in_admin,
        message=lambda issue, result: " ".join(text for _level, text in _sync_messages(*result)),
    ),
)

ISSUE_FACTS = (
    "key",
    "integration",
    "summary",
    "kind",
    "labels_text",
    "status_text",
    "updated_at",
    "seen_at",
    "deleted",
)


@admin.register(JiraIssue)
class JiraIssueAdmin(OperationsAdmin):
    """Jira issues as last seen; a PM links one to a step of its integration, or unlinks it."""

    form = JiraIssueForm
    operations = JIRA_ISSUE_OPERATIONS
    list_display = ("key", "integration", "step_text", "status_text", "kind", "updated_at", "deleted")
    list_select_related = ("integration", "integration__partner", "step")
    list_filter = (IntegrationStateFilter, StatusCategoryFilter, "is_bug", TestingRoundFilter, "affects_ux", "deleted")
    search_fields = ("key", "summary")
    search_help_text = "Search by issue key or summary."
    autocomplete_fields = ("integration",)
    ordering = ("key",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("integration", "integration__partner", "step")

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [(None, {"fields": ("integration", "key", "summary", "step")})]
        return [
            ("Issue, as Jira last said", {"fields": ISSUE_FACTS}),
            ("Roadmap step", {"fields": ("step", "link_text")}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else (*ISSUE_FACTS, "link_text")

    def get_changeform_initial_data(self, request):
        # From an integration's or a step's page: ?integration=<id>&step=<id>.
        return {k: v for k, v in super().get_changeform_initial_data(request).items() if k in ("integration", "step")}

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # deleted one at a time, and only issues Jira never reported
        return actions

    def has_delete_permission(self, request, obj=None):
        return (obj is None or obj.updated_at is None) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        step = form.cleaned_data.get("step")
        if not change:
            obj.step, obj.linked_in_admin = None, False
            obj.save()
            if step is None:
                return
        elif "step" not in form.changed_data:
            return  # nothing else is edited here: what Jira says is written only by the sync
        try:
            issue, outcomes = link_issue(obj, step, ChangeContext.web(request.user))
        except ValidationError as error:
            for message in error.messages:
                self.message_user(request, message, messages.ERROR)
            return
        obj.step, obj.linked_in_admin, obj.testing_round = issue.step, issue.linked_in_admin, issue.testing_round
        for level, message in _sync_messages(issue, outcomes):
            self.message_user(request, message, level)

    def response_add(self, request, obj, post_url_continue=None):
        # On to the issue's page, where its integration's steps are offered.
        if "_addanother" not in request.POST and "_popup" not in request.POST:
            request.POST = request.POST.copy()
            request.POST["_continue"] = "1"
        return super().response_add(request, obj, post_url_continue)

    @admin.display(description="step", ordering="step__position")
    def step_text(self, issue):
        if issue.step is None:
            return self.get_empty_value_display()
        return format_html("{}{}", step_link(issue.step), " (by hand)" if issue.linked_in_admin else "")

    @admin.display(description="status", ordering="status_name")
    def status_text(self, issue):
        category = issue.get_status_category_display()
        if not issue.status_name:
            return category or self.get_empty_value_display()
        if not category or category.lower() == issue.status_name.lower():
            return issue.status_name
        return f"{issue.status_name} ({category.lower()})"

    @admin.display(description="kind")
    def kind(self, issue):
        return _kind(issue)

    @admin.display(description="labels")
    def labels_text(self, issue):
        return ", ".join(issue.labels) or self.get_empty_value_display()

    @admin.display(description="linked")
    def link_text(self, issue):
        if issue.linked_in_admin:
            return "By hand (its labels no longer move it): “Unlink from its step” above lets its labels decide again."
        if issue.step is not None:
            return "By its labels."
        ux_held = _ux_held(issue)
        if ux_held:
            return f"On no step of its own. It holds {ux_held} while it is open (a bug affecting the UX)."
        return "Not linked: no roadmap-<step code> label, and no testing-round label of a fixing step."
