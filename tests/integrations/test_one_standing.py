"""One standing: every surface shows the days late, slip by side and forecast that ``standing()`` gives.

The demo portfolio (``manage.py seed_demo``) is built once for the module, inside a transaction
rolled back at its end; each test runs in a savepoint of it. On top of the stories, Corvid Capital
(late on TradingView's side) was paused for a day and resumed, so its overdue days skip the pause,
and Elbrus Markets (a blocked step) was cancelled.

The lists read the stored standing. The queryset tests leave it as the daily refresh leaves it
(just after midnight in ``TIME_ZONE``) and check every moment of the day against the live
standing; the surfaces' test refreshes it at the start of the hour, as an hourly refresh would, so
that a partner's midnight has been taken into the stored forecast.
"""

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from integrations import plan
from integrations.clock import today_for
from integrations.dashboard import insight
from integrations.models import Integration, tradingview_zone
from integrations.standing import refresh_running, standing
from tests.integrations.helpers import ctx

pytestmark = pytest.mark.django_db

SEEDED = datetime(2026, 11, 25, 9, tzinfo=UTC)  # a Wednesday
RESUMED = datetime(2026, 11, 26, 0, 10, tzinfo=UTC)
# A Friday soon after, a Monday, and a day after every demo zone changed its clocks since the seed.
DAYS = [date(2026, 11, 27), date(2026, 11, 30), date(2027, 4, 6)]
ZONES = ["UTC", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]


def demo_names() -> list[str]:
    from integrations.management.commands.seed_demo import PORTFOLIO

    return [story.name for story in PORTFOLIO]


def by_name(name: str) -> Integration:
    return Integration.objects.select_related("partner").get(partner__name=name)


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        with time_machine.travel(SEEDED, tick=False) as traveller:
            call_command("seed_demo", stdout=StringIO())
            user = get_user_model().objects.get(username=settings.DEMO_USERNAME)
            traveller.move_to(SEEDED + timedelta(hours=1))
            plan.pause(by_name("Corvid Capital"), ctx(user, SEEDED + timedelta(hours=1)))
            plan.cancel(by_name("Elbrus Markets"), ctx(user, SEEDED + timedelta(hours=1), "The partner withdrew."))
            traveller.move_to(RESUMED)
            plan.resume(by_name("Corvid Capital"), ctx(user, RESUMED))
        yield user
        transaction.set_rollback(True)


def moments(hour_minutes=((0, 30), (23, 30))):
    return [
        pytest.param(datetime.combine(day, time(h, m), ZoneInfo(zone)), id=f"{day}-{h:02d}{m:02d}-{zone}")
        for day in DAYS
        for zone in ZONES
        for h, m in hour_minutes
    ]


def refreshed(traveller, moment, at):
    """The stored standing as a refresh at ``at`` left it, and the clock at ``moment``."""
    traveller.move_to(at)
    refresh_running()
    traveller.move_to(moment)


def daily_refresh_before(moment) -> datetime:
    """When the daily refresh last ran before ``moment``: 00:05 in ``TIME_ZONE``."""
    day = moment.astimezone(tradingview_zone()).date()
    return datetime.combine(day, time(0, 5), tradingview_zone())


def standings(now) -> dict:
    return {i.pk: standing(i, now) for i in Integration.objects.select_related("partner")}


def pks(queryset) -> set:
    return set(queryset.values_list("pk", flat=True))


# --- the queryset selects what the standing says ---------------------------------------------


@pytest.mark.parametrize("moment", moments())
def test_each_queryset_method_selects_what_the_standing_says(demo, moment):
    with time_machine.travel(moment, tick=False) as traveller:
        refreshed(traveller, moment, daily_refresh_before(moment))
        live = standings(moment)
        everyone = set(live)
        late = {pk for pk, now in live.items() if now.days_late}
        assert pks(Integration.objects.late(moment)) == late
        assert pks(Integration.objects.not_late(moment)) == everyone - late
        blocked = {pk for pk, now in live.items() if now.blocked_steps()}
        assert pks(Integration.objects.blocked()) == blocked
        assert pks(Integration.objects.not_blocked()) == everyone - blocked
        assert pks(Integration.objects.running()) == {pk for pk, now in live.items() if now.integration.is_running}
        today = today_for(now=moment)
        for last_day in (today, today + timedelta(days=6 - today.weekday()), today + timedelta(days=30)):
            due = {pk for pk, now in live.items() if now.is_due_by(last_day)}
            assert pks(Integration.objects.due_by(moment, last_day)) == due, last_day
        for integration in Integration.objects.select_related("partner"):
            assert integration.days_overdue(moment) == live[integration.pk].days_late, integration
        # The demo has some of each: late ones, the one blocked step left running, ended ones.
        assert late and blocked == {by_name("Halcyon Brokerage").pk}
        states = {now.integration.state for now in live.values()}
        assert states == {"active", "paused", "launched", "cancelled"}


