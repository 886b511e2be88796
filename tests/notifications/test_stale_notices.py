"""A notice of a step's state that is no longer true when its morning comes is kept, not posted.

The default plan is kicked off on Monday 2026-03-02; the partner is in Berlin (09:00 there is 08:00
UTC in March). A notice written in the evening waits for 09:00 the next working day, the partner's;
the partner may finish the step before then. Time is frozen (``on``, ``deliver_due(now=...)``).
"""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from integrations import plan
from integrations.models import IntegrationStep
from integrations.steps import complete_step, reopen_step
from notifications import delivery, still_true
from notifications.models import OutboxMessage
from notifications.reminders import plan_reminders
from roadmap.models import StepStatus
from tests.integrations.helpers import at, ctx, on, step
from tests.notifications.conftest import INTERNAL_CHANNEL, PARTNER_CHANNEL
from tests.notifications.rows import queued
from tests.notifications.test_channel_digest import ESCALATION_DAY, portfolio

K = OutboxMessage.Kind
S = OutboxMessage.State
EVENING = "2026-03-03"  # a Tuesday
MORNING = "2026-03-04"
NOW_YOURS = "This step is now yours."


@pytest.fixture
def acme(started_integration):
    started_integration.slack_channel_id = PARTNER_CHANNEL
    started_integration.save(update_fields=["slack_channel_id"])
    return started_integration


def handed_over_in_the_evening(acme, pm) -> OutboxMessage:
    """The partner's endpoints done by day; TradingView configures the autotests at 22:00: "passing-autotests"
    is the partner's, and "now yours" waits for 09:00 in Berlin."""
    with on(EVENING, 10):
        complete_step(step(acme, "endpoints-implementation"), ctx(pm, at(EVENING, 10)))
    with on(EVENING, 22):
        complete_step(step(acme, "autotests-configuration"), ctx(pm, at(EVENING, 22)))
    notice = OutboxMessage.objects.get(kind=K.HANDED_OVER)
    assert NOW_YOURS in notice.text and notice.not_before == at(MORNING, 8)
    return notice


def partner_texts(fake_slack) -> list[str]:
    return [post["text"] for post in fake_slack.posts(PARTNER_CHANNEL)]


def test_now_yours_for_a_step_the_partner_finished_before_nine_is_kept_and_says_why(acme, pm, fake_slack):
    notice = handed_over_in_the_evening(acme, pm)
    with on(MORNING, 7):
        complete_step(step(acme, "passing-autotests"), ctx(pm, at(MORNING, 7)))

    counts = delivery.deliver_due(now=at(MORNING, 8))

    assert counts["not_true"] == 1
    assert not any(NOW_YOURS in text for text in partner_texts(fake_slack))
    notice.refresh_from_db()
    assert notice.state == S.NOT_TRUE and notice.get_state_display() == "Not sent: no longer true"
    assert notice.last_error == (
        "Not sent: 2 · Partner · Passing REST API autotests was done on 4 Mar 2026, 07:00 (UTC), before this could go out."
    )
    assert notice.sent_at is None and notice.slack_ts == ""
    # Kept once: a later run neither posts it nor looks at it again.
    assert delivery.deliver_due(now=at(MORNING, 9)).get("not_true") is None
    assert not any(NOW_YOURS in text for text in partner_texts(fake_slack))


def test_the_pm_sees_why_it_was_not_sent_on_the_integration_page_and_in_the_admin(
    client, admin_client, acme, pm, fake_slack
):
    notice = handed_over_in_the_evening(acme, pm)
    with on(MORNING, 7):
        complete_step(step(acme, "passing-autotests"), ctx(pm, at(MORNING, 7)))
    delivery.deliver_due(now=at(MORNING, 8))
    client.force_login(pm)

    html = client.get(reverse("integration-page", args=[acme.pk])).content.decode()
    shown = html[html.index('id="slack-title"') :]
    assert '<span class="badge ">Not sent: no longer true</span>' in shown
    assert "Passing REST API autotests was done on 4 Mar 2026, 07:00 (UTC), before this could go out." in shown
    assert f'action="{reverse("outbox-retry", args=[notice.pk])}"' not in shown
    outbox = reverse("admin:notifications_outboxmessage_changelist")
    listed = admin_client.get(outbox + "?state=not_true").content.decode()
    assert "Passing REST API autotests was done on 4 Mar 2026, 07:00 (UTC)" in listed


def test_now_yours_still_true_in_the_morning_is_posted(acme, pm, fake_slack):
    notice = handed_over_in_the_evening(acme, pm)

    counts = delivery.deliver_due(now=at(MORNING, 8))

    assert "not_true" not in counts
    assert [text for text in partner_texts(fake_slack) if NOW_YOURS in text] == [notice.text]
    notice.refresh_from_db()
    assert notice.state == S.SENT and notice.last_error == ""


