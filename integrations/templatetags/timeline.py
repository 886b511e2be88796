"""``row_shapes``: one row of the portfolio's timeline as SVG shapes (``read_models.portfolio_timeline``).

One tag a row rather than a template variable a number: a page of 50 rows draws some 750 step
bars, and rendering them variable by variable was about half of the page's time. The numbers and
classes are the read model's own; the words (a step's title, dates) are escaped here.
"""

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

register = template.Library()

INDENT = "\n          "  # as the page's template lays out the row's <svg>


@register.simple_tag
def row_shapes(row, chart) -> str:
    """The row's calendar lines, launch window, step bars, slip, planned launch, P85, forecast launch and today."""
    shapes = [f'<path class="tick" d="{chart.tick_path}"/>']
    if row.window_x is not None:
        shapes.append(
            f'<rect class="window" x="{row.window_x}" y="1" width="{row.window_w}" height="28">'
            "<title>Launch window (weeks 11–12)</title></rect>"
        )
    shapes.append(
        "".join(
            f'<rect class="bar {bar.state} side-{bar.side}" x="{bar.x}" y="{bar.y}" width="{bar.w}" height="9" rx="2">'
            f"<title>{escape(bar.title)}</title></rect>"
            for bar in row.bars
        )
    )
    if row.slip_w:
        shapes.append(f'<rect class="slip" x="{row.slip_x}" y="13" width="{row.slip_w}" height="3"/>')
    if row.planned_x is not None:
        shapes.append(
            f'<line class="planned" x1="{row.planned_x}" x2="{row.planned_x}" y1="2" y2="28">'
            f"<title>Planned launch {escape(row.planned_text)}</title></line>"
        )
    if row.p85_x is not None:
        shapes.append(
            f'<circle class="p85" cx="{row.p85_x}" cy="15" r="4"><title>Launch P85 {escape(row.p85_text)}</title></circle>'
        )
    if row.forecast_x is not None:
        shapes.append(
            f'<path class="forecast" d="M{row.forecast_x} 8 l6 7 l-6 7 l-6 -7 z">'
            f"<title>Forecast launch {escape(row.forecast_text)}</title></path>"
        )
    shapes.append(f'<line class="today" x1="{chart.today_x}" x2="{chart.today_x}" y1="0" y2="{chart.row_height}"/>')
    return mark_safe(INDENT.join(shapes))
