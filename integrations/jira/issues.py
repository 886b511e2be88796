"""A Jira issue's facts, read from its JSON, and what they mean for the roadmap.

Webhook deliveries and the pull both end in ``apply_issue``: it records what Jira says of the
issue (never going back to an older ``updated`` than one already seen), finds the step the issue
belongs to, and moves that step through ``change_status`` with source ``jira``, Jira's own time
and the issue key in the note. A field the JSON leaves out (Jira's ``issue_created`` may carry no
``labels``) is unknown, not empty: what is known of it is kept.

Which step an issue belongs to: the one a person linked it to in the admin; else the step named by
a ``roadmap-<step code>`` label; else, for a Bug carrying a testing-round label (``smoke-test``,
``final-test-1``, ...), the fixing step whose ``jira_bug_labels`` hold that label. Tasks move their
step (all done: the step is done; one reopened: the step is reopened); bugs only hold theirs open
(``integrations.jira.rules``).
"""

import copy
from dataclasses import dataclass, replace
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from integrations import guards
from integrations.batches import update_rows
from integrations.context import ChangeContext
from integrations.jira.models import JiraIssue, StatusCategory
from integrations.jira.rules import held_by_ux_bug
from integrations.models import ChangeSource, Integration, IntegrationStep
from integrations.steps import StepMoves, change_status, last_change
from roadmap.models import StepStatus
from roadmap.refusals import Refusal

ROADMAP_LABEL = "roadmap-"
UX_LABEL = "ux"
# An issue added by key that Jira has not reported yet has no category: it has not started.
STARTED = (StatusCategory.INDETERMINATE, StatusCategory.DONE)
JIRA_TIME_FORMATS = ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z")


class MalformedIssue(ValueError):
    """The issue JSON lacks what the product needs (a key, a project); the message says what."""


def parse_jira_time(text) -> datetime | None:
    """Jira's ``2025-01-15T11:00:00.123+0100`` as an aware datetime (None when absent)."""
    if not text:
        return None
    for fmt in JIRA_TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except (TypeError, ValueError):
            continue
    raise MalformedIssue(
        f"The issue's 'updated' time {text!r} is not a Jira time such as 2025-01-15T11:00:00.123+0100."
    )


@dataclass(frozen=True)
class IssueFacts:
    """What one JSON says of an issue. ``None``: the JSON did not say (Jira leaves fields out), not empty."""

    key: str
    jira_id: str
    project_key: str
    summary: str | None
    issue_type: str | None
    labels: tuple | None
    status_name: str | None
    status_category: str | None
    updated: datetime | None

    @classmethod
    def from_json(cls, issue) -> "IssueFacts":
        if not isinstance(issue, dict) or not isinstance(issue.get("key"), str) or not issue["key"].strip():
            raise MalformedIssue("An issue needs its 'key' (e.g. BRK-42).")
        fields = issue.get("fields")
        fields = {} if fields is None else fields
        if not isinstance(fields, dict):
            raise MalformedIssue(f"The fields of {issue['key']} are not an object.")
        key = issue["key"].strip()
        if len(key) > 32:
            raise MalformedIssue(f"{key[:40]!r}... is too long to be a Jira issue key.")
        project = _dict(fields.get("project")).get("key") or key.rsplit("-", 1)[0]
        labels = fields.get("labels")
        if labels is not None and (not isinstance(labels, list) or not all(isinstance(label, str) for label in labels)):
            raise MalformedIssue(f"The labels of {key} are not a list of strings.")
        status = fields.get("status")
        status_name = status_category = None
        if status is not None:
            status = _dict(status)
            status_name = str(status.get("name") or "")[:100]
            category = _dict(status.get("statusCategory")).get("key", "")
            status_category = category if category in StatusCategory.values else ""
        kind = fields.get("issuetype")
        summary = fields.get("summary")
        return cls(
            key=key,
            jira_id=str(issue.get("id") or "")[:32],
            project_key=str(project),
            summary=None if summary is None else str(summary)[:500],
            issue_type=None if kind is None else str(_dict(kind).get("name") or "")[:60],
            labels=None if labels is None else tuple(labels),
            status_name=status_name,
            status_category=status_category,
            updated=parse_jira_time(fields.get("updated")),
        )

    @property
    def unsaid(self) -> tuple[str, ...]:
        """What the step of the issue depends on and the JSON did not say: labels, issue type, status."""
        said = {"labels": self.labels, "issue type": self.issue_type, "status": self.status_name}
        return tuple(name for name, value in said.items() if value is None)

    def completed_by(self, other: "IssueFacts") -> "IssueFacts":
        """These facts, with what they leave unsaid taken from ``other`` (the issue as Jira shows it now)."""
        if other.key != self.key:
            return self
        status = (self.status_name, self.status_category) if self.status_name is not None else None
        return replace(
            self,
            summary=self.summary if self.summary is not None else other.summary,
            issue_type=self.issue_type if self.issue_type is not None else other.issue_type,
            labels=self.labels if self.labels is not None else other.labels,
            status_name=status[0] if status else other.status_name,
            status_category=status[1] if status else other.status_category,
        )


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Handled:
    """What applying Jira's news did: ``applied``, ``waiting`` (may apply later) or ``ignored``."""

    state: str
    detail: str

    APPLIED = "applied"
    WAITING = "waiting"
    IGNORED = "ignored"


