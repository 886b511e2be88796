"""Completion guards: the core's prerequisites, then each plug-in's guard in its place; the first
refusal is the one people see, on the pages and in ``change_status`` alike."""

import pytest

from integrations import guards
from integrations.actions import step_actions
from integrations.guards import completion_refusal, own_feed_refusal, prerequisites_refusal, register, registered
from integrations.handovers.rules import handover_refusal
from integrations.jenkins.rules import autotests_refusal
from integrations.jira.rules import open_bugs_refusal
from integrations.steps import change_status
from roadmap.models import StepStatus
from roadmap.refusals import NotRunning, OpenBugs, PrerequisitesOpen
from tests.integrations.helpers import ctx, step


def test_prerequisites_then_own_feed_then_open_bugs_then_hand_overs_then_autotests():
    assert registered() == [
        prerequisites_refusal,
        own_feed_refusal,
        open_bugs_refusal,
        handover_refusal,
        autotests_refusal,
    ]


def test_the_first_refusal_wins_and_later_guards_are_not_asked(monkeypatch):
    asked = []

    def guard(name, refusal=None):
        def ask(step, steps):
            asked.append(name)
            return refusal

        return ask

    refused = OpenBugs("held")
    # Registered out of order: the places decide, not the order of registration.
    monkeypatch.setattr(guards, "_guards", {})
    register(30, guard("third", PrerequisitesOpen("never seen")))
    register(10, guard("first"))
    register(20, guard("second", refused))

    assert completion_refusal(object(), []) is refused
    assert asked == ["first", "second"]


def test_a_place_is_taken_once(monkeypatch):
    monkeypatch.setattr(guards, "_guards", dict(guards._guards))

    register(guards.OPEN_BUGS, open_bugs_refusal)  # again, as a second ready() would: no change
    assert registered() == [
        prerequisites_refusal,
        own_feed_refusal,
        open_bugs_refusal,
        handover_refusal,
        autotests_refusal,
    ]
    with pytest.raises(ValueError, match="place 20 is taken by open_bugs_refusal"):
        register(guards.OPEN_BUGS, handover_refusal)


@pytest.mark.django_db
def test_a_registered_guard_holds_completion_on_the_pages_and_in_change_status(started_integration, pm, monkeypatch):
    held = NotRunning("The release train has left.")

    def release_train(step, steps):
        return held if step.code == "endpoints-implementation" else None

    monkeypatch.setitem(guards._guards, 99, release_train)
    target = step(started_integration, "endpoints-implementation")

    refusals = {a.name: a.refusal for a in step_actions(target, pm)}
    assert refusals == {"start": None, "complete": held, "block": None, "not_applicable": None}
    with pytest.raises(NotRunning, match="release train"):
        change_status(target, StepStatus.DONE, ctx(pm, "2026-03-04"))
    assert step(started_integration, "endpoints-implementation").status == StepStatus.NOT_STARTED
    change_status(step(started_integration, "slack-jira-onboarding"), StepStatus.DONE, ctx(pm, "2026-03-04"))
