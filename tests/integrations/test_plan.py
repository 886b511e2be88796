"""Kick-off, re-planning, pausing, resuming, cancelling and the integration's own validation."""

from datetime import UTC, date, datetime, time

import pytest
from django.core.exceptions import ValidationError

from integrations import plan
from integrations.models import (
    ChangeSource,
    Integration,
    IntegrationEvent,
    IntegrationStep,
    StepChange,
    tradingview_zone,
)
from integrations.standing import standing
from integrations.steps import complete_step
from roadmap.models import RoadmapTemplate, Side, StepStatus
from roadmap.refusals import (
    IntegrationEnded,
    InvalidInput,
    InvalidTemplate,
    NotRunning,
    ReasonRequired,
    Refusal,
    StaleChange,
)
from tests.factories import IntegrationFactory, PartnerFactory, latest_default_template
from tests.integrations.helpers import (
    KICKOFF,
    LAUNCH_WINDOW,
    PLANNED_DUE,
    STEP_CODES,
    at,
    ctx,
    days,
    on,
    step,
    steps_by_code,
)

pytestmark = pytest.mark.django_db

WEB = ChangeSource.WEB
PLANNED_LAUNCH = LAUNCH_WINDOW[1]


def kick_off(integration, by, kickoff=KICKOFF):
    return plan.start_integration(integration, kickoff, ctx(by, at(kickoff, 9)))


def planned(integration) -> dict:
    return {s.code: s.planned_due_date for s in integration.steps.all()}


def deadlines(integration) -> dict:
    return {s.code: s.due_date for s in integration.steps.all()}


def nothing_planned(integration):
    """Nothing of a kick-off was written: no kick-off date, steps, history or event."""
    integration.refresh_from_db()
    assert integration.kickoff_on is None
    assert integration.baseline_launch_on is None
    assert not IntegrationStep.objects.filter(integration=integration).exists()
    assert not StepChange.objects.filter(step__integration=integration).exists()
    assert not IntegrationEvent.objects.filter(integration=integration).exists()


# --- kick-off -------------------------------------------------------------------------------


def test_start_plans_seventeen_steps_at_their_planned_dates(started_integration):
    steps = list(started_integration.steps.all())

    assert [s.code for s in steps] == STEP_CODES
    assert [s.position for s in steps] == list(range(1, 18))
    assert {s.code: s.planned_due_date for s in steps} == PLANNED_DUE
    # Nothing is late yet: each deadline is its planned date.
    assert {s.code: s.due_date for s in steps} == PLANNED_DUE
    assert {s.turnaround_days for s in steps} == {3}
    assert started_integration.kickoff_on == KICKOFF
    assert started_integration.state == Integration.State.ACTIVE
    assert started_integration.is_running


def test_partner_due_dates_and_launch_window(started_integration):
    partner_steps = started_integration.steps.filter(side=Side.PARTNER)
    assert [s.due_date for s in partner_steps] == [
        date(2026, 3, 30),
        date(2026, 3, 30),
        date(2026, 4, 6),
        date(2026, 4, 13),
        date(2026, 4, 20),
        date(2026, 4, 27),  # final testing's round-1 fixes, week 8
        date(2026, 5, 4),
        date(2026, 5, 11),
    ]
    launch = step(started_integration, "open-to-all-users")
    assert (launch.window_start, launch.due_date) == LAUNCH_WINDOW
    assert (launch.due_week, launch.due_week_last) == (11, 12)
    # Only the launch has a window.
    assert started_integration.steps.exclude(code="open-to-all-users").filter(window_start__isnull=False).count() == 0


def test_tradingview_tasks_are_due_three_working_days_after_they_become_actionable(started_integration):
    due = deadlines(started_integration)
    # No prerequisites: three working days after the Monday kick-off.
    assert due["slack-jira-onboarding"] == due["autotests-configuration"] == date(2026, 3, 5)
    # Final testing's rounds: 3 working days after the partner's smoke fixes (week 7, Monday 04-20),
    # then after the round-1 fixes (week 8, Monday 04-27): they test the fixes, never prepared ahead.
    assert due["final-testing-1"] == date(2026, 4, 23)
    assert due["final-testing-2"] == date(2026, 4, 30)
    # Between two partner weeks one week apart, prepared during the partner's week: due with the
    # latest of its prerequisites (the partner's week 4, Monday 03-30; week 5; week 9).
    assert due["sandbox-access"] == date(2026, 3, 30)
    assert due["request-production-urls"] == date(2026, 4, 6)
    assert due["closed-release"] == date(2026, 5, 4)


