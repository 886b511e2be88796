"""What a user may do to a step right now, and ``apply_action`` enforcing the same rules."""

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import transaction

from integrations import plan
from integrations.actions import ACTIONS, allowed_actions, state_refusal, step_actions, user_refusal
from integrations.models import ChangeSource, StepChange
from integrations.steps import apply_action, change_status, complete_step, mark_not_applicable, start_step
from roadmap.models import StepStatus
from roadmap.refusals import (
    IntegrationEnded,
    InvalidTransition,
    NotAllowed,
    NotRunning,
    PrerequisitesOpen,
    ReasonRequired,
    Refusal,
)
from tests.factories import IntegrationFactory, PartnerFactory, PartnerUserFactory, UserFactory
from tests.integrations.handovers.helpers import hand_over_everything
from tests.integrations.helpers import KICKOFF, STEP_CODES, at, ctx, days, step

pytestmark = pytest.mark.django_db

S = StepStatus


@pytest.fixture
def other_partner_user(db):
    """Carol, of another partner: she works on none of Acme's integrations."""
    return PartnerUserFactory(user=UserFactory(username="carol"), partner=PartnerFactory(name="Bluefin Exchange")).user


@pytest.fixture
def no_partner_user(db):
    """Dave: a user of the product, neither staff nor on any partner's team."""
    return UserFactory(username="dave")


def names(actions) -> list[str]:
    return [a.name for a in actions]


def refusals(actions) -> dict[str, Refusal | None]:
    return {a.name: a.refusal for a in actions}


def history_count(integration) -> int:
    return StepChange.objects.filter(step__integration=integration).count()


# --- what each status offers ----------------------------------------------------------------


def test_staff_may_take_every_action_a_not_started_step_offers(started_integration, pm):
    actions = step_actions(step(started_integration, "endpoints-implementation"), pm)

    assert names(actions) == ["start", "complete", "block", "not_applicable"]
    assert [a.label for a in actions] == ["Start", "Mark done", "Block", "Not applicable"]
    assert [a.needs_note for a in actions] == [False, False, True, True]
    assert all(a.allowed and a.refusal is None for a in actions)
    assert names(allowed_actions(step(started_integration, "endpoints-implementation"), pm)) == names(actions)


def test_staff_may_act_on_tradingview_steps_too(started_integration, pm):
    actions = allowed_actions(step(started_integration, "slack-jira-onboarding"), pm)
    assert names(actions) == ["start", "complete", "block", "not_applicable"]


def test_unblock_replaces_start_on_a_blocked_step(started_integration, pm, partner_user):
    target = step(started_integration, "endpoints-implementation")
    start_step(target, ctx(pm, "2026-03-03"))
    assert names(step_actions(target, pm)) == ["complete", "block", "not_applicable"]

    change_status(target, S.BLOCKED, ctx(pm, "2026-03-04", note="No test account."))

    actions = step_actions(target, pm)
    assert names(actions) == ["complete", "unblock", "not_applicable"]
    unblock = actions[1]
    assert (unblock.label, unblock.needs_note, unblock.allowed) == ("Unblock", True, True)
    # The partner may unblock its own step.
    assert names(allowed_actions(target, partner_user)) == ["complete", "unblock"]


def test_a_done_step_offers_only_reopen_and_only_to_tradingview(started_integration, pm, partner_user):
    target = step(started_integration, "endpoints-implementation")
    complete_step(target, ctx(partner_user, "2026-03-20"))

    assert names(allowed_actions(target, pm)) == ["reopen"]
    [reopen] = step_actions(target, partner_user)
    assert reopen.name == "reopen" and reopen.needs_note
    assert isinstance(reopen.refusal, NotAllowed)
    assert reopen.refusal.message == "Only TradingView can reopen a step."
    assert allowed_actions(target, partner_user) == []


def test_a_step_that_does_not_apply_offers_reopen(pm):
    integration = IntegrationFactory(stocks_data_only=True)
    plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))

    assert names(allowed_actions(step(integration, "passing-autotests"), pm)) == ["reopen"]


