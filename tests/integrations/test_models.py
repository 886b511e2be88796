"""Small facts the models hold: the partner's time zone, the team line-up, beta testers, the stored standing, step labels, heartbeats."""

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from integrations import plan
from integrations.models import (
    Heartbeat,
    Integration,
    IntegrationEvent,
    StepChange,
    TeamMember,
    split_usernames,
    step_notes_seen_by_partner,
    tradingview_zone,
)
from integrations.steps import block_step
from tests.factories import IntegrationFactory, PartnerFactory, TeamMemberFactory
from tests.integrations.helpers import at, ctx, on, step

pytestmark = pytest.mark.django_db

Role = TeamMember.Role


def staff(integration, pms=0, devs=0, qas=0):
    for role, count in ((Role.PM, pms), (Role.DEVELOPER, devs), (Role.QA, qas)):
        TeamMemberFactory.create_batch(count, integration=integration, role=role)


# --- time zones ----------------------------------------------------------------------------


def test_the_partner_zone_is_its_time_zone():
    assert PartnerFactory.build(time_zone="Asia/Tokyo").zone == zoneinfo.ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize("name", ["Mars/Base", "", "../etc/passwd"])
def test_an_unknown_partner_zone_falls_back_to_the_projects(settings, name):
    settings.TIME_ZONE = "Europe/Berlin"
    assert PartnerFactory.build(time_zone=name).zone == zoneinfo.ZoneInfo("Europe/Berlin")


def test_tradingview_zone_is_the_projects(settings):
    settings.TIME_ZONE = "Europe/London"
    assert tradingview_zone() == zoneinfo.ZoneInfo("Europe/London")


# --- team line-up ---------------------------------------------------------------------------


def test_recommended_lineup_is_met(integration):
    staff(integration, pms=1, devs=2, qas=2)

    assert integration.team_counts() == {"pm": 1, "developer": 2, "qa": 2}
    assert integration.team_gaps() == []
    assert integration.meets_recommended_lineup


def test_a_bigger_team_also_meets_it(integration):
    staff(integration, pms=2, devs=4, qas=3)
    assert integration.meets_recommended_lineup


def test_a_smaller_team_lists_the_gaps(integration):
    staff(integration, pms=1, devs=1, qas=0)

    assert integration.team_gaps() == ["1 more developer", "2 more QA specialists"]
    assert not integration.meets_recommended_lineup


def test_no_team_lists_every_role(integration):
    assert integration.team_counts() == {"pm": 0, "developer": 0, "qa": 0}
    assert integration.team_gaps() == ["1 more project manager", "2 more developers", "2 more QA specialists"]


def test_team_is_per_integration(integration):
    staff(integration, pms=1, devs=2, qas=2)
    other = IntegrationFactory()
    assert other.team_gaps() == ["1 more project manager", "2 more developers", "2 more QA specialists"]


# --- beta testers ---------------------------------------------------------------------------


def test_beta_tester_list_is_parsed_from_lines_and_commas(integration):
    integration.beta_testers = "trader_joe\r\n  anna.k, bob-92\n\n\tcarol  ,,\n"

    assert integration.beta_tester_list == ["trader_joe", "anna.k", "bob-92", "carol"]
    integration.full_clean()


def test_spaces_do_not_separate_beta_testers(integration):
    """The label says one per line: "carol dave" is one wrong name, refused, not two testers."""
    integration.beta_testers = "trader_joe\ncarol dave"

    assert integration.beta_tester_list == ["trader_joe", "carol dave"]
    with pytest.raises(ValidationError, match="'carol dave'"):
        integration.full_clean()


def test_empty_beta_testers(integration):
    assert integration.beta_tester_list == []
    assert split_usernames(None) == []


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("trader_joe\n@anna", ["'@anna'"]),
        ("good\nname!\nsmile:)", ["'name!'", "'smile:)'"]),
        ("x" * 65, ["'" + "x" * 65 + "'"]),
        ("josé", ["'josé'"]),
    ],
)
def test_bad_beta_tester_usernames_are_rejected_by_name(integration, text, bad):
    integration.beta_testers = text

    with pytest.raises(ValidationError) as caught:
        integration.full_clean()

    message = caught.value.message_dict["beta_testers"][0]
    assert message.startswith("Not a TradingView username: ")
    for name in bad:
        assert name in message
    assert "'trader_joe'" not in message and "'good'" not in message


