"""A job's builds (runs) from the Notification plugin's news, and each part's latest run.

The plugin POSTs one message per phase of a build (QUEUED, STARTED, COMPLETED, FINALIZED), the
status (SUCCESS, FAILURE, UNSTABLE, ABORTED) once it has finished. ``record`` keeps one row per
build of a job and only ever moves it forward: news of an earlier phase than the one known, or the
same phase and status again, changes nothing. A part's latest run is its highest-numbered finished
build, so an older build's result arriving late never overrides a newer one's.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import BooleanField, Case, F, Q, Value, When, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from integrations.jenkins.models import (
    FINISHED_PHASES,
    PHASE_ORDER,
    RUNNING_PHASES,
    BuildStatus,
    JenkinsBuild,
    JenkinsJob,
    Part,
    Phase,
)
from roadmap.conditions import evaluate

# The parts whose autotests the roadmap asks for, and the condition under which it asks.
PART_CONDITIONS = {Part.TRADING: "trading_part", Part.DATA: "data_autotests"}


class BadNews(ValueError):
    """The JSON is not a Notification plugin message the product can use; the message says why."""


@dataclass(frozen=True)
class BuildNews:
    """What one Notification plugin message says about one build."""

    job_name: str
    number: int | None
    phase: str
    status: str
    url: str
    started_at: datetime | None  # build.timestamp: when the build started
    duration: timedelta | None  # build.duration, once it has finished

    @classmethod
    def from_json(cls, body) -> "BuildNews":
        if not isinstance(body, dict):
            raise BadNews("The body must be a JSON object.")
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise BadNews("The body has no job 'name'.")
        if len(name) > JenkinsJob._meta.get_field("job_name").max_length:
            raise BadNews("The job 'name' is too long to be a Jenkins job's name.")
        build = body.get("build")
        if not isinstance(build, dict):
            raise BadNews("The body has no 'build' object.")
        phase = build.get("phase")
        if phase not in Phase.values:
            raise BadNews(f"build.phase must be one of {', '.join(Phase.values)}.")
        number = build.get("number")
        if number is None and phase == Phase.QUEUED:
            pass  # a queued build may not have its number yet
        elif isinstance(number, bool) or not isinstance(number, int) or not 0 < number < 2**31:
            raise BadNews("build.number must be a positive whole number.")
        status = build.get("status") or ""
        if phase not in FINISHED_PHASES:
            status = ""  # before it finishes, the plugin may repeat the previous build's result
        elif status not in BuildStatus.values:
            raise BadNews(f"A finished build's build.status must be one of {', '.join(BuildStatus.values)}.")
        url = build.get("full_url") or ""
        if not isinstance(url, str) or len(url) > JenkinsBuild._meta.get_field("url").max_length:
            url = ""
        return cls(
            job_name=name.strip(),
            number=number,
            phase=phase,
            status=status,
            url=url.strip(),
            started_at=_epoch_ms(build.get("timestamp")),
            duration=_milliseconds(build.get("duration")),
        )

    @property
    def finished(self) -> bool:
        return self.phase in FINISHED_PHASES


def _epoch_ms(value) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _milliseconds(value) -> timedelta | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 10**11:
        return None
    return timedelta(milliseconds=value)


@dataclass(frozen=True)
class Recorded:
    state: str  # a JenkinsDelivery.State value
    detail: str
    build: JenkinsBuild | None = None


def record(job: JenkinsJob, news: BuildNews, received_at: datetime, payload: dict) -> Recorded:
    """Apply ``news`` to the job's build, one delivery of the job at a time (its row is locked)."""
    if news.number is None:
        return Recorded("ignored", "A queued build without its number yet: nothing to record.")
    # A clock ahead of ours is taken as now: news of a build cannot come from the future.
    started = min(news.started_at or received_at, received_at)
    finished = min(started + news.duration, received_at) if news.duration is not None else received_at
    with transaction.atomic():
        JenkinsJob.objects.select_for_update().filter(pk=job.pk).first()
        build = JenkinsBuild.objects.filter(job=job, number=news.number).first()
        if build is None:
            build = JenkinsBuild(job=job, integration_id=job.integration_id, part=job.part, number=news.number)
        elif PHASE_ORDER[news.phase] < PHASE_ORDER[build.phase]:
            return Recorded("ignored", f"Build #{news.number} is already {build.phase}; {news.phase} is older news.")
        elif news.phase == build.phase and news.status == build.status:
            return Recorded("duplicate", f"Build #{news.number} {news.phase} {news.status} was already recorded.")
        build.phase = news.phase
        build.status = news.status
        build.url = news.url or build.url
        if news.phase in RUNNING_PHASES and build.started_at is None:
            build.started_at = started
        if news.finished and build.finished_at is None:
            build.finished_at = finished
        build.updated_at = timezone.now()
        build.payload = payload
        build.save()
    newer = (
        part_builds(job.integration_id, job.part, job.job_name)
        .filter(number__gt=build.number, phase__in=FINISHED_PHASES)
        .exclude(status="")
        .order_by("-number")
        .first()
    )
    detail = f"Recorded {build.describe()}."
    if newer is not None and news.finished:
        detail += f" Build #{newer.number} is newer and stays the latest."
    return Recorded("applied", detail, build)


