"""What open Jira bugs hold up: a fixing step while bugs of its testing round are open, and the
closed release while an open bug affects the UX (the roadmap: "only if no identified issue
affects the UX")."""

from integrations import guards
from integrations.jira.models import JiraIssue, StatusCategory
from roadmap.refusals import OpenBugs


def bugs_of(integration_ids) -> dict[int, list[JiraIssue]]:
    """Integration id -> its bugs, by key: what the guard reads (``guards.read_for``), one query for many."""
    bugs = {}
    for bug in JiraIssue.objects.filter(integration_id__in=integration_ids, is_bug=True).order_by("key"):
        bugs.setdefault(bug.integration_id, []).append(bug)
    return bugs


def open_bugs(step) -> list[JiraIssue]:
    """The open bugs that keep ``step`` from being completed."""
    if not step.jira_bug_labels and not step.held_by_ux_bugs:
        return []
    bugs = guards.read_for(bugs_of, step.integration_id, [])
    return [bug for bug in bugs if not bug.deleted and bug.status_category != StatusCategory.DONE and _holds(bug, step)]


def _holds(bug: JiraIssue, step) -> bool:
    """Whether ``bug``, while open, holds ``step``: a bug of its testing round, or one affecting the UX."""
    return bool((step.jira_bug_labels and bug.step_id == step.pk) or (step.held_by_ux_bugs and bug.affects_ux))


def held_by_ux_bug(issue, steps) -> list:
    """The steps of ``steps`` that ``issue`` holds while open as a bug affecting the UX, whatever its step
    (a UX bug with no testing-round label belongs to no step, yet holds the closed release)."""
    if not (issue.is_bug and issue.affects_ux):
        return []
    return [step for step in steps if step.held_by_ux_bugs]


def bugs_closed(step, steps=None) -> list[tuple]:
    """When each bug that held ``step`` was closed (or deleted) in Jira, by the time Jira gave that change.

    A completion guard's ``since`` (``integrations.guards``): news that waited for a bug is applied then."""
    if not step.jira_bug_labels and not step.held_by_ux_bugs:
        return []
    bugs = guards.read_for(bugs_of, step.integration_id, [])
    return [
        (bug.updated_at, f"bug {bug.key} was {'deleted' if bug.deleted else 'closed'}")
        for bug in bugs
        if bug.updated_at is not None
        and (bug.deleted or bug.status_category == StatusCategory.DONE)
        and _holds(bug, step)
    ]


def open_bugs_refusal(step, steps=None) -> OpenBugs | None:
    """A completion guard (``integrations.guards``): the open bugs holding ``step``; ``steps`` plays no part."""
    bugs = open_bugs(step)
    if not bugs:
        return None
    why = "affecting the UX are open" if not step.jira_bug_labels else "of its testing round are open in Jira"
    return OpenBugs(f"{step} cannot be done while bugs {why}: {', '.join(b.describe() for b in bugs)}.")