def test_longest_allowed_username(integration):
    integration.beta_testers = "x" * 64
    integration.full_clean()


# --- names ----------------------------------------------------------------------------------


def test_name_defaults_to_the_partners(db):
    integration = IntegrationFactory(partner=PartnerFactory(name="Bluefin Exchange"), name="")
    assert integration.name == "Bluefin Exchange"
    assert str(integration) == "Bluefin Exchange"
    assert str(IntegrationFactory(name="Bluefin data feed")) == "Bluefin data feed"


# --- the stored standing -------------------------------------------------------------------


def test_days_overdue_counts_from_the_stored_deadline(integration):
    # Due 03-30 in Berlin: the deadline passes at midnight there, 22:00 UTC.
    integration.next_deadline_at = datetime(2026, 3, 30, 22, tzinfo=UTC)

    assert integration.days_overdue(datetime(2026, 3, 30, 21, 59, tzinfo=UTC)) == 0
    assert integration.days_overdue(datetime(2026, 3, 30, 22, tzinfo=UTC)) == 1
    assert integration.days_overdue(datetime(2026, 4, 9, 12, tzinfo=UTC)) == 8  # working days, 10 calendar


def test_days_overdue_only_for_active_integrations(integration):
    integration.next_deadline_at = datetime(2026, 3, 30, 22, tzinfo=UTC)
    for state in (Integration.State.PAUSED, Integration.State.LAUNCHED, Integration.State.CANCELLED):
        integration.state = state
        assert integration.days_overdue(datetime(2026, 4, 9, 12, tzinfo=UTC)) == 0
    integration.state = Integration.State.ACTIVE
    integration.next_deadline_at = None
    assert integration.days_overdue(datetime(2026, 4, 9, 12, tzinfo=UTC)) == 0


def test_days_overdue_defaults_to_the_real_clock(integration):
    with time_machine.travel(datetime(2026, 4, 9, 12, tzinfo=UTC), tick=False):
        integration.next_deadline_at = datetime(2026, 3, 30, 22, tzinfo=UTC)
        assert integration.days_overdue() == 8


def test_slip_is_the_sum_of_the_delay_split(integration):
    integration.delay_tradingview_days, integration.delay_partner_days, integration.delay_both_days = 3, 5, 2
    assert integration.slip_days == 10


def test_slip_against_the_baseline(integration):
    assert integration.slip_vs_baseline_days == 0  # not planned yet
    integration.baseline_launch_on = date(2026, 5, 25)
    integration.forecast_launch_on = date(2026, 6, 8)
    assert integration.slip_vs_baseline_days == 10  # working days
    integration.forecast_launch_on = date(2026, 5, 20)  # ahead of the baseline: no slip
    assert integration.slip_vs_baseline_days == 0


@pytest.mark.parametrize(
    ("state", "running"),
    [
        (Integration.State.ACTIVE, True),
        (Integration.State.PAUSED, True),
        (Integration.State.LAUNCHED, False),
        (Integration.State.CANCELLED, False),
    ],
)
def test_running_states(integration, state, running):
    integration.state = state
    assert integration.is_running is running
    assert (state in Integration.RUNNING_STATES) is running


@pytest.mark.parametrize(
    ("state", "facts"),
    [
        (Integration.State.ACTIVE, {"is_active"}),
        (Integration.State.PAUSED, {"is_paused"}),
        (Integration.State.LAUNCHED, {"is_launched", "has_ended"}),
        (Integration.State.CANCELLED, {"is_cancelled", "has_ended"}),
    ],
)
def test_each_state_reads_as_one_fact(integration, state, facts):
    integration.state = state
    names = ("is_active", "is_paused", "is_launched", "is_cancelled", "has_ended")
    assert {name for name in names if getattr(integration, name)} == facts
    assert integration.has_ended is not integration.is_running


# --- steps ----------------------------------------------------------------------------------


def test_a_step_reads_as_number_side_and_title(started_integration):
    steps = {s.code: s for s in started_integration.steps.all()}

    assert str(steps["sandbox-access"]) == "3 · TradingView · Sandbox access configuration"
    assert str(steps["endpoints-implementation"]) == "1 · Partner · Data / trading endpoints implementation"
    # The launch has no number.
    assert str(steps["open-to-all-users"]) == "TradingView · Open to all users"
    assert str(steps["open-to-all-users"].template_step) == "TradingView · Open to all users"


