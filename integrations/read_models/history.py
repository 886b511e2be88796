"""An integration's history: its steps' changes and its own events, merged, newest first.

``MergedHistory`` reads lazily, as a queryset does: ``count()`` counts both sources (two
queries) and a slice reads each source only up to the slice's end (two queries) before merging,
so a page costs the same whatever the length of the history. Django's ``Paginator`` (the admin,
the pages) and DRF's pagination (the API) take it as they take a queryset.

``history()`` is one page of it in words (``HistoryRow``: what changed, who, from where, why, and
whether the partner reads the note), as the admin's change pages and the dashboard's integration
page show it.
"""

import math
from dataclasses import dataclass
from datetime import date, datetime

from django.urls import reverse

from integrations.models import Integration, IntegrationEvent, StepChange
from integrations.text import day_text
from roadmap.models import StepStatus


def newest_first(row) -> tuple:
    """Sort key: newest first; within one instant (a kick-off writes one event and a row a step),
    the integration's event first, then the steps' rows in the order they were written."""
    return (-row.at.timestamp(), 0 if isinstance(row, IntegrationEvent) else 1, row.pk)


class MergedHistory:
    """Each row comes ``with_partner_view()``: whether the partner reads its note (``note_seen_by``)."""

    def __init__(self, step_changes, events=None):
        self.step_changes = step_changes.select_related("step", "by").with_partner_view()
        self.events = events.select_related("by").with_partner_view() if events is not None else None

    def count(self) -> int:
        return self.step_changes.count() + (self.events.count() if self.events is not None else 0)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if isinstance(key, int):
            return self[key : key + 1][0]
        start, stop = key.start or 0, key.stop
        if stop is None:
            stop = self.count()
        rows = list(self.step_changes.order_by("-at", "id")[:stop])
        if self.events is not None:
            rows += list(self.events.order_by("-at", "id")[:stop])
        rows.sort(key=newest_first)
        return rows[start:stop]


def _day(value) -> str:
    return day_text(value)


def _stored_day(value: str) -> str:
    """An event's stored value as people read it: an ISO date ("2026-03-05", as events keep dates)
    becomes "5 Mar 2026"; any other value (a state, a title) is shown as it is."""
    try:
        return day_text(date.fromisoformat(value))
    except (TypeError, ValueError):
        return value


def _step_url(step_id) -> str:
    """The step's admin page: where a history row's subject links."""
    return reverse("admin:integrations_integrationstep_change", args=[step_id])


HISTORY_PER_PAGE = 50
HISTORY_PAGE_PARAM = "history_page"


@dataclass(frozen=True)
class HistoryRow:
    """One change, as the history table shows it."""

    at: datetime
    subject: str  # the step's label, or "Integration"
    subject_url: str
    change: str
    who: str
    source: str
    note: str
    partner_sees_note: bool = False  # the partner reads the note (StepChange/IntegrationEvent.PARTNER_READS)
    entered_at: datetime | None = None  # a back-dated entry: when it was entered (``at`` is when it happened)


@dataclass(frozen=True)
class History:
    rows: list
    total: int
    page: int
    pages: int
    per_page: int
    param: str = HISTORY_PAGE_PARAM
    show_subject: bool = True  # False on a step's page: every row is that step's

    @property
    def page_numbers(self) -> range:
        return range(1, self.pages + 1)


def _status_label(code: str) -> str:
    return StepStatus(code).label if code in StepStatus.values else code


def _step_change_text(change: StepChange) -> str:
    parts = []
    if not change.from_status:
        parts.append(f"Planned: {_status_label(change.to_status)}")
    elif change.from_status != change.to_status:
        parts.append(f"{_status_label(change.from_status)} → {_status_label(change.to_status)}")
    if change.from_due != change.to_due:
        if change.from_due is None:
            parts.append(f"due {_day(change.to_due)}")
        else:
            parts.append(f"due {_day(change.from_due)} → {_day(change.to_due) or '-'}")
    return "; ".join(parts) or _status_label(change.to_status)


def _event_text(event: IntegrationEvent) -> str:
    kind, before, after = event.kind, _stored_day(event.from_value), _stored_day(event.to_value)
    K = IntegrationEvent.Kind
    if kind == K.KICKED_OFF:
        return f"Kicked off on {after}"
    if kind == K.REPLANNED:
        return f"Re-planned: kick-off {before} → {after}"
    if kind == K.PAUSED:
        return f"Paused on {after}"
    if kind == K.RESUMED:
        return f"Resumed on {after} (paused since {before})" if before else f"Resumed on {after}"
    if kind == K.LAUNCHED:
        return f"Launched on {after}"
    if kind == K.LAUNCH_AGREED:
        return f"Launch agreed for {after} (was {before})" if before else f"Launch agreed for {after}"
    if kind == K.CANCELLED:
        was = Integration.State(before).label if before in Integration.State.values else before
        return f"Cancelled (was {was})" if was else "Cancelled"
    if kind == K.FORECAST_SHOWN:
        return "The partner sees the P50 launch" if after == "shown" else "The partner no longer sees the P50 launch"
    return event.get_kind_display()


def _step_change_row(change: StepChange) -> HistoryRow:
    step = change.step
    return HistoryRow(
        at=change.at,
        subject=str(step),
        subject_url=_step_url(step.pk),
        change=_step_change_text(change),
        who=change.who,
        source=change.get_source_display(),
        note=change.note,
        partner_sees_note=change.partner_sees_note,
        entered_at=change.entered_at,
    )


def _event_row(event: IntegrationEvent) -> HistoryRow:
    return HistoryRow(
        at=event.at,
        subject="Integration",
        subject_url="",
        change=_event_text(event),
        who=event.who,
        source=event.get_source_display(),
        note=event.note,
        partner_sees_note=event.partner_sees_note,
        entered_at=event.entered_at,
    )


def history(request, step_changes, events=None, per_page: int = HISTORY_PER_PAGE, show_subject=True) -> History:
    """One page of step changes and integration events merged, newest first; four queries
    whatever the number of rows (``MergedHistory``)."""
    merged = MergedHistory(step_changes, events)
    total = merged.count()
    pages = max(1, math.ceil(total / per_page))
    try:
        page = min(max(1, int(request.GET.get(HISTORY_PAGE_PARAM, 1))), pages)
    except ValueError:
        page = 1
    end = page * per_page
    rows = [
        _event_row(r) if isinstance(r, IntegrationEvent) else _step_change_row(r) for r in merged[end - per_page : end]
    ]
    return History(rows, total, page, pages, per_page, show_subject=show_subject)
