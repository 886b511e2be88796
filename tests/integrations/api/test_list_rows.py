"""The integrations list's rows over a varied portfolio: the same JSON as ``IntegrationSerializer`` gives each
integration, in four queries, whatever rows share.

The list works out the days late, the slips and the moments' text once per distinct input on a page
(``serializers.ListedPage``): these tests put on one page rows that share a deadline's end but not the
partner's zone, calendar, region or ball in court, and read the list at moments either side of partners'
holidays and midnights, so a value worked out for one row and reused for another that differs shows.
"""

import json
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from integrations import plan
from integrations.api.serializers import IntegrationSerializer
from integrations.models import Integration, IntegrationStep, Partner, PartnerUser
from roadmap.models import StepStatus
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory
from tests.integrations.api.conftest import caller_for, results
from tests.integrations.helpers import KICKOFF, at, ctx, on

pytestmark = pytest.mark.django_db

BERLIN, LONDON, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("Europe/London"), ZoneInfo("America/New_York")

# (name, time zone, country, region): same zones with other calendars, and the reverse. Partners name
# themselves: markup, quotes, a line separator JSON must escape, a spreadsheet formula, an emoji.
PARTNERS = [
    ("<script>alert('Acme')</script>", "Europe/Berlin", "DE", ""),
    ('Bavaria "Börse" & Co', "Europe/Berlin", "DE", "BY"),
    ("Line\u2028Separator Ltd", "Europe/London", "GB", ""),
    ('=HYPERLINK("http://x") FX', "Europe/London", "DE", ""),
    ("Wall St 🚀", "America/New_York", "US", ""),
    ("UTC Markets", "UTC", "DE", ""),  # TradingView's zone, a partner's calendar: the ball decides
    ("No Such Zone", "UTC", "", ""),  # then an unknown zone (below), read as TradingView's
]


def midnight(day: str, zone) -> datetime:
    """The end of the day before ``day`` in ``zone``: a deadline as ``next_deadline_at`` stores it."""
    return datetime.combine(date.fromisoformat(day), time(0), zone)


# Deadlines the rows share: ended before Labour Day (1 May, a holiday in Germany, not in Britain) and the
# early May bank holiday (4 May, Britain's), a month before Corpus Christi (4 June, Bavaria's, not Berlin's),
# one ended at a moment that is no midnight, and one still to come.
DEADLINES = [
    midnight("2026-04-30", BERLIN),
    midnight("2026-04-30", LONDON),
    midnight("2026-06-04", BERLIN),
    midnight("2026-04-30", NEW_YORK),
    datetime(2026, 4, 29, 15, 30, tzinfo=ZoneInfo("UTC")),
    midnight("2026-07-01", BERLIN),
]
STATES = ["active", "active", "active", "paused", "launched", "cancelled"]
SIDES = ["partner", "tradingview", "both", ""]
DAYS = [None, date(2026, 5, 29), date(2026, 6, 5), date(2026, 6, 12), date(2026, 7, 3)]


