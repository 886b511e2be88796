"""Nobody hears of a late step on a public holiday of their own calendar.

A partner in Japan owes its endpoints by Thursday 17 December 2026; on Monday 28 December they are
7 working days overdue in Japan's calendar, the escalation day. TradingView's calendar (England)
keeps that Monday as Boxing Day's substitute: the escalation waits for Tuesday 29 December, while
the partner's own reminder (7 working days overdue) reaches it that Monday, a working day in Japan.
On New Year's Day, a holiday of both, nobody hears anything.
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
BOXING_DAY_SUBSTITUTE = date(2026, 12, 28)


@pytest.fixture(autouse=True)
def calendars(settings):
    settings.SLACK_INTERNAL_CHANNEL = INTERNAL_CHANNEL
    settings.SITE_URL = SITE_URL
    settings.TRADINGVIEW_HOLIDAYS_COUNTRY = "GB"
    settings.TRADINGVIEW_HOLIDAYS_SUBDIVISION = "ENG"


def test_escalations_and_reminders_are_not_delivered_on_a_holiday_of_their_readers(pm):
    kickoff = date(2026, 11, 19)
    partner = PartnerFactory(name="Kyoto Securities", time_zone="Asia/Tokyo", country="JP")
    integration = IntegrationFactory(partner=partner, tv_pm=pm, slack_channel_id="C0KYOTO01")
    with on(kickoff, 9):
        plan.start_integration(integration, kickoff, ctx(pm, at(kickoff, 9)))
    endpoints = step(integration, "endpoints-implementation")
    assert endpoints.due_date == date(2026, 12, 17)

    with on(BOXING_DAY_SUBSTITUTE, 6):
        plan_reminders(BOXING_DAY_SUBSTITUTE)

    escalation = OutboxMessage.objects.get(kind=K.ESCALATION)
    assert escalation.text.startswith("Escalation: 7 working days overdue")
    assert escalation.not_before == datetime(2026, 12, 29, 9, tzinfo=UTC)
    reminder = OutboxMessage.objects.get(kind=K.OVERDUE, step=endpoints)
    assert reminder.text.startswith("7 working days overdue")
    assert reminder.not_before.astimezone(partner.zone).date() == BOXING_DAY_SUBSTITUTE

    with on(NEW_YEAR, 6):
        plan_reminders(NEW_YEAR)
    written = OutboxMessage.objects.filter(integration=integration)
    assert not [m for m in written if m.not_before.astimezone(partner.zone).date() == NEW_YEAR]
    assert not [m for m in written if m.not_before.date() == NEW_YEAR]
