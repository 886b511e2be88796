"""One standing: every surface shows the days late, slip by side and forecast that ``standing()`` gives.

The demo portfolio (``manage.py seed_demo``) is built once for the module, inside a transaction
rolled back at its end; each test runs in a savepoint of it. On top of the stories, Corvid Capital
(late on TradingView's side) was paused for a day and resumed, so its overdue days skip the pause,
and Elbrus Markets (a blocked step) was cancelled.

The lists read the stored standing. The queryset tests leave it as the daily refresh leaves it
(just after midnight in ``TIME_ZONE``) and check every moment of the day against the live
standing; the surfaces' test walks a day in every demo partner's zone and in ``TIME_ZONE``, running the
standing refresh whenever beat's schedule sends it, and compares every surface at each hour.
"""

import csv
import io
import re
from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from integrations import plan
from integrations.clock import today_for
from integrations.dashboard import insight
from integrations.dashboard.portfolio import calendar_token
from integrations.management.commands.seed_demo import PORTFOLIO
from integrations.models import Integration, tradingview_zone
from integrations.stage.models import CalendarFeed
from integrations.standing import refresh_running, standing
from integrations.tasks import refresh_standings
from roadmap.models import Side
from roadmap.schedule import working_days_between
from tests.integrations.helpers import ctx

pytestmark = pytest.mark.django_db

SEEDED = datetime(2026, 11, 25, 9, tzinfo=UTC)  # a Wednesday
RESUMED = datetime(2026, 11, 26, 0, 10, tzinfo=UTC)
# A Friday soon after, a Monday, and a day after every demo zone changed its clocks since the seed.
DAYS = [date(2026, 11, 27), date(2026, 11, 30), date(2027, 4, 6)]
ZONES = ["UTC", "America/New_York", "Asia/Tokyo", "Australia/Sydney"]


def demo_names() -> list[str]:
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
        # Working days, less Wednesday 2026-11-25, paused.
        assert now.days_late == working_days_between(deadline, date(2026, 11, 27)) - 1
        assert corvid.days_overdue(moment) == now.days_late
        assert corvid.pk in pks(Integration.objects.late(moment))


def test_a_cancelled_integration_with_a_blocked_step_is_not_blocked(demo):
    elbrus = by_name("Elbrus Markets")
    assert elbrus.steps.filter(status="blocked").exists()
    assert standing(elbrus).blocked_steps() == []
    assert elbrus.pk not in pks(Integration.objects.blocked())


# --- every surface gives the same numbers --------------------------------------------------------


# One day walked in every demo partner's zone and in TIME_ZONE, at these hours (a minute past).
WALKED_DAY = date(2026, 11, 27)  # a Friday: Saturday begins in Sydney while Chicago still works Friday
HOURS = (0, 1, 6, 12, 20, 21, 23)
OVERDUE = re.compile(r"(\d+) (?:working )?days? overdue")


def walk() -> list[tuple[datetime, set[str]]]:
    """The moments walked, in order, each with the demo integrations checked then (its partner's, or all)."""
    checks: dict[datetime, set[str]] = {}
    for story in PORTFOLIO:
        for zone in (ZoneInfo(story.time_zone), tradingview_zone()):
            for hour in HOURS:
                moment = datetime.combine(WALKED_DAY, time(hour, 1), zone).astimezone(UTC)
                checks.setdefault(moment, set()).add(story.name)
    return sorted(checks.items())


def beat_runs(after: datetime, until: datetime):
    """The minutes after ``after`` up to ``until`` at which beat sends the standing refresh, by its schedule."""
    schedule = settings.CELERY_BEAT_SCHEDULE["refresh-standings"]["schedule"]
    minute = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    while minute <= until:
        local = minute.astimezone(ZoneInfo(settings.CELERY_TIMEZONE))
        if local.minute in schedule.minute and local.hour in schedule.hour:
            yield minute
        minute += timedelta(minutes=1)


def numbers(days_late, split, forecast, next_due=None) -> tuple:
    """(days late, (TradingView, partner, both), forecast launch, next deadline) with dates as dates."""
    return int(days_late), tuple(int(n) for n in split), as_date(forecast), as_date(next_due)


def as_date(value):
    if isinstance(value, str):
        return date.fromisoformat(value) if value else None
    return value


def stored_numbers(integration, days_late) -> tuple:
    split = (integration.delay_tradingview_days, integration.delay_partner_days, integration.delay_both_days)
    return numbers(days_late, split, integration.forecast_launch_on, integration.next_due_on)


def live_numbers(now, days_late=None) -> tuple:
    split = (now.split.tradingview, now.split.partner, now.split.both)
    next_deadline = now.next_deadline()
    return numbers(
        now.days_late if days_late is None else days_late,
        split,
        now.forecast_launch,
        next_deadline[0] if next_deadline else None,
    )


