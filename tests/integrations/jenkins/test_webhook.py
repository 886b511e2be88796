"""POST /hooks/jenkins/: authenticated notifications stored before the answer, applied once, refused with reasons."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from integrations import guards
from integrations.jenkins import inbox
from integrations.jenkins.models import JenkinsBuild, JenkinsDelivery, JenkinsJob
from integrations.jenkins.runs import part_runs, required_parts
from integrations.steps import complete_step
from notifications.models import OutboxMessage
from roadmap.models import StepStatus
from roadmap.refusals import AutotestsFailing
from tests.factories import IntegrationFactory
from tests.integrations.helpers import ctx, step
from tests.integrations.jenkins.conftest import DATA_JOB, HEARD_AT, TRADING_JOB, URL, fixture_json, sign

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # the fixtures' build.timestamp


def build(number=42, job=TRADING_JOB) -> JenkinsBuild:
    return JenkinsBuild.objects.get(job__job_name=job, number=number)


def jenkins_changes(integration_step):
    return list(integration_step.history.filter(source="jenkins").order_by("at", "id"))


def endpoints_done(integration, when=datetime(2026, 3, 9, 15, 0, tzinfo=UTC)):
    with time_machine.travel(when, tick=False):
        complete_step(step(integration, "endpoints-implementation"), ctx(when=when))


# --- one test per phase and per status ------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "phase", "status"),
    [
        ("queued", "QUEUED", ""),
        ("started", "STARTED", ""),
        ("completed_success", "COMPLETED", "SUCCESS"),
        ("finalized_success", "FINALIZED", "SUCCESS"),
    ],
)
def test_each_phase_is_stored_then_recorded_on_the_build(post, fixture, phase, status):
    response = post(fixture_json(fixture))
    assert response.status_code == 202, response.content
    delivery = JenkinsDelivery.objects.get()
    assert response.json() == {"status": "accepted", "delivery": delivery.pk}
    assert (delivery.phase, delivery.authenticated_by, delivery.outcome) == (phase, "token", "applied")
    run = build(42)
    assert (run.phase, run.status, run.part) == (phase, status, "trading")
    assert run.link == f"https://ci.tradingview.example/job/{TRADING_JOB}/42/"
    assert run.payload["build"]["scm"]["branch"] == "origin/master"
    assert (run.started_at is not None) == (phase != "QUEUED")


@pytest.mark.parametrize(
    ("fixture", "status", "passes"),
    [
        ("completed_success", "SUCCESS", True),
        ("completed_failure", "FAILURE", False),
        ("completed_unstable", "UNSTABLE", False),
        ("completed_aborted", "ABORTED", False),
    ],
)
def test_each_status_decides_whether_the_trading_part_passes(post, fixture, status, passes):
    post(fixture_json(fixture))
    run = build(42)
    assert (run.status, run.passed) == (status, passes)
    assert run.finished_at == START + timedelta(milliseconds=fixture_json(fixture)["build"]["duration"])
    assert part_runs(run.integration)["trading"].passed is passes


def test_a_started_phase_carries_no_result_even_if_the_plugin_repeats_the_last_one(post):
    post(fixture_json("started", status="FAILURE"))
    assert build(42).status == ""


# --- duplicates and order ---------------------------------------------------------------------


def test_the_same_news_twice_is_stored_twice_and_applied_once(post, started_integration):
    post(fixture_json("completed_failure"))
    post(fixture_json("completed_failure"))
    assert list(JenkinsDelivery.objects.order_by("id").values_list("outcome", flat=True)) == ["applied", "duplicate"]
    assert JenkinsBuild.objects.count() == 1


def test_earlier_phase_after_a_later_one_changes_nothing(post):
    post(fixture_json("finalized_success"))
    post(fixture_json("started"))
    assert build(42).phase == "FINALIZED"
    assert JenkinsDelivery.objects.order_by("-id").first().outcome == "ignored"


def test_an_older_builds_result_never_overrides_a_newer_ones(post, started_integration):
    post(fixture_json("completed_success", number=43))
    post(fixture_json("completed_failure", number=42), when=HEARD_AT + timedelta(hours=1))  # arrives late
    runs = part_runs(started_integration)["trading"]
    assert runs.latest_finished.number == 43 and runs.passed
    assert "Build #43 is newer and stays the latest" in JenkinsDelivery.objects.order_by("-id").first().detail


def test_the_runs_read_for_many_integrations_at_once_are_those_read_part_by_part(post, started_integration, linked, pm):
    """``runs_of`` (a batch's read, one query) says what ``part_runs`` reads per part: the newest build, the
    newest finished one (an older result arriving late does not win) and the first run, the builds of an
    earlier link of the same job name included, and nothing of another integration's job."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from integrations.jenkins.runs import runs_of

    post(fixture_json("started", number=41))
    post(fixture_json("completed_failure", number=41), when=HEARD_AT + timedelta(minutes=5))
    post(fixture_json("completed_success", number=43), when=HEARD_AT + timedelta(minutes=10))
    post(fixture_json("completed_failure", number=42), when=HEARD_AT + timedelta(minutes=20))  # arrives late
    post(fixture_json("started", number=44), when=HEARD_AT + timedelta(minutes=30))
    post(fixture_json("completed_success", job=DATA_JOB, number=7), part="data")
    linked["data"][0].revoke()  # relinked under the same name: the builds of the first link still count
    JenkinsJob.issue(integration=started_integration, part="data", job_name=DATA_JOB, created_by=pm)
    other = IntegrationFactory()
    other_job, _ = JenkinsJob.issue(integration=other, part="trading", job_name=TRADING_JOB, created_by=pm)
    JenkinsBuild.objects.create(job=other_job, integration=other, part="trading", number=99, phase="COMPLETED")

    with CaptureQueriesContext(connection) as queries:
        read = runs_of([started_integration.pk, other.pk])
    one_by_one = part_runs(started_integration)
    batched = part_runs(started_integration, runs=read[started_integration.pk])

    assert len(queries) == 1
    assert read[other.pk][("trading", TRADING_JOB)].latest.number == 99  # its own build, not counted above
    said = [(r.latest.number, r.latest_finished.number, r.first_ran_at, r.passed) for r in one_by_one.values()]
    assert said == [(r.latest.number, r.latest_finished.number, r.first_ran_at, r.passed) for r in batched.values()]
    assert said[0][:2] == (44, 43) and said[0][3] is True and said[1][:2] == (7, 7)
    assert [r.job for r in batched.values()] == [r.job for r in one_by_one.values()]


# --- the guard and the steps that complete themselves ------------------------------------------


def test_required_parts_follow_the_seed(db):
    assert required_parts(IntegrationFactory.build()) == ["trading", "data"]  # crypto data and trading
    assert required_parts(IntegrationFactory.build(trading_only=True)) == ["trading"]
    stocks = IntegrationFactory.build(data_types=["stocks"])
    assert required_parts(stocks) == ["trading"]  # data autotests only for crypto, forex or CFD
    assert required_parts(IntegrationFactory.build(stocks_data_only=True)) == []


def test_passing_cannot_be_completed_while_a_parts_latest_build_failed(post, started_integration, pm):
    endpoints_done(started_integration)
    post(fixture_json("completed_success", job=DATA_JOB, number=7), part="data")
    post(fixture_json("completed_failure"))
    passing = step(started_integration, "passing-autotests")
    assert passing.status != StepStatus.DONE
    with time_machine.travel(HEARD_AT + timedelta(hours=1), tick=False), pytest.raises(AutotestsFailing) as refused:
        complete_step(passing, ctx(pm))
    assert "Trading autotests: build #42 FAILURE" in refused.value.message
    assert "Data autotests" not in refused.value.message


def test_a_linked_part_without_a_finished_build_refuses_too(post, started_integration, pm):
    endpoints_done(started_integration)
    with time_machine.travel(START, tick=False):
        complete_step(step(started_integration, "autotests-configuration"), ctx(pm))
    post(fixture_json("started"))
    with time_machine.travel(HEARD_AT, tick=False), pytest.raises(AutotestsFailing) as refused:
        complete_step(step(started_integration, "passing-autotests"), ctx(pm))
    assert "Trading autotests: no finished build yet (build #42 STARTED)" in refused.value.message
    assert "Data autotests: no finished build yet" in refused.value.message


def test_without_a_linked_job_a_pm_completes_the_step_as_before(started_integration, pm):
    endpoints_done(started_integration)
    with time_machine.travel(HEARD_AT, tick=False):
        complete_step(step(started_integration, "autotests-configuration"), ctx(pm))
        complete_step(step(started_integration, "passing-autotests"), ctx(pm))
    assert step(started_integration, "passing-autotests").status == StepStatus.DONE


def test_configuration_completes_when_the_first_build_of_each_part_runs(post, started_integration):
    post(fixture_json("started"))
    configuration = step(started_integration, "autotests-configuration")
    assert configuration.status != StepStatus.DONE  # the data part has not run yet
    later = START + timedelta(hours=3)
    post(
        fixture_json("started", job=DATA_JOB, number=3, timestamp=int(later.timestamp() * 1000)),
        part="data",
        when=later + timedelta(minutes=1),
    )
    configuration.refresh_from_db()
    assert configuration.status == StepStatus.DONE
    assert configuration.completed_at == later
    assert [c.source for c in jenkins_changes(configuration)] == ["jenkins"]


def test_passing_completes_itself_at_the_builds_time_with_source_jenkins(post, started_integration, settings):
    settings.SLACK_INTERNAL_CHANNEL = "C0INTERNAL"
    started_integration.slack_channel_id = "C0PARTNER"
    started_integration.save(update_fields=["slack_channel_id"])
    endpoints_done(started_integration)
    post(fixture_json("completed_failure", number=41))
    post(fixture_json("completed_success", job=DATA_JOB, number=7), part="data")
    assert step(started_integration, "passing-autotests").status != StepStatus.DONE
    post(fixture_json("completed_success", number=42), when=HEARD_AT + timedelta(hours=2))

    passing = step(started_integration, "passing-autotests")
    assert passing.status == StepStatus.DONE
    assert passing.completed_at == START + timedelta(milliseconds=754000)  # the build's end, not its receipt
    (change,) = jenkins_changes(passing)
    assert change.by_name == "Jenkins"
    assert "Trading autotests: build #42 SUCCESS" in change.note and "Data autotests: build #7 SUCCESS" in change.note
    told = OutboxMessage.objects.filter(step=passing, kind=OutboxMessage.Kind.PARTNER_DONE)
    assert sorted(told.values_list("channel", flat=True)) == ["C0INTERNAL", "C0PARTNER"]


def test_passing_completes_no_earlier_than_it_became_actionable(
    post, started_integration, django_capture_on_commit_callbacks
):
    post(fixture_json("completed_success"))
    post(fixture_json("completed_success", job=DATA_JOB, number=7), part="data")
    passing = step(started_integration, "passing-autotests")
    assert passing.status != StepStatus.DONE  # the endpoints are not implemented yet
    done_at = datetime(2026, 3, 16, 14, 0, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        endpoints_done(started_integration, when=done_at)
    passing.refresh_from_db()
    assert passing.status == StepStatus.DONE
    assert passing.completed_at == done_at  # the builds passed on the 10th; it became actionable on the 16th
    assert [c.source for c in jenkins_changes(passing)] == ["jenkins"]


# --- refused requests -------------------------------------------------------------------------


def test_unknown_token_is_refused_and_nothing_is_stored(post):
    response = post(fixture_json("completed_success"), token="not-a-token")
    assert response.status_code == 401
    assert "token" in response.json()["error"]
    assert not JenkinsDelivery.objects.exists()


def test_revoked_token_is_refused(post, linked):
    linked["trading"][0].revoke()
    assert post(fixture_json("completed_success")).status_code == 401
    assert not JenkinsDelivery.objects.exists()


def test_unsigned_request_is_refused(post):
    response = post(fixture_json("completed_success"), token="")
    assert response.status_code == 401
    assert "not authenticated" in response.json()["error"]
    assert not JenkinsDelivery.objects.exists()


def test_token_in_a_header_is_accepted(post, linked):
    response = post(fixture_json("started"), query=False, headers={"X-Jenkins-Token": linked["trading"][1]})
    assert response.status_code == 202


def test_a_token_cannot_report_another_jobs_builds(post):
    response = post(fixture_json("completed_success", job=DATA_JOB))
    assert response.status_code == 403
    assert not JenkinsDelivery.objects.exists()


def test_hmac_signed_body_is_accepted_and_a_bad_signature_refused(post, linked):
    job = linked["trading"][0]
    raw = json.dumps(fixture_json("completed_success")).encode()
    good = post(raw, token="", headers={"X-Jenkins-Signature": sign(raw, job.signing_secret())})
    assert good.status_code == 202, good.content
    assert JenkinsDelivery.objects.get().authenticated_by == "hmac"
    bad = post(raw, token="", headers={"X-Jenkins-Signature": sign(raw, "someone-elses-secret")})
    assert bad.status_code == 401
    tampered = raw.replace(b"SUCCESS", b"FAILURE")
    assert post(tampered, token="", headers={"X-Jenkins-Signature": sign(raw, job.signing_secret())}).status_code == 401
    assert JenkinsDelivery.objects.count() == 1


def test_oversized_body_is_refused(post, settings):
    settings.JENKINS_WEBHOOK_MAX_BYTES = 2_000
    body = fixture_json("completed_success", log="x" * 3_000)
    response = post(body)
    assert response.status_code == 413
    assert not JenkinsDelivery.objects.exists()


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        (b"<html>not json</html>", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({"name": TRADING_JOB}).encode(), "'build'"),
        (json.dumps({"name": TRADING_JOB, "build": {"number": 4, "phase": "DONE"}}).encode(), "build.phase"),
        (json.dumps({"name": TRADING_JOB, "build": {"number": -4, "phase": "STARTED"}}).encode(), "build.number"),
        (
            json.dumps({"name": TRADING_JOB, "build": {"number": 4, "phase": "COMPLETED", "status": "GREEN"}}).encode(),
            "build.status",
        ),
    ],
)
def test_malformed_body_is_a_400_with_its_reason(post, raw, said):
    response = post(raw)
    assert response.status_code == 400
    assert said in response.json()["error"]
    assert not JenkinsDelivery.objects.exists()


