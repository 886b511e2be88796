"""The stored standing read back: days late and the lists' filters say what ``standing()`` says.

Cases where a copy of the rule used to give another answer.
"""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from integrations import plan
from integrations.models import Integration
from integrations.read_models.portfolio import my_queue_items
from integrations.standing import standing
from tests.integrations.helpers import ctx, on

pytestmark = pytest.mark.django_db


def pks(queryset) -> set:
    return set(queryset.values_list("pk", flat=True))


@pytest.fixture
def london(settings):
    """TradingView in London: its clocks go forward on 2026-03-29."""
    settings.TIME_ZONE = "Europe/London"


def test_days_late_count_working_days_across_a_change_of_clocks(london, started_integration):
    # TradingView's first tasks were due 2026-03-05; 00:30 on 2026-04-03 (summer time) is its 21st working
    # day late (29th calendar day).
    moment = datetime(2026, 4, 3, 0, 30, tzinfo=ZoneInfo("Europe/London"))
    with time_machine.travel(moment, tick=False):
        now = standing(started_integration, moment)
        assert now.next_deadline() == (date(2026, 3, 5), "tradingview")
        assert now.days_late == max(now.days_overdue(s) for s in now.overdue_steps()) == 21
        integration = Integration.objects.select_related("partner").get(pk=started_integration.pk)
        assert integration.days_overdue(moment) == 21
        assert pks(Integration.objects.late(moment)) == {integration.pk}


def test_the_queue_does_not_count_paused_days_as_late(started_integration, pm):
    with on("2026-03-10"):
        plan.pause(started_integration, ctx(pm, "2026-03-10"))
    with on("2026-03-13"):
        plan.resume(started_integration, ctx(pm, "2026-03-13"))
    moment = datetime(2026, 3, 16, 12, tzinfo=UTC)
    with time_machine.travel(moment, tick=False):
        now = standing(started_integration, moment)
        items = my_queue_items(pm, moment)
        # Due 2026-03-05, eleven days ago: 7 working days, three of them paused.
        assert [item.days_late for item in items] == [now.days_overdue(item.step) for item in items] == [4, 4]
