"""The portfolio in time: each integration of a page as one row of its steps against the calendar.

The rows are the portfolio's (``filter_portfolio`` cut by ``PortfolioPaginator``: the same filters,
sort and pages); this lays them out as shapes for the timeline page's SVG, on one calendar shared by
the page: today's line, each row's launch window (weeks 11-12, as the plan now stands), its planned
launch against its forecast and its P85, and its steps in two lanes, TradingView's above the
partner's, each drawn from the step before it on its side (or the kick-off) to its planned date,
coloured by how it stands: done, late (open past its deadline), open or not applicable.

It reads the stored standing and the steps' stored dates only: the page costs one query for the
steps of its rows whatever their number (and whatever the portfolio's size).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from integrations.clock import day_of, today_for
from integrations.models import Integration, IntegrationStep
from integrations.read_models.headline import launch_window
from integrations.read_models.portfolio import integration_url
from integrations.text import day_text, working_days
from roadmap.models import Side, StepStatus

CHART_W = 880  # the calendar's width, in px
ROW_H = 30  # one integration
LANE_H = 9  # one side's lane of steps
PAD_DAYS = 7  # calendar days shown before the first and after the last date of the page
STEP_FIELDS = ("id", "integration_id", "code", "number", "title", "side", "position", "status")
STEP_DATES = ("planned_due_date", "due_date", "completed_at")


@dataclass
class StepBar:
    x: float
    w: float
    y: float
    state: str  # done, late, open, not-applicable
    side: str
    title: str


@dataclass
class Row:
    integration: Integration
    url: str
    days_late: int
    bars: list = field(default_factory=list)
    window_x: float | None = None
    window_w: float = 0
    planned_x: float | None = None
    forecast_x: float | None = None
    p85_x: float | None = None
    slip_x: float | None = None  # the bar from the planned launch to a later forecast
    slip_w: float = 0
    summary: str = ""  # the row in words, for hover and screen readers

    @property
    def bars_svg(self) -> SafeString:
        """The row's step bars as SVG, written here in one go: a page draws some 750 of them, and the
        template's lookups and escaping, six a bar, cost more than the rest of the page (the titles are
        escaped here the same way)."""
        return format_html_join(
            "",
            '<rect class="bar {} side-{}" x="{}" y="{}" width="{}" height="9" rx="2"><title>{}</title></rect>',
            ((bar.state, bar.side, bar.x, bar.y, bar.w, bar.title) for bar in self.bars),
        )


@dataclass
class Tick:
    x: float
    label: str


@dataclass
class PortfolioTimeline:
    width: int
    row_height: int
    today: date
    today_x: float
    start: date
    end: date
    ticks: list = field(default_factory=list)
    rows: list = field(default_factory=list)

    @property
    def tick_path(self) -> str:
        """Every tick's line down one row, as one SVG path (drawn in each row: one element, not one a tick)."""
        return "".join(f"M{tick.x} 0V{self.row_height}" for tick in self.ticks)


def step_bars_of(integrations) -> dict[int, list[IntegrationStep]]:
    """The steps of ``integrations``, in order, by integration id: one query."""
    by_integration: dict[int, list[IntegrationStep]] = {i.pk: [] for i in integrations}
    if by_integration:
        steps = (
            IntegrationStep.objects.filter(integration_id__in=list(by_integration))
            .order_by("integration_id", "position")
            .only(*STEP_FIELDS, *STEP_DATES)
        )
        for step in steps:
            by_integration[step.integration_id].append(step)
    return by_integration


def _dates_of(i: Integration, steps) -> list[date]:
    days = [i.kickoff_on, i.planned_launch_on, i.forecast_launch_on, i.forecast_p85 if i.is_running else None]
    days += [s.planned_due_date for s in steps] + [s.due_date for s in steps]
    return [d for d in days if d]