# --- what each part's runs say ------------------------------------------------------------------


def required_parts(integration) -> list[str]:
    """The parts whose autotests the roadmap asks for: trading, and data only for crypto, forex or CFD data."""
    return [part for part, condition in PART_CONDITIONS.items() if evaluate(condition, integration).applies]


def part_builds(integration_id, part: str, job_name: str):
    """The builds of ``part`` from every link of the Jenkins job ``job_name`` (a token renewed keeps them)."""
    return JenkinsBuild.objects.filter(integration_id=integration_id, part=part, job__job_name=job_name)


@dataclass
class PartRuns:
    """One part's autotests: its linked job, its latest finished run, its latest run and its first run."""

    part: str
    job: JenkinsJob | None
    latest_finished: JenkinsBuild | None = None
    latest: JenkinsBuild | None = None
    first_ran_at: datetime | None = None

    @property
    def label(self) -> str:
        return Part(self.part).label

    @property
    def passed(self) -> bool:
        return self.latest_finished is not None and self.latest_finished.passed

    def describe(self) -> str:
        if self.job is None:
            return f"{self.label} autotests: no Jenkins job linked"
        if self.latest_finished is None:
            running = f" (build #{self.latest.number} {self.latest.phase})" if self.latest else ""
            return f"{self.label} autotests: no finished build yet{running}"
        return self.latest_finished.describe()


def current_jobs(integration, linked=None) -> dict[str, JenkinsJob]:
    """Per part, the job linked most recently (a live one before a revoked one). ``linked``: the
    integration's jobs newest first, when the caller has them."""
    if linked is None:
        linked = JenkinsJob.objects.filter(integration_id=integration.pk).order_by("-created_at", "-id")
    jobs = {}
    for job in linked:
        taken = jobs.get(job.part)
        if taken is None or (taken.revoked_at is not None and job.revoked_at is None):
            jobs[job.part] = job
    return jobs


