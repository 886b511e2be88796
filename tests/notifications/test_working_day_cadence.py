"""Reminders count the working days of the owing side's calendar.

A partner in Germany owes its endpoints by Monday 4 January 2027. New Year's Day (Friday) is a
holiday there: "Due in 2 working days" goes out on Wednesday 30 December, not on New Year's Day
(two calendar days before the weekend before the deadline), and the overdue reminders on its
working days 1, 4 and 7 overdue.
"""

from datetime import date, timedelta

import pytest
from django.urls import reverse

from integrations import plan
from integrations.steps import block_step, complete_step
from notifications import delivery
from notifications.chase import chase_item, remind_now
from notifications.models import OutboxMessage, SlackThread
from notifications.reminders import partner_reminder, plan_reminders, policy_for_value
from roadmap.calendars import WorkingCalendar
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import at, ctx, on, step

pytestmark = pytest.mark.django_db
K = OutboxMessage.Kind
KICKOFF = date(2026, 12, 7)
DEADLINE = date(2027, 1, 4)
CHANNEL = "C0BERLIN1"


@pytest.fixture
def german(pm):
    partner = PartnerFactory(name="Berliner Broker", time_zone="Europe/Berlin", country="DE")
    integration = IntegrationFactory(partner=partner, tv_pm=pm, slack_channel_id=CHANNEL)
    with on(KICKOFF, 9):
        plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    endpoints = step(integration, "endpoints-implementation")
    assert endpoints.due_date == DEADLINE
    return endpoints


def sweep(first: date, last: date):
    day = first
    while day <= last:
        with on(day, 6):
            plan_reminders(day)
        day += timedelta(days=1)


def partner_days(endpoints, kind) -> list[date]:
    keys = OutboxMessage.objects.filter(step=endpoints, kind=kind, channel=CHANNEL).values_list("reason_key", flat=True)
    return sorted(date.fromisoformat(key.rsplit(":", 1)[1]) for key in keys)


def test_a_german_partner_hears_due_in_2_working_days_on_30_december_not_on_new_years_day(german):
    sweep(date(2026, 12, 21), date(2027, 1, 4))
    # 7 working days before: 23, 24, 28, 29, 30, 31 December and 4 January are left after Tuesday 22
    assert partner_days(german, K.REMINDER) == [date(2026, 12, 22), date(2026, 12, 30)]
    reminder = OutboxMessage.objects.get(reason_key=f"reminder:{german.pk}:2026-12-30")
    assert reminder.text.startswith("Due in 2 working days")
    assert not OutboxMessage.objects.filter(channel=CHANNEL, reason_key__endswith=":2027-01-01").exists()
    assert partner_days(german, K.DUE_TODAY) == [DEADLINE]


def test_a_german_partner_hears_of_its_late_step_on_working_days_1_4_and_7_overdue(german):
    sweep(date(2027, 1, 5), date(2027, 1, 15))
    # 1 working day overdue on Tuesday 5, 4 on Friday 8, 7 on Wednesday 13 (the weekend is not counted)
    assert partner_days(german, K.OVERDUE) == [date(2027, 1, 5), date(2027, 1, 8), date(2027, 1, 13)]
    assert "7 working days overdue" in OutboxMessage.objects.get(reason_key=f"overdue:{german.pk}:2027-01-13").text


def test_nobody_is_nudged_on_a_holiday_of_the_owing_sides_calendar():
    policy = policy_for_value(None)
    germany = WorkingCalendar("DE")
    # Friday 1 January 2027 would be the first working day overdue of a step due on 31 December
    assert partner_reminder(-1, policy, date(2027, 1, 1), calendar=germany) is None
    assert partner_reminder(-4, policy, date(2027, 1, 4), calendar=germany).headline == "1 working day overdue"
    # Weekends only: Friday 1 January is worked, and the first day overdue
    assert partner_reminder(-1, policy, date(2027, 1, 1)).kind == K.OVERDUE