def apply_issue(facts: IssueFacts, *, who: str = "", deleted: bool = False) -> Handled:
    """Record what Jira says of an issue and move the steps it drives. Idempotent, and safe to run at once.

    Applying locks the issue's row (creating it if need be) and then its integration's, so two
    workers applying news of one issue, or of two tasks of one step, take turns: the second sees
    what the first wrote, and an older ``updated`` never overwrites a newer one.
    """
    with transaction.atomic():
        issue = _locked_issue(facts)
        if issue is None:
            return Handled(Handled.IGNORED, f"No integration uses the Jira project {facts.project_key}.")
        # The lock change_status takes anyway, taken first: the steps' tasks are then read after
        # every other worker's news of this integration is committed.
        integration = (
            Integration.objects.select_for_update(of=("self",)).select_related("template").get(pk=issue.integration_id)
        )
        issue.integration = integration
        if _older(issue, facts):
            return _older_news(issue, facts)
        before = issue.step
        _record(issue, facts, integration, deleted)
        steps = {s.pk: s for s in (before, issue.step) if s is not None and not (issue.is_bug and s == issue.step)}
        if issue.step is None and not steps:
            held = integration.steps.filter(held_by_ux_bugs=True) if issue.affects_ux else []
            return _on_no_step(issue, integration, held)
        context = _news_context(facts, who)
        results = [sync_step(step, context) for step in steps.values()]
    waiting = [r for r in results if r.state == Handled.WAITING]
    if waiting:
        return waiting[0]
    details = "; ".join(r.detail for r in results) or f"{facts.key} recorded as {issue.describe()}."
    return Handled(Handled.APPLIED, details)


def apply_issues(page: list[IssueFacts], *, who: str | list[str] = "", moving: bool = False) -> list[Handled]:
    """``apply_issue`` for each issue of a page, in order, with the page's lookups and writes made at once.

    The page's issue rows are locked (created first if new) in one go, their integrations, steps
    and steps' tasks read once; an issue whose news moves no step (most of what a pull reads: a
    summary edited, a task done whose step is done already) is only recorded, and the recorded
    rows are written in one UPDATE. The first issue whose news would move a step locks the page's
    integrations, as ``apply_issue`` locks one, and reads them again with their steps and history
    (``StepMoves``); each move is then judged by the roadmap's rules in memory, and all are written
    when the page ends, each integration's standing refreshed once: a page moving 5 steps or 20 of
    the same integrations costs the same queries. ``who``: one name for all, or one per issue
    (webhook deliveries). ``moving``: news that most likely moves steps (webhook deliveries, each
    sent because an issue changed): the integrations are locked as they are first read, not read
    a second time at the first move.
    """
    whos = [who] * len(page) if isinstance(who, str) else who
    with transaction.atomic():
        batch = _Page(page, moving=moving)
        # The completion guards read their tables (bugs, URL checks, jobs) once for the page's integrations.
        with guards.reading_for({row.integration_id for row in batch.rows.values()}):
            results = [batch.apply(facts, name) for facts, name in zip(page, whos, strict=True)]
            batch.write()
            batch.write_moves()
    return results


