"""Kick-off, re-planning, pausing, resuming, cancelling and the integration's own validation."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from integrations import plan
from integrations.models import (
    ChangeSource,
    Integration,
    IntegrationEvent,
    IntegrationStep,
    StepChange,
)
from integrations.steps import complete_step
from roadmap.default_template import KEY as TEMPLATE_KEY
from roadmap.models import RoadmapTemplate, Side, StepStatus
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import KICKOFF, LAUNCH_WINDOW, PLANNED_DUE, STEP_CODES, at, days, step, steps_by_code

pytestmark = pytest.mark.django_db

WEB = ChangeSource.WEB


def kick_off(integration, by, kickoff=KICKOFF):
    return plan.start_integration(integration, kickoff, source=WEB, by=by, at=at(kickoff, 9))


# --- kick-off -------------------------------------------------------------------------------


def test_start_plans_fifteen_steps_due_weeks_after_kickoff(started_integration):
    steps = list(started_integration.steps.all())

    assert [s.code for s in steps] == STEP_CODES
    assert [s.position for s in steps] == list(range(1, 16))
    assert {s.code: s.due_date for s in steps} == PLANNED_DUE
    assert started_integration.kickoff_on == KICKOFF
    assert started_integration.state == Integration.State.ACTIVE


def test_partner_due_dates_and_launch_window(started_integration):
    partner_steps = started_integration.steps.filter(side=Side.PARTNER)
    assert [s.due_date for s in partner_steps] == [
        date(2026, 3, 30),
        date(2026, 3, 30),
        date(2026, 4, 6),
        date(2026, 4, 13),
        date(2026, 4, 20),
        date(2026, 5, 4),
        date(2026, 5, 11),
    ]
    launch = step(started_integration, "open-to-all-users")
    assert (launch.window_start, launch.due_date) == LAUNCH_WINDOW
    assert (launch.due_week, launch.due_week_last) == (11, 12)
    # Only the launch has a window.
    assert started_integration.steps.exclude(code="open-to-all-users").filter(window_start__isnull=False).count() == 0


def test_start_sets_the_stored_progress_fields(started_integration):
    started_integration.refresh_from_db()
    assert started_integration.current_step.code == "slack-jira-onboarding"
    assert started_integration.ball_side == Integration.BallSide.BOTH
    assert started_integration.next_due_on == date(2026, 3, 30)
    assert started_integration.forecast_launch_on == LAUNCH_WINDOW[1]


def test_weekend_kickoff_rolls_due_dates_to_monday(integration, pm):
    kick_off(integration, pm, kickoff=date(2026, 2, 28))  # a Saturday
    due = {s.code: s.due_date for s in integration.steps.all()}
    assert due["endpoints-implementation"] == date(2026, 3, 30)  # Sat 03-28 -> Mon 03-30
    assert all(d.weekday() == 0 for d in due.values())


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
        planned = steps[code]
        assert planned.status == StepStatus.NOT_APPLICABLE
        assert "no trading part" in planned.applicability_note
        assert "only for crypto, forex or CFD" in planned.applicability_note
        assert "stocks" in planned.applicability_note
        row = planned.history.get()
        assert row.from_status == ""
        assert row.to_status == StepStatus.NOT_APPLICABLE
        assert planned.applicability_note in row.note
    # Trading items are dropped from the checklists; the own-feed item too.
    assert steps["endpoints-implementation"].checklist == ["Data endpoints implemented"]
    assert "Partner's own data feed deployed to TradingView production" not in steps["smoke-testing"].checklist
    # Every other step applies.
    assert integration.steps.filter(status=StepStatus.NOT_STARTED).count() == 13


def test_trading_only_integration_keeps_autotests_with_trading_items_only(pm):
    integration = IntegrationFactory(trading_only=True)
    kick_off(integration, pm)

    steps = steps_by_code(integration)
    assert steps["passing-autotests"].status == StepStatus.NOT_STARTED
    assert steps["passing-autotests"].checklist == ["Trading endpoints autotests pass in Jenkins"]
    assert steps["endpoints-implementation"].checklist == ["Trading endpoints implemented"]
    assert integration.steps.filter(status=StepStatus.NOT_APPLICABLE).count() == 0


def test_starting_twice_is_refused(started_integration, pm):
    with pytest.raises(ValidationError, match="was kicked off on 2026-03-02"):
        plan.start_integration(started_integration, date(2026, 4, 6), source=WEB, by=pm)
    assert started_integration.steps.count() == 15
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
    assert rows.count() == 15
    for row in rows:
        assert row.from_status == ""
        assert row.to_status == row.step.status
        assert row.from_due is None
        assert row.to_due == row.step.due_date
        assert row.source == WEB
        assert row.by == pm
        assert row.at == at(KICKOFF, 9)
        assert "for a kick-off on 2026-03-02" in row.note
    event = IntegrationEvent.objects.get(integration=integration)
    assert event.kind == IntegrationEvent.Kind.KICKED_OFF
    assert event.to_value == "2026-03-02"
    assert (event.source, event.by, event.at) == (WEB, pm, at(KICKOFF, 9))


def test_start_accepts_an_iso_string_and_records_by_name(integration):
    plan.start_integration(integration, " 2026-03-02 ", source=ChangeSource.JIRA, by_name="jira-bot", at=at(KICKOFF))
    assert integration.kickoff_on == KICKOFF
    assert set(StepChange.objects.filter(step__integration=integration).values_list("by_name", "source")) == {
        ("jira-bot", "jira")
    }


@pytest.mark.parametrize("bad", ["2026-13-01", "15/01/2026", 12345, "", None])
def test_bad_kickoff_is_refused_and_nothing_written(integration, pm, bad):
    with pytest.raises(ValidationError) as caught:
        plan.start_integration(integration, bad, source=WEB, by=pm)

    assert "YYYY-MM-DD" in caught.value.messages[0]
    assert repr(bad) in caught.value.messages[0]
    integration.refresh_from_db()
    assert integration.kickoff_on is None
    assert not IntegrationStep.objects.filter(integration=integration).exists()
    assert not IntegrationEvent.objects.filter(integration=integration).exists()
    assert not integration.template.is_frozen


def test_invalid_integration_is_not_kicked_off(pm):
    integration = IntegrationFactory(trading_production_url="http://broker.example.com/api")
    with pytest.raises(ValidationError, match="https"):
        kick_off(integration, pm)
    assert not integration.steps.exists()
    assert not IntegrationEvent.objects.filter(integration=integration).exists()


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


def test_replan_moves_only_open_steps(started_integration, pm):
    complete_step(step(started_integration, "slack-jira-onboarding"), source=WEB, by=pm, at=at("2026-03-04"))
    new_kickoff = date(2026, 3, 16)

    plan.replan(started_integration, new_kickoff, source=WEB, by=pm, note="Partner starts late.", at=at("2026-03-05"))

    steps = steps_by_code(started_integration)
    assert steps["slack-jira-onboarding"].due_date == date(2026, 3, 30)  # done: keeps its date
    for code, due in PLANNED_DUE.items():
        if code != "slack-jira-onboarding":
            assert steps[code].due_date == due + days(14), code
    launch = steps["open-to-all-users"]
    assert (launch.window_start, launch.due_date) == (date(2026, 6, 1), date(2026, 6, 8))
    assert started_integration.kickoff_on == new_kickoff

    rows = StepChange.objects.filter(step__integration=started_integration, from_due__isnull=False)
    assert rows.count() == 14
    for row in rows.select_related("step"):
        assert row.to_due == row.from_due + days(14)
        assert row.from_status == row.to_status == row.step.status
        assert row.at == at("2026-03-05")
        assert "kick-off moved from 2026-03-02 to 2026-03-16" in row.note
        assert "Partner starts late." in row.note
    event = started_integration.events.get(kind=IntegrationEvent.Kind.REPLANNED)
    assert (event.from_value, event.to_value, event.by) == ("2026-03-02", "2026-03-16", pm)

    started_integration.refresh_from_db()
    assert started_integration.next_due_on == date(2026, 4, 13)
    assert started_integration.forecast_launch_on == date(2026, 6, 8)


def test_replan_to_the_same_day_or_to_a_non_date_is_refused(started_integration, pm):
    with pytest.raises(ValidationError, match="already kicks off"):
        plan.replan(started_integration, KICKOFF, source=WEB, by=pm)
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        plan.replan(started_integration, "next monday", source=WEB, by=pm)
    assert not started_integration.events.filter(kind=IntegrationEvent.Kind.REPLANNED).exists()


def test_replan_needs_a_kicked_off_integration(integration, pm):
    with pytest.raises(ValidationError, match="has not been kicked off"):
        plan.replan(integration, KICKOFF, source=WEB, by=pm)


# --- pause, resume, cancel ------------------------------------------------------------------


def test_pause_and_resume_ten_days_later_moves_open_deadlines(started_integration, pm):
    complete_step(step(started_integration, "slack-jira-onboarding"), source=WEB, by=pm, at=at("2026-03-04"))
    plan.pause(started_integration, source=WEB, by=pm, note="Partner re-org.", at=at("2026-03-09"))
    assert started_integration.state == Integration.State.PAUSED
    assert started_integration.paused_on == date(2026, 3, 9)

    plan.resume(started_integration, source=ChangeSource.SLACK, by_name="bob (Slack)", at=at("2026-03-19"))

    assert started_integration.state == Integration.State.ACTIVE
    assert started_integration.paused_on is None
    steps = steps_by_code(started_integration)
    assert steps["slack-jira-onboarding"].due_date == date(2026, 3, 30)
    for code, due in PLANNED_DUE.items():
        if code != "slack-jira-onboarding":
            assert steps[code].due_date == due + days(10), code  # Mondays + 10 days: Thursdays
    assert steps["open-to-all-users"].window_start == date(2026, 5, 28)

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
    assert "10 day(s) paused since 2026-03-09" in resumed.note

    moves = StepChange.objects.filter(step__integration=started_integration, from_due__isnull=False)
    assert moves.count() == 14
    assert all(m.to_due == m.from_due + days(10) and m.source == ChangeSource.SLACK for m in moves)


def test_resume_rolls_weekend_deadlines_to_monday(started_integration, pm):
    plan.pause(started_integration, source=WEB, by=pm, at=at("2026-03-09"))
    plan.resume(started_integration, source=WEB, by=pm, at=at("2026-03-21"))  # 12 days

    due = {s.code: s.due_date for s in started_integration.steps.all()}
    # Monday + 12 days is a Saturday: due the Monday after, two weeks later.
    assert due == {code: d + days(14) for code, d in PLANNED_DUE.items()}


def test_pause_and_resume_are_refused_in_the_wrong_state(started_integration, pm):
    with pytest.raises(ValidationError, match="is not paused"):
        plan.resume(started_integration, source=WEB, by=pm)
    plan.pause(started_integration, source=WEB, by=pm, at=at("2026-03-09"))
    with pytest.raises(ValidationError, match="Only an active integration"):
        plan.pause(started_integration, source=WEB, by=pm, at=at("2026-03-10"))
    assert started_integration.events.filter(kind=IntegrationEvent.Kind.PAUSED).count() == 1


def test_cancel_needs_a_reason(started_integration, pm):
    with pytest.raises(ValidationError, match="Say why"):
        plan.cancel(started_integration, source=WEB, by=pm, note="  ")
    started_integration.refresh_from_db()
    assert started_integration.state == Integration.State.ACTIVE
    assert not started_integration.events.filter(kind=IntegrationEvent.Kind.CANCELLED).exists()

    plan.cancel(started_integration, source=WEB, by=pm, note="Partner dropped the project.", at=at("2026-03-10"))

    assert started_integration.state == Integration.State.CANCELLED
    event = started_integration.events.get(kind=IntegrationEvent.Kind.CANCELLED)
    assert (event.from_value, event.to_value, event.note) == ("active", "cancelled", "Partner dropped the project.")
    started_integration.refresh_from_db()
    assert started_integration.current_step is None
    assert started_integration.ball_side == ""
    assert started_integration.next_due_on is None
    with pytest.raises(ValidationError, match="already cancelled"):
        plan.cancel(started_integration, source=WEB, by=pm, note="Again.")
    with pytest.raises(ValidationError, match="cannot be re-planned"):
        plan.replan(started_integration, date(2026, 4, 6), source=WEB, by=pm)


# --- template versions ----------------------------------------------------------------------


def test_new_template_version_does_not_change_running_integrations(pm):
    v1 = RoadmapTemplate.latest(TEMPLATE_KEY)
    a = IntegrationFactory()
    kick_off(a, pm)
    a_before = list(a.steps.values_list("code", "due_date", "template_step__template_id"))

    v2 = v1.new_version()
    assert (v2.version, v2.is_frozen) == (v1.version + 1, False)
    v2.steps.filter(code="sandbox-development").update(due_week=6)

    b = IntegrationFactory(template=RoadmapTemplate.latest(TEMPLATE_KEY))
    kick_off(b, pm)

    assert b.template == v2
    assert step(b, "sandbox-development").due_date == date(2026, 4, 13)
    assert step(b, "sandbox-access").due_date == date(2026, 4, 13)  # due with the step it enables
    assert set(b.steps.values_list("template_step__template_id", flat=True)) == {v2.pk}
    v2.refresh_from_db()
    assert v2.is_frozen

    assert a.template_id == v1.pk
    assert list(a.steps.values_list("code", "due_date", "template_step__template_id")) == a_before
    assert step(a, "sandbox-development").due_date == date(2026, 4, 6)
    assert v1.steps.get(code="sandbox-development").due_week == 5
