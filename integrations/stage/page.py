"""What the stage page shows: the roadmap from the partner's side, read from ``standing()``.

Nothing here decides a rule. Where the integration stands, who owes what and by when, the delay
split and the launch come from ``integrations.standing``; what a user may do to a step comes from
``integrations.actions``; what is missing before a step can be done comes from the hand-over
rules. This module only picks the partner's view of it: their steps, their time zone, their team.

The page costs a fixed number of queries whatever the number of integrations, steps, bugs, team
members or checks.
"""

from dataclasses import dataclass, field
from datetime import date

from django.db.models import Prefetch

from integrations.actions import step_actions
from integrations.comments import COMMENT_MAX, comments_by_step
from integrations.forms import InviteForm
from integrations.jenkins.runs import autotests_summary
from integrations.jira.models import JiraIssue, StatusCategory
from integrations.models import Integration, IntegrationEvent, IntegrationStep
from integrations.read_models.headline import blocked, ending, moved_for_holiday, window_of
from integrations.read_models.timeline import timeline
from integrations.stage import handover_view
from integrations.stage.access import integration_for
from integrations.stage.models import CalendarFeed
from integrations.stage.team import member_form
from integrations.standing import standing
from roadmap.lineup import RECOMMENDED_LINEUP, ROLE_NAMES
from roadmap.models import Side, StepStatus
from roadmap.schedule import side_days, working_days_between
from roadmap.standing import awaiting_check

MANUAL_URL = "https://www.tradingview.com/broker-integration-manual/"
REST_API_SPEC_URL = "https://www.tradingview.com/rest-api-spec/"
STEPS_IN_ROADMAP = 7


@dataclass
class Owed:
    """A step one side owes now, with its deadline counted in that side's days."""

    step: IntegrationStep
    deadline: date
    days_left: int  # working days up to the deadline: 0 on the day it is due
    days_overdue: int  # past the deadline, paused days not counted
    actions: list = field(default_factory=list)  # StepAction, for the partner's own steps
    moved: str = ""  # why the deadline is not on its week's day: a holiday of the side owing
    checking: bool = False  # the partner's fixes, done, which TradingView is checking


@dataclass
class TimelineRow:
    step: IntegrationStep
    planned: date | None
    deadline: date | None
    done_on: date | None
    forecast: date | None
    days_overdue: int
    days_late: int
    ours: bool  # the partner's own step
    moved: str = ""  # why the deadline is not on its week's day: a holiday of the side owing
    deadline_is_forecast: bool = False  # it cannot start yet: ``deadline`` is where it will fall
    days: int | None = None  # the working days the plan gives the step's side for it (``side_days``)
    comments: list = field(default_factory=list)  # the step's thread as the reader may read it (never internal)


def load(user, pk) -> Integration:
    """The integration ``pk`` as ``user`` may see it, with what the page reads, or 404."""
    queryset = Integration.objects.select_related(
        "partner", "tv_pm", "business_manager", "tech_contact"
    ).prefetch_related(
        Prefetch("steps", queryset=IntegrationStep.objects.order_by("position")),
        # With whether the partner reads each note: the cancellation's reason is shown only then.
        Prefetch("events", queryset=IntegrationEvent.objects.with_partner_view().order_by("at", "id")),
        "team",
    )
    return integration_for(user, pk, queryset)


def _owed(now, steps, side, user=None) -> list[Owed]:
    today = now.clock.today(side)
    calendar = now.clock.calendar(side)
    owed = []
    for s in now.ball.for_side(side):
        step_standing = now.of(s)
        if step_standing is None:
            continue
        actions = []
        if user is not None:
            actions = [a for a in step_actions(s, user, steps) if a.action.partner_may]
        owed.append(
            Owed(
                step=s,
                deadline=step_standing.deadline,
                days_left=working_days_between(
                    today, step_standing.deadline, calendar.days_not_worked([today, step_standing.deadline])
                ),
                days_overdue=now.days_overdue(s),
                actions=actions,
                moved=moved_for_holiday(now, s, step_standing.deadline),
                checking=awaiting_check(s),
            )
        )
    return sorted(owed, key=lambda o: (o.deadline, o.step.position))


def open_bugs_of_current_round(integration, owed: list[Owed]) -> list[JiraIssue]:
    """The open bugs of the testing round the partner is fixing now (the fixing step it owes)."""
    fixing = [o.step.pk for o in owed if o.step.jira_bug_labels]
    if not fixing:
        return []
    return list(
        JiraIssue.objects.filter(integration=integration, is_bug=True, deleted=False, step_id__in=fixing)
        .exclude(status_category=StatusCategory.DONE)
        .order_by("key")
    )


