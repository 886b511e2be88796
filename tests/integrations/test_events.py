"""Domain events: each service announces what happened, with its details and context, inside its transaction."""

from datetime import date

import pytest
from django.db import connection

from integrations import events, plan
from integrations.events import RoadmapEvent, announce, roadmap_event
from integrations.models import ChangeSource, Integration, IntegrationEvent, IntegrationStep, StepChange
from integrations.steps import complete_step, start_step
from roadmap.models import StepStatus
from roadmap.refusals import PrerequisitesOpen
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory
from tests.integrations.handovers.helpers import hand_over_everything
from tests.integrations.helpers import KICKOFF, LAUNCH_WINDOW, STEP_CODES, at, ctx, days, step

pytestmark = pytest.mark.django_db

PLANNED_LAUNCH = LAUNCH_WINDOW[1]


class Boom(Exception):
    pass


@pytest.fixture
def announced():
    """Every roadmap event announced during the test, in order."""
    seen: list[RoadmapEvent] = []

    def receiver(sender, event, **kwargs):
        seen.append(event)

    roadmap_event.connect(receiver, weak=False)
    try:
        yield seen
    finally:
        roadmap_event.disconnect(receiver)


@pytest.fixture
def receiver_raising_on():
    """Connect a receiver that raises ``Boom`` for events of the given kind."""
    connected = []

    def connect(kind):
        def receiver(sender, event, **kwargs):
            if event.kind == kind:
                raise Boom(kind)

        roadmap_event.connect(receiver, weak=False)
        connected.append(receiver)

    yield connect
    for receiver in connected:
        roadmap_event.disconnect(receiver)


def kinds(seen) -> list[tuple[str, str | None]]:
    return [(e.kind, e.step.code if e.step else None) for e in seen]


# --- what each service announces ------------------------------------------------------------


def test_kick_off_announces_kicked_off_after_writing_its_rows(integration, pm):
    written = {}

    def receiver(sender, event, **kwargs):
        written["steps"] = IntegrationStep.objects.filter(integration=event.integration).count()
        written["events"] = list(event.integration.events.values_list("kind", flat=True))

    roadmap_event.connect(receiver, weak=False)
    context = ctx(pm, at(KICKOFF, 9))
    try:
        plan.start_integration(integration, KICKOFF, context)
    finally:
        roadmap_event.disconnect(receiver)

    assert written == {"steps": 17, "events": ["kicked_off"]}


def test_kick_off(integration, pm, announced):
    context = ctx(pm, at(KICKOFF, 9), note="Contract signed.")
    plan.start_integration(integration, KICKOFF, context)

    [event] = announced
    assert event.kind == events.KICKED_OFF
    assert event.integration.pk == integration.pk
    assert event.step is None
    assert event.context is context
    assert event.details == {"kickoff_on": KICKOFF, "planned_launch": PLANNED_LAUNCH}


def test_replan(started_integration, pm, announced):
    context = ctx(pm, "2026-03-05", note="Partner starts late.")
    plan.replan(started_integration, date(2026, 3, 16), context)

    [event] = announced
    assert (event.kind, event.step, event.context) == (events.REPLANNED, None, context)
    assert event.context.note == "Partner starts late."
    assert event.details == {
        "from_kickoff": KICKOFF,
        "to_kickoff": date(2026, 3, 16),
        "planned_launch": date(2026, 6, 8),
    }


def test_pause_and_resume(started_integration, pm, announced):
    paused = ctx(pm, "2026-03-09", note="Partner re-org.")
    resumed = ctx(when="2026-03-19", source=ChangeSource.SLACK, by_name="bob (Slack)")
    plan.pause(started_integration, paused)
    plan.resume(started_integration, resumed)

    assert [(e.kind, e.details, e.context) for e in announced] == [
        (events.PAUSED, {"paused_on": date(2026, 3, 9)}, paused),
        (events.RESUMED, {"paused_days": 10}, resumed),
    ]


@pytest.mark.parametrize("pause_first", [False, True])
def test_cancel(started_integration, pm, announced, pause_first):
    if pause_first:
        plan.pause(started_integration, ctx(pm, "2026-03-09"))
    context = ctx(pm, "2026-03-10", note="Partner withdrew.")
    plan.cancel(started_integration, context)

    event = announced[-1]
    assert (event.kind, event.context) == (events.CANCELLED, context)
    assert event.details == {"from_state": "paused" if pause_first else "active"}


