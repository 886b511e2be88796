"""Whether a notice about a step's state is still true just before it is posted.

Notices go out in their readers' working hours, so one written at night waits for the morning. News
of a step's state (a reminder, "due today", "overdue", an escalation, TradingView's task due or late,
"This step is now yours.") may be false by then: the step was done at 08:40, re-planned to another
day, handed back, or the integration paused. Such a row is not posted: it is kept, "not sent: no
longer true", saying what changed and when (``why_no_longer_true``, the one rule). A channel digest
is posted without its lines that went stale, and not at all when every line did.

News that stays true whatever happens next (the partner finished a step, launched, a launch date
agreed, welcome, Jira news, mentions, re-planned, blocked or unblocked, what TradingView did) is
never checked.

Delivery asks once per run (``set_aside``): the rows' steps are read in one query, whatever the
number of rows. A row whose post may already be in Slack (its answer was lost) is never set aside:
it is read back first, as always.
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from django.db.models import Case, Q, Value, When
from django.utils import timezone

from integrations.models import Integration, IntegrationStep
from integrations.text import day_text, moment_text
from notifications import channel_digest
from notifications.models import OutboxMessage
from roadmap.models import StepStatus, step_label

K = OutboxMessage.Kind
State = OutboxMessage.State

# The kinds whose news is the step's state as it is when posted.
ABOUT_THE_STEP_NOW = frozenset(
    {
        K.REMINDER,
        K.DUE_TODAY,
        K.OVERDUE,
        K.ESCALATION,
        K.LEAD_ESCALATION,
        K.TRADINGVIEW_DUE,
        K.TRADINGVIEW_LATE,
        K.HANDED_OVER,
    }
)
# "This step is now yours." names the TradingView task whose completion handed it over
# (``notices._handed_over``); "TradingView finished ..." with no step opened is history and stays true.
HANDED_OVER = re.compile(r"handed_over:(?P<step>\d+):(?P<done>\d+):")
STEP_COLUMNS = (
    "id",
    "number",
    "side",
    "title",
    "status",
    "due_date",
    "completed_at",
    "reopened_at",
    "integration__state",
    "integration__paused_on",
    "integration__launched_on",
    "integration__cancelled_on",
)
NOT_SENT = "Not sent: "
ENDED = {
    Integration.State.PAUSED: ("paused", "integration__paused_on"),
    Integration.State.LAUNCHED: ("launched", "integration__launched_on"),
    Integration.State.CANCELLED: ("cancelled", "integration__cancelled_on"),
}


@dataclass(frozen=True)
class Notice:
    """What a row says it is about: its kind, its reason, and the step's due date when it was written."""

    kind: str
    reason_key: str
    step_id: int | None
    step_due_on: date | None

    @property
    def handed_over_by(self) -> int | None:
        """The TradingView task whose completion made a "now yours" notice, or None."""
        if self.kind != K.HANDED_OVER:
            return None
        found = HANDED_OVER.match(self.reason_key)
        return int(found["done"]) if found else None

    @property
    def is_checked(self) -> bool:
        """News of the step's state as it is when posted (a "TradingView finished" row is history)."""
        if self.kind not in ABOUT_THE_STEP_NOW or self.step_id is None:
            return False
        return self.kind != K.HANDED_OVER or self.handed_over_by is not None


def why_no_longer_true(notice: Notice, step: dict | None, handed_over_by: dict | None = None) -> str:
    """Why ``notice`` is no longer true of ``step`` (``STEP_COLUMNS``, as it is now), or "" while it is.

    ``handed_over_by``: the TradingView task that handed a "now yours" step over, as it is now.
    """
    if not notice.is_checked or step is None:
        return ""
    ending = ENDED.get(step["integration__state"])
    if ending is not None:
        verb, on = ending
        return _before_it_went(f"the integration was {verb} on {day_text(step[on]) or 'an unknown day'}")
    label = _label(step)
    if step["status"] == StepStatus.DONE:
        return _before_it_went(f"{label} was done {_at(step['completed_at'])}")
    if step["status"] == StepStatus.NOT_APPLICABLE:
        return _before_it_went(f"{label} was marked as not applying")
    if notice.step_due_on is not None and step["due_date"] != notice.step_due_on:
        now_due = f"due {day_text(step['due_date'])}" if step["due_date"] else "without a due date"
        return _before_it_went(f"{label} is now {now_due} (it was due {day_text(notice.step_due_on)})")
    if handed_over_by is not None and handed_over_by["status"] != StepStatus.DONE:
        task = _label(handed_over_by)
        return _before_it_went(f"{task} was reopened {_at(handed_over_by['reopened_at'])}: the ball is TradingView's")
    return ""


