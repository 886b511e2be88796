"""The launch forecast with its confidence, stored on every running integration by the daily refresh."""

import numpy as np
import pytest
import time_machine
from django.db import connection
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext

from integrations import plan
from integrations.forecast import FIELDS, learn_history, refresh_forecasts, traits_of
from integrations.models import Integration, IntegrationStep
from integrations.steps import complete_step
from integrations.tasks import refresh_standings
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import KICKOFF, at, ctx, step


def kicked_off(pm, n, onboarded=True):
    made = []
    for i in range(n):
        integration = IntegrationFactory(partner=PartnerFactory(name=f"Forecast {Integration.objects.count()}-{i}"))
        plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
        if onboarded:
            complete_step(step(integration, "slack-jira-onboarding"), ctx(pm, "2026-03-06"))
        made.append(integration)
    return made


def test_history_learns_each_finished_step_after_it_became_actionable(pm):
    with time_machine.travel(at("2026-04-10"), tick=False):
        kicked_off(pm, 2)
        history = learn_history()
    # Kick-off Monday 2 March, done Friday 6 March: 4 working days, twice.
    assert list(history.observed[("slack-jira-onboarding", "tradingview")]) == [4, 4]


def test_the_refresh_stores_p50_p85_and_the_sentence(pm):
    with time_machine.travel(at("2026-04-10"), tick=False):
        (integration,) = kicked_off(pm, 1)
        assert refresh_forecasts() == 1
    integration.refresh_from_db()
    assert integration.forecast_p50 <= integration.forecast_p85
    assert integration.forecast_p50.isoformat() >= "2026-04-10"
    assert integration.forecast_risk
    assert integration.forecast_computed_at == at("2026-04-10")


def test_stale_only_skips_those_forecast_today(pm):
    with time_machine.travel(at("2026-04-10"), tick=False) as traveller:
        kicked_off(pm, 2)
        assert refresh_forecasts(stale_only=True) == 2
        assert refresh_forecasts(stale_only=True) == 0
        traveller.shift(24 * 3600)
        assert refresh_forecasts(stale_only=True) == 2


@pytest.mark.django_db(transaction=False)
def test_the_refresh_costs_queries_per_batch_not_per_integration(pm):
    counts = {}
    with time_machine.travel(at("2026-04-10"), tick=False):
        kicked_off(pm, 2)
        with CaptureQueriesContext(connection) as queries:
            refresh_forecasts(batch_size=500)
        counts[2] = len(queries)
        kicked_off(pm, 6)
        with CaptureQueriesContext(connection) as queries:
            refresh_forecasts(batch_size=500)
        counts[8] = len(queries)
    assert counts[2] == counts[8]


def test_the_standing_task_forecasts_too(pm):
    with time_machine.travel(at("2026-04-10"), tick=False):
        (integration,) = kicked_off(pm, 1)
        refresh_standings(everything=True)
    integration.refresh_from_db()
    assert integration.forecast_p85 is not None


def test_history_leaves_out_the_days_paused(pm):
    """Kicked off Monday 2 March, paused Tuesday to Thursday, done Friday: 2 working days, not 4."""
    with time_machine.travel(at("2026-04-10"), tick=False):
        integration = IntegrationFactory()
        plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
        plan.pause(integration, ctx(pm, at("2026-03-03", 9)))
        plan.resume(integration, ctx(pm, at("2026-03-05", 9)))
        complete_step(step(integration, "slack-jira-onboarding"), ctx(pm, "2026-03-06"))
        history = learn_history()
    assert list(history.observed[("slack-jira-onboarding", "tradingview")]) == [2]


def test_history_counts_a_step_still_running_as_lasting_at_least_its_days(pm):
    """Kicked off Monday 2 March, not onboarded by Friday 10 April: onboarding has run 29 working days."""
    with time_machine.travel(at("2026-04-10"), tick=False):
        kicked_off(pm, 1, onboarded=False)
        kicked_off(pm, 1)
        history = learn_history()
    key = ("slack-jira-onboarding", "tradingview")
    assert list(history.observed[key]) == [4]
    assert list(history.running[key]) == [29]
    # One took 4 days, one is 29 days in, and the plan counts as 3 more: a fifth of the draws are 29 or more.
    draws = history.draw(key, 3, 4000, np.random.default_rng(1))
    assert 0.15 < np.mean(draws >= 29) < 0.25


def test_the_refresh_counts_running_steps_up_to_its_own_day(pm, monkeypatch):
    """Refreshed as of Friday 13 March on 10 April: onboarding, open since Monday 2 March, has run 9 working days, not 29."""
    learnt = []
    real = learn_history

    def spy(*args, **kwargs):
        learnt.append(real(*args, **kwargs))
        return learnt[-1]

    monkeypatch.setattr("integrations.forecast.learn_history", spy)
    with time_machine.travel(at("2026-04-10"), tick=False):
        kicked_off(pm, 1, onboarded=False)
        assert refresh_forecasts(now=at("2026-03-13")) == 1
    assert list(learnt[0].running[("slack-jira-onboarding", "tradingview")]) == [9]


def test_history_learns_by_data_type_authorisation_and_partner_kind(pm):
    with time_machine.travel(at("2026-04-10"), tick=False):
        kicked_off(pm, 2)
        history = learn_history()
    key = ("slack-jira-onboarding", "tradingview")
    for trait in ("crypto", "OAuth2Bearer, code flow (trading)", "Fixed token (data)", "broker"):
        assert list(history.observed[(*key, trait)]) == [4, 4], trait


def test_traits_read_as_groups_in_a_sentence():
    assert traits_of(["crypto", "cfd"], "", "none", "exchange") == (
        "crypto",
        "CFD",
        "public data",
        "exchange",
    )


def test_the_refresh_reads_rows_as_values_not_models(pm):
    """A model instance per step was most of the refresh's time over a large portfolio."""
    made = []

    def count(sender, **kwargs):
        if sender in (Integration, IntegrationStep):
            made.append(sender)

    with time_machine.travel(at("2026-04-10"), tick=False):
        kicked_off(pm, 3)
        post_init.connect(count)
        try:
            assert refresh_forecasts() == 3
        finally:
            post_init.disconnect(count)
    assert made == []


def test_a_second_refresh_the_same_day_writes_only_when_it_ran(pm):
    with time_machine.travel(at("2026-04-10"), tick=False) as traveller:
        integrations = kicked_off(pm, 2)
        refresh_forecasts()
        before = list(Integration.objects.filter(pk__in=[i.pk for i in integrations]).values(*FIELDS))
        traveller.shift(3600)
        with CaptureQueriesContext(connection) as queries:
            assert refresh_forecasts() == 2
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    assert len(updates) == 1
    assert "forecast_computed_at" in updates[0]
    assert not any(name in updates[0] for name in ("forecast_p50", "forecast_p85", "forecast_risk", '"health"'))
    after = list(Integration.objects.filter(pk__in=[i.pk for i in integrations]).values(*FIELDS))
    assert [{**row, "forecast_computed_at": None} for row in after] == [
        {**row, "forecast_computed_at": None} for row in before
    ]
    assert {row["forecast_computed_at"] for row in after} == {at("2026-04-10", 13)}
