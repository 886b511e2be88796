"""The portfolio's filters, rows and queue (integrations.read_models.portfolio), read without a page."""

from datetime import date

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.formats import date_format

from integrations import plan
from integrations.models import Integration
from integrations.read_models.portfolio import (
    CSV_COLUMNS,
    Filters,
    Row,
    csv_row,
    filter_portfolio,
    my_queue_items,
    pm_choices,
    portfolio_counts,
)
from integrations.stored_standing import Health
from integrations.text import day_month_text, day_text
from roadmap.models import Side
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory
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


# --- what a page of rows costs -----------------------------------------------------------------


@pytest.mark.django_db
def test_pm_choices_probe_each_user_not_every_integration(pm):
    # At 10,000 integrations a DISTINCT over the join of users and integrations cost 27 ms of SQLite.
    kicked_off(pm, "Acme Broker")
    kicked_off(pm, "Beta Broker")
    UserFactory(username="carol", first_name="Carol", staff=True)  # a PM of nothing: not offered
    with CaptureQueriesContext(connection) as captured:
        choices = pm_choices()
    assert choices == [(str(pm.pk), pm.get_full_name() or pm.get_username())]
    [sql] = [q["sql"] for q in captured.captured_queries]
    assert "DISTINCT" not in sql and "EXISTS" in sql


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's plan names a covering index")
def test_the_counts_read_one_index_not_the_integrations_rows(pm):
    kicked_off(pm, "Acme Broker")
    with CaptureQueriesContext(connection) as captured:
        portfolio_counts(pm, at(FRIDAY))
    [sql] = [q["sql"] for q in captured.captured_queries]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        plan_lines = [row[-1] for row in cursor.fetchall()]
    assert any("COVERING INDEX integration_counts" in line for line in plan_lines), plan_lines


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's plan says when the index alone answers")
def test_the_counts_can_be_answered_from_the_index_alone_on_postgresql(pm):
    # At 10,000 integrations PostgreSQL read every row of the table for the counts: one pass over the running
    # integrations tested each count's condition and needed the id, which the index lacks. Each count now
    # reads its own range of an index. (A table this small is read whole anyway: plans without that.)
    kicked_off(pm, "Acme Broker")
    with CaptureQueriesContext(connection) as captured:
        portfolio_counts(pm, at(FRIDAY))
    [sql] = [q["sql"] for q in captured.captured_queries]
    with connection.cursor() as cursor:
        # On a table this small the choice among the indexes that begin with the state follows whatever statistics
        # earlier tests left (CI once saw the health index, and the rows read for the dates): this test's
        # transaction keeps only the counts' own index, and the question is whether that index alone answers them.
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'integrations_integration'"
            " AND indexname <> 'integration_counts' AND position('(state' in indexdef) > 0"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("EXPLAIN " + sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using integration_counts on integrations_integration" in plan, plan


@pytest.mark.django_db
def test_a_row_writes_its_dates_and_health_as_the_page_shows_them(pm):
    integration = kicked_off(pm, "Acme Broker")
    Integration.objects.filter(pk=integration.pk).update(
        forecast_p50=date(2026, 5, 20), forecast_p85=date(2026, 6, 1), baseline_launch_on=date(2026, 5, 1)
    )
    now = at(FRIDAY, 12)
    [listed] = filter_portfolio(Filters(), pm, now)
    row = Row.of(listed, now)
    assert row.next_due == "Thu 5 Mar 2026" and not row.due_today  # due yesterday: 1 working day late
    assert row.days_late == 1 and row.health == Health.LATE and row.health_definition.startswith("Late:")
    assert row.forecast == day_text(listed.forecast_launch_on)
    assert row.planned == f"{listed.planned_launch_on.day} {listed.planned_launch_on:%b}"
    assert row.window_dates == f"{day_month_text(row.window.start)} – {day_month_text(row.window.end)}"
    assert (row.baseline, row.p85, row.p50) == ("1 May", "1 Jun 2026", "20 May")
    assert row.pm == "Alice" and row.ended_on == ""
    assert row.activity_at == timezone.localtime(listed.last_activity).isoformat()
    assert Row.of(listed, at("2026-03-05", 8)).due_today


def test_day_text_is_kept_per_language():
    day = date(2026, 12, 6)
    assert day_text(day) == "6 Dec 2026" and day_text(day, weekday=True) == "Sun 6 Dec 2026"
    with translation.override("de"):
        assert day_text(day) == date_format(day, "DATE_FORMAT") != "6 Dec 2026"
    assert day_text(day) == "6 Dec 2026"