def test_the_resumed_integration_is_late_by_its_days_less_the_day_paused(demo):
    moment = datetime(2026, 11, 27, 12, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        corvid = by_name("Corvid Capital")
        now = standing(corvid, moment)
        late_step = now.overdue_steps()[0]
        deadline = now.of(late_step).deadline
        assert now.days_late == (date(2026, 11, 27) - deadline).days - 1  # 2026-11-25 was paused
        assert corvid.days_overdue(moment) == now.days_late
        assert corvid.pk in pks(Integration.objects.late(moment))


def test_a_cancelled_integration_with_a_blocked_step_is_not_blocked(demo):
    elbrus = by_name("Elbrus Markets")
    assert elbrus.steps.filter(status="blocked").exists()
    assert standing(elbrus).blocked_steps() == []
    assert elbrus.pk not in pks(Integration.objects.blocked())


# --- every surface gives the same numbers --------------------------------------------------------


def surface_moments():
    cases = []
    for name in demo_names():
        for zone in ("partner", "TIME_ZONE"):
            for day in DAYS[::2]:
                for h, m in ((0, 30), (23, 30)):
                    cases.append(pytest.param(name, zone, day, (h, m), id=f"{name}-{zone}-{day}-{h:02d}{m:02d}"))
    return cases


def numbers(days_late, split, forecast) -> tuple:
    """(days late, (TradingView, partner, both), forecast launch) with dates as dates."""
    if isinstance(forecast, str):
        forecast = date.fromisoformat(forecast) if forecast else None
    return int(days_late), tuple(int(n) for n in split), forecast


def stored_numbers(integration, days_late) -> tuple:
    split = (integration.delay_tradingview_days, integration.delay_partner_days, integration.delay_both_days)
    return numbers(days_late, split, integration.forecast_launch_on)


def api_numbers(data) -> tuple:
    standing_data = data["standing"]
    delays = standing_data["delay_days"]
    split = (delays["tradingview"], delays["partner"], delays["both"])
    return numbers(standing_data["days_overdue"], split, standing_data["forecast_launch_on"])


def insight_figures(figures) -> dict:
    stuck = {f.code: (f.integrations, f.overdue, f.overdue_days, f.worst_days) for f in figures["stuck"]}
    sides = {s.side: s.delay_days for s in figures["sides"]}
    slip = {g.label: g.total_slip for g in figures["slip_by_data_type"]}
    return {"stuck": stuck, "sides": sides, "slip_by_data_type": slip}


def expected_insight(live: dict) -> dict:
    """Insight's figures as the live standings give them."""
    shown = [now for now in live.values() if now.integration.kickoff_on and now.integration.state != "cancelled"]
    stuck = {}
    for now in shown:
        step = now.integration.current_step
        if not now.integration.is_running or step is None:
            continue
        count, overdue, days, worst = stuck.get(step.code, (0, 0, 0, 0))
        late = now.days_late
        stuck[step.code] = (count + 1, overdue + bool(late), days + late, max(worst, late))
    sides = {
        "tradingview": sum(now.split.tradingview for now in shown),
        "partner": sum(now.split.partner for now in shown),
        "both": sum(now.split.both for now in shown),
    }
    slip = {}
    for now in shown:
        for label in insight._data_types(now.integration):
            slip[label] = slip.get(label, 0) + now.slip_days
    return {"stuck": stuck, "sides": sides, "slip_by_data_type": slip}


@pytest.fixture
def staff(demo, client, settings):
    settings.API_THROTTLE_RATE = "100000/min"
    return client


@pytest.mark.parametrize(("name", "zone", "day", "hour_minute"), surface_moments())
def test_every_surface_gives_the_standing_numbers(staff, name, zone, day, hour_minute):
    integration = by_name(name)
    zone = ZoneInfo(integration.partner.time_zone) if zone == "partner" else tradingview_zone()
    moment = datetime.combine(day, time(*hour_minute), zone)
    with time_machine.travel(moment, tick=False) as traveller:
        refreshed(traveller, moment, moment.replace(minute=5))
        staff.force_login(get_user_model().objects.get(username=settings.DEMO_USERNAME))
        live = standing(by_name(name), moment)
        expected = numbers(
            live.days_late, (live.split.tradingview, live.split.partner, live.split.both), live.forecast_launch
        )
        pk = integration.pk
        seen = {}

        page = staff.get("/?state=all")
        row = next(r for r in page.context["rows"] if r.integration.pk == pk)
        seen["portfolio"] = stored_numbers(row.integration, row.days_late)
        assert row.integration.slip == live.slip_days

        export = csv.DictReader(io.StringIO(staff.get("/portfolio.csv?state=all").content.decode()))
        line = next(r for r in export if r["partner"] == name)
        seen["csv"] = numbers(
            line["days_late"],
            (line["slip_tradingview"], line["slip_partner"], line["slip_both"]),
            line["forecast_launch"],
        )

        listed = staff.get("/api/v1/integrations/?state=all&page_size=200").json()["results"]
        seen["api list"] = api_numbers(next(r for r in listed if r["id"] == pk))
        seen["api detail"] = api_numbers(staff.get(f"/api/v1/integrations/{pk}/").json())

        context = staff.get(f"/integrations/{pk}/").context
        shown = context["now"]
        split = (shown.split.tradingview, shown.split.partner, shown.split.both)
        seen["integration page"] = numbers(context["late_days"], split, shown.forecast_launch)

        context = staff.get(f"/partner/integrations/{pk}/").context
        owed = [o.days_overdue for o in (*context["ours"], *context["theirs"])]
        shown = context["now"]
        split = (shown.split.tradingview, shown.split.partner, shown.split.both)
        seen["stage page"] = numbers(max(owed, default=0), split, shown.forecast_launch)

        assert seen == dict.fromkeys(seen, expected), (moment, expected)

        figures = staff.get("/insight/").context["figures"]
        assert insight_figures(figures) == expected_insight(standings(moment))