def test_a_step_change(started_integration, partner_user, announced):
    target = step(started_integration, "endpoints-implementation")
    context = ctx(partner_user, "2026-03-10", source=ChangeSource.API)
    start_step(target, context)

    [event] = announced
    assert (event.kind, event.step, event.context) == (events.STEP_CHANGED, target, context)
    assert event.integration.pk == started_integration.pk
    assert event.details == {"from_status": StepStatus.NOT_STARTED, "to_status": StepStatus.IN_PROGRESS}


def test_completing_the_launch_announces_the_change_then_the_launch(started_integration, pm, announced):
    hand_over_everything(started_integration)
    for offset, code in enumerate(STEP_CODES[:-1], start=1):
        complete_step(step(started_integration, code), ctx(pm, KICKOFF + days(offset)))
    announced.clear()

    context = ctx(pm, "2026-05-20")
    complete_step(step(started_integration, "open-to-all-users"), context)

    assert kinds(announced) == [(events.STEP_CHANGED, "open-to-all-users"), (events.LAUNCHED, "open-to-all-users")]
    launched = announced[1]
    assert launched.details == {"launched_on": date(2026, 5, 20)}
    assert launched.context is context
    assert launched.integration.state == Integration.State.LAUNCHED


def test_a_late_hand_over_announces_deadline_moved_for_the_other_sides_step(started_integration, pm, partner_user):
    for code in ("slack-jira-onboarding", "autotests-configuration"):
        complete_step(step(started_integration, code), ctx(pm, "2026-03-04"))
    complete_step(step(started_integration, "endpoints-implementation"), ctx(partner_user, "2026-03-27"))

    seen = []

    def receiver(sender, event, **kwargs):
        seen.append(event)

    roadmap_event.connect(receiver, weak=False)
    context = ctx(partner_user, "2026-04-09", source=ChangeSource.API)
    try:
        # Due 03-30, passed on 04-09: sandbox access, prepared during the partner's week, is due then.
        complete_step(step(started_integration, "passing-autotests"), context)
    finally:
        roadmap_event.disconnect(receiver)

    assert kinds(seen) == [(events.STEP_CHANGED, "passing-autotests"), (events.DEADLINE_MOVED, "sandbox-access")]
    moved = seen[1]
    assert moved.context is context
    assert moved.details == {
        "from_due": date(2026, 3, 30),
        "to_due": date(2026, 4, 9),
        "because_of": "passing-autotests",
    }
    assert moved.step.due_date == date(2026, 4, 9)
    assert moved.step.planned_due_date == date(2026, 3, 30)
    assert StepChange.objects.filter(step=moved.step, source="system", to_due=date(2026, 4, 9)).exists()


def test_an_on_time_hand_over_moves_no_deadline(started_integration, pm, announced):
    for code in ("slack-jira-onboarding", "autotests-configuration"):
        complete_step(step(started_integration, code), ctx(pm, "2026-03-04"))
    complete_step(step(started_integration, "endpoints-implementation"), ctx(pm, "2026-03-27"))
    complete_step(step(started_integration, "passing-autotests"), ctx(pm, "2026-03-30"))

    assert events.DEADLINE_MOVED not in {e.kind for e in announced}
    assert step(started_integration, "sandbox-access").due_date == date(2026, 3, 30)


def test_deadline_moved_is_announced_after_the_new_deadline_is_written(started_integration, pm):
    for code in ("slack-jira-onboarding", "autotests-configuration"):
        complete_step(step(started_integration, code), ctx(pm, "2026-03-04"))
    complete_step(step(started_integration, "endpoints-implementation"), ctx(pm, "2026-03-27"))
    read = {}

    def receiver(sender, event, **kwargs):
        if event.kind == events.DEADLINE_MOVED:
            read["due_date"] = IntegrationStep.objects.get(pk=event.step.pk).due_date

    roadmap_event.connect(receiver, weak=False)
    try:
        complete_step(step(started_integration, "passing-autotests"), ctx(pm, "2026-04-09"))
    finally:
        roadmap_event.disconnect(receiver)

    assert read == {"due_date": date(2026, 4, 9)}


def test_a_refused_change_announces_nothing(started_integration, pm, announced):
    with pytest.raises(PrerequisitesOpen):
        complete_step(step(started_integration, "passing-autotests"), ctx(pm, "2026-03-10"))
    assert announced == []


