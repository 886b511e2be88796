"""Nobody hears of a late step on a public holiday of their own calendar.

A partner in Japan owes its endpoints by Friday 25 December 2026 (a working day in Japan); on
New Year's Day they are 7 days overdue, the escalation day. TradingView's calendar (England)
keeps New Year's Day: the escalation waits for Monday 4 January, and so does the partner's
reminder (New Year's Day in Japan too).
"""

from datetime import UTC, date, datetime

import pytest

from integrations import plan
from notifications.models import OutboxMessage
from notifications.reminders import plan_reminders
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import at, ctx, on, step
from tests.notifications.conftest import INTERNAL_CHANNEL, SITE_URL

pytestmark = pytest.mark.django_db
K = OutboxMessage.Kind
NEW_YEAR = date(2027, 1, 1)


@pytest.fixture(autouse=True)
def calendars(settings):
    settings.SLACK_INTERNAL_CHANNEL = INTERNAL_CHANNEL
    settings.SITE_URL = SITE_URL
    settings.TRADINGVIEW_HOLIDAYS_COUNTRY = "GB"
    settings.TRADINGVIEW_HOLIDAYS_SUBDIVISION = "ENG"


def test_escalations_and_reminders_are_not_delivered_on_new_years_day(pm):
    kickoff = date(2026, 11, 27)
    partner = PartnerFactory(name="Kyoto Securities", time_zone="Asia/Tokyo", country="JP")
    integration = IntegrationFactory(partner=partner, tv_pm=pm, slack_channel_id="C0KYOTO01")
    with on(kickoff, 9):
        plan.start_integration(integration, kickoff, ctx(pm, at(kickoff, 9)))
    assert step(integration, "endpoints-implementation").due_date == date(2026, 12, 25)

    with on(NEW_YEAR, 6):
        plan_reminders(NEW_YEAR)

    escalation = OutboxMessage.objects.get(kind=K.ESCALATION)
    assert escalation.not_before == datetime(2027, 1, 4, 9, tzinfo=UTC)
    written = OutboxMessage.objects.filter(integration=integration)
    assert written.exists()
    assert not [m for m in written if m.not_before.astimezone(partner.zone).date() == NEW_YEAR]