def test_start_sets_the_stored_standing_and_the_baseline(started_integration):
    started_integration.refresh_from_db()
    assert started_integration.current_step.code == "slack-jira-onboarding"
    assert started_integration.ball_side == Integration.BallSide.BOTH
    # TradingView's first tasks are due first; TradingView's day ends at midnight UTC.
    assert started_integration.next_due_on == date(2026, 3, 5)
    assert started_integration.next_deadline_at == datetime(2026, 3, 6, tzinfo=UTC)
    assert started_integration.planned_launch_on == PLANNED_LAUNCH
    assert started_integration.forecast_launch_on == PLANNED_LAUNCH
    assert started_integration.baseline_launch_on == PLANNED_LAUNCH
    assert started_integration.standing_as_of == KICKOFF
    assert (
        started_integration.delay_tradingview_days,
        started_integration.delay_partner_days,
        started_integration.delay_both_days,
    ) == (0, 0, 0)


def test_weekend_kickoff_rolls_partner_dates_to_monday(integration, pm):
    kick_off(integration, pm, kickoff=date(2026, 2, 28))  # a Saturday

    due = deadlines(integration)
    assert due["endpoints-implementation"] == date(2026, 3, 30)  # Sat 03-28 -> Mon 03-30
    # TradingView's first tasks: three working days after the Saturday (Mon, Tue, Wed).
    assert due["slack-jira-onboarding"] == due["autotests-configuration"] == date(2026, 3, 4)
    # Every later date is the Monday plan's.
    assert due == {
        **PLANNED_DUE,
        "slack-jira-onboarding": date(2026, 3, 4),
        "autotests-configuration": date(2026, 3, 4),
    }
    assert all(d.weekday() < 5 for d in due.values())
    assert all(s.due_date.weekday() == 0 for s in integration.steps.filter(side=Side.PARTNER))


def test_crypto_integration_keeps_autotest_steps_with_trading_and_data_items(started_integration):
    steps = steps_by_code(started_integration)
    for code in ("autotests-configuration", "passing-autotests"):
        assert steps[code].status == StepStatus.NOT_STARTED
    assert steps["autotests-configuration"].checklist == [
        "Trading endpoints autotests configured in Jenkins",
        "Data endpoints autotests configured in Jenkins",
    ]
    assert steps["passing-autotests"].checklist == [
        "Trading endpoints autotests pass in Jenkins",
        "Data endpoints autotests pass in Jenkins",
    ]
    assert "trading and data" in steps["passing-autotests"].applicability_note
    # The own-feed smoke-test item applies to a partner with its own feed.
    assert "Partner's own data feed deployed to TradingView production" in steps["smoke-testing"].checklist


def test_stocks_exchange_mapping_data_only_skips_autotests_with_reason(pm):
    integration = IntegrationFactory(stocks_data_only=True)
    kick_off(integration, pm)

    steps = steps_by_code(integration)
    for code in ("autotests-configuration", "passing-autotests"):
        planned_step = steps[code]
        assert planned_step.status == StepStatus.NOT_APPLICABLE
        assert "no trading part" in planned_step.applicability_note
        assert "only for crypto, forex or CFD" in planned_step.applicability_note
        assert "stocks" in planned_step.applicability_note
        row = planned_step.history.get()
        assert row.from_status == ""
        assert row.to_status == StepStatus.NOT_APPLICABLE
        assert planned_step.applicability_note in row.note
    # Trading items are dropped from the checklists; the own-feed item too.
    assert steps["endpoints-implementation"].checklist == ["Data endpoints implemented"]
    assert "Partner's own data feed deployed to TradingView production" not in steps["smoke-testing"].checklist
    # Every other step applies.
    assert integration.steps.filter(status=StepStatus.NOT_STARTED).count() == 15


def test_trading_only_integration_keeps_autotests_with_trading_items_only(pm):
    integration = IntegrationFactory(trading_only=True)
    kick_off(integration, pm)

    steps = steps_by_code(integration)
    assert steps["passing-autotests"].status == StepStatus.NOT_STARTED
    assert steps["passing-autotests"].checklist == ["Trading endpoints autotests pass in Jenkins"]
    assert steps["endpoints-implementation"].checklist == ["Trading endpoints implemented"]
    assert integration.steps.filter(status=StepStatus.NOT_APPLICABLE).count() == 0


