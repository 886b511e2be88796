"""The default roadmap installed by the data migrations follows TradingView's process row by row.

Version 2, the newest, holds final testing as two dated rounds; version 1, which running
integrations may still follow, keeps its fifteen rows.
"""

import pytest

from roadmap.models import RoadmapTemplate, template_problems
from roadmap.schedule import plan_due_dates
from tests.default_plan import KICKOFF, LAUNCH_WINDOW, PLANNED_DUE

# Transcribed from TradingView's "REST API integration roadmap" document.
# (position, code, side, pair number, title, due_week, due_week_last, tells_via, condition)
EXPECTED = [
    (1, "slack-jira-onboarding", "tradingview", 1, "Slack/Jira onboarding", None, None, {"slack"}, "always"),
    (
        2,
        "autotests-configuration",
        "tradingview",
        2,
        "REST API autotests configuration",
        None,
        None,
        {"slack"},
        "autotests",
    ),
    (
        3,
        "endpoints-implementation",
        "partner",
        1,
        "Data / trading endpoints implementation",
        4,
        None,
        {"slack"},
        "always",
    ),
    (4, "passing-autotests", "partner", 2, "Passing REST API autotests", 4, None, {"slack"}, "autotests"),
    (5, "sandbox-access", "tradingview", 3, "Sandbox access configuration", None, None, {"slack"}, "always"),
    (6, "sandbox-development", "partner", 3, "Integration development in the Sandbox", 5, None, {"slack"}, "always"),
    (
        7,
        "request-production-urls",
        "tradingview",
        4,
        "Request production integration URLs",
        None,
        None,
        {"slack"},
        "always",
    ),
    (
        8,
        "production-deployment",
        "partner",
        4,
        "Deploy to production + send production URL",
        6,
        None,
        {"slack"},
        "always",
    ),
    (9, "smoke-testing", "tradingview", 5, "Smoke testing", None, None, {"jira"}, "always"),
    (
        10,
        "smoke-test-fixes",
        "partner",
        5,
        "Fixing possible issues (smoke tests)",
        7,
        None,
        {"slack", "jira"},
        "always",
    ),
    (11, "final-testing-1", "tradingview", 6, "Final testing, round 1", None, None, {"jira"}, "always"),
    (12, "final-testing-fixes-1", "partner", 6, "Fixing round-1 issues", 8, None, {"slack", "jira"}, "always"),
    (13, "final-testing-2", "tradingview", 6, "Final testing, round 2", None, None, {"jira"}, "always"),
    (14, "final-testing-fixes", "partner", 6, "Fixing round-2 issues", 9, None, {"slack", "jira"}, "always"),
    (15, "closed-release", "tradingview", 7, "Closed release", None, None, {"slack"}, "always"),
    (16, "beta-testing", "partner", 7, "Beta testing", 10, None, {"slack"}, "always"),
    (17, "open-to-all-users", "tradingview", None, "Open to all users", 11, 12, {"email", "slack"}, "always"),
]
VERSION_1_CODES = [row[1] for row in EXPECTED[:10]] + [
    "final-testing",
    "final-testing-fixes",
    "closed-release",
    "beta-testing",
    "open-to-all-users",
]

# (TradingView task, partner task) of numbered pairs 2-7.
PAIRS = [
    ("autotests-configuration", "passing-autotests"),
    ("sandbox-access", "sandbox-development"),
    ("request-production-urls", "production-deployment"),
    ("smoke-testing", "smoke-test-fixes"),
    ("final-testing-1", "final-testing-fixes-1"),
    ("final-testing-2", "final-testing-fixes"),
    ("closed-release", "beta-testing"),
]


@pytest.fixture
def template():
    return RoadmapTemplate.objects.get(key="tradingview-rest-api", version=2)


@pytest.fixture
def version_1():
    return RoadmapTemplate.objects.get(key="tradingview-rest-api", version=1)


@pytest.fixture
def steps(template):
    return list(template.steps.order_by("position"))


@pytest.mark.django_db
def test_installed_once_as_versions_1_and_2_and_not_frozen(template, version_1):
    versions = RoadmapTemplate.objects.filter(key="tradingview-rest-api").values_list("version", flat=True)
    assert list(versions) == [2, 1]
    assert template.name == version_1.name == "TradingView REST API integration"
    assert template.is_frozen is False and version_1.is_frozen is False
    # New kick-offs take the newest version.
    assert RoadmapTemplate.latest("tradingview-rest-api") == template


