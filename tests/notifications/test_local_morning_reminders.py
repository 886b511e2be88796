"""Reminders on each recipient's own working morning: beat's hourly sweep, partners in Auckland, Tokyo and
Los Angeles, the default plan kicked off on Monday 2026-03-02 (the partner's first step due Monday 2026-03-30).

Beat is played as configured (``CELERY_BEAT_SCHEDULE``): the reminder task runs at each hour its crontab
names, across 48 travelled hours around the weekend before the deadline.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings

from integrations import plan
from notifications import tasks
from notifications.models import OutboxMessage
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import KICKOFF, at, ctx, step

K = OutboxMessage.Kind
DEADLINE = date(2026, 3, 30)  # a Monday
ZONES = {"Auckland": "Pacific/Auckland", "Tokyo": "Asia/Tokyo", "Los Angeles": "America/Los_Angeles"}


@pytest.fixture
def partners(settings, pm):
    settings.SLACK_INTERNAL_CHANNEL = "C0INTERNAL"
    made = {}
    for n, (city, zone) in enumerate(ZONES.items()):
        integration = IntegrationFactory(
            partner=PartnerFactory(name=f"{city} Markets", time_zone=zone), tv_pm=pm, slack_channel_id=f"C0CITY{n}"
        )
        with time_machine.travel(at(KICKOFF, 9), tick=False):
            made[city] = plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    return made


def beat(first: datetime, hours: int, skip=()):
    """Run the reminder task at every moment of ``hours`` hours from ``first`` that beat's schedule names."""
    schedule = django_settings.CELERY_BEAT_SCHEDULE["plan-reminders"]["schedule"]
    for n in range(hours):
        moment = first + timedelta(hours=n)
        if moment in skip or moment.hour not in schedule.hour or moment.minute not in schedule.minute:
            continue
        with time_machine.travel(moment, tick=False):
            tasks.plan_reminders()


def partner_rows(integration):
    """What the sweep wrote to the partner's channel (its kick-off's welcome was written by the kick-off)."""
    return OutboxMessage.objects.filter(integration=integration, channel=integration.slack_channel_id).exclude(
        kind__in=[K.THREAD_STATUS, K.WELCOME]
    )


def test_each_partner_hears_on_its_own_working_morning_once_and_never_at_its_weekend(partners):
    # Saturday 18:15 UTC to Monday 17:15 UTC: every partner's Sunday morning and Monday morning.
    beat(datetime(2026, 3, 28, 18, 15, tzinfo=UTC), 48)
    beat(datetime(2026, 3, 28, 18, 15, tzinfo=UTC), 48)  # run again: nothing new
    for city, integration in partners.items():
        zone = ZoneInfo(ZONES[city])
        endpoints = step(integration, "endpoints-implementation")
        rows = list(partner_rows(integration))
        assert [(row.kind, row.reason_key) for row in rows] == [(K.DUE_TODAY, f"due_today:{endpoints.pk}:2026-03-30")]
        local = rows[0].not_before.astimezone(zone)
        assert (local.date(), local.hour) == (DEADLINE, 9), city  # its Monday, 09:xx its time
        assert rows[0].created_at.astimezone(zone).date() == DEADLINE, city


def test_the_next_day_each_partner_hears_its_first_day_overdue_on_its_tuesday_morning(partners):
    beat(datetime(2026, 3, 29, 18, 15, tzinfo=UTC), 48)  # Sunday 18:15 UTC to Tuesday 17:15 UTC
    for city, integration in partners.items():
        zone = ZoneInfo(ZONES[city])
        overdue = list(partner_rows(integration).filter(kind=K.OVERDUE))
        assert len(overdue) == 1, city
        local = overdue[0].not_before.astimezone(zone)
        assert (local.date(), local.hour) == (date(2026, 3, 31), 9), city


def test_a_missed_hour_is_caught_up_by_the_next_run_of_the_same_local_day_never_twice(partners):
    tokyo = partners["Tokyo"]
    monday_morning = datetime(2026, 3, 30, 0, 15, tzinfo=UTC)  # 09:15 in Tokyo
    beat(datetime(2026, 3, 29, 12, 15, tzinfo=UTC), 24, skip={monday_morning})
    rows = list(partner_rows(tokyo))
    assert [row.kind for row in rows] == [K.DUE_TODAY]
    local = rows[0].not_before.astimezone(ZoneInfo("Asia/Tokyo"))
    assert (local.date(), local.hour) == (DEADLINE, 10)  # the 10:15 run caught it up


def test_tradingview_channel_counts_tradingview_days(partners):
    # TradingView's first tasks are due Thursday 2026-03-05: announced once, at 09:xx in TIME_ZONE.
    beat(datetime(2026, 3, 4, 12, 15, tzinfo=UTC), 48)
    due = OutboxMessage.objects.filter(kind=K.TRADINGVIEW_DUE, channel="C0INTERNAL")
    assert due.count() == 2 * len(partners)
    for row in due:
        local = row.not_before.astimezone(ZoneInfo(django_settings.TIME_ZONE))
        assert (local.date(), local.hour) == (date(2026, 3, 5), 9)
