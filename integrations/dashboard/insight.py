"""The insight page of the PM's dashboard: how long steps take, who loses days, where integrations get stuck.

The figures are plain functions over integrations loaded once with their steps (``load_portfolio``:
a fixed number of queries whatever the portfolio's size), so they are exact under test. Charts are
server-side SVG: ``bar_chart`` and ``box_plot`` turn figures into shapes (coordinates, labels and
numbers as text) that the templates draw inline, with a table of the same numbers below each.

A step's duration is in calendar days; days overdue, delay charged and slip are in working days,
as on every surface (``roadmap.standing.working_days_late``). A step starts when it becomes actionable: the latest completion of its
prerequisites (a prerequisite that does not apply passes on its own start), or the kick-off. A
completion's day is its date for the side that owed the step (the partner's own time zone,
``settings.TIME_ZONE`` for TradingView), as the standing dates it; a step is on time when that day
is no later than its stored deadline (``IntegrationStep.due_date``).
"""

import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from integrations.clock import day_of, today_for
from integrations.dashboard.access import staff_required
from integrations.models import Integration
from integrations.standing import started_on
from integrations.stored_standing import HEALTH_DEFINITION
from roadmap.models import Side, StepStatus, step_label

SIDE_LABELS = {Side.TRADINGVIEW: "TradingView", Side.PARTNER: "Partner", "both": "Both"}
NO_DATA_PART = "No data part"
NO_TRADING_PART = "No trading part"

# --- loading -------------------------------------------------------------------------------------


def load_portfolio():
    """Kicked-off integrations that are running or launched, with their steps and events: three queries."""
    states = (*Integration.RUNNING_STATES, Integration.State.LAUNCHED)
    return list(
        Integration.objects.filter(state__in=states, kickoff_on__isnull=False)
        .select_related("partner", "current_step")
        .prefetch_related("steps", "events")
        .order_by("pk")
    )


# --- figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """Five-number summary of a list of values (quartiles by the inclusive method)."""

    count: int
    minimum: float
    q1: float
    median: float
    q3: float
    maximum: float

    @property
    def text(self) -> dict:
        """The five numbers for a table: at most two decimals, no trailing zeros."""
        return {name: _fmt(float(getattr(self, name)), 2) for name in ("minimum", "q1", "median", "q3", "maximum")}

    @classmethod
    def of(cls, values) -> "Spread | None":
        values = sorted(values)
        if not values:
            return None
        if len(values) == 1:
            v = values[0]
            return cls(1, v, v, v, v, v)
        q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive")
        return cls(len(values), values[0], q1, median, q3, values[-1])


@dataclass
class StepFigures:
    code: str
    label: str
    side: str
    position: int
    days: list[int] = field(default_factory=list)
    on_time: int = 0
    with_deadline: int = 0

    @property
    def spread(self) -> Spread | None:
        return Spread.of(self.days)

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.with_deadline if self.with_deadline else None


def completion_day(step, integration) -> date:
    """The calendar day a done step was finished, for the side that owed it (as the standing counts it)."""
    return day_of(step.completed_at, step.side, integration.partner)


def step_durations(integration) -> dict:
    """{step: (start day, completion day)} for the integration's done steps (uses the prefetched steps)."""
    steps = sorted(integration.steps.all(), key=lambda s: s.position)
    by_code = {s.code: s for s in steps}
    # The first kick-off: a re-plan moves the plan, never the days steps were done.
    kickoff = started_on(integration, integration.events.all())
    starts: dict[str, date] = {}
    finishes: dict[str, date | None] = {}
    for s in steps:
        start = kickoff
        for code in s.depends_on:
            finish = finishes.get(code) if code in by_code else None
            if finish is not None and finish > start:
                start = finish
        starts[s.code] = start
        if s.status == StepStatus.DONE and s.completed_at:
            finishes[s.code] = max(kickoff, completion_day(s, integration))
        elif s.status == StepStatus.NOT_APPLICABLE:
            finishes[s.code] = start  # passes its prerequisites' finish on
        else:
            finishes[s.code] = None
    return {s: (starts[s.code], finishes[s.code]) for s in steps if s.status == StepStatus.DONE and s.completed_at}


