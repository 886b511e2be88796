"""The reminder policy, day by day, on the default plan kicked off on Monday 2026-03-02.

The partner's first step, "endpoints-implementation", is due on Monday 2026-03-30; TradingView's
first two tasks on Thursday 2026-03-05.
"""

from datetime import UTC, date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations import plan, steps
from integrations.models import Integration
from notifications.models import OutboxMessage, SlackThread, SlackUser
from notifications.reminders import plan_reminders
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on, step

K = OutboxMessage.Kind
REMINDER_KINDS = [K.REMINDER, K.DUE_TODAY, K.OVERDUE, K.ESCALATION, K.TRADINGVIEW_DUE, K.TRADINGVIEW_LATE]
PARTNER_CHANNEL = "C0PARTNER"
INTERNAL = "C0INTERNAL"
ENDPOINTS_DUE = date(2026, 3, 30)


@pytest.fixture
def running(settings, started_integration):
    settings.SLACK_INTERNAL_CHANNEL = INTERNAL
    started_integration.slack_channel_id = PARTNER_CHANNEL
    started_integration.save(update_fields=["slack_channel_id"])
    return started_integration


@pytest.fixture
def tradingview_done(running, pm):
    """TradingView's first tasks done on time (4 March): only the partner's step is owed, and reminded."""
    with on(d(3, 4)):
        for code in ("slack-jira-onboarding", "autotests-configuration"):
            steps.complete_step(step(running, code), ctx(pm, d(3, 4)))
    # Finishing them told the partner's channel so (a message and its thread); only what the sweep
    # writes is counted here.
    OutboxMessage.objects.filter(kind=OutboxMessage.Kind.HANDED_OVER).delete()
    SlackThread.objects.all().delete()
    return running


def plan_on(day: date, hour: int = 6) -> int:
    with on(day, hour):
        return plan_reminders(day)


def sweep(first: date, last: date):
    day = first
    while day <= last:
        plan_on(day)
        day += timedelta(days=1)


def planned_days(step_, kind) -> list[date]:
    """The days ``kind`` rows about ``step_`` were planned for (the day in their reason key)."""
    keys = OutboxMessage.objects.filter(step=step_, kind=kind).values_list("reason_key", flat=True)
    return sorted(date.fromisoformat(key.rsplit(":", 1)[1]) for key in keys)


def d(month, day):
    return date(2026, month, day)


def test_a_partner_step_is_reminded_before_on_and_after_its_deadline_on_working_days_only(running):
    sweep(KICKOFF, d(4, 17))
    endpoints = step(running, "endpoints-implementation")
    # 7 and 2 working days before the Monday deadline: Thursday 19 and Thursday 26 (weekends are not counted)
    assert planned_days(endpoints, K.REMINDER) == [d(3, 19), d(3, 26)]
    assert planned_days(endpoints, K.DUE_TODAY) == [d(3, 30)]
    # 1, 4, 7, 10 and 13 working days overdue: the weekends are not counted
    assert planned_days(endpoints, K.OVERDUE) == [d(3, 31), d(4, 3), d(4, 8), d(4, 13), d(4, 16)]
    rows = OutboxMessage.objects.filter(step=endpoints).exclude(kind=K.ESCALATION)
    assert {r.channel for r in rows} == {PARTNER_CHANNEL}
    assert all(r.not_before.astimezone(ZoneInfo("Europe/Berlin")).weekday() < 5 for r in rows)
    assert OutboxMessage.objects.get(reason_key=f"due_today:{endpoints.pk}:2026-03-30").text.startswith("Due today")
    assert "Due in 2 working days" in OutboxMessage.objects.get(reason_key=f"reminder:{endpoints.pk}:2026-03-26").text
    assert "4 working days overdue" in OutboxMessage.objects.get(reason_key=f"overdue:{endpoints.pk}:2026-04-03").text
    # Monday 04-13 is 14 days after the deadline, 10 working days: the unit of every count of days late.
    monday = OutboxMessage.objects.get(reason_key=f"overdue:{endpoints.pk}:2026-04-13").text
    assert "10 working days overdue" in monday and "14 days" not in monday