@pytest.mark.django_db
def test_has_exactly_the_seventeen_rows_of_the_process(steps):
    assert [s.position for s in steps] == list(range(1, 18))
    assert [s.code for s in steps] == [row[1] for row in EXPECTED]


@pytest.mark.django_db
def test_version_1_keeps_final_testing_as_one_step_for_the_integrations_on_it(version_1):
    steps = list(version_1.steps.order_by("position"))
    assert [s.code for s in steps] == VERSION_1_CODES
    by_code = {s.code: s for s in steps}
    assert by_code["final-testing-fixes"].jira_bug_labels == ["final-test-1", "final-test-2"]
    assert by_code["final-testing-fixes"].depends_on == ["final-testing"]
    assert by_code["request-production-urls"].handovers == ["staging_url"]
    assert all(s.prepared_ahead and s.keeps_days is None for s in steps)
    assert {code: due for code, (_, due) in plan_due_dates(steps, KICKOFF).items()}["final-testing-fixes"] == (
        PLANNED_DUE["final-testing-fixes"]
    )


@pytest.mark.django_db
@pytest.mark.parametrize("row", EXPECTED, ids=[row[1] for row in EXPECTED])
def test_row_matches_the_process(template, row):
    position, code, side, number, title, due_week, due_week_last, tells_via, condition = row
    step = template.steps.get(position=position)
    assert step.code == code
    assert step.side == side
    assert step.title == title
    assert step.due_week == due_week
    assert step.due_week_last == due_week_last
    assert isinstance(step.tells_via, list)
    assert set(step.tells_via) == tells_via
    assert len(step.tells_via) == len(tells_via)
    assert step.number == number
    assert step.condition == condition


@pytest.mark.django_db
def test_partner_steps_are_numbered_1_to_7_in_order(steps):
    partner = [s for s in steps if s.side == "partner"]
    assert [s.number for s in partner] == [1, 2, 3, 4, 5, 6, 6, 7]
    assert [s.position for s in partner] == [3, 4, 6, 8, 10, 12, 14, 16]


@pytest.mark.django_db
def test_partner_due_weeks(steps):
    # The seed's 4, 4, 5, 6, 7, 9, 10, and week 8: the round-1 date within its two weeks of final testing.
    assert [s.due_week for s in steps if s.side == "partner"] == [4, 4, 5, 6, 7, 8, 9, 10]


@pytest.mark.django_db
def test_tradingview_tasks_have_no_due_week_except_the_launch(steps):
    dated = [s.code for s in steps if s.side == "tradingview" and s.due_week is not None]
    assert dated == ["open-to-all-users"]
    assert [s.code for s in steps if s.due_week_last is not None] == ["open-to-all-users"]


@pytest.mark.django_db
def test_every_dependency_names_an_earlier_step(steps):
    seen = set()
    for step in steps:
        for code in step.depends_on:
            assert code in seen, f"{step.code} depends on {code}, which is not earlier"
        assert step.code not in step.depends_on
        seen.add(step.code)


@pytest.mark.django_db
def test_dependencies_are_exact(steps):
    assert {s.code: s.depends_on for s in steps} == {
        "slack-jira-onboarding": [],
        "autotests-configuration": [],
        "endpoints-implementation": [],
        "passing-autotests": ["autotests-configuration", "endpoints-implementation"],
        "sandbox-access": ["slack-jira-onboarding", "endpoints-implementation", "passing-autotests"],
        "sandbox-development": ["sandbox-access"],
        "request-production-urls": ["sandbox-development"],
        "production-deployment": ["request-production-urls"],
        "smoke-testing": ["production-deployment"],
        "smoke-test-fixes": ["smoke-testing"],
        "final-testing-1": ["smoke-test-fixes"],
        "final-testing-fixes-1": ["final-testing-1"],
        "final-testing-2": ["final-testing-fixes-1"],
        "final-testing-fixes": ["final-testing-2"],
        "closed-release": ["final-testing-fixes"],
        "beta-testing": ["closed-release"],
        "open-to-all-users": ["beta-testing"],
    }


@pytest.mark.django_db
def test_validate_steps_passes(template):
    assert template.validate_steps() is None


@pytest.mark.django_db
@pytest.mark.parametrize(("tradingview_code", "partner_code"), PAIRS)
def test_tradingview_task_is_prerequisite_of_its_partner_task(steps, tradingview_code, partner_code):
    by_code = {s.code: s for s in steps}
    tradingview, partner = by_code[tradingview_code], by_code[partner_code]
    assert tradingview.side == "tradingview"
    assert partner.side == "partner"
    assert tradingview.number == partner.number
    assert tradingview.position < partner.position
    assert tradingview_code in partner.depends_on