class _Page:
    """What applying a page of issues reads once: the rows, their integrations, steps and tasks.

    News that moves a step (``target_for``) locks the page's integrations and reads them again with
    their steps (``StepMoves``), once per page; the step is then moved in memory by the same rules
    as ``apply_issue``'s (``_sync``, ``change_status``'s), and the moves are written together when
    the page ends, each integration's standing refreshed once.
    """

    def __init__(self, page: list[IssueFacts], moving: bool = False):
        keys = sorted({facts.key for facts in page})
        self.rows = self._lock(keys)
        missing = [facts for facts in page if facts.key not in self.rows]
        if missing:
            integrations = _integrations_for({facts.project_key for facts in missing})
            new = {
                f.key: JiraIssue(integration=integrations[f.project_key], key=f.key)
                for f in missing
                if f.project_key in integrations
            }
            if new:
                # ON CONFLICT DO NOTHING, as for one issue: a worker inserting one of them meanwhile wins.
                JiraIssue.objects.bulk_create(new.values(), ignore_conflicts=True)
                self.rows.update(self._lock(sorted(new)))
        self.integrations, self.steps, self.tasks = {}, {}, {}
        self.recorded = {}  # key -> row, written by ``write``
        self.moves = None  # the page's integrations locked, once an issue moves a step
        # A bug's row recorded and not yet written: the completion guards read bugs from the database.
        self.bug_news = False
        if moving:
            self._lock_integrations()
        else:
            self._read({row.integration_id for row in self.rows.values()})

    @staticmethod
    def _lock(keys) -> dict:
        rows = JiraIssue.objects.select_for_update(of=("self",)).filter(key__in=keys).order_by("key")
        return {row.key: row for row in rows}

    def _read(self, integration_ids):
        """The integrations (with their templates), their steps in order, and each step's tasks."""
        for integration in Integration.objects.select_related("template").filter(pk__in=integration_ids):
            self.integrations[integration.pk] = integration
            self.steps[integration.pk] = []
        for step in IntegrationStep.objects.filter(integration_id__in=integration_ids).order_by("position"):
            self.steps[step.integration_id].append(step)
        self._read_tasks(integration_ids)

    def _read_tasks(self, integration_ids):
        by_pk = {step.pk: step for steps in self.steps.values() for step in steps}
        for row in self.rows.values():
            if row.step_id is not None and row.step_id in by_pk:
                row.step = by_pk[row.step_id]
        self.tasks = {pk: {} for pk in by_pk}
        tasks = JiraIssue.objects.filter(
            integration_id__in=integration_ids, step__isnull=False, is_bug=False, deleted=False
        )
        for task in tasks.only("key", "step_id", "status_category", "is_bug", "deleted"):
            if task.step_id in self.tasks:
                self.tasks[task.step_id][task.key] = self.rows.get(task.key, task)

    def _lock_integrations(self):
        """Before the page's first step move: its integrations locked, as ``change_status`` locks one, and
        read again with their steps and tasks (what is recorded so far written first)."""
        self.write()
        ids = {row.integration_id for row in self.rows.values()}
        self.moves = StepMoves.read(ids)
        self.integrations, self.steps = self.moves.integrations, self.moves.steps
        self._read_tasks(ids)

    def _tasks_of(self, step, issue) -> list:
        """The tasks of ``step`` by key, with ``issue`` as it is now (not yet recorded)."""
        tasks = {key: task for key, task in self.tasks[step.pk].items() if key != issue.key}
        if issue.step_id == step.pk and not issue.is_bug and not issue.deleted:
            tasks[issue.key] = issue
        return [tasks[key] for key in sorted(tasks)]

    def apply(self, facts: IssueFacts, who: str) -> Handled:
        row = self.rows.get(facts.key)
        if row is None:
            return Handled(Handled.IGNORED, f"No integration uses the Jira project {facts.project_key}.")
        integration = self.integrations[row.integration_id]
        if _older(row, facts):
            return _older_news(row, facts)
        new = copy.copy(row)
        _take(new, facts, integration, deleted=False, steps=self.steps[integration.pk])
        # The steps apply_issue would sync: the one the issue left and the one it is on (not a bug's own).
        synced = {s.pk: s for s in (row.step, new.step) if s is not None and not (new.is_bug and s == new.step)}
        tasks = {pk: self._tasks_of(step, new) for pk, step in synced.items()}
        if self.moves is None and any(target_for(s.status, tasks[pk])[0] is not None for pk, s in synced.items()):
            self._lock_integrations()
            return self.apply(facts, who)  # on the rows and steps read again
        self._record(row, new)
        if new.step is None and not synced:
            return _on_no_step(new, integration, self.steps[integration.pk])
        context, results = None, []
        for pk, step in synced.items():
            if target_for(step.status, tasks[pk])[0] is None:
                results.append(_as_jira_says(step) if tasks[pk] else _no_task(step))
                continue
            if self.bug_news:
                self.write()
            if context is None:
                context = _news_context(facts, who)
            steps = self.steps[integration.pk]
            results.append(_sync(step, tasks[pk], context, self.moves.change, self.moves.last_change, steps))
        waiting = [r for r in results if r.state == Handled.WAITING]
        if waiting:
            return waiting[0]
        details = "; ".join(r.detail for r in results) or f"{facts.key} recorded as {new.describe()}."
        return Handled(Handled.APPLIED, details)

    def _record(self, row: JiraIssue, new: JiraIssue):
        """``new`` (the news of ``row``) kept, to be written with the page, and among its step's tasks."""
        self.rows[new.key] = self.recorded[new.key] = new
        self.bug_news = self.bug_news or row.is_bug or new.is_bug
        for tasks in (self.tasks.get(row.step_id), self.tasks.get(new.step_id)):
            if tasks is not None:
                tasks.pop(new.key, None)
        if new.step_id is not None and not new.is_bug and not new.deleted:
            self.tasks[new.step_id][new.key] = new

    def write(self):
        if self.recorded:
            update_rows(self.recorded.values(), RECORDED_FIELDS)
            self.recorded = {}
        if self.bug_news:
            guards.forget_reads()  # the bugs the guards read changed: read again when next asked
        self.bug_news = False

    def write_moves(self):
        if self.moves is not None:
            self.moves.write()


