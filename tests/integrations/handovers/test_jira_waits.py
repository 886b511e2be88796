"""Jira's news completing a step that waits for a hand-over waits in the inbox until it arrives."""

import pytest

from integrations.handovers.records import save_auth_sheet
from integrations.jira.issues import Handled, IssueFacts, apply_issue
from integrations.steps import complete_step
from roadmap.models import StepStatus
from tests.integrations.handovers.helpers import SHEET, passing_check
from tests.integrations.helpers import STEP_CODES, ctx, step

pytestmark = pytest.mark.django_db

DEPLOY = "production-deployment"


def deployed_in_jira() -> IssueFacts:
    return IssueFacts.from_json(
        {
            "id": "7",
            "key": "ACME-7",
            "fields": {
                "project": {"key": "ACME"},
                "summary": "Deploy to production",
                "issuetype": {"name": "Task"},
                "labels": [f"roadmap-{DEPLOY}"],
                "status": {"name": "Done", "statusCategory": {"key": "done"}},
                "updated": "2026-04-10T10:00:00.000+0000",
            },
        }
    )


def test_done_in_jira_before_the_hand_over_waits_then_applies(started_integration, pm):
    acme = started_integration
    acme.jira_project_key = "ACME"
    acme.save(update_fields=["jira_project_key"])
    for code in STEP_CODES[: STEP_CODES.index(DEPLOY)]:
        complete_step(step(acme, code), ctx(pm, "2026-04-01"))

    waiting = apply_issue(deployed_in_jira())

    assert waiting.state == Handled.WAITING
    assert waiting.detail.startswith("handover_missing: ")
    assert "on the stage page" in waiting.detail
    assert step(acme, DEPLOY).status == StepStatus.NOT_STARTED

    passing_check(acme, "trading")
    passing_check(acme, "data")
    save_auth_sheet(acme, "trading", SHEET, by=pm)
    again = apply_issue(deployed_in_jira())  # the same news, as the inbox's sweep retries it

    assert again.state == Handled.APPLIED, again.detail
    assert step(acme, DEPLOY).status == StepStatus.DONE
