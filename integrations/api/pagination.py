"""Pages of a list: ``?page=<n>&page_size=<n>`` (50 by default, at most 200)."""

import functools

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

from integrations.api.serializers import listed
from integrations.models import Integration
from integrations.read_models.compiled import CompiledQuery
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


class ListedPaginator(PortfolioPaginator):
    """The integrations list's pages: the filtered integrations counted, the page's ids cut on them, then
    those rows read as the list shows them (``listed``: its columns, with the partner's and the step's, as
    sequences off the cursor, the id first).

    Cut and read in one query, each of the 10,000 rows sorted carried every shown column: on PostgreSQL
    that query took twice the ids'. Counted after ``listed``, the count joined every partner and step.
    """

    def rows_of(self, ids) -> dict:
        return {row[0]: row for row in _listed_by_id(len(ids)).tuples(*ids)}


@functools.lru_cache(maxsize=MAX_PAGE_SIZE)
def _listed_by_id(size: int) -> CompiledQuery:
    """``size`` integrations by id as ``listed`` reads them, as SQL written once. No sort of their own (the
    model's would sort the page on the partner's name): the ids' order is the page's."""
    stand_ins = [-n for n in range(1, size + 1)]  # no integration has a negative id
    return CompiledQuery(lambda *ids: listed(Integration.objects.filter(pk__in=ids).order_by()), stand_ins)


class ListedPages(Pages):
    django_paginator_class = ListedPaginator
