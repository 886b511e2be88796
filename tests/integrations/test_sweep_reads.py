"""What the daily sweeps work out once instead of per integration or per value: the standings' clocks (``Clocks``),
a step row's dates and moments (``sweep_rows``), and the collector's walk (``collecting_only_its_own``)."""

import gc
from datetime import date

import pytest

from integrations import plan, steps
from integrations.clock import clock_for
from integrations.models import Integration, IntegrationStep
from integrations.standing import SWEEP_YOUNG_OBJECTS, Clocks, collecting_only_its_own, standing, sweep_rows
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on, step

MONDAY = date(2026, 4, 13)


def started(pm, partner) -> Integration:
    integration = IntegrationFactory(partner=partner, tv_pm=pm)
    with on(KICKOFF, 9):
        plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    return integration


@pytest.fixture
def three(pm):
    """Two partners in Berlin, in Germany, and one in Tokyo, in Japan, each with a running integration."""
    berlin = [PartnerFactory(time_zone="Europe/Berlin", country="DE") for _ in range(2)]
    tokyo = PartnerFactory(time_zone="Asia/Tokyo", country="JP")
    return [started(pm, partner) for partner in [*berlin, tokyo]]


def test_running_integrations_of_partners_in_one_zone_and_country_share_one_clock(three):
    clocks, noon = Clocks(), at(MONDAY)
    first, second, tokyo = (clocks.of(integration, noon) for integration in three)

    assert first is second
    assert tokyo is not first
    assert clocks.of(three[0], at(MONDAY, 15)) is not first  # another moment, another clock
    for integration in three:
        assert clocks.of(integration, noon) == clock_for(integration, noon)


def test_an_ended_integration_keeps_its_own_stopped_clock(three, pm):
    clocks, noon = Clocks(), at(MONDAY)
    shared = clocks.of(three[1], noon)
    with on(MONDAY, 9):
        plan.cancel(three[0], ctx(pm, at(MONDAY, 9), note="The partner stopped."))
    three[0].refresh_from_db()

    stopped = clocks.of(three[0], noon)
    assert stopped is not shared
    assert stopped.frozen_on == three[0].cancelled_on == clock_for(three[0], noon).frozen_on


def test_a_standing_with_a_sweeps_clocks_is_the_standing(three):
    clocks, noon = Clocks(), at(MONDAY)
    for integration in three:
        assert standing(integration, noon, clocks=clocks).stored_fields() == standing(integration, noon).stored_fields()


def test_a_sweeps_step_rows_hold_the_steps_dates_and_moments(pm, partner):
    integration = started(pm, partner)
    with on(KICKOFF, 15):
        steps.complete_step(step(integration, "slack-jira-onboarding"), ctx(pm, at(KICKOFF, 15)))
    rows_of, _ = sweep_rows([integration])

    rows = rows_of[integration.pk]
    models = {s.pk: s for s in IntegrationStep.objects.filter(integration=integration)}
    assert len(rows) == len(models)
    for row in rows:
        model = models[row.pk]
        for name in ("planned_due_date", "due_date", "completed_at", "reopened_at", "checking_since"):
            assert getattr(row, name) == getattr(model, name), name
            assert type(getattr(row, name)) is type(getattr(model, name)), name
    done = next(row for row in rows if row.code == "slack-jira-onboarding")
    assert done.completed_at == at(KICKOFF, 15) and done.completed_at.tzinfo is not None


def test_while_a_sweep_runs_the_collector_leaves_the_older_objects_alone_and_takes_them_back_after():
    assert gc.get_freeze_count() == 0
    threshold = gc.get_threshold()
    with collecting_only_its_own():
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] >= SWEEP_YOUNG_OBJECTS
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == threshold
    with pytest.raises(ZeroDivisionError), collecting_only_its_own():
        1 / 0  # noqa: B018
    assert gc.get_freeze_count() == 0


def test_a_sweep_within_a_sweep_leaves_the_outer_ones_setting_until_the_outer_one_ends():
    threshold = gc.get_threshold()
    with collecting_only_its_own():
        assert gc.get_freeze_count() > 0
        with collecting_only_its_own():
            pass
        # The inner sweep did not hand the older objects back. (Not an exact count: a frozen object still
        # leaves the permanent generation when nothing refers to it any more.)
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[0] >= SWEEP_YOUNG_OBJECTS
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == threshold
