"""What open Jira bugs hold up: a fixing step while bugs of its testing round are open, and the
closed release while an open bug affects the UX (the roadmap: "only if no identified issue
affects the UX")."""

from integrations.jira.models import JiraIssue, StatusCategory
from roadmap.refusals import OpenBugs


def open_bugs(step) -> list[JiraIssue]:
    """The open bugs that keep ``step`` from being completed."""
    if not step.jira_bug_labels and not step.held_by_ux_bugs:
        return []
    bugs = JiraIssue.objects.filter(integration_id=step.integration_id, is_bug=True, deleted=False).exclude(
        status_category=StatusCategory.DONE
    )
    held = []
    for bug in bugs.order_by("key"):
        if (step.jira_bug_labels and bug.step_id == step.pk) or (step.held_by_ux_bugs and bug.affects_ux):
            held.append(bug)
    return held


def open_bugs_refusal(step, steps=None) -> OpenBugs | None:
    """A completion guard (``integrations.guards``): the open bugs holding ``step``; ``steps`` plays no part."""
    bugs = open_bugs(step)
    if not bugs:
        return None
    why = "affecting the UX are open" if not step.jira_bug_labels else "of its testing round are open in Jira"
    return OpenBugs(f"{step} cannot be done while bugs {why}: {', '.join(b.describe() for b in bugs)}.")