def test_only_the_last_step_is_the_launch(started_integration):
    launches = [s.code for s in started_integration.steps.all() if s.is_launch]
    assert launches == ["open-to-all-users"]


# --- heartbeats -----------------------------------------------------------------------------


def test_heartbeat_goes_stale_after_the_configured_age(settings):
    settings.HEARTBEAT_STALE_AFTER = 180
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False) as traveller:
        Heartbeat.beat("worker", detail="worker-host")
        beat = Heartbeat.objects.get(name="worker")
        assert beat.last_seen_at == start
        assert beat.age_seconds == 0
        assert not beat.is_stale

        traveller.shift(timedelta(seconds=180))
        assert beat.age_seconds == 180
        assert not beat.is_stale

        traveller.shift(timedelta(seconds=1))
        assert beat.is_stale


def test_a_new_beat_refreshes_the_same_row(settings):
    settings.HEARTBEAT_STALE_AFTER = 180
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as traveller:
        Heartbeat.beat("worker", detail="host-a")
        traveller.shift(timedelta(minutes=10))
        assert Heartbeat.objects.get(name="worker").is_stale

        Heartbeat.beat("worker", detail="host-b" + "x" * 300)

        beat = Heartbeat.objects.get(name="worker")
        assert not beat.is_stale
        assert beat.last_seen_at == datetime(2026, 3, 2, 9, 10, tzinfo=UTC)
        assert len(beat.detail) == 200 and beat.detail.startswith("host-b")
        assert Heartbeat.objects.count() == 1


@pytest.mark.parametrize(
    ("epic", "error"),
    [("ACME-7", None), ("acme-7", "looks like BRK-1"), ("BRK-7", "an issue of the Jira project ACME")],
)
def test_the_jira_epic_is_an_issue_of_the_integrations_project(integration, epic, error):
    integration.jira_project_key, integration.jira_epic_key = "ACME", epic
    if error is None:
        integration.full_clean()
        return
    with pytest.raises(ValidationError, match=error):
        integration.full_clean()


# --- which notes the partner reads ----------------------------------------------------------------


def test_the_partner_reads_notes_on_its_steps_replan_reasons_and_what_is_shared(started_integration, pm, partner_user):
    onboarding, autotests = (
        step(started_integration, "slack-jira-onboarding"),
        step(started_integration, "autotests-configuration"),
    )
    endpoints = step(started_integration, "endpoints-implementation")
    with on("2026-03-03", 10):
        block_step(onboarding, ctx(pm, at("2026-03-03", 10), note="TradingView's"))
        block_step(autotests, ctx(pm, at("2026-03-03", 10), note="Shared", shared_with_partner=True))
        block_step(endpoints, ctx(pm, at("2026-03-03", 10), note="On the partner's step"))
    with on("2026-03-04", 10):
        plan.pause(started_integration, ctx(pm, at("2026-03-04", 10), note="Pause, TradingView's"))
    with on("2026-03-04", 11):
        plan.resume(started_integration, ctx(pm, at("2026-03-04", 11), note="Resume, shared", shared_with_partner=True))
    with on("2026-03-04", 12):
        plan.replan(started_integration, date(2026, 3, 9), ctx(pm, at("2026-03-04", 12), note="Re-plan reason"))

    blocked = StepChange.objects.filter(to_status="blocked").exclude(from_status="blocked")
    assert sorted(blocked.notes_seen_by_partner().values_list("note", flat=True)) == ["On the partner's step", "Shared"]
    events = IntegrationEvent.objects.filter(integration=started_integration).exclude(kind="kicked_off")
    assert sorted(events.notes_seen_by_partner().values_list("kind", flat=True)) == ["replanned", "resumed"]
    assert not events.get(kind="paused").shared_with_partner

    rows = {row.note: row for row in blocked.with_partner_view()}
    assert rows["TradingView's"].note_seen_by(partner_user) == ""
    assert rows["TradingView's"].note_seen_by(pm) == "TradingView's"
    assert rows["Shared"].note_seen_by(partner_user) == "Shared"

    seen = step_notes_seen_by_partner(
        [
            step(started_integration, c)
            for c in ("slack-jira-onboarding", "autotests-configuration", "endpoints-implementation")
        ]
    )
    assert (onboarding.pk, "blocked_reason") not in seen
    assert {(autotests.pk, "blocked_reason"), (endpoints.pk, "blocked_reason")} <= seen
