"""``portfolio_row``: one line of the portfolio as HTML (``read_models.portfolio.Row``).

One tag a row rather than an included template: a page has 50 rows of some sixty variables and
conditions each, and the template engine's lookups and escaping of them were a third of the page's
CPU time, more than its queries. The words and dates are ``Row.of``'s; every text that comes from a
partner, a person or the plan (names, step titles, notes) is escaped here.
"""

from html import escape  # as Django's escape writes it, without its check for lazy text on each call

from django import template
from django.utils.safestring import mark_safe
from django.utils.text import Truncator

from integrations.read_models.portfolio import SIDE_LABELS, STATE_LABELS
from integrations.text import working_days

register = template.Library()

NONE = '<span class="muted">—</span>'
HEALTH_TONE = {"late": "late", "at_risk": "warn"}  # any other mark: "ok"
NL = "\n    "  # a cell's lines, as the page's source lays them out


@register.simple_tag
def portfolio_row(row) -> str:
    """The row's ``<tr>``: partner, health, step, ball, next due, forecast, P85, slip, bugs, last activity."""
    i = row.integration
    cells = [
        _partner(row, i),
        _health(row),
        _step(row, i),
        _ball(i),
        _next_due(row),
        _forecast(row),
        _p85(row),
        _slip(row, i),
        _bugs(i),
        f'<td data-label="Last activity"><time datetime="{row.activity_at}" title="The last change a person or Jira '
        f'made, {escape(row.activity)}">{escape(row.activity_ago)}</time></td>',
    ]
    late = "is-late" if row.days_late else ""
    return mark_safe(f'\n\n<tr id="integration-{i.pk}" class="{late}">\n  ' + "\n  ".join(cells) + "\n</tr>\n\n")


def _partner(row, i) -> str:
    partner = i.partner.name
    html = f'<td data-label="Partner"><a href="{row.url}">{escape(partner)}</a>'
    if i.name != partner:
        html += f'<div class="muted small">{escape(i.name)}</div>'
    html += NL
    if i.state != "active":
        html += f'<span class="badge warn">{escape(STATE_LABELS.get(i.state, i.state))}</span>'
    html += NL
    if i.blocked:
        html += '<span class="badge late">Blocked</span>'
    return html + f'{NL}<div class="muted small">{escape(row.pm) if row.pm else "No PM"}</div></td>'


def _health(row) -> str:
    mark = row.health
    if not mark:
        return f'<td data-label="Health">{NONE}</td>'
    slug, definition = mark.slug, escape(row.health_definition)
    return (
        f'<td data-label="Health"><span class="badge health-{slug} {HEALTH_TONE.get(slug, "ok")}" '
        f'title="{definition}" data-health="{slug}">{escape(str(mark.label))}<span class="visually-hidden"> '
        f"({definition})</span></span></td>"
    )


def _step(row, i) -> str:
    ending = row.ending
    if ending and ending.is_cancelled:
        note = escape(Truncator(ending.note or "No reason recorded.").chars(160))
        text = f'<span class="late">Cancelled {escape(row.ended_on)}</span><div class="small muted">{note}</div>{NL}'
    elif ending:
        text = f"Launched {escape(row.ended_on)}{NL}"
    elif i.current_step:
        text = f"{escape(str(i.current_step))}{NL}"
    elif i.kickoff_on:
        text = f'<span class="muted">All steps settled</span>{NL}'
    else:
        text = f'<span class="muted">Not kicked off:</span> <a href="{row.kick_off_url}">kick it off</a>'
    return f'<td data-label="Roadmap step">{text}</td>'


def _ball(i) -> str:
    if not i.ball_side:
        return f'<td data-label="Ball in court">{NONE}</td>'
    html = f'<td data-label="Ball in court"><span class="badge {escape(i.ball_side)}">{escape(SIDE_LABELS.get(i.ball_side, i.ball_side))}</span>'
    if i.current_step:
        html += f'<div class="small">{escape(i.current_step.title)}</div>'
    return html + "</td>"


def _next_due(row) -> str:
    if not row.next_due:
        return f'<td data-label="Next due">{NONE}</td>'
    mark = ""
    if row.days_late:
        mark = f'<div class="late">{working_days(row.days_late)} late</div>'
    elif row.due_today:
        mark = '<div class="badge warn">Due today</div>'
    return f'<td data-label="Next due">{escape(row.next_due)}{NL}{mark}{NL}</td>'


def _forecast(row) -> str:
    if not row.forecast:
        cancelled = row.ending and row.ending.is_cancelled
        text = f'<span class="muted">none: cancelled</span>{NL}' if cancelled else NONE
        return f'<td data-label="Forecast launch">{text}</td>'
    window = ""
    if row.past_window_days:
        window = f'<div class="small late">{working_days(row.past_window_days)} past the 11–12 week window</div>'
    elif row.planned:
        window = '<div class="small muted">in the 11–12 week window</div>'
    planned = ""
    if row.planned:
        planned = f'<div class="muted small">planned {escape(row.planned)}'
        if row.window_dates:
            planned += f" (window {escape(row.window_dates)})"
        if row.baseline:
            planned += f"; baseline {escape(row.baseline)}"
        planned += "</div>"
    slip = (
        f'<div class="small late">+{working_days(row.slip_vs_baseline)} vs baseline</div>'
        if row.slip_vs_baseline
        else ""
    )
    return f'<td data-label="Forecast launch">{escape(row.forecast)}{NL}{window}{NL}{planned}{NL}{slip}{NL}</td>'


def _p85(row) -> str:
    if not row.p85:
        return f'<td data-label="Launch P85">{NONE}</td>'
    return f'<td data-label="Launch P85">{escape(row.p85)}<div class="muted small">P50 {escape(row.p50)}</div></td>'


def _slip(row, i) -> str:
    if i.slip:
        sides = ""
        if i.delay_tradingview_days:
            sides += f"TradingView {working_days(i.delay_tradingview_days)} "
        if i.delay_partner_days:
            sides += f"Partner {working_days(i.delay_partner_days)} "
        if i.delay_both_days:
            sides += f"Both {working_days(i.delay_both_days)}"
        text = f'<span class="late">{working_days(i.slip)}</span>{NL}<div class="small">{sides}</div>{NL}'
    elif i.kickoff_on and not (row.ending and row.ending.is_cancelled):
        text = f'<span class="badge ok">On plan</span>{NL}'
    else:
        text = NONE
    return f'<td data-label="Slip by side">{text}</td>'


def _bugs(i) -> str:
    html = f'<span class="badge warn">{i.open_bugs} open</span>' if i.open_bugs else '<span class="muted">0</span>'
    if i.messages_stuck:
        html += (
            '<br><span class="badge late" title="Slack messages waiting to retry or failed">'
            f"Slack: {i.messages_stuck} stuck</span>"
        )
    return f'<td data-label="Open bugs">{html}</td>'
