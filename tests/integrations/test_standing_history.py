"""History is never rewritten: reopening a step, re-planning and ending an integration, with concrete dates.

Kick-off is Monday 2026-03-02 (``tests/default_plan.py``): sandbox access (TradingView) is planned for
Thursday 04-02, sandbox development (partner, week 5) for Monday 04-06, production URLs
(TradingView) for Thursday 04-09, production deployment (partner, week 6) for Monday 04-13, the
launch for Monday 05-25.
"""

from datetime import date, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations import plan
from integrations.jira.issues import Handled, IssueFacts, apply_issue
from integrations.jira.models import JiraIssue
from integrations.models import IntegrationStep
from integrations.standing import standing
from integrations.steps import complete_step, reopen_step, start_step
from notifications.models import OutboxMessage
from notifications.reminders import plan_reminders
from roadmap import standing as rules
from roadmap.models import StepStatus
from roadmap.standing import DelaySplit
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.handovers.helpers import hand_over_everything
from tests.integrations.helpers import KICKOFF, at, ctx, on, step

pytestmark = pytest.mark.django_db

K = OutboxMessage.Kind
REMINDER_KINDS = [K.REMINDER, K.DUE_TODAY, K.OVERDUE, K.ESCALATION, K.TRADINGVIEW_DUE, K.TRADINGVIEW_LATE]


def done(integration, code, when, by):
    return complete_step(step(integration, code), ctx(by, when))


def overdue(result) -> dict[str, int]:
    return {s.code: result.days_overdue(s) for s in result.overdue_steps()}


def on_time_until_production_urls(integration, pm):
    """Every step up to the production URLs done on time; production deployment is the partner's next."""
    hand_over_everything(integration)
    for code in ("slack-jira-onboarding", "autotests-configuration"):
        done(integration, code, "2026-03-04", pm)
    for code in ("endpoints-implementation", "passing-autotests"):
        done(integration, code, "2026-03-27", pm)
    done(integration, "sandbox-access", "2026-03-30", pm)
    done(integration, "sandbox-development", "2026-04-06", pm)
    done(integration, "request-production-urls", "2026-04-06", pm)


# 1. A reopened step owes new work from the reopen ------------------------------------------------


def test_a_reopened_partner_step_gets_the_plans_turnaround_from_the_reopen(started_integration, pm):
    on_time_until_production_urls(started_integration, pm)
    assert standing(started_integration, at("2026-04-10")).split == DelaySplit()

    # Friday evening the PM finds the sandbox work unfinished. The plan gave sandbox development
    # its week after sandbox access (Mon 03-30 -> Mon 04-06): due Friday 04-17, not 04-06.
    reopen_step(step(started_integration, "sandbox-development"), ctx(pm, at("2026-04-10", 17), "Orders fail."))
    development = step(started_integration, "sandbox-development")
    assert development.due_date == date(2026, 4, 17)
    reopened = development.history.last()  # the reopen's own row carries the move
    assert (reopened.from_status, reopened.note) == ("done", "Orders fail.")
    assert (reopened.from_due, reopened.to_due) == (date(2026, 4, 6), date(2026, 4, 17))

    monday = standing(started_integration, at("2026-04-13"))
    assert overdue(monday) == {}  # was "7 days overdue", counted from the old deadline
    assert monday.of(development).deadline == date(2026, 4, 17)
    # Production deployment waits again for sandbox development, through the production URLs.
    assert [s.code for s in monday.ball.partner] == ["sandbox-development"] and not monday.ball.tradingview
    # The redo moves the launch: 9 working days (04-07 .. 04-17), the partner's.
    assert monday.forecast_launch == date(2026, 6, 5)
    assert monday.split == DelaySplit(partner=9) and monday.slip_days == 9

    tuesday = standing(started_integration, at("2026-04-21"))
    assert overdue(tuesday) == {"sandbox-development": 2}
    assert tuesday.split == DelaySplit(partner=11)