def test_starting_twice_is_refused(started_integration, pm):
    with pytest.raises(InvalidInput, match="was kicked off on 2 Mar 2026") as caught:
        plan.start_integration(started_integration, date(2026, 4, 6), ctx(pm, "2026-03-03"))

    assert caught.value.code == "invalid_input"
    assert "re-plan it" in caught.value.message
    assert started_integration.steps.count() == 17
    assert started_integration.kickoff_on == KICKOFF
    assert IntegrationEvent.objects.filter(integration=started_integration).count() == 1


def test_start_freezes_the_template(integration, pm):
    template = integration.template
    assert not template.is_frozen
    kick_off(integration, pm)
    template.refresh_from_db()
    assert template.is_frozen
    first_step = template.steps.first()
    with pytest.raises(ValidationError, match="make a new version"):
        first_step.clean()


def test_start_records_one_history_row_per_step_and_a_kicked_off_event(integration, pm):
    kick_off(integration, pm)

    rows = StepChange.objects.filter(step__integration=integration).select_related("step")
    assert rows.count() == 17
    for row in rows:
        assert row.from_status == ""
        assert row.to_status == row.step.status
        assert row.from_due is None
        assert row.to_due == row.step.planned_due_date == PLANNED_DUE[row.step.code]
        assert row.source == WEB
        assert row.by == pm
        assert row.at == at(KICKOFF, 9)
        assert "for a kick-off on 2 Mar 2026" in row.note
    event = IntegrationEvent.objects.get(integration=integration)
    assert event.kind == IntegrationEvent.Kind.KICKED_OFF
    assert event.to_value == "2026-03-02"
    assert (event.source, event.by, event.at) == (WEB, pm, at(KICKOFF, 9))


def test_start_keeps_the_contexts_note_on_every_row(integration, pm):
    plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9), note="  Signed on Friday.  "))

    notes = StepChange.objects.filter(step__integration=integration).values_list("note", flat=True)
    assert all(note.endswith("Signed on Friday.") for note in notes)
    assert integration.events.get().note == "Signed on Friday."


def test_start_accepts_an_iso_string_and_records_by_name(integration):
    plan.start_integration(
        integration, " 2026-03-02 ", ctx(when=at(KICKOFF), source=ChangeSource.JIRA, by_name="jira-bot")
    )
    assert integration.kickoff_on == KICKOFF
    assert set(StepChange.objects.filter(step__integration=integration).values_list("by_name", "source", "by")) == {
        ("jira-bot", "jira", None)
    }


@pytest.mark.parametrize("bad", ["2026-13-01", "15/01/2026", 12345, "", None])
def test_bad_kickoff_is_refused_and_nothing_written(integration, pm, bad):
    with pytest.raises(InvalidInput) as caught:
        plan.start_integration(integration, bad, ctx(pm, KICKOFF))

    assert "YYYY-MM-DD" in caught.value.messages[0]
    assert repr(bad) in caught.value.messages[0]
    nothing_planned(integration)
    assert not integration.template.is_frozen


@pytest.mark.parametrize(
    ("kickoff", "message"),
    [
        (date(9999, 12, 31), "The kick-off date 9999-12-31 is more than 3 years from today (2026-03-02)"),
        ("9999-12-31", "between 2023-03-03 and 2029-03-01"),
        (date(1, 1, 1), "is more than 3 years from today (2026-03-02)"),
        (date(2029, 3, 2), "The kick-off date 2029-03-02 is more than 3 years"),
    ],
)
def test_a_kickoff_years_away_is_refused_as_invalid_input(integration, pm, kickoff, message):
    """9999-12-31 is a typo, not a plan: refused before any date arithmetic can overflow."""
    with pytest.raises(InvalidInput) as caught:
        plan.start_integration(integration, kickoff, ctx(pm, at(KICKOFF, 9)))

    assert caught.value.code == "invalid_input"
    assert message in caught.value.message
    nothing_planned(integration)
    integration.template.refresh_from_db()
    assert not integration.template.is_frozen


def test_a_kickoff_three_years_ahead_is_still_planned(integration, pm):
    plan.start_integration(integration, date(2029, 3, 1), ctx(pm, at(KICKOFF, 9)))  # 1095 days ahead

    assert integration.kickoff_on == date(2029, 3, 1)
    assert step(integration, "endpoints-implementation").planned_due_date == date(2029, 3, 29)


def test_invalid_integration_is_not_kicked_off(pm):
    integration = IntegrationFactory(trading_production_url="http://broker.example.com/api")
    with pytest.raises(ValidationError, match="https"):
        kick_off(integration, pm)
    nothing_planned(integration)
    assert not integration.template.is_frozen