def test_the_launch_offers_no_not_applicable(started_integration, pm):
    launch = step(started_integration, "open-to-all-users")
    steps = list(started_integration.steps.all())

    assert names(step_actions(launch, pm)) == ["start", "complete", "block"]
    assert names(step_actions(launch, pm, steps)) == ["start", "complete", "block"]
    # Any other step does offer it, whether the steps are passed in or not.
    assert "not_applicable" in names(step_actions(step(started_integration, "beta-testing"), pm, steps))


# Each action as the pages, the admin and the API know it: where it is offered, where it leads,
# whether it needs a reason, whether a partner user may take it, and its words.
OFFERS = {
    "start": ("Start", False, True, "start a step", {S.NOT_STARTED: S.IN_PROGRESS}),
    "complete": (
        "Mark done",
        False,
        True,
        "mark a step done",
        {S.NOT_STARTED: S.DONE, S.IN_PROGRESS: S.DONE, S.BLOCKED: S.DONE},
    ),
    "block": ("Block", True, True, "block a step", {S.NOT_STARTED: S.BLOCKED, S.IN_PROGRESS: S.BLOCKED}),
    "unblock": ("Unblock", True, True, "unblock a step", {S.BLOCKED: S.IN_PROGRESS}),
    "reopen": ("Reopen", True, False, "reopen a step", {S.DONE: S.IN_PROGRESS, S.NOT_APPLICABLE: S.NOT_STARTED}),
    "not_applicable": (
        "Not applicable",
        True,
        False,
        "mark a step not applicable",
        {S.NOT_STARTED: S.NOT_APPLICABLE, S.IN_PROGRESS: S.NOT_APPLICABLE, S.BLOCKED: S.NOT_APPLICABLE},
    ),
    # Moves no status: offered on fixes awaiting TradingView's check (tests/integrations/test_verify_fixes.py).
    "verify": ("Verify fixes", False, False, "verify the fixes", {}),
}


class _Step:
    def __init__(self, status):
        self.status = status


def test_the_actions_in_order_with_where_they_are_offered_and_where_they_lead():
    assert list(ACTIONS) == list(OFFERS)
    for name, (label, needs_note, partner_may, phrase, moves) in OFFERS.items():
        action = ACTIONS[name]
        assert (action.name, action.label, action.needs_note, action.partner_may, action.phrase) == (
            name,
            label,
            needs_note,
            partner_may,
            phrase,
        )
        offered = {status: action.target(_Step(status)) for status in S.values if action.offered_for(_Step(status))}
        assert offered == moves, name


# --- prerequisites --------------------------------------------------------------------------


def test_complete_is_refused_while_prerequisites_are_open(started_integration, pm, partner_user):
    target = step(started_integration, "passing-autotests")

    for user in (pm, partner_user):
        found = refusals(step_actions(target, user))
        assert isinstance(found["complete"], PrerequisitesOpen)
        assert "cannot be done before the steps it depends on" in found["complete"].message
        assert "REST API autotests configuration (not started)" in found["complete"].message
        assert found["start"] is None and found["block"] is None
    assert names(allowed_actions(target, pm)) == ["start", "block", "not_applicable"]

    complete_step(step(started_integration, "autotests-configuration"), ctx(pm, "2026-03-05"))
    complete_step(step(started_integration, "endpoints-implementation"), ctx(partner_user, "2026-03-20"))

    assert "complete" in names(allowed_actions(target, partner_user))
    # The steps may be passed in: they are what the prerequisites are read from.
    steps = list(started_integration.steps.all())
    assert refusals(step_actions(target, pm, steps))["complete"] is None


# --- who may act ----------------------------------------------------------------------------


