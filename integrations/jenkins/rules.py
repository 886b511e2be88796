"""What the autotests' runs mean for the roadmap: one guard, and two steps that complete on evidence.

- **The guard** (``autotests_refusal``, registered in ``integrations.guards``): "Passing REST API
  autotests" cannot be completed, by anyone from anywhere, while a required part with a linked
  Jenkins job has no finished build, or its latest finished build did not pass. The refusal names
  the part and the build ("Trading autotests: build #42 FAILURE"). A part with no job linked is not
  guarded: its evidence is not in the product, and a PM's word stands.
- **Passing** (``settle``): when every required part has a linked job whose latest finished build
  passed, the step completes itself, with source ``jenkins``, at the last of those builds' finish
  (no earlier than the step became actionable).
- **Configuration**: "Autotests configuration" completes when every required part's job has run
  its first build (started or later), at the last of those first runs.

``settle`` runs after each applied build, after another step completes (the passing step may have
waited for its prerequisites) and after the integration resumes.
"""

import logging

from django.db import transaction

from integrations import events, guards
from integrations.context import ChangeContext
from integrations.jenkins.models import JenkinsJob
from integrations.jenkins.runs import part_runs, runs_of
from integrations.models import ChangeSource, StepChange
from integrations.steps import complete_step
from roadmap.models import SETTLED_STATUSES, StepStatus
from roadmap.refusals import AutotestsFailing, Refusal

logger = logging.getLogger(__name__)

CONFIGURATION = "autotests-configuration"
PASSING = "passing-autotests"


def autotests_refusal(step, steps=None) -> AutotestsFailing | None:
    """Why ``step`` cannot be completed while its autotests do not pass, or None. A completion guard."""
    if step.code != PASSING:
        return None
    failing = [runs.describe() for runs in _guarded_runs(step) if not runs.passed]
    if not failing:
        return None
    return AutotestsFailing(
        f"{step} cannot be done while the latest autotests in Jenkins have not passed: {'; '.join(failing)}."
    )


def jobs_of(integration_ids) -> dict[int, list[JenkinsJob]]:
    """Integration id -> its jobs, newest first: what the guard reads (``guards.read_for``), one query for many."""
    jobs = {}
    for job in JenkinsJob.objects.filter(integration_id__in=integration_ids).order_by("-created_at", "-id"):
        jobs.setdefault(job.integration_id, []).append(job)
    return jobs


def _guarded_runs(step) -> list:
    """The runs of the parts with a job linked, that the guard asks of ``step``: no builds read without a job.

    The jobs and their runs are read through ``guards.read_for``: a batch of changes (a drain of Jira's
    news) reads them once for all its integrations, not once per guarded step and part."""
    linked = guards.read_for(jobs_of, step.integration_id, [])
    if not linked:
        return []
    runs = guards.read_for(runs_of, step.integration_id, {})
    return [runs for runs in part_runs(step.integration, linked=linked, runs=runs).values() if runs.job]


def autotests_passed(step, steps=None) -> list[tuple]:
    """When the autotests the guard asks for passed, for news that waited on them; [] if they have not."""
    if step.code != PASSING:
        return []
    guarded = _guarded_runs(step)
    if not guarded or not all(runs.passed for runs in guarded):
        return []
    return [
        (
            runs.latest_finished.finished_at or runs.latest_finished.updated_at,
            f"the autotests passed ({runs.describe()})",
        )
        for runs in guarded
    ]


def settle(integration) -> list[str]:
    """Complete the autotest steps the runs prove done; what was done (or why not), in sentences."""
    integration.refresh_from_db()
    steps = {s.code: s for s in integration.steps.all()}
    runs = part_runs(integration)
    if not runs or any(r.job is None for r in runs.values()):
        return []  # a required part without a job: a person completes the steps
    said = []
    configuration = steps.get(CONFIGURATION)
    if _open(configuration) and all(r.first_ran_at for r in runs.values()):
        moment = max(r.first_ran_at for r in runs.values())
        note = "First autotest builds ran in Jenkins: " + "; ".join(
            f"{r.label} ({r.job.job_name})" for r in runs.values()
        )
        said.append(_complete(configuration, steps, moment, note))
    passing = steps.get(PASSING)
    if _open(passing) and all(r.passed for r in runs.values()):
        moment = max(r.latest_finished.finished_at or r.latest_finished.updated_at for r in runs.values())
        note = "Autotests passed in Jenkins: " + "; ".join(r.describe() for r in runs.values())
        said.append(_complete(passing, steps, moment, note))
    return said


def _open(step) -> bool:
    return step is not None and step.status not in SETTLED_STATUSES


def _complete(step, steps, moment, note: str) -> str:
    moment = max([moment, *_not_before(step, steps)])
    context = ChangeContext(source=ChangeSource.JENKINS, by_name="Jenkins", at=moment, note=note)
    try:
        complete_step(step, context)
    except Refusal as refusal:
        logger.info("jenkins.settle.waiting step=%s: %s", step.pk, refusal.message)
        return f"{step} waits: {refusal.message}"
    logger.info("jenkins.settle.completed step=%s at=%s", step.pk, context.moment.isoformat())
    return f"{step} completed."


def _not_before(step, steps) -> list:
    """The moments a completion may not precede: the step's prerequisites done (when it became
    actionable), its reopening, and its own last recorded change."""
    moments = [steps[code].completed_at for code in step.depends_on if code in steps and steps[code].completed_at]
    if step.reopened_at:
        moments.append(step.reopened_at)
    last = StepChange.objects.filter(step=step).order_by("-at", "-id").values_list("at", flat=True).first()
    if last:
        moments.append(last)
    return moments


# --- a prerequisite done may be what the passing step waited for ---------------------------------


def _may_settle(event) -> bool:
    """A step done (a prerequisite, perhaps) or the integration resumed: the runs may now complete a step."""
    if event.kind == events.STEP_CHANGED:
        if event.details.get("to_status") != StepStatus.DONE or event.step.code == PASSING:
            return False
        return event.context.source != ChangeSource.JENKINS  # else settle did this itself
    return event.kind == events.RESUMED


def _on_roadmap_event(sender, event, batched=False, **kwargs):
    if batched or not _may_settle(event):
        return  # a batch's events are taken together (``_on_roadmap_events``)
    integration_id = event.integration.pk
    if JenkinsJob.objects.filter(integration_id=integration_id).exists():  # else nothing for Jenkins to settle
        transaction.on_commit(lambda: settle_after_commit(integration_id))


def _on_roadmap_events(sender, **kwargs):
    """Events announced together: which of their integrations have Jenkins jobs is read once; each settles once."""
    ids = {event.integration.pk for event in kwargs["events"] if _may_settle(event)}
    if not ids:
        return
    with_jobs = JenkinsJob.objects.filter(integration_id__in=ids).order_by().values_list("integration_id", flat=True)
    for integration_id in sorted(set(with_jobs)):
        transaction.on_commit(lambda integration_id=integration_id: settle_after_commit(integration_id))


def settle_after_commit(integration_id: int):
    """Settle an integration with Jenkins jobs once another step's completion (or its resumption) is committed."""
    from integrations.models import Integration

    try:
        settle(Integration.objects.get(pk=integration_id))
    except Exception:  # the change that triggered this is committed; the next build settles again
        logger.exception("jenkins.settle.failed integration=%s", integration_id)


def connect():
    events.roadmap_event.connect(_on_roadmap_event, dispatch_uid="jenkins-settle-after-step")
    events.roadmap_events.connect(_on_roadmap_events, dispatch_uid="jenkins-settle-after-steps")