def step_figures(integrations) -> list[StepFigures]:
    """Per template step code, in roadmap order: days per done step and the on-time count."""
    figures: dict[str, StepFigures] = {}
    for integration in integrations:
        for s in integration.steps.all():
            if s.code not in figures:
                figures[s.code] = StepFigures(s.code, step_label(s), s.side, s.position)
        for s, (start, done) in step_durations(integration).items():
            fig = figures[s.code]
            fig.days.append(max(0, (done - start).days))
            if s.due_date is not None:
                fig.with_deadline += 1
                fig.on_time += done <= s.due_date
    return sorted(figures.values(), key=lambda f: (f.position, f.code))


@dataclass
class SideFigures:
    side: str
    label: str
    spread: Spread | None
    delay_days: int


def side_figures(integrations, steps: list[StepFigures]) -> list[SideFigures]:
    """Median (and spread) of days per done step by side, and the delay charged to each side."""
    days = defaultdict(list)
    for fig in steps:
        days[fig.side].extend(fig.days)
    delay = {
        Side.TRADINGVIEW: sum(i.delay_tradingview_days for i in integrations),
        Side.PARTNER: sum(i.delay_partner_days for i in integrations),
        "both": sum(i.delay_both_days for i in integrations),
    }
    return [
        SideFigures(side, SIDE_LABELS[side], Spread.of(days[side]) if side != "both" else None, delay[side])
        for side in (Side.TRADINGVIEW, Side.PARTNER, "both")
    ]


@dataclass
class StuckFigures:
    code: str
    label: str
    position: int
    integrations: int = 0
    overdue: int = 0  # integrations overdue on it now
    overdue_days: int = 0
    worst_days: int = 0


def stuck_figures(integrations, now) -> list[StuckFigures]:
    """Running integrations by their current step: how many, how many overdue, overdue days now."""
    figures: dict[str, StuckFigures] = {}
    for integration in integrations:
        step = integration.current_step
        if not integration.is_running or step is None:
            continue
        fig = figures.setdefault(step.code, StuckFigures(step.code, step_label(step), step.position))
        fig.integrations += 1
        late = integration.days_overdue(now)
        if late:
            fig.overdue += 1
            fig.overdue_days += late
            fig.worst_days = max(fig.worst_days, late)
    return sorted(figures.values(), key=lambda f: (f.position, f.code))


def launches_per_month(integrations) -> list[tuple[str, int]]:
    """[("2026-03", 1), ("2026-04", 0), ...]: every month from the first launch to the last."""
    counts = defaultdict(int)
    for integration in integrations:
        if integration.launched_on:
            counts[(integration.launched_on.year, integration.launched_on.month)] += 1
    if not counts:
        return []
    (year, month), last = min(counts), max(counts)
    months = []
    while (year, month) <= last:
        months.append((f"{year:04d}-{month:02d}", counts[(year, month)]))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


@dataclass
class SlipGroup:
    label: str
    integrations: int
    total_slip: int
    median_slip: float
    late: int  # integrations with any slip

    @property
    def median_text(self) -> str:
        return _fmt(float(self.median_slip), 2)


