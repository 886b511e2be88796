"""No list endpoint does a query per row: a page of one row costs as many queries as a full page.

The integrations list is also compared at 1 and 5 integrations in test_integrations.py.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations import plan, steps
from integrations.jira.models import JiraIssue
from integrations.models import Integration, PartnerContact
from notifications.models import OutboxMessage
from tests.factories import IntegrationFactory
from tests.integrations.api.conftest import results
from tests.integrations.helpers import KICKOFF, at, ctx, on, step

pytestmark = pytest.mark.django_db


def queries(api, path, **params) -> tuple[int, int]:
    """(rows, queries) of GET ``path``."""
    api.get(path, params)  # warm up: content types, the session, the token's last use
    with CaptureQueriesContext(connection) as captured:
        rows = results(api.get(path, params))
    return len(rows), len(captured)


@pytest.fixture
def busy(world, other_integration, pm, partner):
    """Acme's integration with history, Jira issues, contacts and outbox rows of several kinds."""
    with on("2026-03-03", 12):
        steps.start_step(step(world, "slack-jira-onboarding"), ctx(pm, at("2026-03-03", 10)))
        steps.complete_step(step(world, "autotests-configuration"), ctx(pm, at("2026-03-03", 11)))
    with on("2026-03-04", 10):
        plan.pause(world, ctx(pm, at("2026-03-04", 10), note="holiday"))
    with on("2026-03-05", 10):
        plan.resume(world, ctx(pm, at("2026-03-05", 10), note="back"))
    fixes = step(world, "smoke-test-fixes")
    for n in range(4):
        JiraIssue.objects.create(integration=world, step=fixes, key=f"ACME-{n}", is_bug=n % 2 == 0)
    for n in range(3):
        PartnerContact.objects.create(partner=partner, name=f"Contact {n}")
    for n, kind in enumerate(["reminder", "overdue", "blocked", "digest"]):
        OutboxMessage.objects.create(reason_key=f"k{n}", kind=kind, integration=world, step=fixes, text=kind)
    return world


@pytest.mark.parametrize("persona", ["staff_api", "partner_api"], indirect=True)
@pytest.mark.parametrize(
    "path", ["integrations/", "partners/", "integrations/{id}/steps/", "integrations/{id}/history/"]
)
def test_a_full_page_costs_what_one_row_does(persona, busy, path):
    path = path.format(id=busy.pk)
    one = queries(persona, path, page_size=1)
    full = queries(persona, path, page_size=200)
    assert one[0] == 1
    assert full[1] == one[1], (path, one, full)


def test_outbox_full_page_costs_what_one_row_does(staff_api, busy):
    one, full = queries(staff_api, "outbox/", page_size=1), queries(staff_api, "outbox/", page_size=200)
    assert one[0] == 1 and full[0] == 4
    assert full[1] == one[1], (one, full)


def test_step_jira_queries_do_not_grow_with_issues(staff_api, busy):
    fixes = step(busy, "smoke-test-fixes")

    def count():
        with CaptureQueriesContext(connection) as captured:
            assert staff_api.get(f"steps/{fixes.pk}/jira/").status_code == 200
        return len(captured)

    count()
    four = count()
    for n in range(4, 12):
        JiraIssue.objects.create(integration=busy, step=fixes, key=f"ACME-{n}", is_bug=n % 2 == 0)
    assert count() == four


@pytest.mark.parametrize("persona", ["staff_api", "partner_api"], indirect=True)
def test_the_integrations_list_costs_four_queries_whatever_the_portfolio(persona, busy, other_integration, partner):
    # The token with its user and partner, the count, the page's ids, its rows: for staff and a partner's user.
    def listed() -> tuple[int, list[str]]:
        persona.get("integrations/")  # warm up: the token's last use is written at most once a minute
        with CaptureQueriesContext(connection) as captured:
            rows = results(persona.get("integrations/"))
        return len(rows), [q["sql"] for q in captured]

    rows, sql = listed()
    assert rows >= 1 and len(sql) == 4, sql
    for n in range(3):
        IntegrationFactory(partner=partner, name=f"Acme copy {n}", tv_pm=busy.tv_pm)
    with on(KICKOFF, 9):
        for copy in Integration.objects.filter(name__startswith="Acme copy"):
            plan.start_integration(copy, KICKOFF, ctx(busy.tv_pm, at(KICKOFF, 9)))
    more, sql = listed()
    assert more == rows + 3 and len(sql) == 4, sql


@pytest.mark.parametrize("sort", ["due", "partner", "bugs", "-activity"])
def test_the_integrations_list_reads_none_of_the_portfolio_pages_columns_but_the_one_sorted_on(
    staff_api, busy, other_integration, sort
):
    # The portfolio page's bugs, stuck messages and last activity are not in the API's rows: a column is
    # computed only when the list is sorted on it, to cut the page; then the page's rows alone are read.
    staff_api.get("integrations/")
    with CaptureQueriesContext(connection) as captured:
        [shown] = results(staff_api.get("integrations/", {"page_size": 1, "sort": sort}))
    [ids] = [q["sql"] for q in captured if q["sql"].startswith('SELECT "integrations_integration"."id" AS "pk" FROM')]
    [rows] = [q["sql"] for q in captured if q["sql"].startswith('SELECT "integrations_integration"."id" AS "id",')]
    assert ids.endswith("LIMIT 1"), ids
    assert ("integrations_jiraissue" in ids) == (sort == "bugs")
    assert ("integrations_stepchange" in ids) == (sort == "-activity")
    assert rows.rstrip(")").endswith(f'."id" IN ({shown["id"]}'), rows  # that row only, no ORDER BY nor LIMIT
    assert "notifications_outboxmessage" not in ids
    for table in ("integrations_jiraissue", "integrations_stepchange", "notifications_outboxmessage"):
        assert table not in rows
