"""Pages of a list: ``?page=<n>&page_size=<n>`` (50 by default, at most 200)."""

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

from integrations.read_models.portfolio import PortfolioPaginator

MAX_PAGE_SIZE = 200


def _positive(request, name: str, maximum: int | None = None) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if not value.isdigit() or int(value) < 1 or (maximum is not None and int(value) > maximum):
        bound = f" of at most {maximum}" if maximum else ""
        raise ValidationError({name: [f"Give a whole number from 1{bound}, not {value[:20]!r}."]})
    return int(value)


class Pages(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        return _positive(request, "page_size", MAX_PAGE_SIZE) or self.page_size

    def paginate_queryset(self, queryset, request, view=None):
        _positive(request, "page")
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": "page",
                "required": False,
                "in": "query",
                "description": "The page number, from 1; a page beyond the last is 404.",
                "schema": {"type": "integer", "minimum": 1},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": f"Rows a page (default 50, at most {MAX_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
        ]


class PortfolioPages(Pages):
    """The integrations list's pages: cut on the integration table first (``PortfolioPaginator``)."""

    django_paginator_class = PortfolioPaginator
