"""The portfolio in time: each integration of a page as one row of its steps against the calendar.

The rows are the portfolio's (``filter_portfolio`` cut by ``PortfolioPaginator``: the same filters,
sort and pages); this lays them out as shapes for the timeline page's SVG, on one calendar shared by
the page: today's line, each row's launch window (weeks 11-12, as the plan now stands), its planned
launch against its forecast and its P85, and its steps in two lanes, TradingView's above the
partner's, each drawn from the step before it on its side (or the kick-off) to its planned date,
coloured by how it stands: done, late (open past its deadline), open or not applicable.

It reads the stored standing and the steps' stored dates only: the page costs one query for the
steps of its rows whatever their number (and whatever the portfolio's size). A page draws some 750
step bars: the steps come as plain rows, not models, each date is put in words once a page, and the
page's template draws a row's shapes with one tag (``integrations.templatetags.timeline``).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property

from integrations.clock import day_of, today_for
from integrations.models import Integration, IntegrationStep
from integrations.read_models.headline import launch_window
from integrations.read_models.portfolio import SIDE_LABELS, integration_url
from integrations.text import day_text, working_days
from roadmap.models import Side, StepStatus, step_label

CHART_W = 880  # the calendar's width, in px
ROW_H = 30  # one integration
LANE_H = 9  # one side's lane of steps
PAD_DAYS = 7  # calendar days shown before the first and after the last date of the page
# What a bar reads of a step: its label (number, side, title), how it stands and its dates.
STEP_FIELDS = ("integration_id", "number", "title", "side", "status", "planned_due_date", "due_date", "completed_at")


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
    planned_text: str = ""  # the planned launch, forecast launch and P85 in words, for their hovers
    forecast_text: str = ""
    p85_text: str = ""


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

    @cached_property
    def tick_path(self) -> str:
        """Every tick's line down one row, as one SVG path (drawn in each row: one element, not one a tick)."""
        return "".join(f"M{tick.x} 0V{self.row_height}" for tick in self.ticks)


def step_bars_of(integrations) -> dict[int, list]:
    """The steps of ``integrations``, in order, by integration id, as rows of ``STEP_FIELDS``: one query.

    Rows, not models: making 750 models (with deferred fields) was about a tenth of the page's time."""
    by_integration: dict[int, list] = {i.pk: [] for i in integrations}
    if by_integration:
        steps = (
            IntegrationStep.objects.filter(integration_id__in=list(by_integration))
            .order_by("integration_id", "position")
            .values_list(*STEP_FIELDS, named=True)
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

    positions: dict[date, float] = {}  # a page's 750 bars fall on a few hundred days

    def x(day: date) -> float:
        position = positions.get(day)
        if position is None:
            position = positions[day] = round((day - start).days * CHART_W / span, 1)
        return position

    chart = PortfolioTimeline(
        width=CHART_W,
        row_height=ROW_H,
        today=today,
        today_x=x(today),
        start=start,
        end=end,
        ticks=_ticks(start, end, x),
    )
    in_words = _day_texts()
    for i in integrations:
        chart.rows.append(_row(i, steps[i.pk], today, now, x, in_words))
    return chart


def _day_texts():
    """``day_text`` remembered for the page: its rows share a few hundred dates among thousands of mentions."""
    texts: dict[date, str] = {}

    def in_words(day: date) -> str:
        text = texts.get(day)
        if text is None:
            text = texts[day] = day_text(day)
        return text

    return in_words


def _ticks(start: date, end: date, x) -> list[Tick]:
    """The first of each month, or each Monday when the page spans four months or less."""
    weekly = (end - start).days <= 120
    ticks, day = [], start
    while day <= end:
        if (weekly and day.weekday() == 0) or (not weekly and day.day == 1):
            ticks.append(Tick(x(day), f"{day.day} {day:%b}" if weekly else f"{day:%b %Y}"))
        day += timedelta(days=1)
    return ticks


DONE, NOT_APPLICABLE = str(StepStatus.DONE), str(StepStatus.NOT_APPLICABLE)  # plain text: compared 750 times a page


def _step_state(step, today: date) -> str:
    if step.status == DONE:
        return "done"
    if step.status == NOT_APPLICABLE:
        return "not-applicable"
    if step.due_date and step.due_date < today:
        return "late"
    return "open"


# How a bar's hover ends when it does not say the day it was done.
STATE_WORDS = {"done": " (done)", "late": " (late)", "open": " (open)", "not-applicable": " (not applicable)"}
ONE_DAY = timedelta(days=1)
PARTNER, TRADINGVIEW = str(Side.PARTNER), str(Side.TRADINGVIEW)  # read once, not an enum lookup a step
LANE_Y = {TRADINGVIEW: 4, PARTNER: 4 + LANE_H + 2}  # TradingView's lane above the partner's


def _row(i: Integration, steps, today: date, now: datetime, x, in_words) -> Row:
    row = Row(integration=i, url=integration_url(i.pk), days_late=i.days_overdue(now))
    if i.kickoff_on is None:
        row.summary = f"{i}: not kicked off yet."
        return row
    lane_end = {TRADINGVIEW: i.kickoff_on, PARTNER: i.kickoff_on}
    bars = row.bars
    for step in steps:
        planned = step.planned_due_date
        if planned is None:
            continue
        lane = PARTNER if step.side == PARTNER else TRADINGVIEW
        begins = min(lane_end[lane], planned)
        lane_end[lane] = after = planned + ONE_DAY
        state = _step_state(step, today)
        left, right = x(begins), x(after)
        deadline = step.due_date
        title = f"{step_label(step)}: planned {in_words(planned)}"
        if deadline and deadline != planned:
            title += f", deadline {in_words(deadline)}"
        if state == "done" and step.completed_at:
            title += f", done {in_words(day_of(step.completed_at))}"
        else:
            title += STATE_WORDS[state]
        bars.append(StepBar(left, max(2.0, right - left - 1), LANE_Y[lane], state, lane, title))
    window = launch_window(i.planned_launch_on, getattr(i, "launch_window_weeks", None))
    if window:
        row.window_x = x(window.start)
        row.window_w = max(2.0, x(window.end + timedelta(days=1)) - x(window.start))
    if i.planned_launch_on:
        row.planned_x, row.planned_text = x(i.planned_launch_on), in_words(i.planned_launch_on)
    if i.forecast_launch_on and i.is_running:
        row.forecast_x, row.forecast_text = x(i.forecast_launch_on), in_words(i.forecast_launch_on)
        if i.planned_launch_on and i.forecast_launch_on > i.planned_launch_on:
            row.slip_x, row.slip_w = row.planned_x, row.forecast_x - row.planned_x
    if i.forecast_p85 and i.is_running:
        row.p85_x, row.p85_text = x(i.forecast_p85), in_words(i.forecast_p85)
    row.summary = _summary(i, row, window, in_words)
    return row


def _summary(i: Integration, row: Row, window, in_words) -> str:
    parts = [f"{i}: kicked off {in_words(i.kickoff_on)}"]
    if window:
        parts.append(f"launch window {in_words(window.start)} – {in_words(window.end)}")
    if row.forecast_text:
        parts.append(f"forecast launch {row.forecast_text}")
    if row.p85_text:
        parts.append(f"P85 {row.p85_text}")
    if i.ball_side:
        parts.append(f"ball with {SIDE_LABELS.get(i.ball_side, i.ball_side)}")
    if row.days_late:
        parts.append(f"{working_days(row.days_late)} late")
    return "; ".join(parts) + "."