def test_nothing_is_planned_at_a_weekend(running):
    assert plan_on(d(3, 28)) == 0  # Saturday, 2 days before the deadline
    assert plan_on(d(4, 5)) == 0  # Sunday, 6 days overdue
    assert not OutboxMessage.objects.exists()


def test_no_reminder_on_other_days(running):
    for day in (d(3, 16), d(3, 24), d(3, 25), d(4, 1), d(4, 2), d(4, 7), d(4, 9)):
        plan_on(day)
    endpoints = step(running, "endpoints-implementation")
    # Only the escalation: the sweep of 8 April (7 working days overdue) did not run, so 9 April catches it up
    assert list(OutboxMessage.objects.filter(step=endpoints).values_list("kind", "created_at__date")) == [
        (K.ESCALATION, d(4, 9))
    ]


def test_escalation_after_seven_days_overdue_once_per_deadline_naming_the_pm_and_business_manager(running, pm):
    SlackUser.objects.create(user=pm, slack_user_id="U0ALICE")
    running.business_manager = UserFactory(username="boris", first_name="Boris", last_name="Brandt", staff=True)
    running.save(update_fields=["business_manager"])
    sweep(d(4, 2), d(4, 17))
    endpoints = step(running, "endpoints-implementation")
    escalation = OutboxMessage.objects.get(step=endpoints, kind=K.ESCALATION)
    assert escalation.reason_key == f"escalation:{endpoints.pk}:2026-03-30"
    assert escalation.channel == INTERNAL
    assert escalation.created_at.date() == d(4, 8)  # 7 working days overdue, not 7 calendar days (6 April)
    assert "7 working days overdue" in escalation.text
    assert "<@U0ALICE>" in escalation.text and "Boris Brandt" in escalation.text
    assert escalation.not_before == at(d(4, 8), 9)  # 09:00 in TradingView's zone (UTC in tests)


def test_no_escalation_before_seven_working_days_overdue(running):
    sweep(d(3, 30), d(4, 7))
    assert not OutboxMessage.objects.filter(kind=K.ESCALATION).exists()


def test_tradingview_tasks_are_announced_in_the_internal_channel_when_due_late_and_every_3_days_after(running):
    sweep(KICKOFF, d(3, 16))
    onboarding = step(running, "slack-jira-onboarding")
    assert planned_days(onboarding, K.TRADINGVIEW_DUE) == [d(3, 5)]  # keyed by the deadline
    # The first late day keyed by the deadline; then the partner's cadence in working days: 4 working days
    # late (Wednesday 11) and 7 (Monday 16), keyed by their day.
    assert planned_days(onboarding, K.TRADINGVIEW_LATE) == [d(3, 5), d(3, 11), d(3, 16)]
    late = OutboxMessage.objects.get(reason_key=f"tradingview_late:{onboarding.pk}:2026-03-05")
    assert late.created_at.date() == d(3, 6) and late.channel == INTERNAL
    again = OutboxMessage.objects.get(reason_key=f"tradingview_late:{onboarding.pk}:2026-03-05:2026-03-16")
    assert "Late: due Thu 5 Mar 2026" in again.text and "7 working days overdue" in again.text
    assert OutboxMessage.objects.get(step=onboarding, kind=K.TRADINGVIEW_DUE).created_at.date() == d(3, 5)
    assert not OutboxMessage.objects.filter(channel=PARTNER_CHANNEL).exists()  # nothing is the partner's yet


def test_a_tradingview_task_due_on_friday_is_late_on_monday(running, pm):
    onboarding, autotests = step(running, "slack-jira-onboarding"), step(running, "autotests-configuration")
    endpoints = step(running, "endpoints-implementation")
    with on(d(3, 4)):
        steps.complete_step(onboarding, ctx(pm, d(3, 4)))
        steps.complete_step(autotests, ctx(pm, d(3, 4)))
    with on(d(3, 24)):
        steps.complete_step(endpoints, ctx(pm, d(3, 24)))
    passing = step(running, "passing-autotests")
    # 4 working days late: sandbox access, prepared during the partner's week, is due that day, Fri 3 April.
    with on(d(4, 3)):
        steps.complete_step(passing, ctx(pm, d(4, 3)))
    sandbox = step(running, "sandbox-access")
    assert sandbox.due_date == d(4, 3)
    sweep(d(4, 3), d(4, 6))
    assert [r.created_at.date() for r in OutboxMessage.objects.filter(step=sandbox).order_by("created_at")] == [
        d(4, 3),
        d(4, 6),
    ]
    assert OutboxMessage.objects.get(step=sandbox, kind=K.TRADINGVIEW_LATE).text.startswith("Late: due Fri 3 Apr 2026")