def test_a_partner_user_may_start_complete_and_block_its_own_partner_step(started_integration, partner_user):
    actions = step_actions(step(started_integration, "endpoints-implementation"), partner_user)

    assert names(allowed_actions(step(started_integration, "endpoints-implementation"), partner_user)) == [
        "start",
        "complete",
        "block",
    ]
    not_applicable = refusals(actions)["not_applicable"]
    assert isinstance(not_applicable, NotAllowed)
    assert not_applicable.code == "not_allowed"
    assert not_applicable.message.startswith("Only TradingView can ")


def test_a_partner_user_may_not_act_on_a_tradingview_step(started_integration, partner_user):
    target = step(started_integration, "slack-jira-onboarding")
    actions = step_actions(target, partner_user)

    assert names(actions) == ["start", "complete", "block", "not_applicable"]
    for action in actions:
        assert isinstance(action.refusal, NotAllowed)
        assert action.refusal.message == (
            "1 · TradingView · Slack/Jira onboarding is TradingView's step; only TradingView can change it."
        )
    assert allowed_actions(target, partner_user) == []


def test_a_user_of_another_partner_may_not_act(started_integration, other_partner_user):
    for code in ("endpoints-implementation", "slack-jira-onboarding"):
        actions = step_actions(step(started_integration, code), other_partner_user)
        assert actions and all(isinstance(a.refusal, NotAllowed) for a in actions)
        assert actions[0].refusal.message == "carol does not work on Acme Crypto Exchange."


def test_a_user_on_no_partners_team_may_not_act(started_integration, no_partner_user):
    actions = step_actions(step(started_integration, "endpoints-implementation"), no_partner_user)
    assert all(isinstance(a.refusal, NotAllowed) for a in actions)
    assert actions[0].refusal.message == "dave does not work on Acme Crypto Exchange."


def test_an_anonymous_user_may_not_act(started_integration):
    actions = step_actions(step(started_integration, "endpoints-implementation"), AnonymousUser())

    assert names(actions) == ["start", "complete", "block", "not_applicable"]
    assert {a.refusal.message for a in actions} == {"Log in to change a step."}
    assert all(isinstance(a.refusal, NotAllowed) for a in actions)


def test_an_inactive_staff_user_may_not_act(started_integration):
    former = UserFactory(username="former.pm", staff=True, is_active=False)
    assert allowed_actions(step(started_integration, "endpoints-implementation"), former) == []


def test_the_system_may_take_any_action(started_integration):
    """No user: Jira, the system, or someone named only by a Slack handle."""
    assert names(allowed_actions(step(started_integration, "slack-jira-onboarding"), None)) == [
        "start",
        "complete",
        "block",
        "not_applicable",
    ]


def test_user_refusal_with_and_without_an_action(started_integration, partner_user, pm):
    own = step(started_integration, "endpoints-implementation")

    assert user_refusal(partner_user, own) is None
    assert user_refusal(partner_user, own, ACTIONS["block"]) is None
    assert isinstance(user_refusal(partner_user, own, ACTIONS["reopen"]), NotAllowed)
    assert isinstance(user_refusal(partner_user, step(started_integration, "sandbox-access")), NotAllowed)
    assert user_refusal(pm, own, ACTIONS["not_applicable"]) is None


# --- integrations that are not running ------------------------------------------------------


def test_nothing_is_allowed_on_a_paused_integration(started_integration, pm, partner_user):
    plan.pause(started_integration, ctx(pm, "2026-03-09"))

    refusal = state_refusal(started_integration)
    assert isinstance(refusal, NotRunning)
    assert refusal.message == "Acme Crypto Exchange is paused; resume it first."
    for user in (pm, partner_user, None):
        target = step(started_integration, "endpoints-implementation")
        actions = step_actions(target, user)
        assert names(actions) == ["start", "complete", "block", "not_applicable"]
        assert all(isinstance(a.refusal, NotRunning) for a in actions)
        assert all("resume it first" in a.refusal.message for a in actions)
        assert allowed_actions(target, user) == []

    plan.resume(started_integration, ctx(pm, "2026-03-12"))
    assert state_refusal(started_integration) is None
    assert names(allowed_actions(step(started_integration, "endpoints-implementation"), pm)) == [
        "start",
        "complete",
        "block",
        "not_applicable",
    ]