def test_days_already_charged_stay_with_whoever_lost_them(started_integration, pm):
    hand_over_everything(started_integration)
    for code in ("slack-jira-onboarding", "autotests-configuration"):
        done(started_integration, code, "2026-03-04", pm)
    for code in ("endpoints-implementation", "passing-autotests"):
        done(started_integration, code, "2026-03-27", pm)  # on time
    # Sandbox access, planned for 03-30, handed over 7 working days late: TradingView's.
    done(started_integration, "sandbox-access", "2026-04-08", pm)
    before = standing(started_integration, at("2026-04-14"))
    assert before.split == DelaySplit(tradingview=7) and before.forecast_launch == date(2026, 6, 3)

    reopen_step(step(started_integration, "passing-autotests"), ctx(pm, at("2026-04-14", 9), "Autotests flaky."))

    # The plan gives passing the autotests no working day after the endpoints (both week 4): due today.
    after = standing(started_integration, at("2026-04-14"))
    assert after.of(step(started_integration, "passing-autotests")).deadline == date(2026, 4, 14)
    assert overdue(after) == {}
    # Sandbox access, done on 04-08, waits again: it hands over when the autotests pass (no working
    # day after them in the plan; today at the earliest), on Tuesday 04-14, 11 working days after its
    # plan. TradingView keeps its 7; the 4 more are the partner's.
    assert after.forecast_launch == date(2026, 6, 9)
    assert after.split == DelaySplit(tradingview=7, partner=4)

    later = standing(started_integration, at("2026-04-16"))
    assert overdue(later) == {"passing-autotests": 2}
    assert later.forecast_launch == date(2026, 6, 11)
    assert later.split == DelaySplit(tradingview=7, partner=6)


def test_a_reopened_tradingview_task_gets_its_turnaround_from_the_reopen(started_integration, pm):
    on_time_until_production_urls(started_integration, pm)

    reopen_step(step(started_integration, "request-production-urls"), ctx(pm, at("2026-04-13", 9), "Wrong URLs."))

    result = standing(started_integration, at("2026-04-13"))
    urls = step(started_integration, "request-production-urls")
    assert result.of(urls).deadline == date(2026, 4, 16)  # its 3 working days' turnaround
    assert overdue(result) == {}
    assert result.ball.side == "tradingview"
    assert result.split == DelaySplit(tradingview=result.slip_days) and result.slip_days > 0


def test_a_step_done_again_is_measured_against_its_new_deadline(started_integration, pm):
    on_time_until_production_urls(started_integration, pm)
    reopen_step(step(started_integration, "sandbox-development"), ctx(pm, at("2026-04-10", 17), "Orders fail."))

    done(started_integration, "sandbox-development", "2026-04-17", pm)  # on its new deadline

    result = standing(started_integration, at("2026-04-20"))
    development = step(started_integration, "sandbox-development")
    assert result.of(development).forecast == date(2026, 4, 17)
    assert result.of(development).days_late == 0
    # The production URLs, done before the reopen, stay done on 04-06 and hand over again with the
    # sandbox work (the plan puts no working day between them): production deployment keeps its
    # week after them.
    urls = step(started_integration, "request-production-urls")
    assert urls.status == "done" and result.of(urls).forecast == date(2026, 4, 6)
    assert step(started_integration, "production-deployment").due_date == date(2026, 4, 24)
    assert result.split == DelaySplit(partner=9)


def test_the_mornings_reminders_follow_the_new_deadline(started_integration, pm, settings):
    settings.SLACK_INTERNAL_CHANNEL = "C0INTERNAL"
    started_integration.slack_channel_id = "C0PARTNER"
    started_integration.save(update_fields=["slack_channel_id"])
    on_time_until_production_urls(started_integration, pm)
    reopen_step(step(started_integration, "sandbox-development"), ctx(pm, at("2026-04-10", 17), "Orders fail."))

    with on("2026-04-13", 6):
        plan_reminders(date(2026, 4, 13))

    reminders = OutboxMessage.objects.filter(kind__in=REMINDER_KINDS)
    texts = list(reminders.values_list("kind", "text"))
    assert not [text for _, text in texts if "overdue" in text.lower()], texts
    assert OutboxMessage.Kind.ESCALATION not in {kind for kind, _ in texts}
    # Production deployment, due today, waits again: nobody is told it is due.
    assert not reminders.filter(step=step(started_integration, "production-deployment")).exists()