def test_a_late_tradingview_task_escalates_to_the_pms_lead_once_after_7_working_days(running, pm, settings):
    settings.TRADINGVIEW_LEAD_SLACK_ID = "U0LEAD"
    SlackUser.objects.create(user=pm, slack_user_id="U0ALICE")
    sweep(KICKOFF, d(4, 3))
    onboarding, autotests = step(running, "slack-jira-onboarding"), step(running, "autotests-configuration")
    escalations = OutboxMessage.objects.filter(kind=K.LEAD_ESCALATION)
    # Both tasks due Thursday 5 March; 7 working days late on Monday 16 March, once per deadline.
    assert sorted(escalations.values_list("reason_key", flat=True)) == sorted(
        f"lead_escalation:{s.pk}:2026-03-05" for s in (onboarding, autotests)
    )
    assert {(r.channel, r.created_at.date()) for r in escalations} == {(INTERNAL, d(3, 16))}
    assert all(
        "<@U0LEAD>" in r.text and "<@U0ALICE>" in r.text and "7 working days overdue" in r.text for r in escalations
    )
    # Two steps to one channel on one day: listed in one message, which names the lead.
    digest = OutboxMessage.objects.get(kind=K.CHANNEL_DIGEST, listed__kind=K.LEAD_ESCALATION, listed__step=onboarding)
    assert "2 TradingView tasks are late" in digest.text and "<@U0LEAD>" in digest.text
    assert digest.listed.count() == 2 and digest.channel == INTERNAL


def test_no_escalation_of_tradingview_tasks_without_a_lead(running):
    sweep(KICKOFF, d(3, 20))
    assert not OutboxMessage.objects.filter(kind__in=[K.LEAD_ESCALATION, K.ESCALATION]).exists()


def test_a_lead_id_that_is_not_a_slack_user_id_is_not_sent_as_markup(running, settings):
    settings.TRADINGVIEW_LEAD_SLACK_ID = "U0LEAD> <!channel"
    sweep(d(3, 16), d(3, 16))
    assert OutboxMessage.objects.filter(kind=K.LEAD_ESCALATION).exists()
    assert not any("<!channel" in r.text for r in OutboxMessage.objects.all())


def test_none_for_a_paused_integration(running, pm):
    with on(d(3, 20)):
        plan.pause(running, ctx(pm, d(3, 20)))
    for day in (d(3, 23), d(3, 30), d(3, 31)):
        assert plan_on(day) == 0
    assert not OutboxMessage.objects.exists()


