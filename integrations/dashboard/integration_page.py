"""One integration's page: where it stands, its timeline, its steps with their actions, its history.

Staff only. Every rule comes from the shared functions: ``standing()`` for the header and the
timeline, ``step_actions()`` for what each step offers (refusals shown as text), the services in
``integrations.steps`` and ``integrations.plan`` for changes. Forms post normally; with htmx a step
action swaps the steps section in place (and the header, timeline and history out of band), and the
agreed launch date's form answers in place (its errors beside their fields).

The page costs a fixed number of queries, however many history rows, Jira issues or outbox
messages the integration has.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from integrations import agreed_launch, partner_access, plan
from integrations.actions import ACTIONS, on_hold, step_actions, step_offer
from integrations.comments import COMMENT_MAX, comments_by_step, post_comment
from integrations.context import ChangeContext
from integrations.dashboard.access import staff_required
from integrations.dashboard.outbox import shown as outbox_shown
from integrations.forms import AgreedLaunchForm, DatedNoteForm, InviteForm, ReplanForm, StepActionForm
from integrations.handovers.rules import handover_summary
from integrations.jenkins.runs import autotests_summary
from integrations.jira.models import JiraIssue, StatusCategory
from integrations.models import Integration, IntegrationStep, StepChange
from integrations.read_models.headline import blocked, ending, last_activity, moved_for_holiday, window_of
from integrations.read_models.history import history as merged_history
from integrations.read_models.outbox import outbox_model
from integrations.read_models.timeline import timeline
from integrations.standing import standing
from integrations.steps import apply_action
from roadmap.lineup import RECOMMENDED_LINEUP, ROLE_NAMES, lineup_gaps
from roadmap.models import Side
from roadmap.refusals import Refusal

HISTORY_PER_PAGE = 25
OUTBOX_SHOWN = 20
BALL_TEXT = {"tradingview": "TradingView", "partner": "the partner", "both": "both sides"}


def _page_url(integration_id) -> str:
    return reverse("integration-page", args=[integration_id])


# --- the page's data --------------------------------------------------------------------------


@dataclass
class StepRow:
    step: IntegrationStep
    step_standing: object
    days_overdue: int
    actions: list
    issues: list
    offer: object = None  # ``StepOffer``: the buttons shown now and at most one line on why not more
    comments: list = None  # the step's comment thread, oldest first
    deadline: object = None  # the deadline shown (``Standing.deadline_shown``)
    deadline_is_forecast: bool = False  # it cannot start yet: where its deadline will fall
    moved: str = ""  # why the deadline is not on its week's day: a holiday of the side owing


def _load(pk) -> Integration:
    integration = get_object_or_404(
        Integration.objects.select_related("partner", "tv_pm", "template")
        .prefetch_related(Prefetch("steps", queryset=IntegrationStep.objects.order_by("position")), "team")
        .annotate(last_activity=last_activity()),
        pk=pk,
    )
    return integration


def _context(
    request,
    integration: Integration,
    replan_form=None,
    pause_form=None,
    resume_form=None,
    invite_form=None,
    agree_form=None,
    open_thread=None,
) -> dict:
    steps = list(integration.steps.all())
    for s in steps:
        s.integration = integration
    events = list(integration.events.order_by("at", "id"))
    now = standing(integration, steps=steps, integration_events=events)

    issues = list(JiraIssue.objects.filter(integration=integration, deleted=False).order_by("key"))
    by_step = defaultdict(list)
    rounds = defaultdict(list)
    for issue in issues:
        if issue.step_id and not issue.is_bug:
            by_step[issue.step_id].append(issue)
        if issue.is_bug and issue.status_category != StatusCategory.DONE:
            rounds[issue.testing_round or "No testing round"].append(issue)
            if issue.step_id:
                by_step[issue.step_id].append(issue)

    comments = comments_by_step(steps, request.user)
    rows = [
        StepRow(
            step=s,
            step_standing=now.of(s),
            days_overdue=now.days_overdue(s),
            actions=step_actions(s, request.user, steps),
            issues=by_step.get(s.pk, []),
            offer=step_offer(s, request.user, steps),
            comments=comments.get(s.pk, []),
            deadline=now.deadline_shown(s)[0],
            deadline_is_forecast=now.deadline_shown(s)[1],
            moved="" if now.deadline_shown(s)[1] else moved_for_holiday(now, s, now.deadline_shown(s)[0]),
        )
        for s in steps
    ]

    next_deadline = now.next_deadline()
    late_days = now.days_late
    counts = dict.fromkeys(RECOMMENDED_LINEUP, 0)
    for member in integration.team.all():
        counts[member.role] = counts.get(member.role, 0) + 1

    history = merged_history(
        request,
        StepChange.objects.filter(step__integration=integration),
        integration.events.all(),
        per_page=HISTORY_PER_PAGE,
    )
    messages = outbox_model().objects.filter(integration=integration).order_by("-created_at", "-id")
    outbox = outbox_shown(list(messages[:OUTBOX_SHOWN]))
    return {
        "nav": "portfolio",
        "integration": integration,
        "now": now,
        "ball_text": BALL_TEXT.get(now.ball.side or "", ""),
        "next_deadline": next_deadline,
        "next_deadline_side": Side(next_deadline[1]).label if next_deadline else "",
        "late_days": late_days,
        "window": window_of(now, steps),
        "ending": ending(integration, events),
        "blocked": blocked(integration, steps, request.user, now.today),
        "kick_off_url": reverse("admin:integrations_integration_operation", args=[integration.pk, "kick_off"]),
        "rows": rows,
        "hold": on_hold(integration),
        "comment_max": COMMENT_MAX,
        "open_thread": open_thread,
        "timeline": timeline(now, steps),
        "bug_rounds": sorted(rounds.items()),
        "jira_linked": sum(len(v) for v in by_step.values()),
        "history": history,
        "outbox": outbox,
        "team": [(ROLE_NAMES[r], counts.get(r, 0), w) for r, w in RECOMMENDED_LINEUP.items()],
        "team_gaps": lineup_gaps(counts),
        "handovers": handover_summary(integration, steps),
        "autotests": autotests_summary(integration),
        "can_replan": integration.is_started and integration.is_running,
        "can_pause": integration.is_active and integration.is_started,
        "can_resume": integration.is_paused,
        "replan_form": replan_form or ReplanForm(prefix="replan"),
        "agree_form": agree_form or AgreedLaunchForm(prefix="agree"),
        "agreement": agreed_launch.agreement_text(now),
        "pause_form": pause_form or DatedNoteForm(prefix="pause"),
        "resume_form": resume_form or DatedNoteForm(prefix="resume"),
        "time_zone": settings.TIME_ZONE,  # the zone a back-dated pause or resume is read in
        "people": list(partner_access.people_with_access(integration.partner)),
        "invite_form": invite_form or InviteForm(),
        "magic_link_days": settings.MAGIC_LINK_DAYS,
    }


# --- views ------------------------------------------------------------------------------------


@staff_required
def integration_page(request, pk):
    """The integration's page."""
    integration = _load(pk)
    return render(request, "dashboard/integration.html", _context(request, integration))