# 2. A re-plan moves plans, never facts -----------------------------------------------------------


def test_replanning_keeps_real_completion_and_start_times(started_integration, pm):
    start_step(step(started_integration, "slack-jira-onboarding"), ctx(pm, "2026-03-03"))
    onboarding = done(started_integration, "slack-jira-onboarding", "2026-03-04", pm)
    before = (onboarding.started_at, onboarding.completed_at)

    plan.replan(started_integration, "2026-03-16", ctx(pm, "2026-03-10", "The partner's team starts later."))

    onboarding = step(started_integration, "slack-jira-onboarding")
    assert (onboarding.started_at, onboarding.completed_at) == before
    result = standing(started_integration, at("2026-03-11"))
    assert result.of(onboarding).forecast == date(2026, 3, 4)  # not the new kick-off, 03-16
    assert result.of(onboarding).days_late == 0


# 5. An ended integration is frozen at its end ----------------------------------------------------


def test_cancelled_while_paused_stops_drifting(started_integration, pm):
    done(started_integration, "slack-jira-onboarding", "2026-03-04", pm)
    plan.pause(started_integration, ctx(pm, "2026-03-10", "Partner re-prioritising."))
    plan.cancel(started_integration, ctx(pm, "2026-03-20", "Partner withdrew."))

    on_the_day = standing(started_integration, at("2026-03-20"))
    a_year_later = standing(started_integration, at("2027-03-20"))

    assert a_year_later.planned_launch == on_the_day.planned_launch
    assert a_year_later.steps_standing.forecast_launch == on_the_day.steps_standing.forecast_launch
    assert a_year_later.split == on_the_day.split
    assert {code: (s.deadline, s.forecast) for code, s in a_year_later.steps_standing.steps.items()} == {
        code: (s.deadline, s.forecast) for code, s in on_the_day.steps_standing.steps.items()
    }


# 6. Any history, played through the services -----------------------------------------------------


def what_it_shows(result) -> tuple:
    """What a page shows of a standing: plan, forecast, split, and each step's dates and lateness."""
    return (
        result.planned_launch,
        result.steps_standing.forecast_launch,
        result.split,
        result.days_late,
        {c: (s.deadline, s.forecast, s.days_overdue, s.days_late) for c, s in result.steps_standing.steps.items()},
    )


def check(result):
    """The split adds up to the slip, and the side shown overdue is charged."""
    steps_standing = result.steps_standing
    assert result.split.total == rules.working_days_late(
        result.planned_launch, steps_standing.forecast_launch, result.paused
    )
    for side in {s.side for s in result.overdue_steps()}:
        assert result.split.charges(side) >= 1, (side, result.split)


def jira_news(integration, chosen, when, n) -> IssueFacts:
    return IssueFacts.from_json(
        {
            "key": f"{integration.jira_project_key}-{n}",
            "fields": {
                "issuetype": {"name": "Task"},
                "labels": [f"roadmap-{chosen.code}"],
                "status": {"name": "Done", "statusCategory": {"key": "done"}},
                "updated": when.strftime("%Y-%m-%dT%H:%M:%S.000%z"),
            },
        }
    )


def apply_at(moment, news: IssueFacts):
    with time_machine.travel(moment, tick=False):
        return apply_issue(news)


