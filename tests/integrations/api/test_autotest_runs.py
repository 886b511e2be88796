"""The autotests' runs in Jenkins, read-only per integration: staff read any, a partner's token its own."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.jenkins.models import JenkinsJob
from integrations.jenkins.runs import BuildNews, record
from tests.integrations.api.conftest import error_of, results

pytestmark = pytest.mark.django_db


def run(job, number, status, url="https://jenkins.example/job/x/1/", minutes_ago=60):
    at = timezone.now() - timezone.timedelta(minutes=minutes_ago)
    body = {
        "name": job.job_name,
        "build": {
            "number": number,
            "phase": "COMPLETED",
            "status": status,
            "full_url": url,
            "timestamp": int(at.timestamp() * 1000),
            "duration": 60_000,
        },
    }
    record(job, BuildNews.from_json(body), timezone.now(), body)


@pytest.fixture
def runs(world, other_integration, pm):
    job, _ = JenkinsJob.issue(integration=world, part="trading", job_name="acme-trading", created_by=pm)
    run(job, 1, "FAILURE", minutes_ago=90)
    run(job, 2, "SUCCESS", url="javascript:alert(1)", minutes_ago=30)
    theirs, _ = JenkinsJob.issue(integration=other_integration, part="trading", job_name="zeta-trading", created_by=pm)
    run(theirs, 7, "SUCCESS")
    return job


def test_staff_read_any_integrations_runs_newest_first(staff_api, world, other_integration, runs):
    rows = results(staff_api.get(f"integrations/{world.pk}/autotest-runs/"))
    assert [(r["number"], r["status"], r["passed"]) for r in rows] == [(2, "SUCCESS", True), (1, "FAILURE", False)]
    assert rows[0]["job_name"] == "acme-trading" and rows[0]["part"] == "trading"
    assert rows[0]["url"] == ""  # not an http(s) address: never handed on
    assert rows[1]["url"] == "https://jenkins.example/job/x/1/"
    assert "payload" not in rows[0]
    theirs = results(staff_api.get(f"integrations/{other_integration.pk}/autotest-runs/"))
    assert [r["number"] for r in theirs] == [7]


def test_a_partners_token_reads_its_own_runs_only(partner_api, world, other_integration, runs):
    assert [r["number"] for r in results(partner_api.get(f"integrations/{world.pk}/autotest-runs/"))] == [2, 1]
    error_of(partner_api.get(f"integrations/{other_integration.pk}/autotest-runs/"), 404, "not_found")


def test_runs_are_read_only(staff_api, world, runs):
    error_of(staff_api.post(f"integrations/{world.pk}/autotest-runs/", {}), 405, "method_not_allowed")


def test_the_runs_cost_the_same_queries_however_many(staff_api, world, runs):
    staff_api.get(f"integrations/{world.pk}/autotest-runs/")  # the token's first use is recorded once
    with CaptureQueriesContext(connection) as few:
        staff_api.get(f"integrations/{world.pk}/autotest-runs/")
    for number in range(3, 13):
        run(runs, number, "FAILURE")
    with CaptureQueriesContext(connection) as many:
        assert len(results(staff_api.get(f"integrations/{world.pk}/autotest-runs/"))) == 12
    assert len(many) == len(few)