def test_a_late_tradingview_task_is_counted_in_tradingviews_calendar(onboarding_due_on_christmas_eve):
    onboarding = onboarding_due_on_christmas_eve
    sweep(date(2026, 12, 24), date(2027, 1, 8))
    late = OutboxMessage.objects.filter(step=onboarding, kind=K.TRADINGVIEW_LATE).order_by("created_at")
    # Christmas, Boxing Day (on Monday 28) and New Year's Day are not worked in England: late on Tuesday 29
    # December (its first working day late), then 4 and 7 working days late.
    assert [m.created_at.date() for m in late] == [date(2026, 12, 29), date(2027, 1, 4), date(2027, 1, 7)]


@pytest.fixture
def moved_by_new_year(pm):
    """Kicked off on Friday 4 December 2026: the endpoints' week 4 is Friday 1 January, New Year's Day in
    Germany, so they are due on Monday 4 January."""
    partner = PartnerFactory(name="Neujahr Broker", time_zone="Europe/Berlin", country="DE")
    integration = IntegrationFactory(partner=partner, tv_pm=pm, slack_channel_id=CHANNEL)
    kickoff = date(2026, 12, 4)
    with on(kickoff, 9):
        plan.start_integration(integration, kickoff, ctx(pm, at(kickoff, 9)))
    endpoints = step(integration, "endpoints-implementation")
    assert endpoints.due_date == DEADLINE
    return endpoints


MOVED = "due Mon 4 Jan 2027 (moved from 1 Jan: New Year's Day in Germany)"


def test_a_reminder_says_its_deadline_moved_for_a_holiday_as_the_page_does(moved_by_new_year, client, pm):
    sweep(date(2026, 12, 30), date(2027, 1, 4))
    for kind in (K.REMINDER, K.DUE_TODAY):
        row = OutboxMessage.objects.get(step=moved_by_new_year, kind=kind, channel=CHANNEL)
        assert MOVED in row.text
        assert MOVED in str(row.blocks)
    # The integration page says the same, from the same rule.
    with on(date(2027, 1, 4), 10):
        client.force_login(pm)
        page = client.get(reverse("integration-page", args=[moved_by_new_year.integration_id])).content.decode()
    assert "moved from 1 Jan: New Year&#x27;s Day in Germany" in page


def test_a_pms_remind_now_says_it_too(moved_by_new_year, pm):
    with on(date(2027, 1, 4), 10):
        item = chase_item(pm, moved_by_new_year.pk)
        assert MOVED in item.preview
        assert remind_now(item)
    assert MOVED in OutboxMessage.objects.get(step=moved_by_new_year, kind=K.DUE_TODAY).text


def test_a_deadline_moved_for_no_holiday_says_nothing_more(german):
    sweep(date(2027, 1, 4), date(2027, 1, 4))
    row = OutboxMessage.objects.get(step=german, kind=K.DUE_TODAY, channel=CHANNEL)
    assert "due Mon 4 Jan 2027)" in row.text and "moved from" not in row.text


def kick_off_in_germany(pm, kickoff: date):
    partner = PartnerFactory(name="Feiertag Broker", time_zone="Europe/Berlin", country="DE")
    integration = IntegrationFactory(partner=partner, tv_pm=pm, slack_channel_id=CHANNEL)
    with on(kickoff, 9):
        plan.start_integration(integration, kickoff, ctx(pm, at(kickoff, 9)))
    return integration


@pytest.mark.parametrize(
    ("kickoff", "moved"),
    [
        # week 4 on Friday 25 December, Christmas Day in Germany (26 is a Saturday)
        (date(2026, 11, 27), "due Mon 28 Dec 2026 (moved from 25 Dec: Christmas Day in Germany)"),
        (date(2026, 12, 4), MOVED),
    ],
)
def test_the_kick_off_welcome_says_which_first_deadlines_a_holiday_moved(pm, kickoff, moved):
    integration = kick_off_in_germany(pm, kickoff)
    welcome = OutboxMessage.objects.get(kind=K.WELCOME, integration=integration)
    assert f"Yours: Data / trading endpoints implementation, {moved}" in welcome.text
    assert f"Yours: Passing REST API autotests, {moved}" in welcome.text
    assert f"Yours: Data / trading endpoints implementation, {moved}" in str(welcome.blocks)
    # TradingView's own first tasks were moved by no holiday: nothing more is said of them.
    assert welcome.text.count("(moved from") == 2


