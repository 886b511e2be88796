"""The pull: read the issues Jira changed since the watermark and apply them, as webhooks would.

Webhooks carry Jira's news at once; the pull is the safety net for deliveries Jira gave up on or
never sent. Every ``JIRA_PULL_SECONDS`` one cycle asks Jira, in one search for all the linked
projects, for the issues updated since the watermark (minus a 2-minute overlap), oldest first, a
page at a time, and hands each page to ``apply_issues``. The requests a cycle makes grow with the number
of changed issues (one per page of 100), not with the number of integrations.

The pull's state is the one ``JiraConnection`` row:

- ``watermark`` moves to the newest ``updated`` applied, after each page and never backwards, so
  a cycle that fails on page 3 keeps pages 1 and 2 and the next one starts after them;
- a failure keeps the watermark, counts ``consecutive_failures`` and says why in
  ``failure_reason``; no cycle runs before ``retry_at`` (Jira's ``Retry-After`` on a 429, else a
  back-off of 30 s doubling per failure, at most an hour). Only what a person must fix (401/403,
  a site that is not Jira Cloud, a refused request) marks the connection failing
  (``failing_since``): a 429, a 5xx or a time-out is Jira being busy, and passes;
- a cycle that reads to the end clears the failure and records ``last_success_at``;
- what hardly changes is read once a day (``STILL_TRUE_FOR``), not every cycle: Jira's field ids
  (which the client needs to name a search's fields) and the project keys Jira said it does not
  know (left out of the search until they are put to Jira again). A normal cycle costs one
  ``serverInfo`` and one request per page.

An issue the roadmap cannot take yet (``waiting``: prerequisites open, integration paused) is
handed to the webhook inbox as a waiting delivery, so the sweep applies it again later, as it does
for a waiting webhook; the watermark moves on.
"""

import logging
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from integrations import retry
from integrations.jira import inbox
from integrations.jira.client import (
    JiraError,
    JiraPermanent,
    JiraUnauthorized,
    connect,
    minutes_since,
    read_field_ids,
    search_updated,
    use_field_ids,
)
from integrations.jira.issues import Handled, IssueFacts, MalformedIssue, apply_issues
from integrations.jira.models import JiraConnection, JiraDelivery
from integrations.models import Integration

log = logging.getLogger(__name__)

BACKOFF_FIRST_SECONDS = 30
BACKOFF_MAX_SECONDS = 3600
# A scheduled cycle stops after this many pages (10,000 issues) and the next one goes on from the
# watermark; a back-fill (``full``) reads to the end.
MAX_PAGES = 100
# Jira refuses a whole search (400) when the JQL names a project it does not know or the Jira user
# may not browse: "The value 'XYZ' does not exist for the field 'project'." One mistyped key must
# not stop the pull for every other integration, so such projects are left out and the page is
# asked again.
UNKNOWN_PROJECT = re.compile(r"The value '([^']+)' does not exist for the field 'project'")
# How long the field ids and the unknown project keys are taken as still true.
STILL_TRUE_FOR = timedelta(days=1)


