"""Jira's "done" that the roadmap refused for now waits, and is applied dated when it became applicable.

The scenarios of the news waiting for a bug of the round to close, for a hand-over, and for the
prerequisites: the step is done at the latest of Jira's time and what it waited for (never later
than now, never before the step's last change), the history row says what it waited for, and the
days the partner spent are charged to the partner, not to TradingView's next step.
"""

from datetime import UTC, date, datetime

import pytest
import time_machine

from integrations.handovers.models import Part
from integrations.handovers.records import save_auth_sheet, sheet_fields_needed
from integrations.handovers.rules import integration_parts
from integrations.jira import inbox
from integrations.jira.inbox import content_key
from integrations.jira.issues import Handled, IssueFacts, apply_issue
from integrations.jira.models import JiraDelivery
from integrations.standing import standing
from integrations.steps import change_status, complete_step
from roadmap.models import StepStatus
from tests.default_plan import PLANNED_DUE, STEP_CODES
from tests.integrations.handovers.helpers import SHEET, hand_over_everything, passing_check
from tests.integrations.helpers import ctx, step
from tests.integrations.jira.test_issues import issue_json

pytestmark = pytest.mark.django_db


def utc(month, day, hour=12, minute=0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def jira_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def complete_before(integration, code, pm):
    """Every step before ``code`` done on its planned due day, at noon: nobody is late up to there."""
    for earlier in STEP_CODES[: STEP_CODES.index(code)]:
        when = utc(PLANNED_DUE[earlier].month, PLANNED_DUE[earlier].day)
        with time_machine.travel(when, tick=False):
            complete_step(step(integration, earlier), ctx(pm, when))


def news(key, moment, **kwargs) -> dict:
    return issue_json(key=key, updated=jira_time(moment), **kwargs)


def apply_at(moment, issue: dict) -> Handled:
    with time_machine.travel(moment, tick=False):
        return apply_issue(IssueFacts.from_json(issue))


def split(integration, moment):
    integration.refresh_from_db()
    return standing(integration, moment).split


@pytest.fixture
def acme(started_integration):
    started_integration.jira_project_key = "ACME"
    started_integration.save(update_fields=["jira_project_key"])
    return started_integration


def stored_delivery(body: dict) -> JiraDelivery:
    return JiraDelivery.objects.create(
        delivery_id=f"waited-{JiraDelivery.objects.count() + 1}",
        event=body["webhookEvent"],
        issue_key=body["issue"]["key"],
        body=body,
        content_key=content_key(body),
    )


def test_done_while_a_bug_of_the_round_is_open_is_applied_when_the_bug_closes(acme, pm):
    with time_machine.travel(utc(4, 8), tick=False):
        hand_over_everything(acme)
    complete_before(acme, "smoke-test-fixes", pm)
    bug = dict(key="ACME-42", kind="Bug", labels=["smoke-test"])
    apply_at(utc(4, 16, 14), news(moment=utc(4, 16, 14), status="Open", category="new", **bug))

    # Fri 17 Apr: the partner's task is done in Jira; the roadmap refuses while ACME-42 is open.
    task = {
        "webhookEvent": "jira:issue_updated",
        "issue": news("ACME-5", utc(4, 17, 9), labels=["roadmap-smoke-test-fixes"]),
    }
    delivery = stored_delivery(task)
    with time_machine.travel(utc(4, 17, 9, 1), tick=False):
        assert inbox.process(delivery.pk) == Handled.WAITING
    # Wed 29 Apr 10:00: the bug is closed in Jira; the sweep tries the waiting news again at 10:30.
    apply_at(utc(4, 29, 10, 1), news(moment=utc(4, 29, 10), **bug))
    with time_machine.travel(utc(4, 29, 10, 30), tick=False):
        inbox.sweep()

    delivery.refresh_from_db()
    assert delivery.outcome == Handled.APPLIED
    fixes = step(acme, "smoke-test-fixes")
    assert (fixes.status, fixes.completed_at) == (StepStatus.DONE, utc(4, 29, 10))
    change = fixes.history.last()
    assert change.at == utc(4, 29, 10)
    assert change.note == "ACME-5 (Done) done in Jira on 17 Apr; applied 29 Apr when bug ACME-42 was closed."
    # The partner fixed its bug 7 working days after its due day (Mon 20 Apr): the launch moves from
    # 25 May to 3 Jun, 7 working days, all the partner's. TradingView's final test is due 3 working days
    # after the fixes were really done, so TradingView owes nothing yet.
    owed = split(acme, utc(4, 30))
    assert (owed.tradingview, owed.both, owed.partner) == (0, 0, 7)  # working days, like every split


def test_done_before_the_hand_over_is_applied_when_the_url_passes_its_check(acme, pm):
    complete_before(acme, "production-deployment", pm)
    with time_machine.travel(utc(4, 8), tick=False):
        for part in integration_parts(acme):
            needed = sheet_fields_needed(acme, part)
            if needed:
                save_auth_sheet(acme, part, {name: SHEET[name] for name in needed})
    task = news("ACME-7", utc(4, 10, 9), labels=["roadmap-production-deployment"])
    waiting = apply_at(utc(4, 10, 9, 1), task)
    assert waiting.state == Handled.WAITING and waiting.detail.startswith("handover_missing")

    # The partner hands its production URLs over a week late: the trading one passes on Mon 20 Apr.
    with time_machine.travel(utc(4, 20, 11), tick=False):
        passing_check(acme, Part.DATA, url="https://data.acme.example.com")
    with time_machine.travel(utc(4, 20, 15), tick=False):
        passing_check(acme, Part.TRADING, url="https://trading.acme.example.com")
    assert apply_at(utc(4, 21, 9), task).state == Handled.APPLIED

    deployment = step(acme, "production-deployment")
    assert deployment.completed_at == utc(4, 20, 15)
    assert deployment.history.last().note == (
        "ACME-7 (Done) done in Jira on 10 Apr; applied 20 Apr when the production URL of the trading part "
        "passed its check."
    )
    # Due Mon 13 Apr, handed over Mon 20 Apr: the launch moves a week (25 May to 1 Jun, 5 working
    # days), the partner's. TradingView's smoke test, prepared during the partner's week, is due that
    # day, not on 10 Apr.
    assert step(acme, "smoke-testing").due_date == date(2026, 4, 20)
    owed = split(acme, utc(4, 20, 16))
    assert (owed.tradingview, owed.both, owed.partner) == (0, 0, 5)


def test_done_before_the_prerequisites_is_applied_when_the_last_one_is_done(acme, pm):
    task = news("ACME-1", utc(3, 10, 9), labels=["roadmap-passing-autotests"])
    assert apply_at(utc(3, 10, 9, 1), task).state == Handled.WAITING

    with time_machine.travel(utc(3, 4), tick=False):
        complete_step(step(acme, "autotests-configuration"), ctx(pm, utc(3, 4)))
    with time_machine.travel(utc(3, 24, 16), tick=False):
        complete_step(step(acme, "endpoints-implementation"), ctx(pm, utc(3, 24, 16)))
    assert apply_at(utc(3, 25, 8), task).state == Handled.APPLIED

    passing = step(acme, "passing-autotests")
    assert passing.completed_at == utc(3, 24, 16)
    assert passing.history.last().note == (
        "ACME-1 (Done) done in Jira on 10 Mar; applied 24 Mar when Data / trading endpoints implementation was done."
    )


def test_news_that_did_not_wait_keeps_jiras_time_and_plain_note(acme, pm):
    with time_machine.travel(utc(3, 4), tick=False):
        for code in ("autotests-configuration", "endpoints-implementation"):
            complete_step(step(acme, code), ctx(pm, utc(3, 4)))
    task = news("ACME-1", utc(3, 10, 9), labels=["roadmap-passing-autotests"])

    assert apply_at(utc(3, 11, 8), task).state == Handled.APPLIED

    passing = step(acme, "passing-autotests")
    assert passing.completed_at == utc(3, 10, 9)
    assert passing.history.last().note == "ACME-1 (Done) done in Jira."


def test_waited_news_is_never_dated_before_the_steps_last_change(acme, pm):
    with time_machine.travel(utc(4, 8), tick=False):
        hand_over_everything(acme)
    complete_before(acme, "smoke-test-fixes", pm)
    bug = dict(key="ACME-42", kind="Bug", labels=["smoke-test"])
    apply_at(utc(4, 16, 14), news(moment=utc(4, 16, 14), status="Open", category="new", **bug))
    task = news("ACME-5", utc(4, 17, 9), labels=["roadmap-smoke-test-fixes"])
    assert apply_at(utc(4, 17, 9, 1), task).state == Handled.WAITING
    apply_at(utc(4, 22, 10, 1), news(moment=utc(4, 22, 10), **bug))
    # The PM marks the step started on the 24th, before the waiting news is tried again on the 27th.
    with time_machine.travel(utc(4, 24), tick=False):
        change_status(step(acme, "smoke-test-fixes"), StepStatus.IN_PROGRESS, ctx(pm, utc(4, 24)))

    assert apply_at(utc(4, 27, 9), task).state == Handled.APPLIED

    fixes = step(acme, "smoke-test-fixes")
    assert fixes.completed_at == utc(4, 24)
    assert fixes.history.last().note == (
        "ACME-5 (Done) done in Jira on 17 Apr; applied 24 Apr, the step's last change "
        "(bug ACME-42 was closed on 22 Apr)."
    )