def test_an_unknown_kind_is_not_announced(started_integration, pm, announced):
    with pytest.raises(ValueError, match="Unknown roadmap event 'exploded'"):
        announce("exploded", started_integration, ctx(pm, "2026-03-10"))
    assert announced == []


# --- inside the transaction: a receiver that raises aborts the change -----------------------


def test_a_raising_receiver_aborts_a_step_change(started_integration, pm, receiver_raising_on):
    target = step(started_integration, "endpoints-implementation")
    rows_before = StepChange.objects.filter(step__integration=started_integration).count()
    receiver_raising_on(events.STEP_CHANGED)

    with pytest.raises(Boom):
        start_step(target, ctx(pm, "2026-03-10"))

    fresh = step(started_integration, "endpoints-implementation")
    assert (fresh.status, fresh.started_at) == (StepStatus.NOT_STARTED, None)
    assert StepChange.objects.filter(step__integration=started_integration).count() == rows_before


def test_a_raising_receiver_aborts_the_kick_off(integration, pm, receiver_raising_on):
    receiver_raising_on(events.KICKED_OFF)

    with pytest.raises(Boom):
        plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))

    integration = Integration.objects.get(pk=integration.pk)
    assert integration.kickoff_on is None
    assert integration.baseline_launch_on is None
    assert not IntegrationStep.objects.filter(integration=integration).exists()
    assert not IntegrationEvent.objects.filter(integration=integration).exists()
    integration.template.refresh_from_db()
    assert not integration.template.is_frozen


def test_a_raising_receiver_aborts_a_pause(started_integration, pm, receiver_raising_on):
    receiver_raising_on(events.PAUSED)

    with pytest.raises(Boom):
        plan.pause(started_integration, ctx(pm, "2026-03-09"))

    fresh = Integration.objects.get(pk=started_integration.pk)
    assert (fresh.state, fresh.paused_on) == (Integration.State.ACTIVE, None)
    assert not fresh.events.filter(kind=IntegrationEvent.Kind.PAUSED).exists()


def test_a_raising_receiver_aborts_a_replan(started_integration, pm, receiver_raising_on):
    receiver_raising_on(events.REPLANNED)

    with pytest.raises(Boom):
        plan.replan(started_integration, date(2026, 3, 16), ctx(pm, "2026-03-05", note="Later."))

    fresh = Integration.objects.get(pk=started_integration.pk)
    assert fresh.kickoff_on == KICKOFF
    assert step(started_integration, "endpoints-implementation").planned_due_date == date(2026, 3, 30)
    assert not StepChange.objects.filter(step__integration=started_integration, from_due__isnull=False).exists()


def test_a_raising_deadline_moved_receiver_aborts_the_late_completion(started_integration, pm, receiver_raising_on):
    for code in ("slack-jira-onboarding", "autotests-configuration"):
        complete_step(step(started_integration, code), ctx(pm, "2026-03-04"))
    complete_step(step(started_integration, "endpoints-implementation"), ctx(pm, "2026-03-27"))
    receiver_raising_on(events.DEADLINE_MOVED)

    with pytest.raises(Boom):
        complete_step(step(started_integration, "passing-autotests"), ctx(pm, "2026-04-09"))

    assert step(started_integration, "passing-autotests").status == StepStatus.NOT_STARTED
    sandbox = step(started_integration, "sandbox-access")
    assert sandbox.due_date == date(2026, 3, 30)
    assert not sandbox.history.filter(source="system").exists()


@pytest.mark.django_db(transaction=True)
def test_receivers_run_inside_the_services_transaction():
    """With no test transaction around it, the receiver still runs in an atomic block, and a
    raising receiver rolls the committed-looking change back for real."""
    pm = UserFactory(username="alice", staff=True)
    integration = IntegrationFactory(partner=PartnerFactory(name="Acme Crypto Exchange"))
    assert not connection.in_atomic_block
    in_atomic = []

    def receiver(sender, event, **kwargs):
        in_atomic.append(connection.in_atomic_block)
        if event.kind == events.STEP_CHANGED:
            raise Boom

    roadmap_event.connect(receiver, weak=False)
    try:
        plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
        with pytest.raises(Boom):
            start_step(step(integration, "endpoints-implementation"), ctx(pm, "2026-03-10"))
    finally:
        roadmap_event.disconnect(receiver)

    assert in_atomic == [True, True]
    assert not connection.in_atomic_block
    assert step(integration, "endpoints-implementation").status == StepStatus.NOT_STARTED
    assert StepChange.objects.filter(step__integration=integration).count() == 17