def portfolio_timeline(integrations, now: datetime) -> PortfolioTimeline:
    """The shapes of the page's chart for ``integrations`` (a page of ``filter_portfolio``) as of ``now``."""
    integrations = list(integrations)
    today = today_for(now=now)
    steps = step_bars_of(integrations)
    days = [today] + [d for i in integrations for d in _dates_of(i, steps[i.pk])]
    start, end = min(days) - timedelta(days=PAD_DAYS), max(days) + timedelta(days=PAD_DAYS)
    span = max(1, (end - start).days)

    def x(day: date) -> float:
        return round((day - start).days * CHART_W / span, 1)

    chart = PortfolioTimeline(
        width=CHART_W,
        row_height=ROW_H,
        today=today,
        today_x=x(today),
        start=start,
        end=end,
        ticks=_ticks(start, end, x),
    )
    for i in integrations:
        chart.rows.append(_row(i, steps[i.pk], today, now, x))
    return chart


def _ticks(start: date, end: date, x) -> list[Tick]:
    """The first of each month, or each Monday when the page spans four months or less."""
    weekly = (end - start).days <= 120
    ticks, day = [], start
    while day <= end:
        if (weekly and day.weekday() == 0) or (not weekly and day.day == 1):
            ticks.append(Tick(x(day), f"{day.day} {day:%b}" if weekly else f"{day:%b %Y}"))
        day += timedelta(days=1)
    return ticks


def _step_state(step, today: date) -> str:
    if step.status == StepStatus.DONE:
        return "done"
    if step.status == StepStatus.NOT_APPLICABLE:
        return "not-applicable"
    if step.due_date and step.due_date < today:
        return "late"
    return "open"


STATE_WORDS = {"done": "done", "late": "late", "open": "open", "not-applicable": "not applicable"}


def _row(i: Integration, steps, today: date, now: datetime, x) -> Row:
    row = Row(integration=i, url=integration_url(i.pk), days_late=i.days_overdue(now))
    if i.kickoff_on is None:
        row.summary = f"{i}: not kicked off yet."
        return row
    lane_end = {Side.TRADINGVIEW: i.kickoff_on, Side.PARTNER: i.kickoff_on}
    for step in steps:
        if step.planned_due_date is None:
            continue
        lane = Side.PARTNER if step.side == Side.PARTNER else Side.TRADINGVIEW
        begins = min(lane_end[lane], step.planned_due_date)
        lane_end[lane] = step.planned_due_date + timedelta(days=1)
        state = _step_state(step, today)
        left, right = x(begins), x(step.planned_due_date + timedelta(days=1))
        title = f"{step}: planned {day_text(step.planned_due_date)}"
        if step.due_date and step.due_date != step.planned_due_date:
            title += f", deadline {day_text(step.due_date)}"
        if state == "done" and step.completed_at:
            title += f", done {day_text(day_of(step.completed_at))}"
        else:
            title += f" ({STATE_WORDS[state]})"
        row.bars.append(
            StepBar(
                x=left,
                w=max(2.0, right - left - 1),
                y=4 if lane == Side.TRADINGVIEW else 4 + LANE_H + 2,
                state=state,
                side=lane,
                title=title,
            )
        )
    window = launch_window(i.planned_launch_on, getattr(i, "launch_window_weeks", None))
    if window:
        row.window_x = x(window.start)
        row.window_w = max(2.0, x(window.end + timedelta(days=1)) - x(window.start))
    if i.planned_launch_on:
        row.planned_x = x(i.planned_launch_on)
    if i.forecast_launch_on and i.is_running:
        row.forecast_x = x(i.forecast_launch_on)
        if i.planned_launch_on and i.forecast_launch_on > i.planned_launch_on:
            row.slip_x, row.slip_w = row.planned_x, row.forecast_x - row.planned_x
    if i.forecast_p85 and i.is_running:
        row.p85_x = x(i.forecast_p85)
    row.summary = _summary(i, row, window)
    return row


def _summary(i: Integration, row: Row, window) -> str:
    parts = [f"{i}: kicked off {day_text(i.kickoff_on)}"]
    if window:
        parts.append(f"launch window {day_text(window.start)} – {day_text(window.end)}")
    if i.forecast_launch_on and i.is_running:
        parts.append(f"forecast launch {day_text(i.forecast_launch_on)}")
    if i.forecast_p85 and i.is_running:
        parts.append(f"P85 {day_text(i.forecast_p85)}")
    if i.ball_side:
        parts.append(f"ball with {i.get_ball_side_display()}")
    if row.days_late:
        parts.append(f"{working_days(row.days_late)} late")
    return "; ".join(parts) + "."