def slip_by(integrations, keys_of) -> list[SlipGroup]:
    """Slip (forecast launch vs planned, in days) grouped by ``keys_of(integration)`` (a list of labels)."""
    slips = defaultdict(list)
    for integration in integrations:
        for key in keys_of(integration):
            slips[key].append(integration.slip_days)
    return [
        SlipGroup(key, len(values), sum(values), statistics.median(values), sum(1 for v in values if v))
        for key, values in sorted(slips.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    ]


def _data_types(integration):
    labels = dict(Integration.DataType.choices)
    return [labels.get(t, t) for t in integration.data_types] or [NO_DATA_PART]


def _trading_auth(integration):
    return [integration.get_trading_auth_display() if integration.trading_auth else NO_TRADING_PART]


def _data_auth(integration):
    return [integration.get_data_auth_display() if integration.data_auth else NO_DATA_PART]


def insight(integrations, now) -> dict:
    """Every figure of the page for ``integrations`` (from ``load_portfolio``) as of ``now``."""
    steps = step_figures(integrations)
    return {
        "integrations": len(integrations),
        "running": sum(1 for i in integrations if i.is_running),
        "launched": sum(1 for i in integrations if i.is_launched),
        "steps": steps,
        "sides": side_figures(integrations, steps),
        "stuck": stuck_figures(integrations, now),
        "launches": launches_per_month(integrations),
        "slip_by_data_type": slip_by(integrations, _data_types),
        "slip_by_trading_auth": slip_by(integrations, _trading_auth),
        "slip_by_data_auth": slip_by(integrations, _data_auth),
    }


# --- charts as shapes ----------------------------------------------------------------------------


def _fmt(value, decimals: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{decimals}f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


LABEL_W = 300
PLOT_W = 420
ROW_H = 30
LINE_H = 14
TOP = 10
AXIS_H = 44
VALUE_W = 90
# A label longer than this wraps onto a second line (about 290 px at 12 px): never clipped.
LABEL_CHARS = 42


def whole_ticks(value: float) -> list[int]:
    """Whole-number ticks from 0 to the first round step at or above ``value``: at most 6 of them.

    Counts and days are whole: an axis of 0.5 integrations or 6.2 days says nothing."""
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power):
            end = step * max(1, math.ceil(value / step))
            if end // step <= 5:
                return list(range(0, end + 1, step))
        power *= 10


def label_lines(label: str) -> list[str]:
    """The label on one line, or two split at a word (the second shortened if still too long)."""
    if len(label) <= LABEL_CHARS:
        return [label]
    cut = label.rfind(" ", 0, LABEL_CHARS)
    cut = cut if cut > 0 else LABEL_CHARS
    first, rest = label[:cut].rstrip(), label[cut:].strip()
    if len(rest) > LABEL_CHARS:
        rest = rest[: LABEL_CHARS - 1].rstrip() + "…"
    return [first, rest]


def _row_label(label: str, y: float) -> dict:
    lines = label_lines(label)
    # Two lines sit around the row's middle as one does.
    first_y = y + ROW_H / 2 + 4 - (LINE_H / 2 if len(lines) == 2 else 0)
    return {"label_lines": [{"text": t, "y": round(first_y + i * LINE_H, 1)} for i, t in enumerate(lines)]}


def _axis(ticks: list[int], unit: str, plot_top: int, plot_bottom: int):
    end = ticks[-1]
    return {
        "ticks": [{"x": round(LABEL_W + PLOT_W * t / end, 1), "text": str(t)} for t in ticks],
        "y": plot_bottom,
        "top": plot_top,
        "label": unit,
        "label_x": LABEL_W + PLOT_W / 2,
        "label_y": plot_bottom + 34,
        "tick_y": plot_bottom + 16,
        "x0": LABEL_W,
        "x1": LABEL_W + PLOT_W,
    }


def bar_chart(title: str, rows, unit: str, kind: str = "") -> dict | None:
    """A horizontal bar chart: ``rows`` are (label, value, css class); None when there are no rows."""
    rows = list(rows)
    if not rows:
        return None
    ticks = whole_ticks(max((value or 0) for _, value, _ in rows))
    maximum = ticks[-1]
    bars = []
    for i, (label, value, css) in enumerate(rows):
        y = TOP + i * ROW_H
        width = PLOT_W * (value or 0) / maximum
        bars.append(
            {
                "label": label,
                "value": _fmt(value),
                "css": css,
                "x": LABEL_W,
                "y": y + 4,
                "width": round(width, 1),
                "height": ROW_H - 8,
                "text_y": y + ROW_H / 2 + 4,
                "label_x": LABEL_W - 8,
                "value_x": round(LABEL_W + width + 6, 1),
                **_row_label(label, y),
            }
        )
    bottom = TOP + len(rows) * ROW_H
    return {
        "title": title,
        "unit": unit,
        "kind": kind or "bar",
        "bars": bars,
        "axis": _axis(ticks, unit, TOP, bottom),
        "width": LABEL_W + PLOT_W + VALUE_W,
        "height": bottom + AXIS_H,
    }


def box_plot(title: str, rows, unit: str) -> dict | None:
    """A horizontal box plot: ``rows`` are (label, Spread or None, css class); None without any spread."""
    rows = list(rows)
    if not any(spread for _, spread, _ in rows):
        return None
    ticks = whole_ticks(max(spread.maximum for _, spread, _ in rows if spread))
    maximum = ticks[-1]

    def x(value):
        return round(LABEL_W + PLOT_W * value / maximum, 1)

    boxes = []
    for i, (label, spread, css) in enumerate(rows):
        y = TOP + i * ROW_H
        box = {"label": label, "css": css, "label_x": LABEL_W - 8, "text_y": y + ROW_H / 2 + 4, "spread": spread}
        box.update(_row_label(label, y))
        if spread:
            box.update(
                {
                    "min_x": x(spread.minimum),
                    "q1_x": x(spread.q1),
                    "median_x": x(spread.median),
                    "q3_x": x(spread.q3),
                    "max_x": x(spread.maximum),
                    "box_w": round(max(x(spread.q3) - x(spread.q1), 1), 1),
                    "box_y": y + 5,
                    "box_h": ROW_H - 10,
                    "mid_y": y + ROW_H / 2,
                    "top_y": y + 4,
                    "bottom_y": y + ROW_H - 4,
                    "value_x": x(spread.maximum) + 6,
                    "value": f"median {_fmt(spread.median)}",
                    "summary": (
                        f"{label}: median {_fmt(spread.median)} {unit}, quartiles {_fmt(spread.q1)}–"
                        f"{_fmt(spread.q3)}, range {_fmt(spread.minimum)}–{_fmt(spread.maximum)}, "
                        f"{spread.count} done"
                    ),
                }
            )
        boxes.append(box)
    bottom = TOP + len(rows) * ROW_H
    return {
        "title": title,
        "unit": unit,
        "boxes": boxes,
        "axis": _axis(ticks, unit, TOP, bottom),
        "width": LABEL_W + PLOT_W + VALUE_W + 40,
        "height": bottom + AXIS_H,
    }


def _if_any(rows):
    """The rows when any has a value: a chart of zeros says less than "none"."""
    return rows if any(value for _, value, _ in rows) else []


def charts(figures: dict) -> dict:
    """The page's charts from ``insight()``'s figures."""
    steps = figures["steps"]
    return {
        "step_days": box_plot(
            "Days per step (done steps)", [(f.label, f.spread, f.side) for f in steps], "days per step"
        ),
        "on_time": bar_chart(
            "On-time rate per step",
            [
                (f.label, round(100 * f.on_time_rate) if f.on_time_rate is not None else 0, f.side)
                for f in steps
                if f.with_deadline
            ],
            "% of done steps on time",
        ),
        "side_days": box_plot(
            "Calendar days per step by side",
            [(s.label, s.spread, s.side) for s in figures["sides"] if s.side != "both"],
            "calendar days per step",
        ),
        "side_delay": bar_chart(
            "Delay charged per side",
            _if_any([(s.label, s.delay_days, s.side) for s in figures["sides"]]),
            "working days of delay",
        ),
        "stuck_count": bar_chart(
            "Running integrations by current step",
            [(f.label, f.integrations, "") for f in figures["stuck"]],
            "integrations",
        ),
        "stuck_overdue": bar_chart(
            "Overdue working days now by current step",
            [
                (f.label, f.overdue_days, "late")
                for f in sorted(figures["stuck"], key=lambda f: (-f.overdue_days, f.position))
                if f.overdue_days
            ],
            "working days overdue",
        ),
        "launches": bar_chart("Launches per month", [(m, n, "") for m, n in figures["launches"]], "launches"),
        "slip_by_data_type": bar_chart(
            "Slip by data type",
            _if_any([(g.label, g.total_slip, "late") for g in figures["slip_by_data_type"]]),
            "working days of slip (total)",
        ),
        "slip_by_trading_auth": bar_chart(
            "Slip by trading authorisation",
            _if_any([(g.label, g.total_slip, "late") for g in figures["slip_by_trading_auth"]]),
            "days of slip (total)",
        ),
        "slip_by_data_auth": bar_chart(
            "Slip by data authorisation",
            _if_any([(g.label, g.total_slip, "late") for g in figures["slip_by_data_auth"]]),
            "days of slip (total)",
        ),
    }


# --- view ----------------------------------------------------------------------------------------


@staff_required
def insight_page(request):
    now = timezone.now()
    figures = insight(load_portfolio(), now)
    return render(
        request,
        "dashboard/insight.html",
        {
            "nav": "insight",
            "figures": figures,
            "charts": charts(figures),
            "time_zone": settings.TIME_ZONE,
            "today": today_for(now=now),
            "health_definitions": HEALTH_DEFINITION.values(),
        },
    )


urlpatterns = [path("insight/", insight_page, name="insight")]