def test_a_cancelled_integration_cannot_be_kicked_off(integration, pm):
    plan.cancel(integration, ctx(pm, "2026-02-27", note="Deal fell through."))

    with pytest.raises(IntegrationEnded, match="is cancelled; it cannot be kicked off"):
        kick_off(integration, pm)
    assert not integration.steps.exists()


# --- template problems are refused at kick-off ----------------------------------------------


def broken_copy(**changes) -> RoadmapTemplate:
    """A new, unfrozen version of the default roadmap with ``changes`` ({code: {field: value}}) made."""
    template = latest_default_template().new_version()
    for code, fields in changes.items():
        template.steps.filter(code=code).update(**fields)
    return template


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"sandbox-access": {"depends_on": ["slack-jira-onboarding", "security-review"]}},
            "Step 'sandbox-access' depends on 'security-review', which is no step of this template.",
        ),
        (
            {"sandbox-access": {"depends_on": ["sandbox-development"]}},
            "Step 'sandbox-access' depends on 'sandbox-development', which comes after it.",
        ),
        (
            {"smoke-testing": {"depends_on": ["smoke-testing"]}},
            "Step 'smoke-testing' depends on itself.",
        ),
        (
            {"sandbox-development": {"due_week": None}},
            "Partner step 'sandbox-development' has no due week.",
        ),
        (
            {"smoke-test-fixes": {"due_week": 3}},
            "Partner step 'smoke-test-fixes' is due in week 3, before 'production-deployment' (week 6)",
        ),
        (
            {"open-to-all-users": {"due_week_last": None}},
            "The last step, 'open-to-all-users', is the launch and needs its window",
        ),
    ],
)
def test_a_template_that_cannot_be_planned_is_refused_and_stays_unfrozen(pm, changes, problem):
    template = broken_copy(**changes)
    integration = IntegrationFactory(template=template)

    with pytest.raises(InvalidTemplate) as caught:
        kick_off(integration, pm)

    assert caught.value.code == "invalid_template"
    assert caught.value.message.startswith(f"{template} cannot be planned: ")
    assert problem in caught.value.message
    template.refresh_from_db()
    assert not template.is_frozen
    nothing_planned(integration)


def test_a_dependency_cycle_is_refused_at_kickoff(pm):
    template = broken_copy(
        **{
            "passing-autotests": {"depends_on": ["sandbox-access"]},
            "sandbox-access": {"depends_on": ["passing-autotests"]},
        }
    )
    integration = IntegrationFactory(template=template)

    with pytest.raises(InvalidTemplate, match="depend on each other in a cycle"):
        kick_off(integration, pm)
    template.refresh_from_db()
    assert not template.is_frozen
    nothing_planned(integration)


def test_a_template_without_steps_is_refused(pm):
    template = RoadmapTemplate.objects.create(key="empty-process", name="Empty process")
    integration = IntegrationFactory(template=template)

    with pytest.raises(InvalidTemplate, match="has no steps to plan"):
        kick_off(integration, pm)
    template.refresh_from_db()
    assert not template.is_frozen


# --- validation of the integration itself ---------------------------------------------------


def test_factory_integration_is_valid(integration):
    integration.full_clean()


def test_unknown_data_type_is_named(integration):
    integration.data_types = ["crypto", "gold"]
    with pytest.raises(ValidationError) as caught:
        integration.full_clean()
    assert "data_types" in caught.value.message_dict
    assert "'gold'" in caught.value.message_dict["data_types"][0]
    assert "crypto" not in caught.value.message_dict["data_types"][0].split(";")[0]


def test_unknown_state_is_refused(integration):
    integration.state = "sleeping"
    with pytest.raises(ValidationError) as caught:
        integration.full_clean()
    assert "state" in caught.value.message_dict
    assert "sleeping" in caught.value.message_dict["state"][0]


@pytest.mark.parametrize(
    "field", ["trading_production_url", "trading_staging_url", "data_production_url", "data_staging_url"]
)
def test_plain_http_url_is_refused(integration, field):
    setattr(integration, field, "http://broker.example.com/api")
    with pytest.raises(ValidationError) as caught:
        integration.full_clean()
    assert list(caught.value.message_dict) == [field]
    assert "https" in caught.value.message_dict[field][0]


def test_trading_only_with_data_types_is_refused(integration):
    integration.parts = Integration.Parts.TRADING
    integration.data_types = ["crypto"]
    integration.data_source = ""
    integration.data_auth = ""
    integration.data_staging_url = integration.data_production_url = ""
    with pytest.raises(ValidationError) as caught:
        integration.full_clean()
    assert list(caught.value.message_dict) == ["data_types"]
    assert "no data part" in caught.value.message_dict["data_types"][0]


