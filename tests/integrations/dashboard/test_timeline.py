"""The portfolio's timeline (integrations.dashboard.timeline, read_models.portfolio_timeline)."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from benchmarks.portfolio import copy_portfolio
from integrations import plan
from integrations.models import Integration
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on
from tests.integrations.test_health import three_marks

pytestmark = pytest.mark.django_db

FRIDAY = date(2026, 3, 6)  # a day after the first two deadlines (Thu 5 Mar)
URL = reverse("portfolio-timeline")


def kicked_off(pm, name, **fields):
    integration = IntegrationFactory(partner=PartnerFactory(name=name), tv_pm=pm, **fields)
    with on(KICKOFF, 9):
        return plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))


@pytest.fixture
def staff_client(client, pm):
    client.force_login(pm)
    return client


def names(client, query=""):
    response = client.get(URL + ("?" + query if query else ""))
    assert response.status_code == 200
    return [row.integration.partner.name for row in response.context["chart"].rows]


def test_anonymous_is_sent_to_log_in_and_partners_get_403(client, partner_dev):
    assert client.get(URL)["Location"].startswith(reverse("login"))
    client.force_login(partner_dev)
    assert client.get(URL).status_code == 403


def test_the_portfolio_links_to_it(staff_client):
    assert f'href="{URL}"' in staff_client.get(reverse("portfolio")).content.decode()


def test_empty_state_when_nothing_runs(staff_client, pm):
    cancelled = kicked_off(pm, "Gone Broker")
    Integration.objects.filter(pk=cancelled.pk).update(state=Integration.State.CANCELLED)
    body = staff_client.get(URL).content.decode()
    assert "Nothing is running." in body and "<svg" not in body.split("</nav>", 2)[-1]
    body = staff_client.get(URL + "?q=nobody").content.decode()
    assert "No integration matches these filters." in body


def test_a_row_draws_its_steps_window_launches_and_today_with_the_side_that_owes(staff_client, pm):
    integration = kicked_off(pm, "Acme Broker")
    with on(FRIDAY):
        response = staff_client.get(URL)
    body = response.content.decode()
    [row] = response.context["chart"].rows
    assert row.integration == integration
    chart = response.context["chart"]
    # Both lanes: the first two steps (TradingView's onboarding, the partner's autotests) are late on Friday.
    assert sum(bar.side == "tradingview" for bar in row.bars) and sum(bar.side == "partner" for bar in row.bars)
    assert {bar.state for bar in row.bars[:2]} == {"late"}
    assert {bar.state for bar in row.bars[2:]} <= {"open", "not-applicable"}
    assert row.bars[0].x < row.bars[-1].x
    assert 0 < chart.today_x < row.window_x < row.planned_x
    assert row.window_x + row.window_w > row.planned_x  # the window ends on the planned launch
    assert row.forecast_x is not None
    assert "Ball: Both" in body and 'class="badge both"' in body
    assert 'data-health="late"' in body
    assert "1 working day late" in row.summary and "launch window 18 May 2026 – 25 May 2026" in row.summary
    assert "planned 5 Mar 2026" in body  # a step's hover, in the one date format
    assert 'class="today"' in body and "today 6 Mar 2026" in body


def test_hostile_partner_names_are_escaped(staff_client, pm):
    kicked_off(pm, '<script>alert("x")</script> FX')
    body = staff_client.get(URL).content.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; FX" in body


def test_filters_and_sorts_are_the_portfolios(staff_client, pm):
    three_marks(pm)
    assert names(staff_client, "sort=health") == ["Tardy Broker", "Risky Broker", "Calm Broker"]
    assert names(staff_client, "sort=-health") == ["Calm Broker", "Risky Broker", "Tardy Broker"]
    assert names(staff_client, "sort=partner") == ["Calm Broker", "Risky Broker", "Tardy Broker"]
    assert names(staff_client, "q=risky") == ["Risky Broker"]
    body = staff_client.get(URL + "?q=risky&sort=health").content.decode()
    assert f'action="{URL}"' in body  # the portfolio's filter form, sent here
    assert "?q=risky&amp;sort=-health" in body  # the sort links keep the filters
    assert 'href="/?q=risky&amp;sort=health"' in body  # and so does the way back to the table


def test_fifty_rows_a_page(staff_client, pm):
    original = kicked_off(pm, "Original Broker")
    copy_portfolio(60, Integration.objects.filter(pk=original.pk).prefetch_related("steps"))
    first = staff_client.get(URL + "?sort=partner")
    second = staff_client.get(URL + "?sort=partner&page=2")
    assert len(first.context["chart"].rows) == 50 and len(second.context["chart"].rows) == 10
    assert "sort=partner&amp;page=2" in first.content.decode()
    every = [r.integration.pk for r in first.context["chart"].rows + second.context["chart"].rows]
    assert len(set(every)) == 60


def test_queries_are_the_same_for_2_and_20_integrations(staff_client, pm):
    original = kicked_off(pm, "Original Broker")
    copy_portfolio(2, Integration.objects.filter(pk=original.pk).prefetch_related("steps"))
    with CaptureQueriesContext(connection) as two:
        assert len(staff_client.get(URL).context["chart"].rows) == 2
    copy_portfolio(20, Integration.objects.filter(pk=original.pk).prefetch_related("steps"))
    with CaptureQueriesContext(connection) as twenty:
        assert len(staff_client.get(URL).context["chart"].rows) == 20
    # session, user, count, the page's ids, their rows, their steps, the PMs of the filter form
    assert len(two) == len(twenty) == 7, [q["sql"] for q in twenty.captured_queries]


def test_a_rows_shapes_are_drawn_as_the_read_model_lays_them_out(staff_client, pm):
    integration = kicked_off(pm, "Acme Broker")
    with on(FRIDAY):
        response = staff_client.get(URL)
    body = response.content.decode()
    chart = response.context["chart"]
    [row] = chart.rows
    first = row.bars[0]
    assert (
        f'<rect class="bar late side-tradingview" x="{first.x}" y="4" width="{first.w}" height="9" rx="2">'
        "<title>1 · TradingView · Slack/Jira onboarding: planned 5 Mar 2026 (late)</title></rect>"
    ) in body
    assert body.count('<rect class="bar ') == len(row.bars) == integration.steps.count()
    assert f'<line class="planned" x1="{row.planned_x}" x2="{row.planned_x}" y1="2" y2="28">' in body
    assert f"<title>Planned launch {row.planned_text}</title>" in body and row.planned_text == "25 May 2026"
    assert f'<path class="forecast" d="M{row.forecast_x} 8 l6 7 l-6 7 l-6 -7 z"><title>Forecast launch ' in body
    assert f'<line class="today" x1="{chart.today_x}" x2="{chart.today_x}" y1="0" y2="30"/>' in body


def test_a_hostile_step_title_is_escaped_in_its_bar(staff_client, pm):
    integration = kicked_off(pm, "Acme Broker")
    integration.steps.filter(code="slack-jira-onboarding").update(title='<img src=x onerror="alert(1)"> & onboarding')
    body = staff_client.get(URL).content.decode()
    assert "<img src=x" not in body
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; onboarding: planned 5 Mar 2026" in body


@pytest.mark.parametrize("sort", ["bugs", "-activity", "slip", "-updated"])
def test_the_timeline_sorts_on_any_of_the_portfolios_columns_it_does_not_draw(staff_client, pm, sort):
    """The timeline reads only the columns it draws, and the one it sorts on: the table's sort links still work."""
    three_marks(pm)
    table = staff_client.get(reverse("portfolio") + f"?sort={sort}")
    assert names(staff_client, f"sort={sort}") == [i.partner.name for i in table.context["page"].object_list]