def jira_done(integration, news: IssueFacts, now) -> dict:
    """The step Jira's news completed, checked: dated after Jira's time and what it waited for, not after now."""
    issue = JiraIssue.objects.select_related("step").get(key=news.key)
    done = issue.step
    last = done.history.order_by("-at", "-id").first() if done is not None else None
    if last is None or (last.source, last.to_status) != ("jira", StepStatus.DONE):
        return {}
    steps = {s.code: s for s in integration.steps.all()}
    waited_for = [steps[code].completed_at for code in done.depends_on if steps[code].completed_at]
    assert done.completed_at <= now
    assert (
        done.completed_at >= max([news.updated, *waited_for])
        or done.completed_at == done.history.exclude(from_status="").order_by("-at", "-id")[1:2].get().at
    )  # clamped to the step's last change before it
    return {done.code: done.completed_at}


@settings(max_examples=20, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_history_keeps_the_split_whole_the_facts_and_an_ended_standing_still(pm, data):
    """Steps done (by a PM, or by Jira's news that may wait and apply later) and reopened, re-plans,
    pauses, then a cancel (perhaps while paused), day by day."""
    integration = IntegrationFactory(partner=PartnerFactory(name=f"Story {IntegrationStep.objects.count()}"), tv_pm=pm)
    with time_machine.travel(at("2026-11-30"), tick=False):
        plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
        hand_over_everything(integration)
        integration.jira_project_key = f"ST{integration.pk}"
        integration.save(update_fields=["jira_project_key"])
        day, done_at, paused, waiting = KICKOFF, {}, False, []
        for n in range(data.draw(st.integers(4, 14), label="changes")):
            day += timedelta(days=data.draw(st.integers(0, 6), label="days later"))
            moment = at(day, 9) + timedelta(minutes=n)
            steps = list(integration.steps.all())
            action = data.draw(st.sampled_from(["done", "done", "jira", "reopen", "replan", "pause"]), label="change")
            for news in list(waiting):  # the inbox tries waiting news again after every change
                if apply_at(moment, news).state != Handled.WAITING:
                    waiting.remove(news)
                    done_at.update(jira_done(integration, news, moment))
            if paused:
                plan.resume(integration, ctx(pm, moment))
                paused = False
            elif action == "done" and rules.actionable_steps(steps[:-1]):
                chosen = data.draw(st.sampled_from(rules.actionable_steps(steps[:-1])), label="done")
                done_at[chosen.code] = complete_step(chosen, ctx(pm, moment)).completed_at
            elif action == "jira" and (open_steps := [s for s in steps[:-1] if s.status != StepStatus.DONE]):
                # Jira says "done" a few days back; refused for now, the news waits and is tried again.
                chosen = data.draw(st.sampled_from(open_steps), label="done in Jira")
                back = timedelta(days=data.draw(st.integers(0, 3), label="Jira days back"))
                news = jira_news(integration, chosen, moment - back, n)
                if apply_at(moment, news).state == Handled.WAITING:
                    waiting.append(news)
                done_at.update(jira_done(integration, news, moment))
            elif action == "reopen" and [s for s in steps if s.status == StepStatus.DONE]:
                chosen = data.draw(st.sampled_from([s for s in steps if s.status == StepStatus.DONE]), label="reopen")
                reopen_step(chosen, ctx(pm, moment, "Not finished after all."))
                del done_at[chosen.code]
            elif action == "replan":
                kickoff = integration.kickoff_on + timedelta(days=data.draw(st.integers(-10, 20), label="moved") or 1)
                plan.replan(integration, kickoff, ctx(pm, moment, "The plan moves."))
            elif action == "pause":
                plan.pause(integration, ctx(pm, moment, "On hold."))
                paused = True
            now = standing(integration, moment + timedelta(hours=1))
            check(now)
            for s in now.steps:
                if s.code in done_at:  # done as it happened, whatever was re-planned since
                    assert s.completed_at == done_at[s.code]
                    assert now.of(s).forecast == now.clock.day(s.completed_at, s.side)
        end = day + timedelta(days=data.draw(st.integers(0, 5), label="cancelled later"))
        plan.cancel(integration, ctx(pm, at(end, 17), "Partner withdrew."))
        ended = what_it_shows(standing(integration, at(end, 18)))
        for later in (1, 30, 400):
            assert what_it_shows(standing(integration, at(end + timedelta(days=later), 18))) == ended
