"""``PortfolioRows``: the count and the page's ids from SQL written once per process give, for every
filter and every caller, what ``filter_portfolio`` narrowed to the caller's rows gives."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations import plan
from integrations.models import Integration, PartnerUser
from integrations.read_models.portfolio import Filters, PortfolioPaginator, PortfolioRows, filter_portfolio
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on

pytestmark = pytest.mark.django_db

PARAMS = [
    {},
    {"pm": "me"},
    {"pm": "none"},
    {"side": "tradingview"},
    {"blocked": "1"},
    {"data_type": "crypto"},
    {"parts": "both"},
    {"state": "all"},
    {"state": "launched"},
    {"sort": "-slip"},
    {"sort": "partner", "pm": "me"},
    {"q": "Zeta"},
    {"overdue": "1"},
    {"due": "week"},
    {"launch": "month"},
]


@pytest.fixture
def callers():
    """Two PMs and two partners' users, each PM leading one partner's integrations, some not kicked off."""
    pms = [UserFactory(username=name, staff=True) for name in ("alice", "dora")]
    users = []
    for n, name in enumerate(["Acme", "Zeta"]):
        partner = PartnerFactory(name=name)
        for k in range(3):
            integration = IntegrationFactory(partner=partner, tv_pm=pms[n] if k else None, name=f"{name} {k}")
            if k < 2:
                with on(KICKOFF, 9):
                    plan.start_integration(integration, KICKOFF, ctx(pms[n], at(KICKOFF, 9)))
        user = UserFactory(username=f"{name.lower()}-dev")
        PartnerUser.objects.create(user=user, partner=partner)
        users.append(user)
    Integration.objects.filter(name="Zeta 0").update(state="launched")
    return [*pms, *users, UserFactory(username="nobody")]


@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("columns", [None, ()])
def test_each_caller_gets_the_rows_its_filters_give(callers, params, columns):
    # Each caller after the first of its kind runs SQL another caller's request wrote: a key missing
    # what makes them differ (the PM "me", the partner seen) would hand one the other's rows.
    for user in callers + callers:
        rows = PortfolioRows(Filters.from_request(params), user, columns=columns)
        expected = filter_portfolio(Filters.from_request(params), user, columns=columns).visible_to(user)
        ids = list(expected.values_list("pk", flat=True))
        assert (rows.count(), rows.ids(0, 50), rows.ids(1, 3)) == (len(ids), ids, ids[1:3]), (user, params)


def test_a_page_reads_its_rows_with_their_columns_in_the_pages_order(callers):
    pm = callers[0]
    filters = Filters(state="all", sort="-partner")
    expected = list(filter_portfolio(filters, pm))
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            page = PortfolioPaginator(PortfolioRows(filters, pm), 4).page(1)
            shown = list(page.object_list)
        assert [i.pk for i in shown] == [i.pk for i in expected[:4]]
        for row, want in zip(shown, expected, strict=False):
            assert (row.open_bugs, row.blocked, row.last_activity, row.partner.name, row.tv_pm) == (
                want.open_bugs,
                want.blocked,
                want.last_activity,
                want.partner.name,
                want.tv_pm,
            )
        assert len(queries) == 3  # count, ids, rows: none for a row's partner, step or PM