def test_trading_only_integration_is_valid(db):
    IntegrationFactory(trading_only=True).full_clean()


def test_data_part_needs_types_source_and_auth(integration):
    integration.data_types = []
    integration.data_source = ""
    integration.data_auth = ""
    with pytest.raises(ValidationError) as caught:
        integration.full_clean()
    assert set(caught.value.message_dict) == {"data_types", "data_source", "data_auth"}


def test_unknown_partner_time_zone_is_refused(db):
    partner = PartnerFactory.build(time_zone="Mars/Base")
    with pytest.raises(ValidationError) as caught:
        partner.full_clean()
    assert "Mars/Base" in caught.value.message_dict["time_zone"][0]
    PartnerFactory.build(time_zone="Asia/Singapore").full_clean()


# --- re-planning ----------------------------------------------------------------------------


def test_replan_moves_every_planned_date_and_keeps_the_baseline(started_integration, pm):
    complete_step(step(started_integration, "slack-jira-onboarding"), ctx(pm, "2026-03-04"))
    new_kickoff = date(2026, 3, 16)

    with on("2026-03-05"):
        plan.replan(started_integration, new_kickoff, ctx(pm, "2026-03-05", note="Partner starts late."))

    # Two weeks later, Monday to Monday: every step moves 14 days, the one already done too.
    expected = {code: due + days(14) for code, due in PLANNED_DUE.items()}
    assert planned(started_integration) == expected
    assert deadlines(started_integration) == expected
    steps = steps_by_code(started_integration)
    assert steps["slack-jira-onboarding"].planned_due_date == date(2026, 3, 19)
    assert steps["slack-jira-onboarding"].status == StepStatus.DONE
    launch = steps["open-to-all-users"]
    assert (launch.window_start, launch.due_date) == (date(2026, 6, 1), date(2026, 6, 8))
    assert started_integration.kickoff_on == new_kickoff

    rows = StepChange.objects.filter(step__integration=started_integration, from_due__isnull=False)
    assert rows.count() == 17
    for row in rows.select_related("step"):
        assert row.to_due == row.from_due + days(14)
        assert row.from_status == row.to_status == row.step.status
        assert (row.at, row.by, row.source) == (at("2026-03-05"), pm, WEB)
        assert "kick-off moved from 2 Mar 2026 to 16 Mar 2026" in row.note
        assert "Partner starts late." in row.note
    event = started_integration.events.get(kind=IntegrationEvent.Kind.REPLANNED)
    assert (event.from_value, event.to_value, event.by, event.note) == (
        "2026-03-02",
        "2026-03-16",
        pm,
        "Partner starts late.",
    )

    started_integration.refresh_from_db()
    # The baseline stays as first planned; the plan and the forecast move.
    assert started_integration.baseline_launch_on == PLANNED_LAUNCH
    assert started_integration.planned_launch_on == date(2026, 6, 8)
    assert started_integration.forecast_launch_on == date(2026, 6, 8)
    assert started_integration.next_due_on == date(2026, 3, 19)  # autotests-configuration
    assert started_integration.slip_days == 0
    assert started_integration.slip_vs_baseline_days == 10  # working days, 14 calendar days
    now = standing(started_integration, at("2026-03-05"))
    assert (now.moved_by_plan_days, now.slip_vs_baseline_days, now.slip_days) == (10, 10, 0)


def test_a_second_replan_still_keeps_the_first_baseline(started_integration, pm):
    plan.replan(started_integration, date(2026, 3, 16), ctx(pm, "2026-03-03", note="Later start."))
    plan.replan(started_integration, date(2026, 3, 9), ctx(pm, "2026-03-04", note="Earlier after all."))

    assert planned(started_integration) == {code: due + days(7) for code, due in PLANNED_DUE.items()}
    started_integration.refresh_from_db()
    assert started_integration.baseline_launch_on == PLANNED_LAUNCH
    assert started_integration.planned_launch_on == date(2026, 6, 1)
    assert list(started_integration.events.values_list("kind", "from_value", "to_value")) == [
        ("kicked_off", "", "2026-03-02"),
        ("replanned", "2026-03-02", "2026-03-16"),
        ("replanned", "2026-03-16", "2026-03-09"),
    ]