def test_nothing_is_allowed_on_a_launched_integration(started_integration, pm):
    hand_over_everything(started_integration)
    for offset, code in enumerate(STEP_CODES, start=1):
        complete_step(step(started_integration, code), ctx(pm, KICKOFF + days(offset)))
    started_integration.refresh_from_db()

    refusal = state_refusal(started_integration)
    assert isinstance(refusal, IntegrationEnded)
    assert refusal.message == "Acme Crypto Exchange is launched; its steps can no longer change."
    for code in ("endpoints-implementation", "open-to-all-users"):
        [reopen] = step_actions(step(started_integration, code), pm)
        assert reopen.name == "reopen"
        assert isinstance(reopen.refusal, IntegrationEnded)
        assert allowed_actions(step(started_integration, code), pm) == []


def test_nothing_is_allowed_on_a_cancelled_integration(started_integration, pm):
    plan.cancel(started_integration, ctx(pm, "2026-03-10", note="Partner withdrew."))

    assert isinstance(state_refusal(started_integration), IntegrationEnded)
    assert "is cancelled" in state_refusal(started_integration).message
    assert allowed_actions(step(started_integration, "endpoints-implementation"), pm) == []


def test_an_integration_not_kicked_off_is_not_running(integration):
    refusal = state_refusal(integration)
    assert isinstance(refusal, NotRunning)
    assert refusal.message == "Acme Crypto Exchange has not been kicked off yet."


# --- apply_action enforces the same rules ---------------------------------------------------


def test_a_partner_user_completing_a_tradingview_step_is_refused_and_nothing_is_written(
    started_integration, partner_user
):
    target = step(started_integration, "slack-jira-onboarding")
    rows_before = history_count(started_integration)

    for attempt in (
        lambda: apply_action(target, "complete", ctx(partner_user, "2026-03-04")),
        lambda: change_status(target, S.DONE, ctx(partner_user, "2026-03-04")),
        lambda: complete_step(target, ctx(partner_user, "2026-03-04", source=ChangeSource.API)),
    ):
        with pytest.raises(NotAllowed, match="is TradingView's step; only TradingView can change it") as caught:
            attempt()
        assert (caught.value.code, caught.value.http_status) == ("not_allowed", 403)

    fresh = step(started_integration, "slack-jira-onboarding")
    assert (fresh.status, fresh.completed_at) == (S.NOT_STARTED, None)
    assert history_count(started_integration) == rows_before


def test_a_user_of_another_partner_is_refused_by_apply_action(started_integration, other_partner_user):
    target = step(started_integration, "endpoints-implementation")
    rows_before = history_count(started_integration)

    with pytest.raises(NotAllowed, match="carol does not work on Acme Crypto Exchange"):
        apply_action(target, "start", ctx(other_partner_user, "2026-03-04"))
    with pytest.raises(NotAllowed, match="carol does not work on"):
        start_step(target, ctx(other_partner_user, "2026-03-04"))
    assert history_count(started_integration) == rows_before


def test_a_partner_user_may_not_mark_its_step_not_applicable_through_apply_action(started_integration, partner_user):
    target = step(started_integration, "endpoints-implementation")
    rows_before = history_count(started_integration)

    with pytest.raises(NotAllowed, match="Only TradingView can"):
        apply_action(target, "not_applicable", ctx(partner_user, "2026-03-04", note="We skip it."))

    assert step(started_integration, "endpoints-implementation").status == S.NOT_STARTED
    assert history_count(started_integration) == rows_before