def set_aside(rows: list[tuple[int, str]]) -> set[int]:
    """Of a delivery run's ``rows`` (id, kind), the ids not to post: set aside as no longer true.

    A digest with some lines no longer true is rewritten without them (and posted); its lines that
    are, like every row set aside, are kept with why. A fixed number of queries whatever the number of
    rows: the rows, the lines of the digests among them, their steps; then one UPDATE, and one per
    digest rewritten.
    """
    candidates = [pk for pk, kind in rows if kind in ABOUT_THE_STEP_NOW]
    digests = [pk for pk, kind in rows if kind == K.CHANNEL_DIGEST]
    if not candidates and not digests:
        return set()
    not_known_to_be_posted = Q(unknown_since__isnull=True, state__in=[State.PENDING, State.WAITING])
    notices = {}
    if candidates:
        found = OutboxMessage.objects.filter(not_known_to_be_posted, pk__in=candidates)
        for pk, kind, reason, step_id, due in found.values_list("id", "kind", "reason_key", "step_id", "step_due_on"):
            notices[pk] = Notice(kind, reason, step_id, due)
    lines = defaultdict(list)  # digest id -> its lines (``channel_digest.LISTED_COLUMNS``)
    if digests:
        listed = (
            OutboxMessage.objects.filter(digest__in=digests, state=State.DIGESTED)
            .filter(digest__unknown_since__isnull=True, digest__state__in=[State.PENDING, State.WAITING])
            .values(*channel_digest.LISTED_COLUMNS, "digest_id", "reason_key", "step_due_on")
            .order_by("integration__name", "step__position", "id")
        )
        for line in listed:
            lines[line["digest_id"]].append(line)
            notices[line["id"]] = Notice(line["kind"], line["reason_key"], line["step_id"], line["step_due_on"])
    checked = {pk: notice for pk, notice in notices.items() if notice.is_checked}
    if not checked:
        return set()
    wanted = {n.step_id for n in checked.values()} | {n.handed_over_by for n in checked.values() if n.handed_over_by}
    steps = {s["id"]: s for s in IntegrationStep.objects.filter(pk__in=wanted).values(*STEP_COLUMNS)}
    why = {}
    for pk, notice in checked.items():
        reason = why_no_longer_true(notice, steps.get(notice.step_id), steps.get(notice.handed_over_by))
        if reason:
            why[pk] = reason
    for digest, its_lines in lines.items():
        gone = [line for line in its_lines if line["id"] in why]
        if not gone:
            continue
        kept = [line for line in its_lines if line["id"] not in why]
        if kept:
            _rewrite(digest, kept)
        else:
            first = why[gone[0]["id"]].removeprefix(NOT_SENT)
            why[digest] = f"{NOT_SENT}none of the {len(gone)} steps it listed is still late or due; the first: {first}"
    if why:
        _keep_as_not_true(why)
    return why.keys() & {pk for pk, _ in rows}  # digests' lines are not rows of the run


def _keep_as_not_true(why: dict[int, str]):
    """The rows set aside, each saying why; one UPDATE. Only rows not taken by a worker meanwhile."""
    by_reason = defaultdict(list)
    for pk, reason in why.items():
        by_reason[reason[:2000]].append(pk)
    said = Case(*(When(pk__in=pks, then=Value(reason)) for reason, pks in by_reason.items()), default=Value(""))
    OutboxMessage.objects.filter(
        pk__in=list(why), state__in=[State.PENDING, State.WAITING, State.DIGESTED], unknown_since__isnull=True
    ).update(state=State.NOT_TRUE, last_error=said, claimed_at=None, claimed_by="")


def _rewrite(digest: int, kept: list[dict]):
    """The digest says only its ``kept`` lines, before it is claimed and posted."""
    text, blocks = channel_digest.of_lines(kept)
    OutboxMessage.objects.filter(pk=digest, state__in=[State.PENDING, State.WAITING]).update(text=text, blocks=blocks)


def _before_it_went(what: str) -> str:
    return f"{NOT_SENT}{what}, before this could go out."


def _at(moment: datetime | None) -> str:
    if moment is None:
        return "meanwhile"
    return f"on {moment_text(moment)} ({timezone.get_current_timezone_name()})"


def _label(step: dict) -> str:
    """A step row's label, as every message names a step ("3 · Partner · Sandbox testing")."""
    return step_label(_Names(step["number"], step["side"], step["title"]))


class _Names(NamedTuple):
    """What ``step_label`` reads of a step."""

    number: int | None
    side: str
    title: str
