"""``timeline_row``: one row of the portfolio's timeline, its integration and its SVG shapes
(``read_models.portfolio_timeline``).

One tag a row rather than a template variable a number: a page of 50 rows draws some 750 step
bars, and rendering them variable by variable was about half of the page's time; the row's heading
(name, health, ball, step) through the template was a third of what remained. The numbers and
classes are the read model's own; the words (names, a step's title, dates) are escaped here.
"""

from html import escape  # as Django's escape writes it, without its check for lazy text on each call

from django import template
from django.utils.safestring import mark_safe

from integrations.read_models.portfolio import SIDE_LABELS, STATE_LABELS
from integrations.stored_standing import HEALTH_DEFINITION

register = template.Library()
HEALTH_TONE = {"late": "late", "at_risk": "warn"}  # any other mark: "ok"


@register.simple_tag
def timeline_row(row, chart) -> str:
    """The row's ``<tr>``: who (name, health, ball, step) and when (the calendar's shapes)."""
    i = row.integration
    late = ' class="is-late"' if row.days_late else ""
    summary = escape(row.summary)
    return mark_safe(
        f'\n    <tr id="timeline-{i.pk}"{late}>\n      <th scope="row" class="who">\n        {_who(row, i)}\n      </th>\n'
        f'      <td class="when">\n        <svg width="{chart.width}" height="{chart.row_height}" role="img" '
        f'aria-label="{summary}">\n          <title>{summary}</title>\n          {row_shapes(row, chart)}\n'
        "        </svg>\n      </td>\n    </tr>\n    "
    )


def _who(row, i) -> str:
    partner = i.partner.name
    html = f'<a href="{row.url}">{escape(partner)}</a>'
    if i.name != partner:
        html += f' <span class="muted small">{escape(i.name)}</span>'
    html += f'\n        <div class="marks">{_health_mark(i)}\n\n          '
    if i.ball_side:
        html += f'<span class="badge {escape(i.ball_side)}">Ball: {escape(SIDE_LABELS.get(i.ball_side, i.ball_side))}</span>'
    elif i.state != "active":
        html += f'<span class="badge warn">{escape(STATE_LABELS.get(i.state, i.state))}</span>'
    html += "</div>\n        "
    if i.current_step:
        html += f'<div class="small muted step">{escape(str(i.current_step))}</div>'
    elif not i.kickoff_on:
        html += '<div class="small muted">Not kicked off</div>'
    return html


def _health_mark(i) -> str:
    """Late, at risk or on track now (``Integration.health_mark``), its definition on hover and for screen readers."""
    mark = i.health_mark
    if not mark:
        return '<span class="muted">—</span>'
    slug, definition = mark.slug, escape(HEALTH_DEFINITION[mark])
    return (
        f'<span class="badge health-{slug} {HEALTH_TONE.get(slug, "ok")}" title="{definition}" data-health="{slug}">'
        f'{escape(str(mark.label))}<span class="visually-hidden"> ({definition})</span></span>'
    )


INDENT = "\n          "  # as the page's template lays out the row's <svg>


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