@pytest.mark.parametrize("note", ["", "   "])
def test_replan_needs_a_reason(started_integration, pm, note):
    with pytest.raises(ReasonRequired, match="Say why the plan moves") as caught:
        plan.replan(started_integration, date(2026, 3, 16), ctx(pm, "2026-03-05", note=note))

    assert caught.value.code == "reason_required"
    started_integration.refresh_from_db()
    assert started_integration.kickoff_on == KICKOFF
    assert planned(started_integration) == PLANNED_DUE
    assert not started_integration.events.filter(kind=IntegrationEvent.Kind.REPLANNED).exists()
    assert not StepChange.objects.filter(step__integration=started_integration, from_due__isnull=False).exists()


def test_replan_to_the_same_day_or_to_a_non_date_is_refused(started_integration, pm):
    with pytest.raises(InvalidInput, match="already kicks off on 2 Mar 2026"):
        plan.replan(started_integration, KICKOFF, ctx(pm, "2026-03-05", note="No change."))
    with pytest.raises(InvalidInput, match="YYYY-MM-DD"):
        plan.replan(started_integration, "next monday", ctx(pm, "2026-03-05", note="Later."))
    assert not started_integration.events.filter(kind=IntegrationEvent.Kind.REPLANNED).exists()
    assert planned(started_integration) == PLANNED_DUE


def test_replan_to_9999_12_31_is_invalid_input_not_an_overflow(started_integration, pm):
    with pytest.raises(InvalidInput) as caught:
        plan.replan(started_integration, "9999-12-31", ctx(pm, "2026-03-05", note="Typo."))

    assert caught.value.code == "invalid_input"
    assert "The new kick-off date 9999-12-31 is more than 3 years from today (2026-03-05)" in caught.value.message
    started_integration.refresh_from_db()
    assert started_integration.kickoff_on == KICKOFF
    assert planned(started_integration) == PLANNED_DUE
    assert not started_integration.events.filter(kind=IntegrationEvent.Kind.REPLANNED).exists()


def test_replan_of_an_integration_not_kicked_off_is_refused(integration, pm):
    with pytest.raises(Refusal):
        plan.replan(integration, KICKOFF, ctx(pm, "2026-02-27", note="Earlier."))

    integration.refresh_from_db()
    assert integration.kickoff_on is None
    assert not integration.steps.exists()
    assert not integration.events.exists()


def test_replan_of_an_integration_not_kicked_off_says_so(integration, pm):
    with pytest.raises(NotRunning, match="not been kicked off"):
        plan.replan(integration, KICKOFF, ctx(pm, "2026-02-27", note="Earlier."))


# --- pause, resume, cancel ------------------------------------------------------------------


def test_pause_and_resume_ten_days_later_moves_open_deadlines(started_integration, pm):
    complete_step(step(started_integration, "slack-jira-onboarding"), ctx(pm, "2026-03-04"))
    plan.pause(started_integration, ctx(pm, "2026-03-09", note="Partner re-org."))
    assert started_integration.state == Integration.State.PAUSED
    assert started_integration.paused_on == date(2026, 3, 9)
    assert started_integration.is_running
    # While paused nobody holds the ball and nothing is due.
    started_integration.refresh_from_db()
    assert (started_integration.ball_side, started_integration.next_due_on) == ("", None)
    assert started_integration.current_step.code == "autotests-configuration"

    with on("2026-03-19"):
        plan.resume(started_integration, ctx(when="2026-03-19", source=ChangeSource.SLACK, by_name="bob (Slack)"))

    assert started_integration.state == Integration.State.ACTIVE
    assert started_integration.paused_on is None
    # The plan stays; Monday 03-09 to Wednesday 03-18 were paused: 8 working days that no longer
    # count, so every deadline the plan put on or after 03-09 moves 8 working days later.
    assert planned(started_integration) == PLANNED_DUE
    due = deadlines(started_integration)
    assert due["slack-jira-onboarding"] == due["autotests-configuration"] == date(2026, 3, 5)
    assert due["endpoints-implementation"] == due["sandbox-access"] == date(2026, 4, 9)
    assert due["open-to-all-users"] == date(2026, 6, 4)

    kinds = list(started_integration.events.values_list("kind", "at"))
    assert kinds == [
        (IntegrationEvent.Kind.KICKED_OFF, at(KICKOFF, 9)),
        (IntegrationEvent.Kind.PAUSED, at("2026-03-09")),
        (IntegrationEvent.Kind.RESUMED, at("2026-03-19")),
    ]
    paused = started_integration.events.get(kind=IntegrationEvent.Kind.PAUSED)
    assert (paused.to_value, paused.note, paused.by) == ("2026-03-09", "Partner re-org.", pm)
    resumed = started_integration.events.get(kind=IntegrationEvent.Kind.RESUMED)
    assert (resumed.from_value, resumed.to_value) == ("2026-03-09", "2026-03-19")
    assert (resumed.source, resumed.by_name) == (ChangeSource.SLACK, "bob (Slack)")
    assert "10 calendar days paused since 9 Mar 2026" in resumed.note

    moves = StepChange.objects.filter(step__integration=started_integration, from_due__isnull=False)
    assert moves.count() == 15  # the open steps planned on or after the pause's first day
    for move in moves.select_related("step"):
        assert (move.from_due, move.to_due) == (PLANNED_DUE[move.step.code], due[move.step.code])
        assert (move.source, move.at, move.by_name) == (ChangeSource.SYSTEM, at("2026-03-19"), "bob (Slack)")
        assert "paused" in move.note

    started_integration.refresh_from_db()
    assert started_integration.baseline_launch_on == PLANNED_LAUNCH
    assert started_integration.planned_launch_on == date(2026, 6, 4)
    assert started_integration.ball_side == Integration.BallSide.BOTH
    # autotests-configuration, due 03-05, was 1 working day overdue when paused (Friday 03-06); on
    # 03-19 it is 2 working days overdue, the paused days not counted.
    now = standing(started_integration, at("2026-03-19"))
    assert now.days_overdue(step(started_integration, "autotests-configuration")) == 2
    assert started_integration.next_due_on == date(2026, 3, 5)
    assert started_integration.days_overdue(at("2026-03-19")) == 2