def runs_of(integration_ids) -> dict[int, dict[tuple[str, str], PartRuns]]:
    """Integration id -> (part, job name) -> its latest run, latest finished run and first run: what
    ``part_runs`` reads for one part, for many integrations in one query (a guard's ``read_for``).

    Each build is ranked within its part and job name three ways (newest, newest finished, first to
    run), and only the builds first in one of them are read, so the query returns at most three rows
    per job however many builds it ran; their payloads are not read. ``job`` is left None: the caller
    knows which job is linked to each part.
    """
    key = [F("integration_id"), F("part"), F("job__job_name")]
    finished = Case(
        When(Q(phase__in=FINISHED_PHASES) & ~Q(status=""), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    ran = Case(
        When(phase__in=RUNNING_PHASES, started_at__isnull=False, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    builds = (
        JenkinsBuild.objects.filter(integration_id__in=integration_ids)
        .defer("payload")
        .annotate(
            job_name=F("job__job_name"),
            finished_build=finished,
            ran_build=ran,
            newest=Window(RowNumber(), partition_by=key, order_by=[F("number").desc(), F("updated_at").desc()]),
            newest_finished=Window(
                RowNumber(), partition_by=[*key, finished], order_by=[F("number").desc(), F("updated_at").desc()]
            ),
            first_ran=Window(RowNumber(), partition_by=[*key, ran], order_by=[F("started_at").asc(), F("id").asc()]),
        )
        .filter(Q(newest=1) | Q(newest_finished=1, finished_build=True) | Q(first_ran=1, ran_build=True))
        .order_by()
    )
    found: dict[int, dict[tuple[str, str], PartRuns]] = {}
    for build in builds:
        runs = found.setdefault(build.integration_id, {}).setdefault(
            (build.part, build.job_name), PartRuns(build.part, None)
        )
        if build.newest == 1:
            runs.latest = build
        if build.finished_build and build.newest_finished == 1:
            runs.latest_finished = build
        if build.ran_build and build.first_ran == 1:
            runs.first_ran_at = build.started_at
    return found


def part_runs(integration, parts=None, linked=None, runs=None) -> dict[str, PartRuns]:
    """Per part (the required ones unless ``parts`` says), what its linked job's builds say: one
    query for the jobs (none when ``linked`` is given), three per part with a job (none when
    ``runs``, the integration's ``runs_of``, is given)."""
    jobs = current_jobs(integration, linked)
    result = {}
    for part in required_parts(integration) if parts is None else parts:
        job = jobs.get(part)
        runs_read = runs.get((part, job.job_name)) if runs is not None and job is not None else None
        if runs is not None:
            result[part] = PartRuns(part, job)
            if runs_read is not None:
                result[part].latest = runs_read.latest
                result[part].latest_finished = runs_read.latest_finished
                result[part].first_ran_at = runs_read.first_ran_at
            continue
        runs_of_part = PartRuns(part, job)
        if job is not None:
            builds = part_builds(integration.pk, part, job.job_name)
            runs_of_part.latest = builds.order_by("-number", "-updated_at").first()
            runs_of_part.latest_finished = (
                builds.filter(phase__in=FINISHED_PHASES).exclude(status="").order_by("-number", "-updated_at").first()
            )
            first = builds.filter(phase__in=RUNNING_PHASES, started_at__isnull=False).order_by("started_at").first()
            runs_of_part.first_ran_at = first.started_at if first else None
        result[part] = runs_of_part
    return result


@dataclass
class AutotestsSummary:
    """What the pages show: per part, its job and latest runs; every job linked, live or revoked."""

    parts: list[PartRuns]
    jobs: list[JenkinsJob]

    @property
    def linked(self) -> bool:
        return bool(self.jobs)


def integration_parts(integration) -> list[str]:
    """The parts a job may be linked to: those the integration has, trading first."""
    return [
        part
        for part, has in ((Part.TRADING, integration.has_trading_part), (Part.DATA, integration.has_data_part))
        if has
    ]


def autotests_summary(integration) -> AutotestsSummary:
    """Per required part (and any other part with a job linked), the latest run and the latest finished one."""
    jobs = list(JenkinsJob.objects.filter(integration_id=integration.pk).order_by("-created_at", "-id"))
    parts = required_parts(integration)
    parts += [p for p in integration_parts(integration) if p not in parts and any(j.part == p for j in jobs)]
    return AutotestsSummary(parts=list(part_runs(integration, parts, linked=jobs).values()), jobs=jobs)
