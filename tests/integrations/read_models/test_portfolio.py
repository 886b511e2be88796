"""The portfolio's filters, rows and queue (integrations.read_models.portfolio), read without a page."""

from datetime import date

import pytest
from django.http import QueryDict

from integrations import plan
from integrations.read_models.portfolio import (
    CSV_COLUMNS,
    Filters,
    Row,
    csv_row,
    filter_portfolio,
    my_queue_items,
    portfolio_counts,
)
from roadmap.models import Side
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on

# A day after the first two TradingView deadlines (Thu 2026-03-05).
FRIDAY = date(2026, 3, 6)


def kicked_off(pm, name):
    integration = IntegrationFactory(partner=PartnerFactory(name=name), tv_pm=pm)
    with on(KICKOFF, 9):
        return plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))


def test_unknown_values_fall_back_to_the_defaults():
    filters = Filters.from_request(QueryDict("pm=nobody&side=x&state=x&sort=-x&due=year&q=" + "a" * 200))
    assert filters == Filters(q="a" * 100)
    assert not Filters(q="a" * 100).query(q="") and not filters.query(q="", sort="due")


def test_query_gives_back_what_was_read():
    text = "pm=me&side=partner&overdue=1&blocked=1&due=week&launch=month&state=all&q=Acme&sort=-slip"
    filters = Filters.from_request(QueryDict(text))
    assert Filters.from_request(QueryDict(filters.query())) == filters
    assert filters.active and not Filters(sort="-bugs").active


@pytest.mark.django_db
def test_rows_counts_csv_and_queue_agree(pm):
    integration = kicked_off(pm, "Acme Broker")
    now = at(FRIDAY)
    [row] = filter_portfolio(Filters(overdue=True), pm, now)
    assert row.pk == integration.pk and row.open_bugs == 0 and row.slip == 0 and not row.blocked
    assert Row.of(row, now).days_late == 1
    values = dict(zip(CSV_COLUMNS, csv_row(row, now), strict=True))
    assert (values["partner"], values["working_days_late"], values["blocked"]) == ("Acme Broker", 1, "no")
    assert portfolio_counts(pm, now)["late"] == 1
    items = my_queue_items(pm, now)
    assert items and all(item.step.side == Side.TRADINGVIEW for item in items)
    assert items[0].days_late == 1 and items[0].url == Row.of(row, now).url