def _on_no_step(issue: JiraIssue, integration, steps) -> Handled:
    """News of an issue on no step: recorded; a bug affecting the UX still holds the steps ``held_by_ux_bugs``."""
    held = held_by_ux_bug(issue, steps)
    if held:
        names = ", ".join(str(step.title) for step in held)
        return Handled(
            Handled.APPLIED, f"{issue.describe()} is a bug affecting the UX: it holds {names} while it is open."
        )
    return Handled(Handled.IGNORED, f"{issue.key} is linked to no step of {integration}; recorded.")


def _older(issue: JiraIssue, facts: IssueFacts) -> bool:
    return bool(issue.updated_at and facts.updated and facts.updated < issue.updated_at)


def _older_news(issue: JiraIssue, facts: IssueFacts) -> Handled:
    return Handled(
        Handled.IGNORED,
        f"Older than what is known of {facts.key} (updated {facts.updated:%Y-%m-%d %H:%M:%S%z}, "
        f"known {issue.updated_at:%Y-%m-%d %H:%M:%S%z}); nothing changed.",
    )


def _locked_issue(facts: IssueFacts) -> JiraIssue | None:
    """The issue's row, locked until the transaction ends; created for a new issue (None: no integration)."""
    locked = JiraIssue.objects.select_for_update(of=("self",)).select_related("step")
    issue = locked.filter(key=facts.key).first()
    if issue is not None:
        return issue
    integration = _integration_for(facts.project_key)
    if integration is None:
        return None
    # Insert unless the key exists (ON CONFLICT DO NOTHING). A worker inserting the same key at the
    # same moment makes this wait for its commit; either way there is then exactly one row to lock.
    JiraIssue.objects.bulk_create([JiraIssue(integration=integration, key=facts.key)], ignore_conflicts=True)
    return locked.get(key=facts.key)


