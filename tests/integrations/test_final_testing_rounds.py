"""Final testing as two dated rounds (version 2 of the default roadmap).

The seed gives the partner's fixing a deadline at week 9 and TradingView two rounds of testing after
the smoke fixes (week 7). Each round is TradingView's 3 working days of testing, which tests the
fixes before it (never prepared during the partner's week), then the 2 working days left in the
week for the partner's fixes, checked by TradingView.
"""

from datetime import date

import pytest

from integrations import plan
from integrations.standing import standing
from integrations.steps import complete_step
from roadmap import default_template
from roadmap.models import RoadmapTemplate
from roadmap.schedule import plan_due_dates
from tests.factories import IntegrationFactory
from tests.integrations.handovers.helpers import hand_over_everything
from tests.integrations.helpers import KICKOFF, PLANNED_DUE, STEP_CODES, at, ctx, on, step, steps_by_code

pytestmark = pytest.mark.django_db

ROUND_1, FIXES_1, ROUND_2, FIXES_2 = (
    "final-testing-1",
    "final-testing-fixes-1",
    "final-testing-2",
    "final-testing-fixes",
)


def test_a_monday_kick_off_plans_each_round_and_its_fixes_in_weeks_8_and_9(started_integration):
    assert KICKOFF.weekday() == 0  # Monday 2 March 2026; the smoke fixes are due Monday 20 April (week 7)
    planned = {code: s.planned_due_date for code, s in steps_by_code(started_integration).items()}

    assert planned["smoke-test-fixes"] == date(2026, 4, 20)
    # Round 1: TradingView tests Tuesday to Thursday, the partner fixes Friday and Monday (the week-8 date).
    assert planned[ROUND_1] == date(2026, 4, 23)
    assert planned[FIXES_1] == date(2026, 4, 27)
    # Round 2: the same in week 9, ending on the seed's week-9 deadline for the partner's fixes.
    assert planned[ROUND_2] == date(2026, 4, 30)
    assert planned[FIXES_2] == date(2026, 5, 4)
    # Nothing after final testing moves: the closed release and beta testing keep the seed's weeks 9 and 10.
    assert planned["closed-release"] == date(2026, 5, 4)
    assert planned["beta-testing"] == date(2026, 5, 11)


@pytest.fixture
def round_1_open(started_integration, pm):
    """Every step before round 1 done by TradingView's PM on its due date."""
    hand_over_everything(started_integration)
    for code in STEP_CODES[: STEP_CODES.index(ROUND_1)]:
        with on(PLANNED_DUE[code], 15):
            complete_step(step(started_integration, code), ctx(pm, PLANNED_DUE[code]))
    return step(started_integration, ROUND_1)


def test_tradingview_late_with_round_1_moves_the_round_1_fixes_only(round_1_open, pm):
    integration = round_1_open.integration
    # Due Thursday 23 April, tested until Monday 27 April: 2 working days late.
    with on(date(2026, 4, 27), 15):
        complete_step(round_1_open, ctx(pm, date(2026, 4, 27)))
        now = standing(integration)

    deadlines = {code: s.due_date for code, s in steps_by_code(integration).items()}
    # The partner keeps its 2 working days after the hand-over: Tuesday 28 and Wednesday 29 April.
    assert deadlines[FIXES_1] == date(2026, 4, 29)
    # What waits on the round-1 fixes keeps its planned date until they are handed over.
    for code in (ROUND_2, FIXES_2, "closed-release", "beta-testing", "open-to-all-users"):
        assert deadlines[code] == PLANNED_DUE[code], code
    assert now.of(step(integration, ROUND_1)).days_late == 2
    assert now.split.tradingview == 2 and now.split.partner == 0


def test_a_re_plan_plans_the_rounds_by_the_rule_the_kick_off_copied(started_integration, pm):
    steps = steps_by_code(started_integration)
    assert (steps[ROUND_1].prepared_ahead, steps[FIXES_1].keeps_days) == (False, 2)
    wednesday = date(2026, 3, 11)

    with on("2026-03-04"):
        plan.replan(started_integration, wednesday, ctx(pm, "2026-03-04", note="Partner starts later."))

    template_plan = plan_due_dates(list(started_integration.template.steps.all()), wednesday)
    assert {code: s.planned_due_date for code, s in steps_by_code(started_integration).items()} == {
        code: due for code, (_, due) in template_plan.items()
    }
    # Smoke fixes due Wednesday 29 April (week 7): round 1 Monday 4 May, its fixes Wednesday 6 May (week 8).
    assert template_plan[FIXES_1][1] == date(2026, 5, 6) and template_plan[ROUND_1][1] == date(2026, 5, 4)


def test_an_integration_on_version_1_keeps_final_testing_as_one_step(pm):
    version_1 = RoadmapTemplate.objects.get(key=default_template.KEY, version=1)
    on_version_1 = IntegrationFactory(template=version_1, tv_pm=pm)
    new = IntegrationFactory(tv_pm=pm)  # a new integration takes the newest version
    with on(KICKOFF, 9):
        plan.start_integration(on_version_1, KICKOFF, ctx(pm, at(KICKOFF, 9)))
        plan.start_integration(new, KICKOFF, ctx(pm, at(KICKOFF, 9)))

    assert new.template.version == 2 and new.steps.count() == 17
    old = steps_by_code(on_version_1)
    assert len(old) == 15 and ROUND_1 not in old
    assert old["final-testing"].planned_due_date == date(2026, 4, 23)
    assert old["final-testing-fixes"].planned_due_date == date(2026, 5, 4)
    assert old["final-testing-fixes"].jira_bug_labels == ["final-test-1", "final-test-2"]
