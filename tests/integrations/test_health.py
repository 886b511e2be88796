"""The health mark (integrations.stored_standing.health_of): late, at risk or on track, its boundaries,
where it is stored, the portfolio's cell and its sort."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from benchmarks.portfolio import copy_portfolio
from integrations import plan
from integrations.forecast import refresh_forecasts
from integrations.models import Integration
from integrations.standing import refresh_running
from integrations.stored_standing import HEALTH_DEFINITION, Health, health_of, stored_health
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on

pytestmark = pytest.mark.django_db

PLANNED_LAUNCH = date(2026, 5, 25)
DEADLINE_ENDS = at(date(2026, 3, 6), 0)  # the first deadlines (Thu 5 Mar) end at Friday's midnight


def mark(now, state="active", deadline=DEADLINE_ENDS, forecast=PLANNED_LAUNCH, p85=None):
    return health_of(
        state=state,
        next_deadline_at=deadline,
        planned_launch=PLANNED_LAUNCH,
        forecast_launch=forecast,
        p85=p85,
        now=now,
    )


# --- the rule's boundaries -------------------------------------------------------------------


def test_late_from_the_moment_the_owed_deadline_ends():
    assert mark(DEADLINE_ENDS - timedelta(seconds=1)) == Health.ON_TRACK
    assert mark(DEADLINE_ENDS) == Health.LATE
    assert mark(DEADLINE_ENDS + timedelta(days=30)) == Health.LATE


def test_late_when_the_launch_is_forecast_a_day_after_its_window():
    before = DEADLINE_ENDS - timedelta(hours=1)
    assert mark(before, forecast=PLANNED_LAUNCH) == Health.ON_TRACK
    assert mark(before, forecast=PLANNED_LAUNCH + timedelta(days=1)) == Health.LATE


def test_at_risk_when_the_p85_falls_a_day_after_the_window():
    before = DEADLINE_ENDS - timedelta(hours=1)
    assert mark(before, p85=PLANNED_LAUNCH) == Health.ON_TRACK
    assert mark(before, p85=PLANNED_LAUNCH + timedelta(days=1)) == Health.AT_RISK
    # Late wins over at risk.
    assert mark(DEADLINE_ENDS, p85=PLANNED_LAUNCH + timedelta(days=1)) == Health.LATE


def test_a_paused_integration_is_never_late_for_a_deadline_and_an_ended_one_has_no_mark():
    after = DEADLINE_ENDS + timedelta(days=3)
    assert mark(after, state="paused") == Health.ON_TRACK
    assert mark(after, state="paused", p85=PLANNED_LAUNCH + timedelta(days=7)) == Health.AT_RISK
    assert mark(after, state="launched") is None
    assert mark(after, state="cancelled") is None


def test_every_mark_is_defined_in_words():
    assert set(HEALTH_DEFINITION) == set(Health)
    assert all(text.startswith(h.label + ":") for h, text in HEALTH_DEFINITION.items())


# --- stored with the standing and the forecast -------------------------------------------------


def kicked_off(pm, name, **fields):
    integration = IntegrationFactory(partner=PartnerFactory(name=name), tv_pm=pm, **fields)
    with on(KICKOFF, 9):
        return plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))


def test_the_stored_mark_turns_late_with_the_day_the_deadline_ends(pm):
    integration = kicked_off(pm, "Acme Broker")
    assert integration.health == Health.ON_TRACK
    refresh_running(at(date(2026, 3, 5), 23), new_day_only=False)
    integration.refresh_from_db()
    assert integration.health == Health.ON_TRACK
    # Beat's quarter-hour refresh after midnight (London) finds the day begun and writes "late".
    after_midnight = at(date(2026, 3, 6), 0) + timedelta(minutes=15)
    refresh_running(after_midnight, new_day_only=True)
    integration.refresh_from_db()
    assert integration.health == Health.LATE
    with on(date(2026, 3, 6), 0):
        assert integration.health_mark == Health.LATE  # what the pages show reads the same rule
        assert integration.health_definition == HEALTH_DEFINITION[Health.LATE]


def test_the_pages_mark_is_late_the_moment_the_deadline_ends_before_any_refresh(pm):
    integration = kicked_off(pm, "Acme Broker")
    ends = integration.next_deadline_at
    with on(date(2026, 3, 5), 23):
        assert integration.health_mark == Health.ON_TRACK
    with on(date(2026, 3, 6), 0):
        assert timezone.now() >= ends
        assert integration.health_mark == Health.LATE
    assert integration.health == Health.ON_TRACK  # the stored column waits for beat's refresh


def test_the_forecasts_refresh_writes_the_mark_with_the_p85(pm):
    integration = kicked_off(pm, "Acme Broker")
    with on(date(2026, 3, 3)):
        refresh_forecasts(at(date(2026, 3, 3)))
    integration.refresh_from_db()
    assert integration.forecast_p85 is not None
    expected = Health.AT_RISK if integration.forecast_p85 > integration.planned_launch_on else Health.ON_TRACK
    assert integration.health == expected
    # A P85 later than the window, as the forecasts' refresh stores it, makes it at risk.
    Integration.objects.filter(pk=integration.pk).update(forecast_p85=integration.planned_launch_on + timedelta(days=1))
    refresh_running(at(date(2026, 3, 4)), new_day_only=False)
    integration.refresh_from_db()
    assert integration.health == Health.AT_RISK


def test_cancelling_clears_the_mark(pm):
    integration = kicked_off(pm, "Acme Broker")
    with on(date(2026, 3, 9)):
        plan.cancel(integration, ctx(pm, at(date(2026, 3, 9)), note="Partner left"))
    integration.refresh_from_db()
    assert integration.health is None and integration.health_mark is None


# --- the portfolio -----------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, pm):
    client.force_login(pm)
    return client


TUESDAY = date(2026, 3, 3)  # the day after the kick-off: nothing owed is late yet


def three_marks(pm):
    """Three integrations, on track, at risk and late on TUESDAY, their stored marks written as a refresh would."""
    on_track = kicked_off(pm, "Calm Broker")
    at_risk = kicked_off(pm, "Risky Broker")
    late = kicked_off(pm, "Tardy Broker")
    Integration.objects.filter(pk=at_risk.pk).update(forecast_p85=at_risk.planned_launch_on + timedelta(days=7))
    Integration.objects.filter(pk=late.pk).update(next_deadline_at=at(TUESDAY, 0))
    with on(TUESDAY):
        for integration in Integration.objects.all():
            integration.health = stored_health(integration, at(TUESDAY))
            integration.save(update_fields=["health"])
    assert [Integration.objects.get(pk=i.pk).health for i in (on_track, at_risk, late)] == list(reversed(Health))


def test_the_portfolio_shows_the_mark_with_its_definition(staff_client, pm):
    three_marks(pm)
    with on(TUESDAY):
        body = staff_client.get(reverse("portfolio")).content.decode()
    assert 'data-health="late"' in body and 'data-health="at_risk"' in body and 'data-health="on_track"' in body
    assert f'title="{HEALTH_DEFINITION[Health.AT_RISK]}"' in body
    assert f'<span class="visually-hidden"> ({HEALTH_DEFINITION[Health.LATE]})</span>' in body


def test_the_portfolio_sorts_by_health_worst_first_and_back(staff_client, pm):
    three_marks(pm)
    IntegrationFactory(partner=PartnerFactory(name="Aaron Draft"), tv_pm=pm)  # not kicked off: no mark yet

    def names(query):
        with on(TUESDAY):
            response = staff_client.get(reverse("portfolio") + "?" + query)
        return [row.integration.partner.name for row in response.context["rows"]]

    assert names("sort=health") == ["Tardy Broker", "Risky Broker", "Calm Broker", "Aaron Draft"]
    assert names("sort=-health") == ["Calm Broker", "Risky Broker", "Tardy Broker", "Aaron Draft"]
    assert "sort=-health" in staff_client.get(reverse("portfolio") + "?sort=health").content.decode()


def test_sorting_by_health_costs_the_same_queries_at_2_and_20(staff_client, pm):
    original = kicked_off(pm, "Original Broker")
    copy_portfolio(2, Integration.objects.filter(pk=original.pk).prefetch_related("steps"))
    with CaptureQueriesContext(connection) as two:
        assert staff_client.get(reverse("portfolio") + "?sort=health").status_code == 200
    copy_portfolio(20, Integration.objects.filter(pk=original.pk).prefetch_related("steps"))
    with CaptureQueriesContext(connection) as twenty:
        response = staff_client.get(reverse("portfolio") + "?sort=health")
    assert len(response.context["rows"]) == 20
    assert len(two) == len(twenty), [q["sql"] for q in twenty.captured_queries]
