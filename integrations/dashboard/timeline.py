"""The portfolio's timeline (``/timeline/``, ``portfolio-timeline``): every integration of the portfolio as
one row of its steps against the calendar, 50 to a page.

The rows are the portfolio's: the same filters, sort and pages (``Filters``, ``filter_portfolio``,
``PortfolioPaginator``, the portfolio's filter form and sort links); the shapes come from
``integrations.read_models.portfolio_timeline``. A fixed number of SQL queries whatever the number of
integrations.
"""

from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone

from integrations.dashboard.access import staff_required
from integrations.dashboard.portfolio import PAGE_SIZE, filter_choices, sort_headers
from integrations.read_models.portfolio import Filters, PortfolioPaginator, PortfolioRows
from integrations.read_models.portfolio_timeline import portfolio_timeline
from integrations.stored_standing import HEALTH_DEFINITION

COLUMNS = ("launch_window_weeks",)  # of the portfolio's annotated columns, the one a row draws (and the sort's)
SORTS = [
    ("health", "Health"),
    ("due", "Next due"),
    ("forecast", "Forecast launch"),
    ("p85", "Launch P85"),
    ("slip", "Slip"),
    ("partner", "Partner"),
]


@staff_required
def timeline_page(request):
    now = timezone.now()
    filters = Filters.from_request(request.GET)
    integrations = PortfolioRows(filters, request.user, now, columns=COLUMNS, related=("partner", "current_step"))
    page = PortfolioPaginator(integrations, PAGE_SIZE).get_page(request.GET.get("page"))  # no PM drawn
    rows = list(page.object_list)
    context = {
        "nav": "timeline",
        "filters": filters,
        "filters_action": reverse("portfolio-timeline"),
        "page": page,
        "chart": portfolio_timeline(rows, now) if rows else None,
        "sorts": sort_headers(filters, SORTS),
        "health_definitions": HEALTH_DEFINITION.values(),
        "page_query": filters.query(),
        **filter_choices(),
    }
    return render(request, "dashboard/timeline.html", context)


urlpatterns = [path("timeline/", timeline_page, name="portfolio-timeline")]