@require_POST
@staff_required
def step_action(request, pk, action):
    """Take ``action`` on step ``pk``, now or back-dated (``at``, with a note saying why).

    A refusal comes back as a message on the page: with htmx in the steps section (200, so htmx
    swaps it), to a plain post as the page with the refusal's 4xx status."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    step = get_object_or_404(IntegrationStep.objects.select_related("integration__partner"), pk=pk)
    form = StepActionForm(request.POST)  # the note, whether the PM shares it, and when it happened
    status = 200
    if not form.is_valid():
        messages.error(request, f"{step}: " + " ".join(e for errors in form.errors.values() for e in errors))
        status = 400
    else:
        data = form.cleaned_data
        try:
            context = ChangeContext.web(request.user, data["note"], data["shared_with_partner"], at=data["at"])
            apply_action(step, action, context)
        except Refusal as refusal:
            messages.error(request, refusal.message)
            status = refusal.http_status
        else:
            messages.success(request, f"{step} {ACTIONS[action].done}.")
    integration = _load(step.integration_id) if request.htmx or status != 200 else None
    if request.htmx:
        return render(request, "dashboard/partials/integration_live.html", _context(request, integration))
    if status != 200:
        return render(request, "dashboard/integration.html", _context(request, integration), status=status)
    return redirect(_page_url(step.integration_id) + "#steps")


@require_POST
@staff_required
def comment_view(request, pk):
    """Post a comment on step ``pk`` (internal when ticked); a refusal comes back as a message, with
    the refusal's 4xx to a plain post (200 to htmx, which swaps the steps section)."""
    step = get_object_or_404(IntegrationStep.objects.select_related("integration__partner"), pk=pk)
    status = 200
    try:
        post_comment(step, request.user, request.POST.get("body", ""), internal=request.POST.get("internal") == "on")
    except Refusal as refusal:
        messages.error(request, f"{step}: comment not posted: {refusal.message}")
        status = refusal.http_status
    else:
        messages.success(request, f"{step}: comment posted.")
    if request.htmx or status != 200:
        integration = _load(step.integration_id)
        context = _context(request, integration, open_thread=step.pk)
        if request.htmx:
            return render(request, "dashboard/partials/integration_live.html", context)
        return render(request, "dashboard/integration.html", context, status=status)
    return redirect(_page_url(step.integration_id) + f"#comments-{step.pk}")


