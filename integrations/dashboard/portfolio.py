"""The portfolio, the PM's queue, the CSV export and the PM's iCalendar feed.

- ``/`` (``portfolio``): one row per integration from its stored standing columns; filters, sorting
  and pages in the URL; a fixed number of SQL queries whatever the number of integrations.
- ``/queue/`` (``my-queue``): the signed-in PM's actionable TradingView steps, most urgent first,
  each with "Mark done" (``queue-complete``, a POST that htmx enhances).
- ``/queue/`` also lists the partner steps to chase (``notifications.chase``), each with "Remind now"
  (``queue-remind``, a POST that htmx enhances): the reminder written through the outbox, once a day.
- ``/portfolio.csv`` (``portfolio-csv``): the portfolio's rows under the same filters.
- ``/calendar/<token>.ics`` (``pm-calendar``): the PM's open deadlines as all-day events.

The rows, the filters and the queue are read from ``integrations.read_models.portfolio`` (where
``filter_portfolio`` is the one place the filters live), the feed's events from
``integrations.read_models.calendar``; this module parses, checks who asks, and renders.

Calendar tokens are stored nowhere: a token is ``signing.dumps({"u": user.pk, "v": <first 8 hex
digits of sha256 of the user's password hash>})`` under the salt ``CALENDAR_SALT``. Changing the
password changes the hash, so every link given out before stops working (404): that is how a PM
revokes a leaked feed link. Rotating SECRET_KEY revokes every link.
"""

import csv
import hashlib

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core import signing
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from integrations.clock import today_for
from integrations.context import ChangeContext
from integrations.dashboard.access import staff_required
from integrations.models import Integration, IntegrationStep
from integrations.read_models.calendar import ical_feed, pm_deadlines
from integrations.read_models.portfolio import (
    CSV_COLUMNS,
    SIDE_CHOICES,
    STATE_CHOICES,
    Filters,
    PortfolioPaginator,
    PortfolioRows,
    QueueItem,
    Row,
    csv_row,
    filter_portfolio,
    health,
    integration_url,
    my_queue_items,
    pm_choices,
    portfolio_counts,
)
from integrations.steps import apply_action
from notifications.chase import NothingToChase, chase_item, partner_steps_to_chase, remind_now
from roadmap.refusals import Refusal

PAGE_SIZE = 50
CALENDAR_SALT = "integrations.dashboard.pm-calendar"


@staff_required
def portfolio(request):
    now = timezone.now()
    today = today_for(now=now)
    filters = Filters.from_request(request.GET)
    counts = portfolio_counts(request.user, now)
    paginator = PortfolioPaginator(PortfolioRows(filters, request.user, now), PAGE_SIZE)
    if filters.every_running:
        # The unfiltered portfolio (the page most often asked for): the counts' query has counted
        # its rows already, so the paginator does not count them again.
        paginator.count = counts["running"]
    page = paginator.get_page(request.GET.get("page"))
    count_links = [
        ("late", "Overdue", counts["late"], filters.query(overdue=True, sort="due"), "late"),
        ("blocked", "Blocked", counts["blocked"], filters.query(blocked=True), "warn"),
        ("due_week", "Due this week", counts["due_week"], filters.query(due="week", sort="due"), ""),
        ("launch_month", "Launching this month", counts["launch_month"], Filters(launch="month").query(), "ok"),
    ]
    columns = [
        ("partner", "Partner"),
        ("health", "Health"),
        ("", "Roadmap step"),
        ("", "Ball in court"),
        ("due", "Next due"),
        ("forecast", "Forecast launch"),
        ("p85", "Launch P85"),
        ("slip", "Slip by side (working days)"),
        ("bugs", "Open bugs"),
        ("activity", "Last activity"),
    ]
    context = {
        "nav": "portfolio",
        "filters": filters,
        "page": page,
        "rows": [Row.of(i, now, today) for i in page.object_list],
        "count_links": count_links,
        "headers": sort_headers(filters, columns),
        "health": health(),
        **filter_choices(),
        "page_query": filters.query(),
        "today": today,
    }
    return render(request, "dashboard/portfolio.html", context)