def test_get_is_not_allowed(client):
    assert client.get(URL).status_code == 405


# --- stored, then applied by the worker; replayed from the admin -------------------------------


def test_stored_before_the_answer_and_applied_by_the_task(post):
    response = post(fixture_json("completed_success"), process=False)
    assert response.status_code == 202
    delivery = JenkinsDelivery.objects.get()
    assert delivery.outcome == "pending" and not JenkinsBuild.objects.exists()
    assert len(response.callbacks) == 1
    response.callbacks[0]()  # the queued task, run eagerly
    delivery.refresh_from_db()
    assert delivery.outcome == "applied" and build(42).status == "SUCCESS"


def test_the_sweep_applies_what_was_never_queued(post):
    post(fixture_json("completed_success"), process=False)
    assert inbox.sweep(now=HEARD_AT + timedelta(minutes=1)) == 1
    assert build(42).status == "SUCCESS"


def test_a_failed_delivery_is_replayed(post, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(inbox, "record", broken)
    post(fixture_json("completed_success"))
    delivery = JenkinsDelivery.objects.get()
    assert delivery.outcome == "failed" and "went away" in delivery.detail
    monkeypatch.undo()
    assert inbox.replay(delivery) == "applied"
    assert build(42).status == "SUCCESS"


def test_replay_from_the_admin(post, admin_client):
    post(fixture_json("completed_success"))
    delivery = JenkinsDelivery.objects.get()
    url = f"/admin/integrations/jenkinsdelivery/{delivery.pk}/do/replay/"
    response = admin_client.post(url)
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert delivery.outcome == "duplicate"  # applied once already: the build is not moved twice
    assert delivery.attempts == 2


def test_jobs_tokens_are_hashed_at_rest(linked):
    job, raw = linked["trading"]
    assert raw not in job.token_hash and JenkinsJob.find(raw) == job


def test_builds_heard_while_paused_complete_the_step_when_it_resumes(
    post, started_integration, pm, django_capture_on_commit_callbacks
):
    from integrations import plan

    endpoints_done(started_integration)
    with time_machine.travel(START - timedelta(hours=1), tick=False):
        plan.pause(started_integration, ctx(pm, note="Partner on holiday"))
    post(fixture_json("completed_success"))
    post(fixture_json("completed_success", job=DATA_JOB, number=7), part="data")
    assert step(started_integration, "passing-autotests").status != StepStatus.DONE
    resumed_at = HEARD_AT + timedelta(days=1)
    with time_machine.travel(resumed_at, tick=False), django_capture_on_commit_callbacks(execute=True):
        started_integration.refresh_from_db()
        plan.resume(started_integration, ctx(pm, note="Back"))
    passing = step(started_integration, "passing-autotests")
    assert passing.status == StepStatus.DONE
    assert [c.source for c in jenkins_changes(passing)] == ["jenkins"]


def test_news_that_waited_on_the_autotests_is_dated_when_they_passed(post, started_integration):
    passing = step(started_integration, "passing-autotests")
    post(fixture_json("completed_failure"))
    assert [c for c in guards.cleared(passing, []) if "autotests" in c[1]] == []  # nothing passed yet
    post(fixture_json("completed_success", job=DATA_JOB, number=7), part="data")
    post(fixture_json("completed_success", number=43), when=HEARD_AT + timedelta(hours=2))
    cleared = [c for c in guards.cleared(step(started_integration, "passing-autotests"), []) if "autotests" in c[1]]
    assert len(cleared) == 2
    assert all(at is not None for at, _ in cleared)
    assert any("#43 SUCCESS" in said for _, said in cleared)
