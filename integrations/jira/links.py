"""Linking a Jira issue to a step by hand (in the admin), or handing its step back to its labels.

A link by hand outranks the issue's labels (``integrations.jira.issues``); either way the steps
the issue leaves and joins are then moved to what their Jira tasks say.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from integrations.context import ChangeContext
from integrations.jira.issues import _step_for, sync_step
from integrations.jira.models import JiraIssue
from integrations.models import IntegrationStep


def _bug_round(issue, step) -> str:
    """The testing round of a bug linked by hand to ``step``: its label among the step's rounds, if any."""
    if not issue.is_bug or step is None:
        return ""
    return next((label for label in issue.labels if label in step.jira_bug_labels), "")


def reported(issue) -> bool:
    """Whether Jira has said anything of the issue (one added by key has no status until it does)."""
    return bool(issue.updated_at or issue.status_category)


def link_issue(issue: JiraIssue, step: IntegrationStep | None, context: ChangeContext):
    """Link ``issue`` to ``step`` by hand, or (``step`` None) let its labels decide its step again.

    The steps it leaves and joins are then moved to what their Jira tasks say (``sync_step``).
    Returns the issue as saved and the sync's outcome for each step, the one it joins first.
    """
    with transaction.atomic():
        issue = JiraIssue.objects.select_for_update(of=("self",)).select_related("integration", "step").get(pk=issue.pk)
        if step is not None and step.integration_id != issue.integration_id:
            raise ValidationError(
                f"{issue.key} belongs to {issue.integration}; “{step}” is a step of {step.integration}. "
                f"Choose one of {issue.integration}'s steps."
            )
        before = issue.step
        if step is None:
            issue.linked_in_admin = False
            issue.step, issue.testing_round = _step_for(issue, issue.integration)
        else:
            issue.linked_in_admin = True
            issue.step, issue.testing_round = step, _bug_round(issue, step)
        issue.save(update_fields=["step", "linked_in_admin", "testing_round"])
        # An issue added by key that Jira has not reported yet says nothing of its step's status.
        touched = [issue.step] if issue.step is not None and reported(issue) else []
        # A task leaving a step may leave it done (or not) in Jira's eyes; a bug moves no step.
        if before is not None and before != issue.step and not issue.is_bug:
            touched.append(before)
        outcomes = [(s, sync_step(s, context)) for s in touched]
    return issue, outcomes
