"""Linking a Jenkins job on the integration's page: the token shown once, revoked by a button; each
part's latest run on the integration page and the partner's stage page, its link http(s) only."""

import re
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from integrations.jenkins.models import JenkinsBuild, JenkinsJob
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, pm):
    client.force_login(pm)
    return client


def page(integration):
    return reverse("integration-page", args=[integration.pk])


def link(client, integration, part="trading", job_name="acme-trading-autotests"):
    return client.post(
        reverse("integration-jenkins-link", args=[integration.pk]),
        {"jenkins-part": part, "jenkins-job_name": job_name},
    )


def a_run(job, number, phase="COMPLETED", status="FAILURE", url=None):
    return JenkinsBuild.objects.create(
        job=job,
        integration=job.integration,
        part=job.part,
        number=number,
        phase=phase,
        status=status,
        url=url if url is not None else f"https://ci.tradingview.example/job/{job.job_name}/{number}/",
        started_at=datetime(2026, 3, 10, 10, tzinfo=UTC),
        finished_at=datetime(2026, 3, 10, 10, 12, tzinfo=UTC),
    )


def test_a_pm_links_a_job_and_sees_its_token_once(staff_client, started_integration):
    response = link(staff_client, started_integration)
    assert response.status_code == 200
    job = JenkinsJob.objects.get()
    assert (job.part, job.job_name, job.integration_id) == ("trading", "acme-trading-autotests", started_integration.pk)
    html = response.content.decode()
    token = re.search(r"Token: <code>([^<]+)</code>", html).group(1)
    assert JenkinsJob.find(token) == job  # the token shown works, and only its hash is kept
    assert token not in job.token_hash
    assert f"/hooks/jenkins/?token={token}" in html
    assert job.signing_secret() in html
    assert "no-store" in response["Cache-Control"]
    assert token not in staff_client.get(page(started_integration)).content.decode()  # once


def test_a_part_the_integration_lacks_or_an_empty_name_is_refused(staff_client, pm, partner):
    from tests.factories import IntegrationFactory

    trading_only = IntegrationFactory(partner=partner, tv_pm=pm, trading_only=True)
    assert link(staff_client, trading_only, part="data").status_code == 400
    assert link(staff_client, trading_only, job_name="  ").status_code == 400
    assert not JenkinsJob.objects.exists()


def test_only_staff_link_jobs(client, partner_user, started_integration):
    client.force_login(partner_user)
    assert link(client, started_integration).status_code == 403
    assert not JenkinsJob.objects.exists()


def test_revoke_button_ends_the_token(staff_client, started_integration, pm):
    job, raw = JenkinsJob.issue(integration=started_integration, part="trading", job_name="acme", created_by=pm)
    response = staff_client.post(reverse("jenkins-job-revoke", args=[job.pk]))
    assert response.status_code == 302
    assert JenkinsJob.find(raw) is None


def test_the_page_shows_each_parts_latest_run_with_its_link(staff_client, started_integration, pm):
    job, _ = JenkinsJob.issue(integration=started_integration, part="trading", job_name="acme-trading", created_by=pm)
    a_run(job, 41, status="SUCCESS")
    a_run(job, 42, status="FAILURE")
    html = staff_client.get(page(started_integration)).content.decode()
    assert 'href="https://ci.tradingview.example/job/acme-trading/42/"' in html
    assert "#42 FAILURE" in html
    assert "#41 SUCCESS" not in html
    assert "No Jenkins job linked." in html  # the data part (crypto) is required too


def test_a_run_link_that_is_not_http_is_not_a_link_and_text_is_escaped(client, partner_user, started_integration, pm):
    job, _ = JenkinsJob.issue(integration=started_integration, part="trading", job_name="<b>acme</b>", created_by=pm)
    a_run(job, 42, url="javascript:alert(1)")
    client.force_login(partner_user)
    html = client.get(reverse("stage-page", args=[started_integration.pk])).content.decode()
    assert "Your autotests in Jenkins" in html
    assert "#42 FAILURE" in html
    assert "javascript:alert" not in html
    staff = UserFactory(username="carol", staff=True)
    client.force_login(staff)
    html = client.get(page(started_integration)).content.decode()
    assert "&lt;b&gt;acme&lt;/b&gt;" in html and "<b>acme</b>" not in html
    assert "javascript:alert" not in html


def test_the_stage_page_shows_nothing_of_jenkins_before_a_job_is_linked(client, partner_user, started_integration):
    client.force_login(partner_user)
    html = client.get(reverse("stage-page", args=[started_integration.pk])).content.decode()
    assert "Your autotests in Jenkins" not in html
