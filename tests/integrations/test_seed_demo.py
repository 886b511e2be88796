"""``manage.py seed_demo``: a dozen believable partner stories, and a demo login.

Seeded on a Wednesday, a Saturday and a Monday: the stories are dated back from "today", so each
must read right whatever day it is.

Seeding takes seconds, so the demo is built once per day for the whole module, in a transaction
rolled back at the module's end; each test runs in its own transaction nested in it (a savepoint),
so what a test writes is undone before the next one reads the demo.
"""

import zoneinfo
from datetime import date, timedelta
from io import StringIO

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from integrations.jenkins.models import JenkinsBuild
from integrations.management.commands.seed_demo import DEMO_NOTE, PORTFOLIO
from integrations.models import ChangeSource, Integration, IntegrationEvent, IntegrationStep, Partner, StepChange
from integrations.standing import refresh_running, standing
from roadmap.models import StepStatus
from roadmap.schedule import is_working_day
from tests.integrations.helpers import at, stored_and_live

pytestmark = pytest.mark.django_db
SEED_DAYS = ["2026-11-25", "2026-11-28", "2026-11-30"]


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def by_name(name) -> Integration:
    return Integration.objects.select_related("partner").get(partner__name=name)


@pytest.fixture(scope="module", params=SEED_DAYS)
def demo(request, django_db_setup, django_db_blocker):
    """The demo seeded at 9:00 on the day, and what seed_demo printed; rolled back after the module."""
    # As the autouse ``_fast_password_hashing`` does for each test: the demo logins must be hashed
    # with the hasher the tests check passwords with.
    hashers = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    with django_db_blocker.unblock():
        snapshot = transaction.atomic()
        snapshot.__enter__()
    try:
        with (
            django_db_blocker.unblock(),
            override_settings(PASSWORD_HASHERS=hashers),
            time_machine.travel(at(request.param, 9), tick=False),
        ):
            output = seed()
        yield request.param, output
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            snapshot.__exit__(None, None, None)


@pytest.fixture
def seeded(demo):
    """The module's demo, the clock frozen at the moment it was seeded (a test may move it on)."""
    day, output = demo
    with time_machine.travel(at(day, 9), tick=False) as traveller:
        yield output, traveller


def test_seed_demo_builds_a_varied_portfolio_once(seeded, settings):
    output, _ = seeded
    assert "Demo portfolio: 12 partner(s) added, 0 already there." in output
    assert f"Demo login: {settings.DEMO_USERNAME} / {settings.DEMO_PASSWORD}" in output
    user = authenticate(username=settings.DEMO_USERNAME, password=settings.DEMO_PASSWORD)
    assert user is not None and user.is_staff

    integrations = list(Integration.objects.all())
    assert len(integrations) == 12
    states = [i.state for i in integrations]
    assert states.count("launched") == 1 and states.count("paused") == 1
    assert IntegrationStep.objects.filter(status=StepStatus.BLOCKED).count() == 2
    assert len([i for i in integrations if i.days_overdue() > 0]) >= 4
    assert {i.ball_side for i in integrations} >= {"tradingview", "partner"}
    # Every step's history starts with its planning row, written at kick-off.
    assert StepChange.objects.filter(from_status="").count() == 12 * 17

    again = seed()
    assert "Demo portfolio: 0 partner(s) added, 12 already there." in again
    assert Partner.objects.count() == 12


def test_seed_demo_gives_one_demo_partner_a_login(seeded, settings, client):
    output, _ = seeded
    assert f"Partner login: {settings.DEMO_PARTNER_USERNAME} / {settings.DEMO_PASSWORD}" in output
    user = authenticate(username=settings.DEMO_PARTNER_USERNAME, password=settings.DEMO_PASSWORD)
    assert user is not None and not user.is_staff
    assert user.partner_account.partner.name == "Dunmore FX"
    client.force_login(user)
    page = client.get("/partner/", follow=True)
    assert page.status_code == 200
    assert "Dunmore FX" in page.content.decode() and "Aldermoor" not in page.content.decode()


def test_every_completion_falls_on_a_working_day_of_the_side_that_did_it(seeded):
    completions = StepChange.objects.filter(to_status=StepStatus.DONE).select_related("step__integration__partner")
    assert completions.count() > 60
    for change in completions:
        zone = (
            zoneinfo.ZoneInfo(change.step.integration.partner.time_zone)
            if change.step.side == "partner"
            else timezone.get_current_timezone()
        )
        day = change.at.astimezone(zone).date()
        assert is_working_day(day), (change.step.integration, change.step.code, day)
        assert change.at < timezone.now()