def test_this_step_is_now_yours_says_the_holiday_that_moved_its_deadline(pm):
    integration = kick_off_in_germany(pm, date(2026, 12, 4))
    with on(date(2026, 12, 7), 10):
        complete_step(step(integration, "endpoints-implementation"), ctx(pm, at(date(2026, 12, 7), 10)))
    with on(date(2026, 12, 8), 10):
        complete_step(step(integration, "autotests-configuration"), ctx(pm, at(date(2026, 12, 8), 10)))
    autotests = step(integration, "passing-autotests")
    [yours] = OutboxMessage.objects.filter(kind=K.HANDED_OVER, step=autotests)
    assert "This step is now yours." in yours.text
    assert MOVED in yours.text
    assert MOVED in str(yours.blocks)


def test_a_reminder_7_working_days_before_a_deadline_across_a_long_holiday_is_sent(pm):
    """Russia's New Year holidays (31 December to 8 January) put 20 calendar days between Wednesday 30 December
    and the 7th working day after it, Tuesday 19 January: further than weeks and any margin in calendar days."""
    partner = PartnerFactory(name="Moscow Broker", time_zone="Europe/Moscow", country="RU")
    integration = IntegrationFactory(partner=partner, tv_pm=pm, slack_channel_id="C0MOSCOW")
    kickoff = date(2026, 12, 22)
    with on(kickoff, 9):
        plan.start_integration(integration, kickoff, ctx(pm, at(kickoff, 9)))
    with on(date(2026, 12, 23), 9):
        for code in ("slack-jira-onboarding", "autotests-configuration"):
            complete_step(step(integration, code), ctx(pm, at(date(2026, 12, 23), 9)))
    endpoints = step(integration, "endpoints-implementation")
    assert endpoints.due_date == date(2027, 1, 19)
    sweep(date(2026, 12, 30), date(2026, 12, 30))
    reminder = OutboxMessage.objects.get(reason_key=f"reminder:{endpoints.pk}:2026-12-30")
    assert reminder.text.startswith("Due in 7 working days")


@pytest.mark.parametrize("blocked_before_it_was_posted", [False, True])
@pytest.mark.parametrize(
    ("kickoff", "due"),
    [
        (date(2026, 12, 4), MOVED),  # week 4 on New Year's Day: moved to Monday 4 January
        (date(2026, 12, 7), "due Mon 4 Jan 2027"),  # week 4 on Monday 4 January: moved by nothing
    ],
)
def test_a_steps_thread_first_message_says_the_holiday_that_moved_its_deadline(
    pm, fake_slack, kickoff, due, blocked_before_it_was_posted
):
    """The first message of the step's thread is rewritten with each status, once posted or as it is
    posted: it keeps saying why its deadline is not the plan's day, as the messages in the thread do."""
    integration = kick_off_in_germany(pm, kickoff)
    with on(date(2026, 12, 8), 10):
        complete_step(step(integration, "endpoints-implementation"), ctx(pm, at(date(2026, 12, 8), 10)))
        complete_step(step(integration, "autotests-configuration"), ctx(pm, at(date(2026, 12, 8), 10)))
    autotests = step(integration, "passing-autotests")

    def block():
        with on(date(2026, 12, 9), 11):
            block_step(step(integration, "passing-autotests"), ctx(pm, at(date(2026, 12, 9), 11), note="Credentials"))

    if blocked_before_it_was_posted:
        block()
    for second in range(5):  # the channel is paced: one message a second
        delivery.deliver_due(now=at(date(2026, 12, 9), 12) + timedelta(seconds=second))
    assert SlackThread.objects.get(step=autotests, channel=CHANNEL).ts
    if not blocked_before_it_was_posted:
        block()
    status = OutboxMessage.objects.get(kind=K.THREAD_STATUS, step=autotests, channel=CHANNEL)
    assert status.text.endswith(f"{due})")
    assert f"{due} · Blocked" in str(status.blocks)
    assert status.text.count("moved from") == str(status.blocks).count("moved from") == (due == MOVED)