@pytest.fixture
def portfolio(pm):
    """Integrations of every partner above, in every state and with every ball, sharing deadlines and launch
    dates across partners; three kicked off (their current steps done, blocked, running), the others pointing at
    those steps."""
    partners = [
        PartnerFactory(name=name, time_zone=zone, country=country, subdivision=region)
        for name, zone, country, region in PARTNERS
    ]
    Partner.objects.filter(name="No Such Zone").update(time_zone="Mars/Olympus_Mons")
    started = []
    for n, partner in enumerate(partners[:3]):
        integration = IntegrationFactory(partner=partner, tv_pm=pm, name=f"Kicked off {n}")
        with on(KICKOFF, 9):
            started.append(plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9))))
    steps = [i.current_step for i in Integration.objects.filter(pk__in=[i.pk for i in started])]
    IntegrationStep.objects.filter(pk=steps[0].pk).update(status=StepStatus.DONE)
    IntegrationStep.objects.filter(pk=steps[1].pk).update(status=StepStatus.BLOCKED)
    made = list(started)
    for n in range(len(partners) * len(SIDES)):
        made.append(
            IntegrationFactory(partner=partners[n % len(partners)], tv_pm=pm if n % 3 else None, name=f"Row {n}")
        )
    for n, integration in enumerate(made):
        Integration.objects.filter(pk=integration.pk).update(
            state=STATES[n % len(STATES)],
            ball_side=SIDES[n % len(SIDES)],
            next_deadline_at=DEADLINES[n % len(DEADLINES)] if n % 11 else None,
            next_due_on=DEADLINES[n % len(DEADLINES)].date() - timedelta(days=1),
            current_step=steps[n % len(steps)] if n % 5 else None,
            planned_launch_on=DAYS[n % 3 + 1],
            forecast_launch_on=DAYS[n % len(DAYS)],
            forecast_p85=DAYS[(n + 2) % len(DAYS)],
            baseline_launch_on=DAYS[(n + 1) % len(DAYS)],
            agreed_launch_on=DAYS[(n + 3) % len(DAYS)],
            launch_agreed_by="Partner's PM <b>" if n % 4 == 0 else "",
            delay_tradingview_days=n % 4,
            delay_partner_days=n % 3,
            delay_both_days=n % 2,
            launched_on=date(2026, 5, 4) if STATES[n % len(STATES)] == "launched" else None,
            beta_testers="alice.tv\nbob_tv" if n % 6 == 0 else "",
        )
    return made


def assert_the_serializers_rows(api, user, page_size=200):
    """The list's rows (every state) are ``IntegrationSerializer``'s, field for field and in order, in four queries."""
    api.get("integrations/", {"state": "all", "page_size": page_size})  # the token's last use, written once a minute
    with CaptureQueriesContext(connection) as queries:
        listed = results(api.get("integrations/", {"state": "all", "page_size": page_size}))
    assert len(queries) == 4, [q["sql"] for q in queries]
    context = {"request": SimpleNamespace(user=user)}
    for row in listed:
        integration = Integration.objects.select_related("partner", "current_step", "tv_pm").get(pk=row["id"])
        shown = json.loads(JSONRenderer().render(IntegrationSerializer(integration, context=context).data))
        assert row == shown
        assert list(row) == list(shown) and list(row["standing"]) == list(shown["standing"])
    return listed


# Moments around the shared deadlines' days late changing: the holidays, a London and a Berlin midnight.
MOMENTS = [
    datetime(2026, 5, 5, 12, tzinfo=ZoneInfo("UTC")),  # after both May holidays
    datetime(2026, 5, 1, 22, 30, tzinfo=ZoneInfo("UTC")),  # Saturday in Berlin, still Friday in London
    datetime(2026, 6, 5, 6, tzinfo=ZoneInfo("UTC")),  # after Corpus Christi
]


@pytest.mark.parametrize("moment", MOMENTS, ids=lambda m: m.isoformat())
def test_staff_rows_are_the_serializers_over_a_varied_portfolio(pm, portfolio, settings, moment):
    settings.TIME_ZONE = "Europe/London"  # moments written in it: "+01:00" in summer
    with time_machine.travel(moment, tick=False):
        listed = assert_the_serializers_rows(caller_for(pm, name="staff"), pm)
    assert len(listed) == len(portfolio)
    # The page holds rows that share a deadline and differ in what its days late are counted by.
    late = {(row["standing"]["next_deadline_at"], row["standing"]["days_overdue"]) for row in listed}
    assert len({days for deadline, days in late if deadline}) > 2, late


def test_a_partners_rows_are_the_serializers_over_a_varied_portfolio(portfolio):
    user = UserFactory(username="dev.bavaria")
    PartnerUser.objects.create(user=user, partner=Partner.objects.get(name='Bavaria "Börse" & Co'))
    with time_machine.travel(MOMENTS[2], tick=False):
        listed = assert_the_serializers_rows(caller_for(user, name="bavaria ci"), user)
    assert listed and {row["partner_name"] for row in listed} == {'Bavaria "Börse" & Co'}
    assert {row["standing"]["health"] for row in listed} == {None}  # the health mark is TradingView's