def test_resume_on_a_saturday_moves_deadlines_by_the_working_days_paused(started_integration, pm):
    plan.pause(started_integration, ctx(pm, "2026-03-09"))
    plan.resume(started_integration, ctx(pm, "2026-03-21"))  # a Saturday: 03-09 to 03-20 paused

    # Ten working days paused: two weeks exactly, so deadlines stay on their weekdays.
    after_pause = {code: d + days(14) for code, d in PLANNED_DUE.items() if d >= date(2026, 3, 9)}
    due = deadlines(started_integration)
    assert {code: due[code] for code in after_pause} == after_pause
    assert due["endpoints-implementation"] == date(2026, 4, 13)
    assert all(d.weekday() < 5 for d in due.values())


def test_pause_and_resume_are_refused_in_the_wrong_state(started_integration, integration, pm):
    with pytest.raises(InvalidInput, match="is not paused"):
        plan.resume(started_integration, ctx(pm, "2026-03-05"))
    plan.pause(started_integration, ctx(pm, "2026-03-09"))
    with pytest.raises(NotRunning, match="Only a running integration can be paused") as caught:
        plan.pause(started_integration, ctx(pm, "2026-03-10"))
    assert caught.value.retryable
    assert started_integration.events.filter(kind=IntegrationEvent.Kind.PAUSED).count() == 1


def test_an_integration_not_kicked_off_cannot_be_paused(db, pm):
    fresh = IntegrationFactory()
    with pytest.raises(NotRunning, match="Only a running integration can be paused"):
        plan.pause(fresh, ctx(pm, "2026-03-09"))
    assert fresh.state == Integration.State.ACTIVE
    assert not fresh.events.exists()


def test_a_resume_dated_before_the_pause_is_refused(started_integration, pm):
    plan.pause(started_integration, ctx(pm, "2026-03-09"))

    with pytest.raises(StaleChange):
        plan.resume(started_integration, ctx(pm, "2026-03-05"))
    assert planned(started_integration) == PLANNED_DUE
    started_integration.refresh_from_db()
    assert started_integration.state == Integration.State.PAUSED


def test_a_pause_dated_before_the_kickoff_is_refused(started_integration, pm):
    with pytest.raises(StaleChange):
        plan.pause(started_integration, ctx(pm, "2026-02-20"))
    started_integration.refresh_from_db()
    assert started_integration.state == Integration.State.ACTIVE


