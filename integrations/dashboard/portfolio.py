"""The portfolio, the PM's queue, the CSV export and the PM's iCalendar feed.

- ``/`` (``portfolio``): one row per integration from its stored standing columns; filters, sorting
  and pages in the URL; a fixed number of SQL queries whatever the number of integrations.
- ``/queue/`` (``my-queue``): the signed-in PM's actionable TradingView steps, most urgent first,
  each with "Mark done" (``queue-complete``, a POST that htmx enhances).
- ``/portfolio.csv`` (``portfolio-csv``): the portfolio's rows under the same filters
  (``filter_portfolio`` is the one place the filters live).
- ``/calendar/<token>.ics`` (``pm-calendar``): the PM's open deadlines as all-day events.

Calendar tokens are stored nowhere: a token is ``signing.dumps({"u": user.pk, "v": <first 8 hex
digits of sha256 of the user's password hash>})`` under the salt ``CALENDAR_SALT``. Changing the
password changes the hash, so every link given out before stops working (404): that is how a PM
revokes a leaked feed link. Rotating SECRET_KEY revokes every link.
"""

import csv
import hashlib
from dataclasses import dataclass
from datetime import UTC, date, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.paginator import Paginator
from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from integrations.context import ChangeContext
from integrations.dashboard.access import staff_required
from integrations.dashboard.outbox import outbox_model
from integrations.jira.models import JiraConnection, StatusCategory
from integrations.models import ChangeSource, Integration, IntegrationStep
from integrations.standing import standing, today_for
from integrations.steps import apply_action
from integrations.stored_standing import is_blocked, is_due_by, is_late
from roadmap.models import OPEN_STATUSES, Side
from roadmap.progress import actionable_steps
from roadmap.refusals import Refusal

PAGE_SIZE = 50
CALENDAR_SALT = "integrations.dashboard.pm-calendar"


def integration_url(pk: int) -> str:
    return reverse("integration-page", args=[pk])


# --- filters: one place, for the page, its counts' links and the CSV ---------------------------

# sort key -> the column ordered on (then by partner); "-key" sorts descending. Empty values last.
SORTS = {
    "partner": "partner__name",
    "due": "next_deadline_at",
    "forecast": "forecast_launch_on",
    "slip": "slip",
    "bugs": "open_bugs",
    "updated": "updated_at",
}
STATE_CHOICES = [("running", "Running (active or paused)"), *Integration.State.choices, ("all", "All")]
SIDE_CHOICES = Integration.BallSide.choices