def sort_headers(filters: Filters, columns) -> list[dict]:
    """Column headers for ``(sort key, label)`` pairs: each sortable one links to its sort, the current one
    to the other way round, with ``aria_sort`` saying which way it is sorted now (the portfolio, its timeline)."""
    headers = []
    for key, label in columns:
        if not key:
            headers.append({"label": label})
            continue
        current = filters.sort.lstrip("-") == key
        descending = filters.sort.startswith("-")
        headers.append(
            {
                "key": key,
                "label": label,
                "url": "?" + filters.query(sort=f"-{key}" if current and not descending else key),
                "aria_sort": ("descending" if descending else "ascending") if current else "",
            }
        )
    return headers


def filter_choices() -> dict:
    """The choices of the portfolio's filter form (``partials/portfolio_filters.html``), for every page showing it."""
    return {
        "pm_choices": pm_choices(),
        "side_choices": SIDE_CHOICES,
        "data_type_choices": Integration.DataType.choices,
        "parts_choices": Integration.Parts.choices,
        "state_choices": STATE_CHOICES,
    }


@staff_required
def portfolio_csv(request):
    now = timezone.now()
    filters = Filters.from_request(request.GET)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="portfolio-{today_for(now=now)}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for i in filter_portfolio(filters, request.user, now).iterator(chunk_size=500):
        writer.writerow(csv_row(i, now))
    return response


# --- my queue -------------------------------------------------------------------------------


@staff_required
def my_queue(request):
    items = my_queue_items(request.user)
    feed = request.build_absolute_uri(reverse("pm-calendar", args=[calendar_token(request.user)]))
    context = {
        "nav": "queue",
        "items": items,
        "chase": partner_steps_to_chase(request.user),
        "calendar_url": feed,
        "today": today_for(),
    }
    return render(request, "dashboard/queue.html", context)


@require_POST
@staff_required
def queue_remind(request, pk: int):
    """ "Remind now" on a partner step to chase: its reminder through the outbox, once a day."""
    try:
        item = chase_item(request.user, pk)
    except NothingToChase as refusal:
        if request.htmx:
            return HttpResponse(str(refusal), status=409, content_type="text/plain; charset=utf-8")
        messages.error(request, str(refusal))
        return redirect("my-queue")
    if not item.can_remind:
        item.refusal = "No Slack channel is set for this integration: set one first."
    else:
        item.just_sent = remind_now(item)
    if request.htmx:
        return render(request, "dashboard/partials/chase_row.html", {"item": item})
    if item.can_remind:
        when = timezone.localtime(item.sent_today.created_at)
        text = "Reminder written" if item.just_sent else "Already reminded today"
        messages.success(request, f"{text} at {when:%H:%M}: {item.step} (of {item.integration}).")
    else:
        messages.error(request, item.refusal)
    return redirect("my-queue")


@require_POST
@staff_required
def queue_complete(request, pk: int):
    step = get_object_or_404(IntegrationStep.objects.select_related("integration__partner"), pk=pk)
    item = QueueItem(step, step.integration, 0, integration_url(step.integration_id))
    try:
        apply_action(step, "complete", ChangeContext.web(request.user))
    except Refusal as refusal:
        item.refusal = refusal.message
        if not request.htmx:
            messages.error(request, f"{step} (of {step.integration}) was not marked done: {refusal.message}")
    else:
        item.done = True
        step.refresh_from_db()
        if not request.htmx:
            messages.success(request, f"{step} (of {step.integration}) is done.")
    if request.htmx:
        return render(request, "dashboard/partials/portfolio_queue_row.html", {"item": item})
    return redirect("my-queue")


# --- the PM's calendar feed -----------------------------------------------------------------


def calendar_token(user) -> str:
    return signing.dumps({"u": user.pk, "v": _password_version(user)}, salt=CALENDAR_SALT)


def _password_version(user) -> str:
    return hashlib.sha256((user.password or "").encode()).hexdigest()[:8]


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
    body = ical_feed(owner, pm_deadlines(user), request.get_host().split(":")[0])
    response = HttpResponse(body.encode("utf-8"), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="deadlines.ics"'
    return response


urlpatterns = [
    path("", portfolio, name="portfolio"),
    path("portfolio.csv", portfolio_csv, name="portfolio-csv"),
    path("queue/", my_queue, name="my-queue"),
    path("queue/<int:pk>/done/", queue_complete, name="queue-complete"),
    path("queue/<int:pk>/remind/", queue_remind, name="queue-remind"),
    path("calendar/<str:token>.ics", pm_calendar, name="pm-calendar"),
]