def _integration_for(project_key: str):
    return _integrations_for([project_key]).get(project_key)


def _integrations_for(project_keys) -> dict:
    """Project key -> the integration its new issues belong to: the running one kicked off last, else
    the one created last. Two queries for any number of keys."""
    keys = set(project_keys)
    found = {}
    for integration in Integration.objects.filter(jira_project_key__in=keys).running().order_by("-kickoff_on"):
        found.setdefault(integration.jira_project_key, integration)
    rest = keys - set(found)
    if rest:
        for integration in Integration.objects.filter(jira_project_key__in=rest).order_by("-created_at"):
            found.setdefault(integration.jira_project_key, integration)
    return found


# What recording an issue writes (``_take``), for a page's issues written in one UPDATE.
RECORDED_FIELDS = [
    "jira_id",
    "summary",
    "issue_type",
    "labels",
    "status_name",
    "status_category",
    "updated_at",
    "deleted",
    "is_bug",
    "affects_ux",
    "seen_at",
    "step",
    "testing_round",
]


def _record(issue: JiraIssue, facts: IssueFacts, integration, deleted: bool):
    _take(issue, facts, integration, deleted)
    issue.save()


def _take(issue: JiraIssue, facts: IssueFacts, integration, deleted: bool, steps=None):
    """Write what ``facts`` say onto ``issue`` (not saved); what they leave unsaid keeps its known value.

    ``steps``: the integration's steps, when the caller has them already."""
    status_map = integration.template.jira_status_map
    status_map = status_map if isinstance(status_map, dict) else {}
    issue.jira_id = facts.jira_id or issue.jira_id
    if facts.summary is not None:
        issue.summary = facts.summary
    if facts.issue_type is not None:
        issue.issue_type = facts.issue_type
    if facts.labels is not None:
        issue.labels = list(facts.labels)
    if facts.status_name is not None:
        issue.status_name = facts.status_name
        issue.status_category = status_map.get(facts.status_name) or facts.status_category
    issue.updated_at = facts.updated or issue.updated_at
    issue.deleted = deleted
    issue.is_bug = issue.issue_type.lower() == "bug"
    issue.affects_ux = issue.is_bug and UX_LABEL in issue.labels
    issue.seen_at = timezone.now()
    if not issue.linked_in_admin:
        issue.step, issue.testing_round = _step_for(issue, integration, steps)


def _step_for(issue: JiraIssue, integration, steps=None):
    """The step ``issue`` belongs to by its labels, and the testing round of a bug."""
    steps = list(integration.steps.all()) if steps is None else steps
    by_code = {s.code: s for s in steps}
    for label in issue.labels:
        if label.startswith(ROADMAP_LABEL) and label[len(ROADMAP_LABEL) :] in by_code:
            return by_code[label[len(ROADMAP_LABEL) :]], ""
    if issue.is_bug:
        for step in steps:
            for label in issue.labels:
                if label in step.jira_bug_labels:
                    return step, label
    return None, ""


def _news_context(facts: IssueFacts, who: str) -> ChangeContext:
    """Who and when of the changes an issue's news makes: Jira's time, never later than now."""
    return ChangeContext(
        source=ChangeSource.JIRA,
        by_name=(who or "Jira")[:200],
        at=min(facts.updated or timezone.now(), timezone.now()),
    )