def _plan_view(request, pk, form_class, prefix, run, done):
    """Run a change of plan from its form. A refusal about a field is shown at the field; others as a
    message. With htmx (pause, resume) the plan section comes back in place, 200 either way, with the
    sections the change moves (header, timeline, steps, history) swapped out of band."""
    integration = _load(pk)
    form = form_class(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            run(integration, form.cleaned_data)
        except Refusal as refusal:
            if refusal.code == "invalid_input" and "kickoff_on" in form.fields:
                form.add_error("kickoff_on", refusal.message)
            elif refusal.code == "invalid_input" and "agreed_launch_on" in form.fields:
                form.add_error("agreed_launch_on", refusal.message)
            elif refusal.code == "reason_required" and "note" in form.fields:
                form.add_error("note", refusal.message)
            elif refusal.code in ("invalid_input", "stale_change") and form.cleaned_data.get("at"):
                form.add_error("at", refusal.message)  # the date given: in the future, or before the last change
            else:
                messages.error(request, refusal.message)
                if request.htmx:
                    return render(
                        request, "dashboard/partials/integration_plan_live.html", _context(request, _load(pk))
                    )
                return redirect(_page_url(pk) + "#plan")
        else:
            messages.success(request, done)
            if request.htmx:
                return render(request, "dashboard/partials/integration_plan_live.html", _context(request, _load(pk)))
            return redirect(_page_url(pk))
    integration = _load(pk)
    context = _context(request, integration, **{f"{prefix}_form": form})
    if request.htmx:
        return render(request, "dashboard/partials/integration_plan_live.html", context)
    return render(request, "dashboard/integration.html", context, status=400)


@require_POST
@staff_required
def replan_view(request, pk):
    def run(integration, data):
        plan.replan(integration, data["kickoff_on"], ChangeContext.web(request.user, data["note"]))

    return _plan_view(request, pk, ReplanForm, "replan", run, "Re-planned: every step is planned again.")


AGREED = "Launch date agreed: the launch is due on it."


@require_POST
@staff_required
def agree_launch_view(request, pk):
    """Record the agreed launch date. A plain post answers as the other plan forms do; with htmx the form
    answers in place (200, so htmx swaps it): its errors beside their fields, or once agreed the form with
    the agreement and the sections the launch's new deadline changes, out of band."""

    def run(integration, data):
        agreed_launch.agree_launch(
            integration, data["agreed_launch_on"], data["agreed_by"], ChangeContext.web(request.user, data["note"])
        )

    if not request.htmx:
        return _plan_view(request, pk, AgreedLaunchForm, "agree", run, AGREED)
    form = AgreedLaunchForm(request.POST, prefix="agree")
    agreed = False
    if form.is_valid():
        try:
            run(_load(pk), form.cleaned_data)
        except Refusal as refusal:
            form.add_error("agreed_launch_on" if refusal.code == "invalid_input" else None, refusal.message)
        else:
            agreed = True
            messages.success(request, AGREED)
    context = _context(request, _load(pk), agree_form=None if agreed else form)
    return render(request, "dashboard/partials/integration_agree_launch_live.html", {**context, "agreed": agreed})


@require_POST
@staff_required
def pause_view(request, pk):
    """Pause now, or back-dated (``at``, with the note saying why)."""

    def run(integration, data):
        context = ChangeContext.web(request.user, data["note"], data["shared_with_partner"], at=data["at"])
        plan.pause(integration, context)

    return _plan_view(request, pk, DatedNoteForm, "pause", run, "Paused: the clock is stopped for both sides.")


@require_POST
@staff_required
def resume_view(request, pk):
    """Resume now, or back-dated (``at``, with the note saying why)."""

    def run(integration, data):
        context = ChangeContext.web(request.user, data["note"], data["shared_with_partner"], at=data["at"])
        plan.resume(integration, context)

    return _plan_view(request, pk, DatedNoteForm, "resume", run, "Resumed: open deadlines moved by the days paused.")


SHOWN_CHOICES = {"on": True, "off": False}


@require_POST
@staff_required
def forecast_shown_view(request, pk):
    """Let the partner see the P50 launch (``shown=on``) or not (``shown=off``); htmx swaps the odds and the history."""
    shown = SHOWN_CHOICES.get(request.POST.get("shown", ""))
    if shown is None:
        return HttpResponseBadRequest("Say shown=on or shown=off.", content_type="text/plain")
    plan.show_forecast(_load(pk), shown, ChangeContext.web(request.user))
    if request.htmx:
        integration = _load(pk)
        return render(request, "dashboard/partials/integration_forecast_shown.html", _context(request, integration))
    messages.success(
        request, "The partner sees the P50 launch." if shown else "The partner no longer sees the P50 launch."
    )
    return redirect(_page_url(pk) + "#launch-confidence")


urlpatterns = [
    path("integrations/<int:pk>/", integration_page, name="integration-page"),
    path("integrations/<int:pk>/forecast-shown/", forecast_shown_view, name="integration-forecast-shown"),
    path("steps/<int:pk>/do/<slug:action>/", step_action, name="step-action"),
    path("steps/<int:pk>/comments/", comment_view, name="step-comment"),
    path("integrations/<int:pk>/replan/", replan_view, name="integration-replan"),
    path("integrations/<int:pk>/pause/", pause_view, name="integration-pause"),
    path("integrations/<int:pk>/agree-launch/", agree_launch_view, name="integration-agree-launch"),
    path("integrations/<int:pk>/resume/", resume_view, name="integration-resume"),
]