def contacts(integration) -> list[tuple[str, str, str]]:
    """Whom the partner contacts by e-mail at TradingView (the roadmap's "contact via email"):
    (role, name, e-mail) of the business manager and the technical contact that are set."""
    people = [("Business manager", integration.business_manager), ("Technical contact", integration.tech_contact)]
    return [
        (role, user.get_full_name() or user.get_username(), user.email) for role, user in people if user is not None
    ]


def team_lineup(integration) -> list[tuple[str, int, int]]:
    counts = integration.team_counts()
    return [(ROLE_NAMES[role], counts.get(role, 0), wanted) for role, wanted in RECOMMENDED_LINEUP.items()]


def stage_context(request, integration: Integration, **forms) -> dict:
    """Everything the stage page shows of ``integration``, for ``request.user``."""
    user = request.user
    steps = list(integration.steps.all())
    for s in steps:
        s.integration = integration
    now = standing(integration, steps=steps, integration_events=integration.events.all())
    ours = _owed(now, steps, Side.PARTNER, user)
    theirs = _owed(now, steps, Side.TRADINGVIEW)
    # Steps of the partner that are blocked are not in the ball (nothing can be done) but the
    # partner must still be able to unblock them.
    planned = [s for s in steps if s.planned_due_date]
    days = {}
    if integration.kickoff_on and planned:
        plan = {s.code: (None, s.planned_due_date) for s in planned}
        days = side_days(planned, plan, integration.kickoff_on, now.clock.calendars)
    rows = []
    comments = comments_by_step(steps, user, as_partner=True)
    for s in steps:
        step_standing = now.of(s)
        deadline, deadline_is_forecast = now.deadline_shown(s)
        rows.append(
            TimelineRow(
                step=s,
                planned=step_standing.planned if step_standing else s.planned_due_date,
                deadline=deadline,
                deadline_is_forecast=deadline_is_forecast,
                done_on=step_standing.forecast if step_standing and s.status == StepStatus.DONE else None,
                # A cancelled integration's open steps will not be finished: nothing is forecast for them.
                forecast=step_standing.forecast
                if step_standing and s.is_open and not integration.is_cancelled
                else None,
                days_overdue=now.days_overdue(s),
                days_late=step_standing.days_late if step_standing else 0,
                ours=s.side == Side.PARTNER,
                moved="" if deadline_is_forecast else moved_for_holiday(now, s, deadline),
                days=days.get(s.code),
                comments=comments.get(s.pk, []),
            )
        )
    current = now.current_step
    events = list(integration.events.all())
    feeds = list(CalendarFeed.objects.filter(partner_id=integration.partner_id, revoked_at__isnull=True))
    return {
        "nav": "stage",
        "integration": integration,
        "partner": integration.partner,
        "zone": integration.partner.time_zone,
        "preview": user.is_staff,
        "now": now,
        "today": now.clock.today(Side.PARTNER),
        "current": current,
        "current_number": current.number if current else None,
        "steps_in_roadmap": STEPS_IN_ROADMAP,
        "ours": ours,
        "theirs": theirs,
        "ball": now.ball.side or "",
        "rows": rows,
        "timeline": timeline(now, steps),
        "window": window_of(now, steps),
        "ending": ending(integration, events, user),
        "blocked": blocked(integration, steps, user, now.clock.today(Side.PARTNER), integration.partner.zone),
        "bugs": open_bugs_of_current_round(integration, ours),
        "contacts": contacts(integration),
        "manual_url": MANUAL_URL,
        "spec_url": REST_API_SPEC_URL,
        "team": [
            (member, forms.get("member_forms", {}).get(member.pk) or member_form(integration, member))
            for member in integration.team.all()
        ],
        "new_member_form": forms.get("new_member_form") or member_form(integration),
        "lineup": team_lineup(integration),
        "team_gaps": integration.team_gaps(),
        "feeds": [f for f in feeds if f.is_live()],
        "autotests": autotests_summary(integration),
        # A PM lets the partner's team invite colleagues; staff previewing see what the partner sees.
        "may_invite": integration.partner.team_may_invite and user.is_active,
        "invite_form": forms.get("invite_form") or InviteForm(),
        "comment_max": COMMENT_MAX,
        "open_thread": forms.get("open_thread"),
        **handover_view.context(integration, steps, forms),
    }