def test_every_configured_delay_happens(seeded):
    for story in PORTFOLIO:
        if not story.late:
            continue
        integration = by_name(story.name)
        now = standing(integration)
        for code in story.late:
            step = integration.steps.get(code=code)
            assert step.status == StepStatus.DONE, (story.name, code)
            assert now.of(step).days_late > 0, (story.name, code)


def test_nothing_happens_to_the_paused_integration_after_its_pause(seeded):
    paused = Integration.objects.get(state=Integration.State.PAUSED)
    pause = paused.events.get(kind=IntegrationEvent.Kind.PAUSED)
    assert StepChange.objects.filter(step__integration=paused, at__gt=pause.at).count() == 0
    assert paused.steps.filter(status=StepStatus.IN_PROGRESS, started_at__gt=pause.at).count() == 0


def test_the_stories_read_as_their_names_say(seeded):
    # Corvid: the partner passed its autotests late; now TradingView owes sandbox access.
    corvid = standing(by_name("Corvid Capital"))
    assert corvid.ball.side == "tradingview"
    assert corvid.split.partner > 0
    for side in corvid.steps_standing.overdue_sides():
        assert corvid.split.charges(side) > 0
    # Kestrel: beta testing finished late; TradingView's launch is not overdue, the partner is charged.
    kestrel = standing(by_name("Kestrel Coin"))
    assert kestrel.current_step.code == "open-to-all-users"
    assert kestrel.split.partner > 0 and kestrel.split.tradingview == 0
    # Lumen launched; the paused integration's clock is stopped.
    assert by_name("Lumen Markets").state == Integration.State.LAUNCHED
    assert standing(by_name("Ironwood Futures")).overdue_steps() == []
    # Blocked steps carry their reason.
    assert set(
        IntegrationStep.objects.filter(status="blocked").values_list("integration__partner__name", flat=True)
    ) == {
        "Elbrus Markets",
        "Halcyon Brokerage",
    }


@pytest.mark.parametrize("travel_days", [1, 7, 30])
def test_stored_and_live_standing_agree_after_the_daily_refresh(seeded, travel_days):
    _, traveller = seeded
    traveller.shift(timedelta(days=travel_days))

    refresh_running()

    for integration in Integration.objects.select_related("partner"):
        stored, live = stored_and_live(integration)
        if not integration.is_running:
            del stored["standing_as_of"], live["standing_as_of"]  # ended: not refreshed
        assert stored == live, integration
        assert integration.slip_days == standing(integration).slip_days


@pytest.mark.parametrize("demo", SEED_DAYS[:1], indirect=True)
def test_seed_demo_reset_rebuilds_the_demo_partners(seeded):
    first = set(Integration.objects.values_list("pk", flat=True))
    assert len(first) == 12
    output = seed("--reset")
    assert "12 partner(s) added" in output
    assert Integration.objects.count() == 12
    assert first.isdisjoint(Integration.objects.values_list("pk", flat=True))


def test_the_demo_autotests_run_in_jenkins_failing_then_passing(seeded):
    """Past their autotests, the demo integrations' steps were completed by Jenkins' runs, a failure before a success."""
    passing = IntegrationStep.objects.filter(code="passing-autotests", status=StepStatus.DONE)
    settled_by_jenkins = 0
    for step in passing.select_related("integration"):
        builds = list(JenkinsBuild.objects.filter(integration=step.integration).order_by("finished_at", "number"))
        if not builds:
            continue  # no part whose autotests the roadmap asks for
        settled_by_jenkins += 1
        assert [b.status for b in builds if b.part == builds[-1].part][-2:] == ["FAILURE", "SUCCESS"]
        done = StepChange.objects.filter(step=step, to_status=StepStatus.DONE).get()
        assert done.source == ChangeSource.JENKINS, step.integration
        configured = StepChange.objects.get(
            step__integration=step.integration, step__code="autotests-configuration", to_status=StepStatus.DONE
        )
        assert configured.source == ChangeSource.JENKINS
    assert settled_by_jenkins >= 5
    # One is on its autotests now: its last run failed, so the step cannot be completed yet.
    running = IntegrationStep.objects.filter(code="passing-autotests", status=StepStatus.IN_PROGRESS)
    assert any(JenkinsBuild.objects.filter(integration=s.integration, status="FAILURE").exists() for s in running)


def test_demo_partners_keep_the_holidays_of_their_country(seeded):
    """Each demo partner works to its country's calendar (Japan's, the USA's, Ireland's ...), not weekends only."""
    partners = {p.name: p for p in Partner.objects.filter(notes=DEMO_NOTE)}

    assert partners and all(p.country for p in partners.values())
    assert (partners["Juniper Prime"].country, partners["Corvid Capital"].country) == ("JP", "US")
    assert partners["Dunmore FX"].calendar.holiday(date(2026, 3, 17))  # St Patrick's Day, Ireland
