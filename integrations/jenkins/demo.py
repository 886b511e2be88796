"""The demo portfolio's Jenkins runs (``manage.py seed_demo``): DEMO DATA, no Jenkins was asked.

A demo integration links one job per part whose autotests the roadmap asks for when its autotests
configuration starts. The first build of each fails, and having run, it completes the
configuration; the passing step sees another failure, then a success that completes it. Builds go
through the same functions as the webhook's deliveries (``runs.record``, then ``rules.settle``), so
the steps they complete say ``jenkins`` in the history, as real ones do.
"""

from datetime import datetime, timedelta

from integrations.jenkins import rules
from integrations.jenkins.models import BuildStatus, JenkinsBuild, JenkinsJob, Phase
from integrations.jenkins.runs import BuildNews, record, required_parts

DEMO_BUILD_MINUTES = 18  # how long a demo build runs
DEMO_FAILURE, DEMO_SUCCESS = BuildStatus.FAILURE, BuildStatus.SUCCESS


def link_demo_jobs(integration, by, at: datetime) -> list[JenkinsJob]:
    """One job per part the roadmap asks autotests of, linked by ``by`` at ``at``; [] when none is asked."""
    slug = integration.partner.name.split()[0].lower()
    return [
        JenkinsJob.issue(integration=integration, part=part, job_name=f"{slug}-{part}-autotests", created_by=by)[0]
        for part in required_parts(integration)
        if not JenkinsJob.objects.filter(integration=integration, part=part).exists()
    ] or list(JenkinsJob.objects.filter(integration=integration))


def record_demo_run(integration, status: str, finished_at: datetime) -> list[str]:
    """A finished build of every linked job, ``status`` each, at ``finished_at``; then what the runs settle."""
    jobs = list(JenkinsJob.objects.filter(integration=integration, revoked_at__isnull=True))
    if not jobs:
        return []
    for job in jobs:
        number = (
            JenkinsBuild.objects.filter(job=job).order_by("-number").values_list("number", flat=True).first() or 0
        ) + 1
        started = finished_at - timedelta(minutes=DEMO_BUILD_MINUTES)
        url = f"https://jenkins.tradingview.example/job/{job.job_name}/{number}/"
        payload = {
            "name": job.job_name,
            "build": {
                "number": number,
                "phase": Phase.COMPLETED,
                "status": status,
                "full_url": url,
                "timestamp": int(started.timestamp() * 1000),
                "duration": DEMO_BUILD_MINUTES * 60 * 1000,
            },
        }
        record(job, BuildNews.from_json(payload), finished_at, payload)
    return rules.settle(integration)