def _week_bounds(today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def _month_bounds(today: date) -> tuple[date, date]:
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def _blocked():
    return is_blocked(Integration)


def _late(now):
    return is_late(now)


@dataclass
class Filters:
    """The filters as read from the query string; ``query()`` gives them back for links."""

    pm: str = ""
    side: str = ""
    overdue: bool = False
    blocked: bool = False
    due: str = ""  # "week"
    launch: str = ""  # "month"
    data_type: str = ""
    parts: str = ""
    state: str = "running"
    q: str = ""
    sort: str = "due"

    @classmethod
    def from_request(cls, params) -> "Filters":
        def pick(name, allowed, default=""):
            value = params.get(name, default)
            return value if value in allowed else default

        sort = params.get("sort", "due")
        if sort.lstrip("-") not in SORTS:
            sort = "due"
        pm = params.get("pm", "")
        return cls(
            pm=pm if pm == "me" or pm == "none" or pm.isdigit() else "",
            side=pick("side", dict(SIDE_CHOICES)),
            overdue=params.get("overdue") == "1",
            blocked=params.get("blocked") == "1",
            due=pick("due", {"week"}),
            launch=pick("launch", {"month"}),
            data_type=pick("data_type", dict(Integration.DataType.choices)),
            parts=pick("parts", dict(Integration.Parts.choices)),
            state=pick("state", dict(STATE_CHOICES), "running"),
            q=params.get("q", "").strip()[:100],
            sort=sort,
        )

    def query(self, **changes) -> str:
        """The query string for these filters with ``changes`` applied (defaults left out)."""
        values = {**self.__dict__, **changes}
        pairs = {}
        for name, value in values.items():
            default = getattr(Filters, name)
            if value == default or value in ("", False, None):
                continue
            pairs[name] = "1" if value is True else value
        return urlencode(pairs)

    @property
    def active(self) -> bool:
        return self.query(sort="due") != ""


def filter_portfolio(filters: Filters, user, now=None):
    """Integrations matching ``filters``, sorted, with ``open_bugs`` and ``slip`` annotated.

    The page, its CSV and nothing else call this: the same URL gives the same rows in both.
    """
    now = now or timezone.now()
    today = today_for(now=now)
    qs = Integration.objects.all()
    if filters.state == "running":
        qs = qs.filter(state__in=Integration.RUNNING_STATES)
    elif filters.state != "all":
        qs = qs.filter(state=filters.state)
    if filters.pm == "me":
        qs = qs.filter(tv_pm=user)
    elif filters.pm == "none":
        qs = qs.filter(tv_pm__isnull=True)
    elif filters.pm:
        qs = qs.filter(tv_pm_id=int(filters.pm))
    if filters.side:
        qs = qs.filter(ball_side=filters.side)
    if filters.overdue:
        qs = qs.filter(_late(now))
    if filters.blocked:
        qs = qs.filter(_blocked())
    if filters.due == "week":
        qs = qs.filter(is_due_by(now, _week_bounds(today)[1]))
    if filters.launch == "month":
        qs = qs.filter(forecast_launch_on__range=_month_bounds(today))
    if filters.data_type:
        qs = qs.filter(data_types__contains=filters.data_type)
    if filters.parts:
        qs = qs.filter(parts=filters.parts)
    if filters.q:
        qs = qs.filter(
            Q(partner__name__icontains=filters.q)
            | Q(name__icontains=filters.q)
            | Q(jira_project_key__iexact=filters.q)
            | Q(jira_epic_key__iexact=filters.q)
        )
    open_bug = Q(jira_issues__is_bug=True, jira_issues__deleted=False) & ~Q(
        jira_issues__status_category=StatusCategory.DONE
    )
    # A subquery, not a second Count: two counted joins would multiply each other's rows.
    stuck = (
        outbox_model()
        .objects.filter(integration=OuterRef("pk"), state__in=["failed", "waiting"])
        .order_by()
        .values("integration")
        .annotate(n=Count("pk"))
        .values("n")
    )
    qs = qs.select_related("partner", "current_step", "tv_pm").annotate(
        open_bugs=Count("jira_issues", filter=open_bug),
        messages_stuck=Coalesce(Subquery(stuck, output_field=IntegerField()), Value(0)),
        slip=F("delay_tradingview_days") + F("delay_partner_days") + F("delay_both_days"),
        blocked=_blocked(),
    )
    column = F(SORTS[filters.sort.lstrip("-")])
    first = column.desc(nulls_last=True) if filters.sort.startswith("-") else column.asc(nulls_last=True)
    return qs.order_by(first, "partner__name", "name", "pk")


def portfolio_counts(user, now=None) -> dict:
    """Late, blocked, due this week and launching this month, over running integrations: one query."""
    now = now or timezone.now()
    today = today_for(now=now)
    week_end = _week_bounds(today)[1]
    return Integration.objects.filter(state__in=Integration.RUNNING_STATES).aggregate(
        late=Count("pk", filter=_late(now)),
        blocked=Count("pk", filter=Q(_blocked())),
        due_week=Count("pk", filter=is_due_by(now, week_end)),
        launch_month=Count("pk", filter=Q(forecast_launch_on__range=_month_bounds(today))),
    )


def health() -> list[dict]:
    """The Jira and Slack lines at the top of the portfolio: what is off or failing."""
    lines = []
    if not settings.JIRA_ENABLED:
        lines.append({"level": "muted", "text": "Jira sync is off: steps do not move with Jira issues."})
    else:
        connection = JiraConnection.objects.filter(pk=1).first()
        if connection and connection.is_failing:
            since = timezone.localtime(connection.failing_since)
            lines.append(
                {
                    "level": "late",
                    "text": f"Jira sync failing since {since:%Y-%m-%d %H:%M} "
                    f"({connection.consecutive_failures} tries): {connection.failure_reason[:200]}",
                }
            )
    failed = outbox_model().objects.filter(state="failed").count()
    if not settings.SLACK_ENABLED:
        lines.append({"level": "muted", "text": "Slack is not configured: no messages are sent."})
    if failed:
        lines.append({"level": "late", "text": f"{failed} Slack/e-mail message{'s' if failed != 1 else ''} failed."})
    return lines


@dataclass
class Row:
    """What one line of the portfolio shows, from the stored standing (no queries)."""

    integration: Integration
    url: str
    days_late: int
    past_window_days: int  # forecast launch after the plan's launch date (the end of the 11-12 week window)

    @classmethod
    def of(cls, integration: Integration, now) -> "Row":
        past = 0
        if integration.planned_launch_on and integration.forecast_launch_on:
            past = max(0, (integration.forecast_launch_on - integration.planned_launch_on).days)
        return cls(
            integration=integration,
            url=integration_url(integration.pk),
            days_late=integration.days_overdue(now),
            past_window_days=past,
        )


def pm_choices():
    users = get_user_model().objects.filter(pm_integrations__isnull=False).distinct().order_by("first_name", "username")
    return [(str(u.pk), u.get_full_name() or u.get_username()) for u in users]


@staff_required
def portfolio(request):
    now = timezone.now()
    filters = Filters.from_request(request.GET)
    page = Paginator(filter_portfolio(filters, request.user, now), PAGE_SIZE).get_page(request.GET.get("page"))
    counts = portfolio_counts(request.user, now)
    count_links = [
        ("late", "Late", counts["late"], filters.query(overdue=True, sort="due"), "late"),
        ("blocked", "Blocked", counts["blocked"], filters.query(blocked=True), "warn"),
        ("due_week", "Due this week", counts["due_week"], filters.query(due="week", sort="due"), ""),
        ("launch_month", "Launching this month", counts["launch_month"], Filters(launch="month").query(), "ok"),
    ]
    columns = [
        ("partner", "Partner"),
        ("", "Roadmap step"),
        ("", "Ball in court"),
        ("due", "Next due"),
        ("forecast", "Forecast launch"),
        ("slip", "Slip by side"),
        ("bugs", "Open bugs"),
        ("updated", "Last activity"),
    ]
    headers = []
    for key, label in columns:
        if not key:
            headers.append({"label": label})
            continue
        current = filters.sort.lstrip("-") == key
        descending = filters.sort.startswith("-")
        headers.append(
            {
                "label": label,
                "url": "?" + filters.query(sort=f"-{key}" if current and not descending else key),
                "aria_sort": ("descending" if descending else "ascending") if current else "",
            }
        )
    context = {
        "nav": "portfolio",
        "filters": filters,
        "page": page,
        "rows": [Row.of(i, now) for i in page.object_list],
        "count_links": count_links,
        "headers": headers,
        "health": health(),
        "pm_choices": pm_choices(),
        "side_choices": SIDE_CHOICES,
        "data_type_choices": Integration.DataType.choices,
        "parts_choices": Integration.Parts.choices,
        "state_choices": STATE_CHOICES,
        "page_query": filters.query(),
        "today": today_for(now=now),
    }
    return render(request, "dashboard/portfolio.html", context)


CSV_COLUMNS = [
    "partner",
    "integration",
    "state",
    "pm",
    "step",
    "ball",
    "next_due",
    "days_late",
    "planned_launch",
    "forecast_launch",
    "baseline_launch",
    "slip_tradingview",
    "slip_partner",
    "slip_both",
    "open_bugs",
    "blocked",
    "updated_at",
]


@staff_required
def portfolio_csv(request):
    now = timezone.now()
    filters = Filters.from_request(request.GET)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="portfolio-{today_for(now=now)}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for i in filter_portfolio(filters, request.user, now).iterator(chunk_size=500):
        writer.writerow(
            [
                i.partner.name,
                i.name,
                i.state,
                (i.tv_pm.get_username() if i.tv_pm else ""),
                (str(i.current_step) if i.current_step else ""),
                i.ball_side,
                i.next_due_on or "",
                i.days_overdue(now),
                i.planned_launch_on or "",
                i.forecast_launch_on or "",
                i.baseline_launch_on or "",
                i.delay_tradingview_days,
                i.delay_partner_days,
                i.delay_both_days,
                i.open_bugs,
                "yes" if i.blocked else "no",
                timezone.localtime(i.updated_at).isoformat(timespec="seconds"),
            ]
        )
    return response


# --- my queue -------------------------------------------------------------------------------


@dataclass
class QueueItem:
    step: IntegrationStep
    integration: Integration
    days_late: int
    url: str
    done: bool = False
    refusal: str = ""


def my_queue_items(user, now=None) -> list[QueueItem]:
    """The PM's actionable TradingView steps on active integrations, the earliest deadline first.

    A fixed number of queries whatever the number of integrations: the integrations, their steps, their events.
    """
    integrations = (
        Integration.objects.filter(tv_pm=user, state=Integration.State.ACTIVE)
        .select_related("partner")
        .prefetch_related(Prefetch("steps", queryset=IntegrationStep.objects.order_by("position")), "events")
    )
    items = []
    for integration in integrations:
        steps = list(integration.steps.all())
        now_standing = standing(integration, now, steps=steps, integration_events=integration.events.all())
        for step in actionable_steps(steps):
            if step.side != Side.TRADINGVIEW:
                continue
            step.integration = integration  # no query for step.integration in the template
            late = now_standing.days_overdue(step)
            items.append(QueueItem(step, integration, late, integration_url(integration.pk)))
    items.sort(key=lambda item: (item.step.due_date or date.max, item.integration.partner.name, item.step.position))
    return items


def calendar_token(user) -> str:
    return signing.dumps({"u": user.pk, "v": _password_version(user)}, salt=CALENDAR_SALT)


def _password_version(user) -> str:
    return hashlib.sha256((user.password or "").encode()).hexdigest()[:8]


@staff_required
def my_queue(request):
    items = my_queue_items(request.user)
    feed = request.build_absolute_uri(reverse("pm-calendar", args=[calendar_token(request.user)]))
    context = {"nav": "queue", "items": items, "calendar_url": feed, "today": today_for()}
    return render(request, "dashboard/queue.html", context)


@require_POST
@staff_required
def queue_complete(request, pk: int):
    step = get_object_or_404(IntegrationStep.objects.select_related("integration__partner"), pk=pk)
    item = QueueItem(step, step.integration, 0, integration_url(step.integration_id))
    try:
        apply_action(step, "complete", ChangeContext(source=ChangeSource.WEB, by=request.user))
    except Refusal as refusal:
        item.refusal = refusal.message
        if not request.headers.get("HX-Request"):
            messages.error(request, f"{step} (of {step.integration}) was not marked done: {refusal.message}")
    else:
        item.done = True
        step.refresh_from_db()
        if not request.headers.get("HX-Request"):
            messages.success(request, f"{step} (of {step.integration}) is done.")
    if request.headers.get("HX-Request"):
        return render(request, "dashboard/partials/portfolio_queue_row.html", {"item": item})
    return redirect("my-queue")


# --- the PM's calendar feed -----------------------------------------------------------------


def _escape(text: str) -> str:
    """RFC 5545 TEXT: backslash, semicolon and comma escaped, line breaks as \\n."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def _fold(line: str) -> str:
    """Fold a content line into lines of at most 75 octets, never splitting a UTF-8 character."""
    out, current, size = [], "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        limit = 75 if not out else 74  # continuation lines start with a space
        if size + width > limit:
            out.append(current)
            current, size = "", 0
        current += char
        size += width
    out.append(current)
    return "\r\n ".join(out)


def ical_feed(owner: str, steps, host: str, now=None) -> str:
    """The VCALENDAR text of ``steps`` (open steps with a deadline): CRLF line ends, folded."""
    now = now or timezone.now()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//TradingView integrations//PM deadlines//EN",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_escape('Integration deadlines · ' + owner)}",
    ]
    for step in steps:
        integration = step.integration
        stamp = (step.updated_at or now).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        description = f"{integration}: {step} is {step.get_status_display().lower()}, due {step.due_date:%Y-%m-%d}."
        lines += [
            "BEGIN:VEVENT",
            f"UID:integration-step-{step.pk}@{host}",
            f"DTSTAMP:{stamp}",
            f"DTSTART;VALUE=DATE:{step.due_date:%Y%m%d}",
            f"DTEND;VALUE=DATE:{step.due_date + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{_escape(f'{integration.partner.name}: {step}')}",
            f"DESCRIPTION:{_escape(description)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)


def calendar_steps(user):
    """The open steps with a deadline of the PM's active integrations, by date."""
    return (
        IntegrationStep.objects.filter(
            integration__tv_pm=user,
            integration__state=Integration.State.ACTIVE,
            status__in=OPEN_STATUSES,
            due_date__isnull=False,
        )
        .select_related("integration__partner")
        .order_by("due_date", "integration__partner__name", "position")
    )


def pm_calendar(request, token: str):
    """No log-in: the signed token is the credential (calendar apps cannot log in)."""
    try:
        data = signing.loads(token, salt=CALENDAR_SALT)
        user = get_user_model().objects.get(pk=data["u"], is_active=True, is_staff=True)
    except (signing.BadSignature, KeyError, TypeError, get_user_model().DoesNotExist):
        raise Http404("No such calendar.") from None
    if data.get("v") != _password_version(user):
        raise Http404("This calendar link was revoked.")
    owner = user.get_full_name() or user.get_username()
    body = ical_feed(owner, calendar_steps(user), request.get_host().split(":")[0])
    response = HttpResponse(body.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="deadlines.ics"'
    return response


urlpatterns = [
    path("", portfolio, name="portfolio"),
    path("portfolio.csv", portfolio_csv, name="portfolio-csv"),
    path("queue/", my_queue, name="my-queue"),
    path("queue/<int:pk>/done/", queue_complete, name="queue-complete"),
    path("calendar/<str:token>.ics", pm_calendar, name="pm-calendar"),
]
