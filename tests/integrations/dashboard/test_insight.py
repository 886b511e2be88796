"""The insight page: figures per step, per side, where integrations get stuck, launches and slip."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations import plan, steps
from integrations.dashboard import insight as page
from integrations.models import Integration
from integrations.standing import standing
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.handovers.helpers import hand_over_everything
from tests.integrations.helpers import KICKOFF, STEP_CODES, at, ctx, on, step


def kick_off(pm, name, **fields):
    integration = IntegrationFactory(partner=PartnerFactory(name=name, time_zone="UTC"), tv_pm=pm, **fields)
    with time_machine.travel(at(KICKOFF, 9), tick=False):
        return plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))


def complete(pm, integration, code, day):
    with on(day):
        steps.complete_step(step(integration, code), ctx(pm, day))


def complete_all(pm, integration, first_day, every_days):
    """Every step that applies done in roadmap order: the k-th (from 0) on first_day + k * every_days."""
    hand_over_everything(integration)
    for k, code in enumerate(STEP_CODES):
        if step(integration, code).status != "not_applicable":
            complete(pm, integration, code, first_day + timedelta(days=k * every_days))


@pytest.fixture
def portfolio(pm):
    """Two running integrations (A, B) and two launched ones (C in March, D in May), all kicked off 2026-03-02.

    D does its 17 steps one every 5 days from 7 March: its launch, on 26 May, is a working day after the
    planned 25 May, the partner's day (its steps ran late and never won the day back).
    """
    a = kick_off(pm, "Alpha Broker")
    complete(pm, a, "slack-jira-onboarding", date(2026, 3, 4))
    complete(pm, a, "autotests-configuration", date(2026, 3, 6))
    b = kick_off(pm, "Beta Broker", trading_only=True)
    complete(pm, b, "slack-jira-onboarding", date(2026, 3, 3))
    complete(pm, b, "autotests-configuration", date(2026, 3, 5))
    complete(pm, b, "endpoints-implementation", date(2026, 4, 1))
    c = kick_off(pm, "Gamma Exchange", stocks_data_only=True)
    complete_all(pm, c, date(2026, 3, 3), 1)
    d = kick_off(pm, "Delta Exchange")
    complete_all(pm, d, date(2026, 3, 7), 5)
    return {i.name[0]: Integration.objects.get(pk=i.pk) for i in (a, b, c, d)}


NOW = at("2026-04-15")


def figures_now():
    return page.insight(page.load_portfolio(), NOW)


# --- figures -----------------------------------------------------------------------------------


def test_days_per_step_and_on_time_rate(portfolio):
    by_code = {f.code: f for f in figures_now()["steps"]}
    assert list(by_code) == STEP_CODES
    slack = by_code["slack-jira-onboarding"]
    # A 03-04, B 03-03, C 03-03, D 03-07 from the kick-off on 03-02; due 03-05, so D is late.
    assert slack.label == "1 · TradingView · Slack/Jira onboarding"
    assert sorted(slack.days) == [1, 1, 2, 5]
    assert slack.spread == page.Spread(count=4, minimum=1, q1=1, median=1.5, q3=2.75, maximum=5)
    assert (slack.on_time, slack.with_deadline) == (3, 4)
    autotests = by_code["autotests-configuration"]
    # A 03-06 (late), B 03-05 (on the deadline: on time), D 03-12 (late); C's does not apply.
    assert sorted(autotests.days) == [3, 4, 10]
    assert autotests.spread == page.Spread(count=3, minimum=3, q1=3.5, median=4, q3=7, maximum=10)
    assert autotests.on_time_rate == pytest.approx(1 / 3)
    # B's endpoints were done on 04-01, two days after their deadline 03-30.
    endpoints = by_code["endpoints-implementation"]
    assert sorted(endpoints.days) == [3, 15, 30]
    assert (endpoints.on_time, endpoints.with_deadline) == (2, 3)
    # D's: actionable when both prerequisites were done (endpoints 03-17, autotests 03-12) -> 03-22 is 5 days.
    assert by_code["passing-autotests"].days == [5]
    # C's sandbox access starts on 03-05: its endpoints' day, passed on by the autotests steps that do not apply.
    assert sorted(by_code["sandbox-access"].days) == [2, 5]
    assert by_code["open-to-all-users"].label == "TradingView · Open to all users"
    assert sorted(by_code["open-to-all-users"].days) == [1, 5]


def test_per_side_days_and_delay_charged(portfolio):
    sides = {s.side: s for s in figures_now()["sides"]}
    tv, partner, both = sides["tradingview"], sides["partner"], sides["both"]
    assert (tv.spread.count, tv.spread.minimum, tv.spread.median, tv.spread.maximum) == (21, 1, 3, 10)
    assert (partner.spread.count, partner.spread.minimum, partner.spread.median, partner.spread.maximum) == (
        16,
        1,
        5,
        30,
    )
    # A's autotests a day late (TradingView), B's endpoints two days late and D's launch a day late (partner).
    assert (tv.delay_days, partner.delay_days, both.delay_days) == (1, 3, 0)
    assert both.spread is None


def test_where_running_integrations_are_stuck(portfolio):
    stuck = {f.code: f for f in figures_now()["stuck"]}
    assert list(stuck) == ["endpoints-implementation", "passing-autotests"]
    # A owes its endpoints since the end of 03-30; B its autotests since the end of 04-01 (moved deadline):
    # 12 and 10 working days on Wednesday 04-15.
    a, b = stuck["endpoints-implementation"], stuck["passing-autotests"]
    assert (a.integrations, a.overdue, a.overdue_days, a.worst_days) == (1, 1, 12, 12)
    assert (b.integrations, b.overdue, b.overdue_days, b.worst_days) == (1, 1, 10, 10)
    assert portfolio["A"].days_overdue(NOW) == 12
    # Before any deadline passed nothing is overdue.
    early = {f.code: f.overdue_days for f in page.insight(page.load_portfolio(), at("2026-03-20"))["stuck"]}
    assert early == {"endpoints-implementation": 0, "passing-autotests": 0}


def test_launches_per_month_fill_the_months_between(portfolio):
    assert portfolio["G"].launched_on == date(2026, 3, 19)
    assert portfolio["D"].launched_on == date(2026, 5, 26)
    assert figures_now()["launches"] == [("2026-03", 1), ("2026-04", 0), ("2026-05", 1)]


def test_slip_by_data_type_and_authorisation(portfolio):
    # Slip: A 1 (crypto, OAuth2 code, fixed token), B 2 (trading only, OAuth2 code), C 0 (stocks, data only),
    # D 1 (crypto, OAuth2 code, fixed token).
    assert [(i.name, i.slip_days) for i in portfolio.values()] == [
        ("Alpha Broker", 1),
        ("Beta Broker", 2),
        ("Gamma Exchange", 0),
        ("Delta Exchange", 1),
    ]
    figures = figures_now()
    S = page.SlipGroup
    assert figures["slip_by_data_type"] == [
        S("Crypto", integrations=2, total_slip=2, median_slip=1, late=2),
        S("No data part", integrations=1, total_slip=2, median_slip=2, late=1),
        S("Stocks", integrations=1, total_slip=0, median_slip=0, late=0),
    ]
    assert figures["slip_by_trading_auth"] == [
        S("OAuth2Bearer, code flow", integrations=3, total_slip=4, median_slip=1, late=3),
        S("No trading part", integrations=1, total_slip=0, median_slip=0, late=0),
    ]
    assert figures["slip_by_data_auth"] == [
        S("Fixed token", integrations=3, total_slip=2, median_slip=1, late=2),
        S("No data part", integrations=1, total_slip=2, median_slip=2, late=1),
    ]


def test_cancelled_and_not_kicked_off_integrations_are_left_out(portfolio, pm):
    IntegrationFactory(partner=PartnerFactory(name="Not Started Yet"), tv_pm=pm)
    e = kick_off(pm, "Epsilon Broker")
    with on("2026-03-10"):
        plan.cancel(e, ctx(pm, "2026-03-10", note="The partner withdrew."))
    assert [i.name for i in page.load_portfolio()] == [
        "Alpha Broker",
        "Beta Broker",
        "Gamma Exchange",
        "Delta Exchange",
    ]


def test_spread_of_one_and_none():
    assert page.Spread.of([]) is None
    assert page.Spread.of([4]) == page.Spread(1, 4, 4, 4, 4, 4)


@pytest.mark.parametrize(
    ("value", "ticks"),
    [
        (0, [0, 1]),
        (1, [0, 1]),
        (2, [0, 1, 2]),
        (3, [0, 1, 2, 3]),
        (7, [0, 2, 4, 6, 8]),
        (16, [0, 5, 10, 15, 20]),
        (25, [0, 5, 10, 15, 20, 25]),
        (6.2, [0, 2, 4, 6, 8]),
        (120, [0, 50, 100, 150]),
    ],
)
def test_axis_ticks_are_whole_numbers(value, ticks):
    assert page.whole_ticks(value) == ticks


def test_a_long_label_wraps_instead_of_losing_its_number():
    label = "3 · Partner · Integration development and everything it takes to finish"
    lines = page.label_lines(label)
    assert len(lines) == 2 and lines[0].startswith("3 · Partner")
    assert all(len(line) <= page.LABEL_CHARS for line in lines)


# --- charts ------------------------------------------------------------------------------------


def test_bar_chart_shapes():
    chart = page.bar_chart("Launches per month", [("2026-03", 1), ("2026-04", 0), ("2026-05", 2)][:0], "launches")
    assert chart is None
    chart = page.bar_chart("Launches", [("2026-03", 1, ""), ("2026-04", 0, ""), ("2026-05", 2, "")], "launches")
    widths = [bar["width"] for bar in chart["bars"]]
    assert widths == [page.PLOT_W / 2, 0, page.PLOT_W]
    assert [bar["value"] for bar in chart["bars"]] == ["1", "0", "2"]
    assert [t["text"] for t in chart["axis"]["ticks"]] == ["0", "1", "2"]


# --- the page ----------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, pm):
    client.force_login(pm)
    return client


def test_page_draws_the_charts_with_labels_and_numbers(portfolio, staff_client):
    with time_machine.travel(NOW, tick=False):
        response = staff_client.get(reverse("insight"))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("insight") == "/insight/"
    assert 'aria-current="page">Insight' in html
    assert html.count("<svg") == 10
    assert '<title id="chart-step-days-title">Days per step (done steps)</title>' in html
    # A box per step, its numbers in its <title> and the median as text.
    assert (
        "<title>1 · TradingView · Slack/Jira onboarding: median 1.5 days per step, quartiles 1–2.8, range 1–5, "
        "4 done</title>"
    ) in html
    # Launches: a bar per month, March and May one each, April none; the axis labelled.
    assert "<title>2026-03: 1 launches</title>" in html
    assert "<title>2026-04: 0 launches</title>" in html
    assert '<text class="axis-label"' in html and ">launches</text>" in html
    # Delay charged per side, as bars with their numbers.
    assert "<title>Partner: 3 working days of delay</title>" in html
    assert "<title>TradingView: 1 working days of delay</title>" in html
    # Overdue working days now: A's endpoints 12, B's autotests 10.
    assert "<title>1 · Partner · Data / trading endpoints implementation: 12 working days overdue</title>" in html
    assert "<title>2 · Partner · Passing REST API autotests: 10 working days overdue</title>" in html
    # The tables hold the same numbers, and the page says how days are counted.
    assert "33% (1 of 3)" in html
    assert '<td data-label="Q3">2.75</td>' in html
    assert "(UTC for TradingView, the partner's own for the partner), is no later than its stored deadline" in html
    assert "Fixed token" in html and "OAuth2Bearer, code flow" in html


def test_empty_portfolio_says_so(staff_client, integration):
    response = staff_client.get(reverse("insight"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "No integration has been kicked off yet" in html
    assert "<svg" not in html


def test_just_kicked_off_shows_empty_states(staff_client, started_integration):
    with time_machine.travel(at(KICKOFF, 10), tick=False):
        html = staff_client.get(reverse("insight")).content.decode()
    assert "No step is done yet" in html
    assert "No integration has launched yet." in html
    assert "No delay charged to anyone" in html
    assert "Nothing is overdue right now." in html
    # Its first step is its current one: a bar of one integration.
    assert "<title>1 · TradingView · Slack/Jira onboarding: 1 integrations</title>" in html


def test_anonymous_is_sent_to_log_in(client, db):
    response = client.get("/insight/")
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next=/insight/"


def test_non_staff_is_refused(client, partner_dev):
    client.force_login(partner_dev)
    assert client.get("/insight/").status_code == 403


# --- queries -----------------------------------------------------------------------------------


def portfolio_of(pm, n):
    for k in range(n):
        integration = kick_off(pm, f"Broker {k:02d}")
        complete(pm, integration, "slack-jira-onboarding", date(2026, 3, 3 + k % 3))
        if k % 3 == 0:
            complete(pm, integration, "autotests-configuration", date(2026, 3, 6))


def page_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/insight/").status_code == 200
    return len(queries)


def test_figures_take_three_queries(pm, django_assert_num_queries):
    portfolio_of(pm, 3)
    with django_assert_num_queries(3):
        page.insight(page.load_portfolio(), NOW)


@pytest.mark.parametrize("n", [3, 15])
def test_the_page_takes_a_fixed_number_of_queries(pm, client, n):
    portfolio_of(pm, n)
    client.force_login(pm)
    # The session, the user, the integrations (with current step and partner), their steps and events.
    assert page_queries(client) == 5


def test_insight_dates_a_completion_in_the_zone_of_the_side_that_owed_it(started_integration, pm):
    started_integration.partner.time_zone = "America/Los_Angeles"
    started_integration.partner.save()
    for code in ("slack-jira-onboarding", "autotests-configuration"):
        with on("2026-03-04"):
            steps.complete_step(step(started_integration, code), ctx(pm, "2026-03-04"))
    # The partner finishes its endpoints at 18:00 on their due day, in Los Angeles (01:00 UTC the next day).
    finished = datetime(2026, 3, 30, 18, tzinfo=ZoneInfo("America/Los_Angeles"))
    with time_machine.travel(finished + timedelta(minutes=1), tick=False):
        steps.complete_step(step(started_integration, "endpoints-implementation"), ctx(pm, finished))
        endpoints = step(started_integration, "endpoints-implementation")
        assert standing(started_integration).of(endpoints).days_late == 0
        figures = {f.code: f for f in page.step_figures(page.load_portfolio())}
        assert (figures["endpoints-implementation"].on_time, figures["endpoints-implementation"].with_deadline) == (
            1,
            1,
        )


def test_a_replan_moves_no_step_duration(pm):
    """Onboarding done 2 days after the first kick-off stays a 2-day step after a re-plan moves the kick-off."""
    integration = kick_off(pm, "Replanned Broker")
    complete(pm, integration, "slack-jira-onboarding", date(2026, 3, 4))
    with on("2026-03-16"):
        plan.replan(integration, date(2026, 3, 16), ctx(pm, "2026-03-16", note="Partner asked for two weeks"))
    integration = Integration.objects.prefetch_related("steps", "events").get(pk=integration.pk)
    onboarding = step(integration, "slack-jira-onboarding")
    start, finish = {s.code: span for s, span in page.step_durations(integration).items()}[onboarding.code]
    assert (start, finish) == (KICKOFF, date(2026, 3, 4))
