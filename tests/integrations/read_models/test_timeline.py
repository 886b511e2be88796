"""The timeline both the PM's integration page and the partner's stage page draw."""

from datetime import date

import pytest

from integrations.read_models.timeline import timeline
from integrations.standing import standing
from tests.integrations.helpers import PLANNED_DUE, on

pytestmark = pytest.mark.django_db


def test_the_timeline_geometry_puts_each_step_on_its_own_row(started_integration):
    with on("2026-03-04"):
        now = standing(started_integration)
    steps = list(started_integration.steps.order_by("position"))
    tl = timeline(now, steps)
    assert len(tl.rows) == 17
    assert [r.y for r in tl.rows[:2]] == [34, 60]
    launch = tl.rows[-1]
    assert launch.label == "TradingView · Open to all users"
    assert tl.chart_left <= tl.rows[0].planned_x < launch.planned_x <= tl.chart_right
    assert tl.baseline == PLANNED_DUE["open-to-all-users"] and tl.baseline_x == launch.planned_x
    assert tl.window == (date(2026, 5, 18), date(2026, 5, 25))
    assert tl.today == date(2026, 3, 4) and tl.today_x < tl.rows[2].planned_x
    assert tl.rows[0].status == "forecast 5 Mar 2026"


def test_an_integration_without_a_planned_step_has_no_timeline(integration):
    assert timeline(standing(integration), list(integration.steps.order_by("position"))) is None
