"""The timeline of one integration's steps: planned against done or forecast, as shapes for an SVG.

The PM's integration page and the partner's stage page draw the same chart from ``standing()``;
this is the one place its rows, ticks and markers are laid out.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from integrations.read_models.headline import window_of
from integrations.text import day_month_text, day_text, working_days
from roadmap.models import StepStatus

LABEL_W, RIGHT_W, ROW_H, TOP, WIDTH = 290, 205, 26, 34, 1100


@dataclass
class TimelineRow:
    label: str
    side: str
    status: str  # text: "Done 4 Mar 2026", "3 working days overdue", ...
    y: float
    planned_x: float
    end_x: float  # done: completion; open: forecast
    deadline_x: float | None
    bar_x: float
    bar_w: float
    done: bool
    late: bool
    title: str


@dataclass
class Tick:
    x: float
    label: str


@dataclass
class Timeline:
    width: int
    height: int
    chart_left: int
    chart_right: int
    rows: list = field(default_factory=list)
    ticks: list = field(default_factory=list)
    today_x: float | None = None
    today: date | None = None
    baseline_x: float | None = None
    baseline: date | None = None
    window_x: float | None = None
    window_w: float = 0
    window: tuple | None = None
    bottom: float = 0


def _day(d) -> str:
    return day_text(d) or "—"


def timeline(now, steps) -> Timeline | None:
    """The shapes of the timeline SVG: one row a step, planned vs done/forecast, deadline and markers."""
    rows = [(s, now.of(s)) for s in steps]
    rows = [(s, o) for s, o in rows if o is not None]
    if not rows:
        return None
    launch_window = window_of(now, steps)
    window = (launch_window.start, launch_window.end) if launch_window else None
    # A cancelled integration will not finish its open steps: they are drawn where the plan put them.
    cancelled = now.integration.is_cancelled
    today = now.today
    # Done: its completion; open: its forecast, or where the plan put it when it will never finish.
    dates = [d for s, o in rows for d in (o.planned, o.deadline, o.planned if cancelled and s.is_open else o.forecast)]
    dates += [d for d in (now.baseline_launch, today, *(window or ())) if d]
    kickoff = now.integration.kickoff_on
    if kickoff:
        dates.append(kickoff)
    start, end = min(dates) - timedelta(days=3), max(dates) + timedelta(days=3)
    span = max(1, (end - start).days)
    left, right = LABEL_W, WIDTH - RIGHT_W

    def x(d: date) -> float:
        return round(left + (d - start).days * (right - left) / span, 1)

    tl = Timeline(width=WIDTH, height=0, chart_left=left, chart_right=right)
    for i, (s, o) in enumerate(rows):
        done = s.status == StepStatus.DONE
        overdue = now.days_overdue(s)
        if done:
            status = f"Done {_day(o.forecast)}" + (f", {working_days(o.days_late)} late" if o.days_late else "")
        elif s.status == StepStatus.NOT_APPLICABLE:
            status = "Not applicable"
        elif cancelled:
            status = "Open when cancelled"
        elif overdue:
            status = f"{working_days(overdue)} overdue"
        else:
            status = f"{'Blocked, ' if s.status == StepStatus.BLOCKED else ''}forecast {_day(o.forecast)}"
        never = cancelled and s.is_open
        finish = o.planned if never else o.forecast
        px, ex = x(o.planned), x(finish)
        tl.rows.append(
            TimelineRow(
                label=str(s),
                side=s.side,
                status=status,
                y=TOP + i * ROW_H,
                planned_x=px,
                end_x=ex,
                deadline_x=x(o.deadline) if o.deadline != o.planned else None,
                bar_x=min(px, ex),
                bar_w=abs(ex - px),
                done=done,
                late=bool(overdue or o.days_late or finish > o.deadline),
                title=f"{s}: planned {_day(o.planned)}, deadline {_day(o.deadline)}"
                + ("" if never else f", {'done' if done else 'forecast'} {_day(o.forecast)}")
                + f" ({status})",
            )
        )
    tl.bottom = TOP + len(rows) * ROW_H
    tl.height = int(tl.bottom + 12)
    # Ticks on the first of each month, or Mondays when the span is short.
    day = start
    step_days = 7 if span <= 120 else None
    while day <= end:
        if (step_days and day.weekday() == 0) or (not step_days and day.day == 1):
            tl.ticks.append(Tick(x(day), day_month_text(day) if step_days else f"{day:%b %Y}"))
        day += timedelta(days=1)
    tl.today, tl.today_x = today, x(today)
    if now.baseline_launch:
        tl.baseline, tl.baseline_x = now.baseline_launch, x(now.baseline_launch)
    if window:
        tl.window = window
        tl.window_x = x(window[0])
        tl.window_w = max(2.0, x(window[1] + timedelta(days=1)) - x(window[0]))
    return tl