@pytest.mark.parametrize("change", ["not_applicable", "reopen"])
def test_a_partner_user_may_not_bypass_the_actions_through_change_status(started_integration, partner_user, change):
    target = step(started_integration, "endpoints-implementation")
    if change == "reopen":
        complete_step(target, ctx(partner_user, "2026-03-04"))
    before = (target.status, history_count(started_integration))

    with pytest.raises(NotAllowed):
        if change == "not_applicable":
            mark_not_applicable(target, ctx(partner_user, "2026-03-05", note="We skip it."))
        else:
            change_status(target, S.IN_PROGRESS, ctx(partner_user, "2026-03-05", note="Found a bug."))

    assert (step(started_integration, "endpoints-implementation").status, history_count(started_integration)) == before


def test_apply_action_takes_an_allowed_action(started_integration, partner_user):
    target = step(started_integration, "endpoints-implementation")

    apply_action(target, "block", ctx(partner_user, "2026-03-04", note="Waiting for keys.", source=ChangeSource.API))
    apply_action(target, "unblock", ctx(partner_user, "2026-03-05", note="Keys arrived."))
    apply_action(target, "complete", ctx(partner_user, "2026-03-20"))

    assert target.status == S.DONE
    assert list(target.history.values_list("to_status", "by__username").order_by("at", "id"))[1:] == [
        ("blocked", "dev.bob"),
        ("in_progress", "dev.bob"),
        ("done", "dev.bob"),
    ]


def test_apply_action_refuses_an_action_the_status_does_not_offer(started_integration, pm):
    target = step(started_integration, "endpoints-implementation")
    apply_action(target, "block", ctx(pm, "2026-03-04", note="Waiting for keys."))

    with pytest.raises(InvalidTransition, match="is blocked: 'Start' does not apply"):
        apply_action(target, "start", ctx(pm, "2026-03-05"))
    with pytest.raises(ReasonRequired, match="Say what unblocked the step"):
        apply_action(target, "unblock", ctx(pm, "2026-03-05"))
    assert step(started_integration, "endpoints-implementation").status == S.BLOCKED


def test_apply_action_refuses_complete_while_prerequisites_are_open(started_integration, partner_user):
    with pytest.raises(PrerequisitesOpen):
        apply_action(step(started_integration, "passing-autotests"), "complete", ctx(partner_user, "2026-03-04"))
    assert step(started_integration, "passing-autotests").status == S.NOT_STARTED


def test_apply_action_refuses_on_a_paused_integration(started_integration, pm):
    plan.pause(started_integration, ctx(pm, "2026-03-09"))
    with pytest.raises(NotRunning, match="resume it first"):
        apply_action(step(started_integration, "endpoints-implementation"), "start", ctx(pm, "2026-03-10"))


# --- the offer and the service agree --------------------------------------------------------


@pytest.fixture
def mixed_integration(started_integration, pm):
    """Steps in every status: slack done, autotests in progress, endpoints blocked, the rest not started."""
    complete_step(step(started_integration, "slack-jira-onboarding"), ctx(pm, "2026-03-04"))
    start_step(step(started_integration, "autotests-configuration"), ctx(pm, "2026-03-04"))
    change_status(step(started_integration, "endpoints-implementation"), S.BLOCKED, ctx(pm, "2026-03-04", note="Keys."))
    return started_integration


@pytest.mark.parametrize("persona", ["pm", "partner_user", "other_partner_user", "no_partner_user"])
@pytest.mark.parametrize(
    "code",
    [
        "slack-jira-onboarding",
        "autotests-configuration",
        "endpoints-implementation",
        "passing-autotests",
        "open-to-all-users",
    ],
)
def test_apply_action_refuses_exactly_what_step_actions_refuses(mixed_integration, request, persona, code):
    user = request.getfixturevalue(persona)
    offered = step_actions(step(mixed_integration, code), user)
    assert offered

    for action in offered:
        savepoint = transaction.savepoint()
        try:
            apply_action(step(mixed_integration, code), action.name, ctx(user, date(2026, 3, 5), note="Because."))
            outcome = None
        except Refusal as refusal:
            outcome = type(refusal)
        finally:
            transaction.savepoint_rollback(savepoint)
        assert outcome is (type(action.refusal) if action.refusal else None), (persona, code, action.name)