def pull_cycle(
    now: datetime | None = None, full: bool = False, integration=None, progress=None, force: bool = False
) -> dict:
    """One pull cycle; returns what it did (counts, and ``skipped`` or ``error`` when it did not finish).

    ``full``: no ``updated`` clause (a back-fill); with ``integration``, of that integration's
    project only, and the watermark stays where it is. ``progress(counts)`` is called after each
    page. ``force`` ignores ``retry_at`` (a person asked for a cycle now).
    """
    now = now or timezone.now()
    counts = {
        "projects": 0,
        "pages": 0,
        "read": 0,
        "applied": 0,
        "waiting": 0,
        "ignored": 0,
        "malformed": 0,
        "unknown_projects": [],
        "watermark": None,
        "backing_off_until": None,
        "skipped": "",
        "error": "",
    }
    if not settings.JIRA_ENABLED:
        counts["skipped"] = "Jira is not configured (JIRA_URL, JIRA_USER, JIRA_API_TOKEN)."
        return counts
    connection = JiraConnection.get()
    counts["watermark"] = connection.watermark
    if connection.retry_at and connection.retry_at > now and not force:
        counts["backing_off_until"] = connection.retry_at
        counts["skipped"] = (
            f"Waiting until {_when(connection.retry_at)} before asking Jira again: {connection.failure_reason}"
        )
        return counts
    projects = _projects(integration)
    counts["projects"] = len(projects)
    if not projects:
        counts["skipped"] = "No running integration has a Jira project key."
        return counts
    scheduled = integration is None  # moves the watermark, and keeps what is known of the projects
    unknown = _still_unknown(connection, projects, now) if scheduled else set()
    counts["unknown_projects"] = sorted(unknown)
    searched = [key for key in projects if key not in unknown]
    since = None if full else minutes_since(connection.watermark, now)
    JiraConnection.objects.filter(pk=connection.pk).update(last_pull_at=now)
    log.info(
        "jira.pull.start projects=%s left_out=%s since_minutes=%s full=%s", len(searched), len(unknown), since, full
    )
    try:
        if searched:
            _read(searched, since, counts, now, scheduled, progress, max_pages=None if full else MAX_PAGES)
    except JiraError as error:
        _record_failure(error, now)
        counts["error"] = error.message
        log.warning("jira.pull.failed status=%s pages=%s reason=%s", error.status, counts["pages"], error.message)
    else:
        JiraConnection.objects.filter(pk=connection.pk).update(
            last_success_at=now, failing_since=None, failure_reason="", consecutive_failures=0, retry_at=None
        )
        log.info(
            "jira.pull.done pages=%s read=%s applied=%s waiting=%s ignored=%s malformed=%s",
            *(counts[k] for k in ("pages", "read", "applied", "waiting", "ignored", "malformed")),
        )
    if scheduled and (counts["pages"] or not searched):
        _remember_unknown(connection, projects, counts["unknown_projects"], rechecked=not unknown, now=now)
    counts["watermark"] = JiraConnection.get().watermark
    return counts


def _still_unknown(connection: JiraConnection, projects, now: datetime) -> set[str]:
    """The project keys Jira said it does not know, if it said so less than ``STILL_TRUE_FOR`` ago."""
    checked = connection.projects_checked_at
    if checked is None or now - checked >= STILL_TRUE_FOR or not isinstance(connection.unknown_projects, list):
        return set()
    return set(connection.unknown_projects) & set(projects)


def _remember_unknown(connection: JiraConnection, projects, unknown, *, rechecked: bool, now: datetime):
    """Keep the keys Jira does not know (of the projects still linked); ``rechecked``: all were put to Jira now."""
    fields = {"unknown_projects": sorted(set(unknown) & set(projects))}
    if rechecked:
        fields["projects_checked_at"] = now
    JiraConnection.objects.filter(pk=connection.pk).update(**fields)


def _projects(integration) -> list[str]:
    if integration is not None:
        return [integration.jira_project_key] if integration.jira_project_key else []
    # order_by: the model's default ordering would make DISTINCT compare those columns too.
    keys = (
        Integration.objects.running()
        .exclude(jira_project_key="")
        .order_by("jira_project_key")
        .values_list("jira_project_key", flat=True)
        .distinct()
    )
    return list(keys)


def _read(projects, since, counts, now, moves_watermark, progress, max_pages):
    client = connect()
    try:
        _give_field_ids(client, now)
        token, tokens_seen = None, set()
        while True:
            issues, token = _search(client, projects, since, token, counts)
            newest = _apply_page(issues, counts, now)
            counts["pages"] += 1
            if moves_watermark and newest is not None:
                _advance_watermark(newest)
            if progress:
                progress(counts)
            if token is None or token in tokens_seen or (max_pages and counts["pages"] >= max_pages):
                return
            tokens_seen.add(token)
    finally:
        client.close()


def _give_field_ids(client, now: datetime):
    """The field ids read less than ``STILL_TRUE_FOR`` ago, or read now (one ``GET field``) and kept."""
    connection = JiraConnection.get()
    read_at = connection.fields_read_at
    if connection.field_ids and isinstance(connection.field_ids, dict) and read_at and now - read_at < STILL_TRUE_FOR:
        use_field_ids(client, connection.field_ids)
        return
    field_ids = read_field_ids(client)
    use_field_ids(client, field_ids)
    JiraConnection.objects.filter(pk=connection.pk).update(field_ids=field_ids, fields_read_at=now)