def test_none_for_a_cancelled_or_launched_integration(running, pm):
    with on(d(3, 20)):
        plan.cancel(running, ctx(pm, d(3, 20), note="The partner stopped the project."))
    other = IntegrationFactory(partner=PartnerFactory(name="Other"), tv_pm=pm, slack_channel_id="C0OTHER1")
    with on(KICKOFF, 9):
        plan.start_integration(other, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    Integration.objects.filter(pk=other.pk).update(state=Integration.State.LAUNCHED, launched_on=d(3, 20))
    for day in (d(3, 23), d(3, 30), d(3, 31)):
        assert plan_on(day) == 0
    # Only the other's kick-off welcome, written when it was kicked off.
    assert list(OutboxMessage.objects.values_list("kind", flat=True)) == [K.WELCOME]


def test_none_for_done_or_not_applicable_steps(running, pm):
    endpoints = step(running, "endpoints-implementation")
    onboarding = step(running, "slack-jira-onboarding")
    with on(d(3, 3)):
        steps.complete_step(endpoints, ctx(pm, d(3, 3)))
        steps.mark_not_applicable(onboarding, ctx(pm, d(3, 3), note="Already on Slack and Jira."))
    sweep(d(3, 4), d(4, 10))
    assert not OutboxMessage.objects.filter(step__in=[endpoints, onboarding], kind__in=REMINDER_KINDS).exists()
    # the other TradingView task still is announced: the sweep ran
    autotests = step(running, "autotests-configuration")
    assert OutboxMessage.objects.filter(step=autotests, kind=K.TRADINGVIEW_DUE).count() == 1


@pytest.mark.usefixtures("tradingview_done")
def test_sent_in_working_hours_of_the_partner_time_zone(running):
    running.partner.time_zone = "Asia/Tokyo"
    running.partner.save(update_fields=["time_zone"])
    tokyo = ZoneInfo("Asia/Tokyo")
    # The sweep of Thursday 19 March (7 working days before) runs at 23:30 UTC on the Wednesday: 08:30 in Tokyo
    with time_machine.travel(datetime(2026, 3, 18, 23, 30, tzinfo=UTC), tick=False):
        assert plan_reminders(d(3, 19)) == 1
    row = OutboxMessage.objects.get(kind=K.REMINDER)
    assert row.not_before == datetime(2026, 3, 19, 9, tzinfo=tokyo)
    # Friday 3 April (4 working days overdue) run at 10:00 UTC (19:00 in Tokyo, after hours): Monday 09:00 in Tokyo
    with time_machine.travel(datetime(2026, 4, 3, 10, tzinfo=UTC), tick=False):
        assert plan_reminders(d(4, 3)) == 1
    friday = OutboxMessage.objects.get(reason_key__endswith=":2026-04-03")
    assert friday.not_before == datetime(2026, 4, 6, 9, tzinfo=tokyo)


def test_a_partner_west_of_utc_hears_it_at_nine_its_time(running):
    running.partner.time_zone = "America/Los_Angeles"
    running.partner.save(update_fields=["time_zone"])
    plan_on(d(3, 30), 6)  # 06:00 UTC = 23:00 on Sunday in Los Angeles
    row = OutboxMessage.objects.get(kind=K.DUE_TODAY)
    assert row.not_before == datetime(2026, 3, 30, 9, tzinfo=ZoneInfo("America/Los_Angeles"))


@pytest.mark.usefixtures("tradingview_done")
def test_a_doubled_beat_writes_nothing_twice(running):
    first = plan_on(d(3, 30))
    assert first == 1  # due today; nothing else on that day
    assert plan_on(d(3, 30)) == 0
    assert plan_on(d(3, 30), 15) == 0
    assert OutboxMessage.objects.count() == 1
    assert SlackThread.objects.count() == 1


def test_reminders_about_a_step_share_its_thread(running):
    sweep(d(3, 19), d(4, 1))
    endpoints = step(running, "endpoints-implementation")
    rows = OutboxMessage.objects.filter(step=endpoints)
    assert rows.count() == 4
    thread = SlackThread.objects.get(step=endpoints, channel=PARTNER_CHANNEL)
    assert {r.thread_id for r in rows} == {thread.pk}


def test_a_template_policy_overrides_the_defaults(running):
    template = running.template
    template.reminder_policy = {"before_days": [3], "overdue_every_days": 1, "escalate_after_days": 2}
    template.save(update_fields=["reminder_policy"])
    sweep(d(3, 16), d(4, 3))
    endpoints = step(running, "endpoints-implementation")
    assert planned_days(endpoints, K.REMINDER) == [d(3, 25)]  # 3 working days before only
    assert planned_days(endpoints, K.DUE_TODAY) == [d(3, 30)]
    assert planned_days(endpoints, K.OVERDUE) == [d(3, 31), d(4, 1), d(4, 2), d(4, 3)]
    assert OutboxMessage.objects.get(kind=K.ESCALATION).created_at.date() == d(4, 1)


@pytest.mark.usefixtures("tradingview_done")
def test_a_policy_without_the_due_day_reminder(running):
    running.template.reminder_policy = {"on_due_day": False}
    running.template.save(update_fields=["reminder_policy"])
    assert plan_on(d(3, 30)) == 0


def _portfolio(count, pm):
    made = []
    with on(KICKOFF, 9):
        for n in range(count):
            integration = IntegrationFactory(
                partner=PartnerFactory(name=f"Queries {count} {n}"), tv_pm=pm, slack_channel_id=f"C{count:03d}{n:04d}"
            )
            made.append(plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9))))
    return made