def api_numbers(data) -> tuple:
    standing_data = data["standing"]
    delays = standing_data["delay_days"]
    split = (delays["tradingview"], delays["partner"], delays["both"])
    return numbers(
        standing_data["days_overdue"], split, standing_data["forecast_launch_on"], standing_data["next_due_on"]
    )


def feed_deadlines(body: bytes) -> dict[int, date]:
    """{step id: the day of its event} of an iCalendar feed."""
    calendar = icalendar.Calendar.from_ical(body)
    return {
        int(str(event["uid"]).split("@")[0].rsplit("-", 1)[1]): event.decoded("dtstart")
        for event in calendar.walk("VEVENT")
    }


def live_deadlines(now, side=None) -> dict[int, date]:
    """{step id: deadline} of the open steps a calendar carries, as the live standing gives them."""
    if not now.integration.is_active:
        return {}
    return {
        step.pk: now.deadline_shown(step)[0]
        for step in now.steps
        if step.is_open and now.of(step) and (side is None or step.side == side)
    }


def reminders_overdue(integration, moment) -> dict[int, int]:
    """{step id: N} of the "N days overdue" the partner's reminders (and escalations) say on the partner's day."""
    from notifications.reminders import _plan_integration

    if not integration.is_active:
        return {}  # reminders are planned for active integrations alone
    day = today_for(Side.PARTNER, integration.partner, moment)
    said = {}
    for message in _plan_integration(integration, day):
        if message.step.side != Side.PARTNER:
            continue  # TradingView's tasks are reminded on TradingView's day
        found = OVERDUE.search(message.text)
        if found:
            said[message.step.pk] = int(found.group(1))
    return said


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


def test_every_surface_gives_the_standing_numbers_through_a_day(staff, settings):
    """Beat's quarter-hour refresh runs through the day; at each walked moment every surface agrees with ``standing()``."""
    settings.SLACK_INTERNAL_CHANNEL = "C0INTERNAL"  # so the escalations, with their count, are planned
    user = get_user_model().objects.get(username=settings.DEMO_USERNAME)
    pm_feed = f"/calendar/{calendar_token(user)}.ics"
    partner_feeds = {
        name: f"/partner/calendar/{CalendarFeed.issue(partner=by_name(name).partner)[1]}.ics" for name in demo_names()
    }
    moments = walk()
    last = moments[0][0] - timedelta(hours=1)
    checked = 0
    with time_machine.travel(last, tick=False) as traveller:
        staff.force_login(user)
        for moment, names in moments:
            for run in beat_runs(last, moment):
                traveller.move_to(run)
                refresh_standings.apply()
            traveller.move_to(moment)
            last = moment
            rows = {r.integration.pk: r for r in staff.get("/?state=all").context["rows"]}
            export = csv.DictReader(io.StringIO(staff.get("/portfolio.csv?state=all").content.decode()))
            lines = {line["partner"]: line for line in export}
            listed = staff.get("/api/v1/integrations/?state=all&page_size=200").json()["results"]
            listed = {r["id"]: r for r in listed}
            pm_events = feed_deadlines(staff.get(pm_feed).content)
            for name in sorted(names):
                integration = by_name(name)
                pk = integration.pk
                live = standing(integration, moment)
                expected = live_numbers(live)
                seen = {}
                row = rows[pk]
                seen["portfolio"] = stored_numbers(row.integration, row.days_late)
                assert row.integration.slip == live.slip_days
                line = lines[name]
                seen["csv"] = numbers(
                    line["working_days_late"],
                    (
                        line["slip_tradingview_working_days"],
                        line["slip_partner_working_days"],
                        line["slip_both_working_days"],
                    ),
                    line["forecast_launch"],
                    line["next_due"],
                )
                seen["api list"] = api_numbers(listed[pk])
                seen["api detail"] = api_numbers(staff.get(f"/api/v1/integrations/{pk}/").json())
                context = staff.get(f"/integrations/{pk}/").context
                seen["integration page"] = live_numbers(context["now"], context["late_days"])
                context = staff.get(f"/partner/integrations/{pk}/").context
                owed = [o.days_overdue for o in (*context["ours"], *context["theirs"])]
                seen["stage page"] = live_numbers(context["now"], max(owed, default=0))
                assert seen == dict.fromkeys(seen, expected), (name, moment)

                steps = {s.pk for s in live.steps}
                calendars = {
                    "pm": {pk: day for pk, day in pm_events.items() if pk in steps},
                    "partner": feed_deadlines(staff.get(partner_feeds[name]).content),
                }
                expected_calendars = {"pm": live_deadlines(live), "partner": live_deadlines(live, Side.PARTNER)}
                assert calendars == expected_calendars, (name, moment)
                for step_pk, said in reminders_overdue(integration, moment).items():
                    assert said == next(live.days_overdue(s) for s in live.steps if s.pk == step_pk), (name, moment)
                checked += 1

            figures = staff.get("/insight/").context["figures"]
            assert insight_figures(figures) == expected_insight(standings(moment)), moment
    assert checked == sum(len(names) for _, names in moments) > len(demo_names()) * len(HOURS)