def _search(client, projects, since, token, counts):
    """One page; on a first page Jira refused for unknown projects, leave those out and ask again."""
    while True:
        try:
            return search_updated(projects, since, token, client=client)
        except JiraPermanent as error:
            unknown = set(UNKNOWN_PROJECT.findall(error.jira_said)) & set(projects)
            if token is not None or error.status != 400 or not unknown:
                raise
            log.warning("jira.pull.unknown_projects keys=%s", ",".join(sorted(unknown)))
            counts["unknown_projects"] = sorted(set(counts["unknown_projects"]) | unknown)
            projects[:] = [key for key in projects if key not in unknown]
            if not projects:
                return [], None


def _apply_page(issues, counts, now) -> datetime | None:
    """Apply the issues of a page, together (``apply_issues``); the newest ``updated`` seen (None when no issue had one)."""
    newest, page = None, []
    for issue in issues:
        counts["read"] += 1
        try:
            facts = IssueFacts.from_json(issue)
        except MalformedIssue as error:
            counts["malformed"] += 1
            key = issue.get("key") if isinstance(issue, dict) else None
            log.warning("jira.pull.malformed key=%s reason=%s", key, error)
            continue
        page.append((issue, facts))
        if facts.updated is not None and (newest is None or facts.updated > newest):
            newest = facts.updated
    outcomes = apply_issues([facts for _, facts in page], who="")
    for (issue, facts), outcome in zip(page, outcomes, strict=True):
        counts[outcome.state] += 1
        if outcome.state == Handled.WAITING:
            _hold_for_retry(issue, facts, outcome, now)
    return newest


def _advance_watermark(newest: datetime):
    # A conditional UPDATE: two cycles running at once (the beat and a person's command) can only
    # move the watermark forward.
    JiraConnection.objects.filter(pk=JiraConnection.get().pk).filter(
        Q(watermark__isnull=True) | Q(watermark__lt=newest)
    ).update(watermark=newest)


def _hold_for_retry(issue: dict, facts: IssueFacts, outcome: Handled, now: datetime):
    """Store a waiting issue in the inbox, shaped as Jira's ``jira:issue_updated``, for the sweep to retry."""
    updated = (issue.get("fields") or {}).get("updated") or ""
    body = {
        "timestamp": int(now.timestamp() * 1000),
        "webhookEvent": "jira:issue_updated",
        "issue_event_type_name": "issue_updated",
        "issue": issue,
    }
    JiraDelivery.objects.get_or_create(
        delivery_id=f"pull:{facts.key}:{updated}"[:200],
        defaults={
            "event": "jira:issue_updated",
            "issue_key": facts.key,
            "received_at": now,
            "body": body,
            "content_key": inbox.content_key(body),
            "outcome": JiraDelivery.State.WAITING,
            "detail": f"Read by the pull; {outcome.detail}",
            "attempts": 1,
            "processed_at": now,
            "not_before": now + inbox.backoff(1),
        },
    )


def backoff_seconds(failures_before: int) -> int:
    """How long to wait after a failure that follows ``failures_before`` others: 30 s, 60 s, ... at most an hour."""
    wait = retry.backoff(
        failures_before, first=timedelta(seconds=BACKOFF_FIRST_SECONDS), cap=timedelta(seconds=BACKOFF_MAX_SECONDS)
    )
    return int(wait.total_seconds())


def needs_a_person(error: JiraError) -> bool:
    """Whether ``error`` marks the connection failing: refused credentials or access, or a refused request.

    A 429, a 5xx or a time-out only backs off: Jira is busy, and the next cycle will likely do.
    """
    return isinstance(error, JiraUnauthorized) or not error.retryable


def _record_failure(error: JiraError, now: datetime):
    connection = JiraConnection.get()
    wait = error.retry_after if error.retry_after is not None else backoff_seconds(connection.consecutive_failures)
    retry_at = now + timedelta(seconds=wait)
    failing_since = connection.failing_since  # a busy Jira neither starts nor ends a failure
    if needs_a_person(error):
        failing_since = failing_since or now
    JiraConnection.objects.filter(pk=connection.pk).update(
        consecutive_failures=connection.consecutive_failures + 1,
        failing_since=failing_since,
        failure_reason=f"{_when(now)}: {error.message} Next try after {_when(retry_at)}.",
        retry_at=retry_at,
    )


def _when(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")