def test_now_yours_handed_over_late_names_the_moved_deadline_and_is_posted(acme, pm, fake_slack):
    """A late hand-over moves the partner's deadline in the same change: the notice names the new one."""
    with on("2026-03-25", 10):
        complete_step(step(acme, "endpoints-implementation"), ctx(pm, at("2026-03-25", 10)))
    with on("2026-03-27", 22):
        complete_step(step(acme, "autotests-configuration"), ctx(pm, at("2026-03-27", 22)))
    notice = OutboxMessage.objects.get(kind=K.HANDED_OVER)
    assert step(acme, "passing-autotests").due_date == notice.step_due_on == date(2026, 4, 21)

    delivery.deliver_due(now=at("2026-03-30", 8))

    notice.refresh_from_db()
    assert notice.state == S.SENT
    assert [text for text in partner_texts(fake_slack) if NOW_YOURS in text] == [notice.text]


def test_now_yours_is_not_posted_once_the_task_that_handed_it_over_is_reopened(acme, pm, fake_slack):
    notice = handed_over_in_the_evening(acme, pm)
    with on(MORNING, 7):
        reopen_step(step(acme, "autotests-configuration"), ctx(pm, at(MORNING, 7), note="Wrong Jenkins job"))

    delivery.deliver_due(now=at(MORNING, 8))

    assert not any(NOW_YOURS in text for text in partner_texts(fake_slack))
    notice.refresh_from_db()
    assert notice.state == S.NOT_TRUE
    assert notice.last_error == (
        "Not sent: 2 · TradingView · REST API autotests configuration was reopened on 4 Mar 2026, 07:00 (UTC): "
        "the ball is TradingView's, before this could go out."
    )


def test_news_that_stays_true_is_posted_though_the_step_moved_on(acme, pm, fake_slack):
    """The partner finished a step: still true once TradingView has moved on, and posted."""
    with on(EVENING, 22):
        complete_step(step(acme, "endpoints-implementation"), ctx(pm, at(EVENING, 22)))
    with on(MORNING, 8):
        complete_step(step(acme, "autotests-configuration"), ctx(pm, at(MORNING, 8)))
        reopen_step(step(acme, "endpoints-implementation"), ctx(pm, at(MORNING, 8), note="A field is missing"))
    done = OutboxMessage.objects.get(kind=K.PARTNER_DONE)

    delivery.deliver_due(now=at(MORNING, 9))

    done.refresh_from_db()
    assert done.state == S.SENT
    assert not OutboxMessage.objects.filter(state=S.NOT_TRUE).exists()


def test_a_reminder_for_a_step_due_on_another_day_since_is_kept(acme, pm, fake_slack):
    endpoints = step(acme, "endpoints-implementation")
    reminder = queued(
        f"due_today:{endpoints.pk}:{MORNING}",
        K.DUE_TODAY,
        text="Due today",
        integration=acme,
        step=endpoints,
        channel=PARTNER_CHANNEL,
        not_before=at(MORNING, 8),
        due=endpoints.due_date,
    )
    assert reminder.step_due_on == date(2026, 3, 30)
    IntegrationStep.objects.filter(pk=endpoints.pk).update(due_date=date(2026, 4, 6))

    delivery.deliver_due(now=at(MORNING, 8))

    assert partner_texts(fake_slack) == []
    reminder.refresh_from_db()
    assert reminder.state == S.NOT_TRUE
    assert reminder.last_error == (
        "Not sent: 1 · Partner · Data / trading endpoints implementation is now due 6 Apr 2026 (it was due 30 Mar 2026), "
        "before this could go out."
    )


def test_a_reminder_of_a_paused_integration_is_kept(acme, pm, fake_slack):
    endpoints = step(acme, "endpoints-implementation")
    reminder = queued(
        f"overdue:{endpoints.pk}:{MORNING}",
        K.OVERDUE,
        text="Overdue",
        integration=acme,
        step=endpoints,
        channel=PARTNER_CHANNEL,
        not_before=at(MORNING, 8),
    )
    with on(MORNING, 8):
        plan.pause(acme, ctx(pm, at(MORNING, 8)))

    delivery.deliver_due(now=at(MORNING, 8))

    assert partner_texts(fake_slack) == []
    reminder.refresh_from_db()
    assert reminder.state == S.NOT_TRUE
    assert reminder.last_error == "Not sent: the integration was paused on 4 Mar 2026, before this could go out."


def test_a_row_that_may_already_be_in_slack_is_read_back_not_set_aside(acme, pm, fake_slack):
    """Its post's answer was lost: Slack may show it, so it is never called not sent."""
    notice = handed_over_in_the_evening(acme, pm)
    OutboxMessage.objects.filter(pk=notice.pk).update(state=S.WAITING, unknown_since=at(MORNING, 7))
    with on(MORNING, 7):
        complete_step(step(acme, "passing-autotests"), ctx(pm, at(MORNING, 7)))

    assert still_true.set_aside([(notice.pk, notice.kind)]) == set()
    notice.refresh_from_db()
    assert notice.state == S.WAITING


# --- a channel digest ---


@pytest.fixture
def internal(settings):
    settings.SLACK_INTERNAL_CHANNEL = INTERNAL_CHANNEL


