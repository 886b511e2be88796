"""No list endpoint does a query per row: a page of one row costs as many queries as a full page.

The integrations list is also compared at 1 and 5 integrations in test_integrations.py.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations import plan, steps
from integrations.jira.models import JiraIssue
from integrations.models import PartnerContact
from notifications.models import OutboxMessage
from tests.integrations.api.conftest import results
from tests.integrations.helpers import at, ctx, on, step

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
def test_the_integrations_list_is_cut_before_its_rows_columns_are_read(persona, busy, other_integration):
    # The portfolio's bugs, messages and last activity are read for the page's rows, not every row.
    persona.get("integrations/")
    with CaptureQueriesContext(connection) as captured:
        [shown] = results(persona.get("integrations/", {"page_size": 1}))
    [ids] = [q["sql"] for q in captured if q["sql"].startswith('SELECT "integrations_integration"."id" AS "pk" FROM')]
    [rows] = [q["sql"] for q in captured if "integrations_jiraissue" in q["sql"]]
    assert " LIMIT 1" in ids and "integrations_jiraissue" not in ids
    assert rows.rstrip(")").endswith(f'."id" IN ({shown["id"]}')  # that row only, no ORDER BY nor LIMIT of its own