def test_rows_sharing_a_deadline_count_their_days_late_each_in_its_own_calendar(pm, portfolio):
    # Ended Wednesday 29 April at midnight in Berlin: on Tuesday 5 May, Berlin lost Labour Day, Bavaria too.
    # The same deadline owed by TradingView in UTC, a UTC partner's (a German calendar) owing it.
    ends = midnight("2026-04-30", BERLIN)
    berlin, bavaria = Partner.objects.get(name__startswith="<script>"), Partner.objects.get(name__startswith="Bavaria")
    utc = Partner.objects.get(name="UTC Markets")
    rows = {
        "berlin": IntegrationFactory(partner=berlin, name="Shared Berlin"),
        "bavaria": IntegrationFactory(partner=bavaria, name="Shared Bavaria"),
        "utc, TradingView's ball": IntegrationFactory(partner=utc, name="Shared UTC TV"),
        "utc, the partner's ball": IntegrationFactory(partner=utc, name="Shared UTC partner"),
    }
    Integration.objects.filter(pk__in=[i.pk for i in rows.values()]).update(state="active", next_deadline_at=ends)
    Integration.objects.filter(pk=rows["utc, TradingView's ball"].pk).update(
        ball_side="tradingview", next_deadline_at=midnight("2026-04-30", ZoneInfo("UTC"))
    )
    Integration.objects.filter(pk=rows["utc, the partner's ball"].pk).update(
        ball_side="partner", next_deadline_at=midnight("2026-04-30", ZoneInfo("UTC"))
    )
    Integration.objects.filter(pk=rows["bavaria"].pk).update(ball_side="partner")
    api = caller_for(pm, name="staff")

    def days_late(moment) -> dict:
        with time_machine.travel(moment, tick=False):
            listed = {row["id"]: row for row in results(api.get("integrations/", {"page_size": 200}))}
        return {name: listed[i.pk]["standing"]["days_overdue"] for name, i in rows.items()}

    # Thu 30 Apr, Mon 4, Tue 5 May: four working days in Britain's or TradingView's calendar, three in Germany's.
    assert days_late(datetime(2026, 5, 5, 12, tzinfo=ZoneInfo("UTC"))) == {
        "berlin": 3,
        "bavaria": 3,
        "utc, TradingView's ball": 4,
        "utc, the partner's ball": 3,
    }
    # Corpus Christi (4 June) is Bavaria's alone: a day fewer late for it than for Berlin.
    june = days_late(datetime(2026, 6, 5, 12, tzinfo=ZoneInfo("UTC")))
    assert june["bavaria"] == june["berlin"] - 1, june
    # A page worked out at one moment is not the next request's: a day later, a day more late.
    later = days_late(datetime(2026, 6, 8, 12, tzinfo=ZoneInfo("UTC")))
    assert later == {name: days + 1 for name, days in june.items()}, (june, later)


def test_a_moments_text_is_kept_for_its_time_zone_alone(pm, world, settings):
    # The moments' texts are kept from page to page: a page written in another zone writes its own.
    Integration.objects.filter(pk=world.pk).update(updated_at=datetime(2026, 7, 1, 9, 30, tzinfo=ZoneInfo("UTC")))
    api = caller_for(pm, name="staff")

    def updated_at() -> str:
        return next(row for row in results(api.get("integrations/")) if row["id"] == world.pk)["updated_at"]

    settings.TIME_ZONE = "UTC"
    assert updated_at() == "2026-07-01T09:30:00Z"
    settings.TIME_ZONE = "Europe/London"
    assert updated_at() == "2026-07-01T10:30:00+01:00"
    settings.TIME_ZONE = "UTC"
    assert updated_at() == "2026-07-01T09:30:00Z"