def sync_step(step, context: ChangeContext) -> Handled:
    """Move ``step`` to what its Jira tasks say: all done, done; one reopened, back in progress."""
    step.refresh_from_db()
    tasks = list(step.jira_issues.filter(is_bug=False, deleted=False).order_by("key"))
    return _sync(step, tasks, context, change_status, last_change)


def _sync(step, tasks, context: ChangeContext, change, last_change, steps=None) -> Handled:
    """``sync_step`` with ``step``'s ``tasks`` given, moving it through ``change`` (``change_status``, or a
    page's ``StepMoves.change``); ``last_change`` and ``steps`` (its integration's) as ``applicable`` takes them."""
    if not tasks:
        return _no_task(step)
    target, saying = target_for(step.status, tasks)
    if target is None:
        return _as_jira_says(step)
    if target == StepStatus.DONE:
        context, note = applicable(step, context, tasks, steps, last_change)
    elif step.status == StepStatus.DONE:
        note = f"Reopened in Jira: {', '.join(t.describe() for t in saying)}."
    else:
        note = f"Work started in Jira: {', '.join(t.describe() for t in saying)}."
    try:
        change(step, target, context.with_note(note))
    except Refusal as refusal:
        state = Handled.WAITING if refusal.retryable else Handled.IGNORED
        return Handled(state, f"{refusal.code}: {refusal.message}")
    return Handled(Handled.APPLIED, f"{step}: {StepStatus(target).label.lower()}. {note}")


def target_for(status: str, tasks) -> tuple[str | None, list]:
    """What a step in ``status`` becomes by its Jira ``tasks`` (its issues that are not bugs, not
    deleted), and the tasks that say so: all done, done; one not done, back in progress; one
    started, in progress. None: it stays as it is."""
    if not tasks:
        return None, []
    not_done = [t for t in tasks if t.status_category != StatusCategory.DONE]
    if not not_done and status != StepStatus.DONE:
        return StepStatus.DONE, tasks
    if not_done and status == StepStatus.DONE:
        return StepStatus.IN_PROGRESS, not_done
    if status == StepStatus.NOT_STARTED and (started := [t for t in tasks if t.status_category in STARTED]):
        return StepStatus.IN_PROGRESS, started
    return None, []


def _no_task(step) -> Handled:
    return Handled(Handled.APPLIED, f"{step}: no Jira task drives it any more.")


def _as_jira_says(step) -> Handled:
    return Handled(Handled.APPLIED, f"{step} is already {step.get_status_display().lower()}, as Jira says.")


def applicable(step, context: ChangeContext, tasks, steps=None, last_change=last_change) -> tuple[ChangeContext, str]:
    """When Jira's "done" of ``tasks`` could be applied to ``step``, and the history's note saying so.

    News the roadmap refused for now (a bug of the round open, a hand-over missing, prerequisites
    open) waited, and counts from the moment it became applicable: the latest of Jira's time and
    what it waited for, as the completion guards record it (``guards.cleared``), never later than
    now and never before the step's last change. Dated at Jira's time instead, the step would be
    done while its bug was still open, and the partner's days would be charged to the next step.
    """
    done = f"{', '.join(t.describe() for t in tasks)} done in Jira"
    steps = list(step.integration.steps.all()) if steps is None else steps
    waited = [c for c in guards.cleared(step, steps) if c[0] > context.moment]
    if not waited:
        return context, f"{done}."
    became, why = waited[-1]
    became = min(became, timezone.now())
    note = f"{done} on {_day(context.moment)}; applied {_day(became)} when {why}."
    last = last_change(step)
    if last is not None and last.at > became:
        note = f"{done} on {_day(context.moment)}; applied {_day(last.at)}, the step's last change ({why} on {_day(became)})."
        became = last.at
    return replace(context, at=became), note


def _day(moment: datetime) -> str:
    """ "3 Nov": the day of ``moment`` in the project's time zone, as a PM says it."""
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b}"
