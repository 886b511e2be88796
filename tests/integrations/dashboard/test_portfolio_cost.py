"""The portfolio page's fixed cost: the unfiltered page counts its rows in the counts' one query,
and a filtered page still counts exactly the rows it shows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations.models import Integration
from tests.integrations.dashboard.test_portfolio import kicked_off, portfolio_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, pm):
    client.force_login(pm)
    return client


def counting_queries(queries) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if q["sql"].upper().startswith("SELECT COUNT(")]


def test_the_unfiltered_page_counts_its_rows_with_the_counts_once(staff_client, pm):
    portfolio_of(60, pm)
    Integration.objects.filter(pk=Integration.objects.order_by("pk").values("pk")[:1]).update(state="launched")

    for sort in ("", "?sort=partner", "?sort=-activity"):
        with CaptureQueriesContext(connection) as queries:
            response = staff_client.get(reverse("portfolio") + sort)

        page = response.context["page"]
        assert (page.paginator.count, page.paginator.num_pages, len(page.object_list)) == (59, 2, 50)
        assert "59 integrations, page 1 of 2" in response.content.decode()
        # The counts (running, late, blocked, due, launching) and the failed messages: no COUNT of the page's own.
        assert len(counting_queries(queries)) == 2, counting_queries(queries)


def test_a_filtered_page_counts_the_rows_it_shows(staff_client, pm):
    portfolio_of(3, pm)
    kicked_off(pm, "Zeta Markets")

    response = staff_client.get(reverse("portfolio") + "?q=Zeta")

    assert response.context["page"].paginator.count == 1
    assert "1 integration<" in response.content.decode() or "1 integration\n" in response.content.decode()
    assert [row.integration.partner.name for row in response.context["rows"]] == ["Zeta Markets"]