@pytest.mark.django_db
def test_every_pair_has_its_tradingview_task_before_its_partner_task(steps):
    for number in range(1, 8):
        pair = [s for s in steps if s.number == number]
        rounds = 2 if number == 6 else 1  # final testing: two rounds
        assert [s.side for s in pair] == ["tradingview", "partner"] * rounds, number
        assert [s.position for s in pair] == sorted(s.position for s in pair)


@pytest.mark.django_db
def test_final_testing_is_two_rounds_each_with_its_fixes(template):
    by_code = {s.code: s for s in template.steps.all()}
    testing = [by_code["final-testing-1"], by_code["final-testing-2"]]
    fixes = [by_code["final-testing-fixes-1"], by_code["final-testing-fixes"]]
    assert [s.checklist[0]["text"] for s in testing] == ["Final testing, round 1", "Final testing, round 2"]
    # A round tests the fixes before it: never prepared during the partner's week.
    assert [s.prepared_ahead for s in testing] == [False, False]
    # Each round's fixes keep the 2 working days left in their week after the round's 3.
    assert [s.keeps_days for s in fixes] == [2, 2]
    assert [s.jira_bug_labels for s in fixes] == [["final-test-1"], ["final-test-2"]]
    assert [s.checklist[-1]["text"] for s in fixes] == ["Fixes checked by TradingView"] * 2
    # The closed release waits for the round-2 fixes, and for no open UX bug.
    assert by_code["closed-release"].depends_on == ["final-testing-fixes"]
    assert by_code["closed-release"].held_by_ux_bugs


@pytest.mark.django_db
def test_conditional_checklist_items(template):
    by_code = {s.code: s for s in template.steps.all()}
    assert [item.get("condition", "always") for item in by_code["autotests-configuration"].checklist] == [
        "trading_part",
        "data_autotests",
    ]
    assert [item.get("condition", "always") for item in by_code["passing-autotests"].checklist] == [
        "trading_part",
        "data_autotests",
    ]
    assert [item.get("condition", "always") for item in by_code["smoke-testing"].checklist] == [
        "own_data_feed",
        "always",
        "always",
    ]


@pytest.mark.django_db
def test_labels(template):
    by_code = {s.code: s for s in template.steps.all()}
    assert str(by_code["endpoints-implementation"]) == "1 · Partner · Data / trading endpoints implementation"
    assert str(by_code["sandbox-access"]) == "3 · TradingView · Sandbox access configuration"
    assert str(by_code["open-to-all-users"]) == "TradingView · Open to all users"
    assert by_code["endpoints-implementation"].due_label == "week 4"
    # Prepared during the partner's week 4, sandbox access is due with the partner's step, as the admin says.
    assert (
        by_code["sandbox-access"].due_label == "with the partner's step before it (prepared during the partner's week)"
    )
    assert by_code["slack-jira-onboarding"].due_label == "3 working days after it becomes actionable"
    assert by_code["open-to-all-users"].due_label == "weeks 11-12"
    assert by_code["final-testing-fixes-1"].due_label == "week 8, at least 2 working days after the hand-over"


@pytest.mark.django_db
def test_tradingview_tasks_have_a_turnaround_of_three_working_days(steps):
    turnarounds = {s.code: s.turnaround_days for s in steps if s.side == "tradingview" and s.due_week is None}
    assert turnarounds == {
        "slack-jira-onboarding": 3,
        "autotests-configuration": 3,
        "sandbox-access": 3,
        "request-production-urls": 3,
        "smoke-testing": 3,
        "final-testing-1": 3,
        "final-testing-2": 3,
        "closed-release": 3,
    }


@pytest.mark.django_db
def test_the_installed_template_has_no_problems(steps):
    assert template_problems(steps) == []


@pytest.mark.django_db
def test_planned_from_the_shared_kickoff_it_gives_the_shared_calendar(steps):
    plan = plan_due_dates(steps, KICKOFF)
    assert {code: due for code, (_, due) in plan.items()} == PLANNED_DUE
    assert plan["open-to-all-users"] == LAUNCH_WINDOW


@pytest.mark.django_db
def test_every_installed_step_passes_model_validation(steps):
    for step in steps:
        step.full_clean()