@pytest.mark.parametrize("day", [d(3, 30), d(4, 8)], ids=["due-day", "escalation-day"])
def test_the_query_count_does_not_grow_with_integrations(settings, pm, day):
    settings.SLACK_INTERNAL_CHANNEL = INTERNAL
    SlackUser.objects.create(user=pm, slack_user_id="U0ALICE")
    counts = {}
    for size in (3, 12):
        Integration.objects.update(state=Integration.State.CANCELLED)  # only this size's portfolio runs
        _portfolio(size, pm)
        OutboxMessage.objects.all().delete()
        with on(day, 6), CaptureQueriesContext(connection) as queries:
            written = plan_reminders(day, batch_size=500)
        assert written >= size  # each integration gets at least its partner reminder
        # The rows go in bulk INSERTs (one per kind of row, cut at SQLite's parameter limit): those grow
        # with the rows written (a few dozen a statement), every other query stays the same.
        inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
        counts[size] = len(queries) - len(inserts)
        assert len(inserts) <= 6 + written // 20
    assert counts[3] == counts[12]


@pytest.mark.usefixtures("tradingview_done")
def test_send_reminders_plans_the_given_day(running):
    out = StringIO()
    with on(d(3, 30), 6):
        call_command("send_reminders", "--date", "2026-03-30", stdout=out)
    assert out.getvalue().strip() == "Planned 1 new message for 2026-03-30 into the outbox."
    assert OutboxMessage.objects.get().kind == K.DUE_TODAY
    out = StringIO()
    with on(d(3, 30), 7):
        call_command("send_reminders", "--date", "2026-03-30", stdout=out)
    assert out.getvalue().strip() == "Planned 0 new messages for 2026-03-30 into the outbox."


@pytest.mark.usefixtures("tradingview_done")
def test_send_reminders_defaults_to_today(running):
    out = StringIO()
    with on(d(4, 8), 6):  # 7 working days overdue: the overdue reminder and the escalation
        call_command("send_reminders", stdout=out)
    assert out.getvalue().strip() == "Planned 2 new messages for 2026-04-08 into the outbox."
    assert set(OutboxMessage.objects.values_list("kind", flat=True)) == {K.OVERDUE, K.ESCALATION}


@pytest.mark.parametrize("bad", ["2026-02-30", "30/03/2026", "tomorrow"])
def test_send_reminders_refuses_a_bad_date(running, bad):
    with pytest.raises(CommandError, match="is not a date; write it as YYYY-MM-DD"):
        call_command("send_reminders", "--date", bad)
    assert not OutboxMessage.objects.exists()


def test_the_sweep_reads_only_integrations_with_something_due_around_the_day(running, pm, monkeypatch):
    # At 10,000 integrations the sweep read every active one, its steps and its events, even with nothing
    # due: those whose stored next deadline is weeks away are left out by their columns first.
    import notifications.reminders as reminders

    later = IntegrationFactory(partner=PartnerFactory(name="Later Broker"), tv_pm=pm, slack_channel_id="C0LATER")
    with on(d(3, 16), 9):
        plan.start_integration(later, d(4, 20), ctx(pm, at(d(3, 16), 9)))  # kicks off in five weeks
    read = []
    planned = reminders._plan_integration
    monkeypatch.setattr(
        reminders, "_plan_integration", lambda i, day, *rest: read.append(i.pk) or planned(i, day, *rest)
    )

    plan_on(d(3, 19))  # 7 working days before the first one's partner step; the later one owes nothing for weeks
    assert read == [running.pk]
    assert planned_days(step(running, "endpoints-implementation"), K.REMINDER) == [d(3, 19)]

    read.clear()
    plan_on(d(4, 27))  # both owe something now: the later one's first TradingView tasks are late
    assert sorted(read) == sorted([running.pk, later.pk])