def test_cancel_needs_a_reason(started_integration, pm):
    with pytest.raises(ReasonRequired, match="Say why"):
        plan.cancel(started_integration, ctx(pm, "2026-03-10", note="  "))
    started_integration.refresh_from_db()
    assert started_integration.state == Integration.State.ACTIVE
    assert not started_integration.events.filter(kind=IntegrationEvent.Kind.CANCELLED).exists()

    plan.cancel(started_integration, ctx(pm, "2026-03-10", note="Partner dropped the project."))

    assert started_integration.state == Integration.State.CANCELLED
    assert started_integration.cancelled_on == date(2026, 3, 10)
    assert not started_integration.is_running
    event = started_integration.events.get(kind=IntegrationEvent.Kind.CANCELLED)
    assert (event.from_value, event.to_value, event.note) == ("active", "cancelled", "Partner dropped the project.")
    started_integration.refresh_from_db()
    assert started_integration.current_step is None
    assert started_integration.ball_side == ""
    assert started_integration.next_due_on is None
    assert started_integration.forecast_launch_on is None
    with pytest.raises(IntegrationEnded, match="already cancelled"):
        plan.cancel(started_integration, ctx(pm, "2026-03-11", note="Again."))
    with pytest.raises(IntegrationEnded, match="cannot be re-planned"):
        plan.replan(started_integration, date(2026, 4, 6), ctx(pm, "2026-03-11", note="Back on."))
    with pytest.raises(NotRunning):
        plan.pause(started_integration, ctx(pm, "2026-03-11"))
    assert started_integration.events.count() == 2


def test_a_paused_integration_can_be_cancelled(started_integration, pm):
    plan.pause(started_integration, ctx(pm, "2026-03-09"))
    plan.cancel(started_integration, ctx(pm, "2026-03-12", note="Partner withdrew."))

    event = started_integration.events.get(kind=IntegrationEvent.Kind.CANCELLED)
    assert (event.from_value, event.to_value) == ("paused", "cancelled")
    with pytest.raises(InvalidInput, match="is not paused"):
        plan.resume(started_integration, ctx(pm, "2026-03-13"))


# --- template versions ----------------------------------------------------------------------


def test_new_template_version_does_not_change_running_integrations(pm):
    v1 = latest_default_template()
    a = IntegrationFactory()
    kick_off(a, pm)
    a_before = list(a.steps.values_list("code", "planned_due_date", "due_date", "template_step__template_id"))

    v2 = v1.new_version()
    assert (v2.version, v2.is_frozen) == (v1.version + 1, False)
    v2.steps.filter(code="sandbox-development").update(due_week=6)
    v2.steps.filter(code="sandbox-access").update(turnaround_days=5)

    b = IntegrationFactory(template=RoadmapTemplate.latest(v1.key))
    kick_off(b, pm)

    assert b.template == v2
    assert step(b, "sandbox-development").due_date == date(2026, 4, 13)
    # Two partner weeks apart now: five working days after the partner's week 4 (Monday 03-30).
    assert step(b, "sandbox-access").turnaround_days == 5
    assert step(b, "sandbox-access").due_date == date(2026, 4, 6)
    # Three working days after the step it depends on, now due in week 6.
    assert step(b, "request-production-urls").due_date == date(2026, 4, 16)
    assert set(b.steps.values_list("template_step__template_id", flat=True)) == {v2.pk}
    v2.refresh_from_db()
    assert v2.is_frozen

    assert a.template_id == v1.pk
    assert list(a.steps.values_list("code", "planned_due_date", "due_date", "template_step__template_id")) == a_before
    assert step(a, "sandbox-development").due_date == date(2026, 4, 6)
    assert step(a, "sandbox-access").due_date == date(2026, 3, 30)
    assert v1.steps.get(code="sandbox-development").due_week == 5


def test_an_integration_brought_in_mid_way_keeps_the_dates_of_the_work_done_since_its_kickoff(integration, pm):
    """Kicked off in the tool in May for a kick-off on 2 March: the plan is dated from 2 March, so the
    onboarding finished on 4 March is recorded on 4 March, on time, not on the day it was entered."""
    entered = at("2026-05-11", 10)
    with on("2026-05-11", 10):
        plan.start_integration(integration, KICKOFF, ctx(pm))
        planned_rows = StepChange.objects.filter(step__integration=integration, from_status="")
        assert {row.at for row in planned_rows} == {
            min(datetime.combine(KICKOFF, time.min, zone) for zone in (tradingview_zone(), integration.partner.zone))
        }
        assert {row.entered_at for row in planned_rows} == {entered}

        done = complete_step(
            step(integration, "slack-jira-onboarding"), ctx(pm, at("2026-03-04", 15), note="From Jira.")
        )

    assert done.completed_at == at("2026-03-04", 15)
    onboarding = standing(integration, now=entered).steps_standing.steps["slack-jira-onboarding"]
    assert (onboarding.days_late, onboarding.charges) == (0, [])


def test_a_kickoff_today_or_ahead_is_planned_when_it_is_entered(integration, pm):
    with on("2026-03-02", 10):
        plan.start_integration(integration, KICKOFF, ctx(pm))
    assert set(StepChange.objects.filter(step__integration=integration).values_list("at", "entered_at")) == {
        (at("2026-03-02", 10), None)
    }