def escalated(count: int, pm) -> tuple[list, OutboxMessage]:
    """``count`` partners late past the escalation on ESCALATION_DAY, listed in one escalation digest."""
    late = portfolio(count, pm, tradingview_done=True)
    with on(ESCALATION_DAY, 6):
        plan_reminders(ESCALATION_DAY)
    digest = OutboxMessage.objects.get(kind=K.CHANNEL_DIGEST, channel=INTERNAL_CHANNEL)
    assert digest.listed.count() == count
    return late, digest


def finish_endpoints(integrations, pm):
    with on(ESCALATION_DAY, 7):
        for integration in integrations:
            complete_step(step(integration, "endpoints-implementation"), ctx(pm, at(ESCALATION_DAY, 7)))


def test_a_digest_with_half_its_lines_stale_is_posted_without_them(internal, pm, fake_slack):
    late, digest = escalated(4, pm)
    finish_endpoints(late[:2], pm)

    delivery.deliver_due(now=at(ESCALATION_DAY, 9))

    [post] = [p for p in fake_slack.posts(INTERNAL_CHANNEL) if "Escalation" in p["text"]]
    assert post["text"].startswith("*Escalation: 2 partner steps are late; time to call the partners*")
    for integration in late[:2]:
        assert integration.name.replace("&", "&amp;").replace("<", "&lt;") not in post["text"]
    for integration in late[2:]:
        assert integration.name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in post["text"]
    digest.refresh_from_db()
    assert digest.state == S.SENT and digest.text == post["text"]
    stale = OutboxMessage.objects.filter(kind=K.ESCALATION, state=S.NOT_TRUE)
    assert {row.integration_id for row in stale} == {integration.pk for integration in late[:2]}
    assert all(
        row.last_error.endswith("was done on 13 Apr 2026, 07:00 (UTC), before this could go out.") for row in stale
    )
    assert OutboxMessage.objects.filter(kind=K.ESCALATION, state=S.DIGESTED).count() == 2


def test_a_digest_whose_every_line_went_stale_is_not_posted(internal, pm, fake_slack):
    late, digest = escalated(3, pm)
    finish_endpoints(late, pm)

    delivery.deliver_due(now=at(ESCALATION_DAY, 9))

    assert not [p for p in fake_slack.posts(INTERNAL_CHANNEL) if "Escalation" in p["text"]]
    digest.refresh_from_db()
    assert digest.state == S.NOT_TRUE
    assert digest.last_error.startswith("Not sent: none of the 3 steps it listed is still late or due; the first: 1 · ")
    assert digest.last_error.endswith("was done on 13 Apr 2026, 07:00 (UTC), before this could go out.")
    assert OutboxMessage.objects.filter(kind=K.ESCALATION, state=S.NOT_TRUE).count() == 3


# --- what the check costs ---


def reminders_of_done_steps(acme, count: int) -> list[OutboxMessage]:
    """``count`` "due today" rows for the morning, of steps done since they were written."""
    steps = list(acme.steps.order_by("position")[:count])
    rows = [
        queued(
            f"due_today:{s.pk}:{MORNING}",
            K.DUE_TODAY,
            text=f"Due today {n}",
            integration=acme,
            step=s,
            channel=f"C0PART{n:04d}",  # a channel each: none waits for another's pace
            not_before=at(MORNING, 8),
        )
        for n, s in enumerate(steps)
    ]
    IntegrationStep.objects.filter(pk__in=[s.pk for s in steps]).update(
        status=StepStatus.DONE, completed_at=at(MORNING, 8)
    )
    return rows


@pytest.mark.parametrize("count", [3, 12])
def test_a_delivery_run_of_stale_rows_costs_the_same_queries_whatever_their_number(acme, fake_slack, count):
    OutboxMessage.objects.all().delete()
    reminders_of_done_steps(acme, count)

    with CaptureQueriesContext(connection) as queries:
        counts = delivery.deliver_due(now=at(MORNING, 8))

    assert counts["not_true"] == count
    assert fake_slack.calls("chat.postMessage") == []
    # reclaim's read and update, the due rows, the rows checked, their steps, the UPDATE keeping them
    assert len(queries) == 6


def test_the_check_reads_the_steps_once_for_a_mixed_batch(acme, internal, pm, fake_slack):
    """Stale rows, true rows and a digest's lines: the same few queries for 3 rows as for 12."""
    counts = []
    for size in (3, 12):
        OutboxMessage.objects.all().delete()
        IntegrationStep.objects.filter(integration=acme).update(status=StepStatus.NOT_STARTED, completed_at=None)
        rows = reminders_of_done_steps(acme, size)
        IntegrationStep.objects.filter(pk__in=[r.step_id for r in rows[::2]]).update(status=StepStatus.IN_PROGRESS)
        with CaptureQueriesContext(connection) as queries:
            aside = still_true.set_aside([(r.pk, r.kind) for r in rows])
        assert aside == {r.pk for r in rows[1::2]}
        counts.append(len(queries))
    assert counts == [3, 3]
