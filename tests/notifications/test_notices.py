"""Notices on roadmap events: each an outbox row written with the change, in the step's thread.

The default plan kicked off on Monday 2026-03-02 (tests/default_plan.py); the PM makes the changes.
"""

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from integrations import plan, steps
from integrations.handovers.records import save_auth_sheet, set_beta_testers
from integrations.handovers.url_check import check_url
from integrations.models import PartnerContact
from notifications.models import OutboxMessage, SlackThread
from roadmap.refusals import PrerequisitesOpen
from tests.default_plan import STEP_CODES
from tests.integrations.handovers.helpers import hand_over_everything
from tests.integrations.helpers import ctx, on, step

K = OutboxMessage.Kind
PARTNER_CHANNEL = "C0PARTNER"
INTERNAL = "C0INTERNAL"


def d(month, day):
    return date(2026, month, day)


@pytest.fixture
def running(settings, started_integration):
    settings.SLACK_INTERNAL_CHANNEL = INTERNAL
    started_integration.slack_channel_id = PARTNER_CHANNEL
    started_integration.save(update_fields=["slack_channel_id"])
    return started_integration


def complete(integration, code, day, by):
    with on(day):
        return steps.complete_step(step(integration, code), ctx(by, day))


def up_to_sandbox_access(integration, pm):
    """Everything before sandbox access is done on time."""
    complete(integration, "slack-jira-onboarding", d(3, 4), pm)
    complete(integration, "autotests-configuration", d(3, 4), pm)
    complete(integration, "endpoints-implementation", d(3, 24), pm)
    complete(integration, "passing-autotests", d(3, 27), pm)


def test_tradingview_hands_over_sandbox_access_the_partner_hears_what_is_now_theirs(running, pm):
    up_to_sandbox_access(running, pm)
    complete(running, "sandbox-access", d(3, 30), pm)
    development = step(running, "sandbox-development")
    notice = OutboxMessage.objects.get(kind=K.HANDED_OVER, step=development)
    assert notice.channel == PARTNER_CHANNEL
    assert notice.step == development
    assert "TradingView finished: Sandbox access configuration" in notice.text
    assert "This step is now yours." in notice.text
    assert "due Mon 6 Apr 2026" in notice.text  # its planned deadline: the hand-over was on time
    assert notice.thread == SlackThread.objects.get(step=development, channel=PARTNER_CHANNEL)


def test_after_a_late_hand_over_the_notice_gives_the_moved_deadline(running, pm):
    up_to_sandbox_access(running, pm)
    complete(running, "sandbox-access", d(4, 3), pm)  # due Mon 30 March: 4 working days late
    development = step(running, "sandbox-development")
    assert development.due_date == d(4, 10)  # keeps its week (5 working days) after the hand-over
    notice = OutboxMessage.objects.get(kind=K.HANDED_OVER, step=development)
    assert "due Fri 10 Apr 2026" in notice.text
    assert "Mon 06 Apr" not in notice.text


def test_the_partner_finishing_a_step_is_heard_in_the_internal_channel(running, pm):
    complete(running, "endpoints-implementation", d(3, 24), pm)
    notice = OutboxMessage.objects.get(kind=K.PARTNER_DONE)
    assert notice.channel == INTERNAL
    assert notice.step == step(running, "endpoints-implementation")
    assert notice.text.startswith("The partner finished a step")
    assert not OutboxMessage.objects.filter(channel=PARTNER_CHANNEL).exists()


def test_blocked_and_unblocked_go_to_the_channel_of_the_side_that_owes_the_step(running, pm):
    endpoints = step(running, "endpoints-implementation")
    with on(d(3, 10)):
        steps.block_step(endpoints, ctx(pm, d(3, 10), note="Waiting for the exchange's API keys."))
    with on(d(3, 12)):
        steps.unblock_step(step(running, "endpoints-implementation"), ctx(pm, d(3, 12), note="Keys arrived."))
    onboarding = step(running, "slack-jira-onboarding")
    with on(d(3, 12)):
        steps.block_step(onboarding, ctx(pm, d(3, 12), note="Slack workspace invite pending."))
    blocked, unblocked = OutboxMessage.objects.filter(step=endpoints).order_by("id")
    assert (blocked.kind, blocked.channel) == (K.BLOCKED, PARTNER_CHANNEL)
    assert "Waiting for the exchange's API keys." in blocked.text
    assert (unblocked.kind, unblocked.channel) == (K.UNBLOCKED, PARTNER_CHANNEL)
    assert "Keys arrived." in unblocked.text
    tv_blocked = OutboxMessage.objects.get(step=onboarding)
    assert (tv_blocked.kind, tv_blocked.channel) == (K.BLOCKED, INTERNAL)
    # one thread per step and channel: the unblocked notice sits under the blocked one
    assert blocked.thread_id == unblocked.thread_id == SlackThread.objects.get(step=endpoints).pk


def test_a_replan_is_heard_in_both_channels(running, pm):
    with on(d(3, 10)):
        plan.replan(running, d(3, 16), ctx(pm, d(3, 10), note="The partner starts two weeks later."))
    rows = OutboxMessage.objects.filter(kind=K.REPLANNED)
    assert sorted(rows.values_list("channel", flat=True)) == [INTERNAL, PARTNER_CHANNEL]
    for row in rows:
        assert "Kick-off moved from 2 Mar 2026 to 16 Mar 2026" in row.text
        assert "The partner starts two weeks later." in row.text


def test_launch_is_heard_in_both_channels_and_mailed_to_the_partner_contacts(running, pm):
    PartnerContact.objects.create(partner=running.partner, name="Carla", email="carla@acme.example")
    PartnerContact.objects.create(partner=running.partner, name="Dan", email="dan@acme.example", is_primary=True)
    PartnerContact.objects.create(partner=running.partner, name="No mail")
    hand_over_everything(running)
    day = d(3, 3)
    for code in STEP_CODES:
        complete(running, code, day, pm)
        day = d(3, day.day + 1) if day.weekday() < 4 else d(3, day.day + 3)
    running.refresh_from_db()
    assert running.state == running.State.LAUNCHED
    launched = OutboxMessage.objects.filter(kind=K.LAUNCHED)
    assert sorted(launched.values_list("channel", flat=True)) == [INTERNAL, PARTNER_CHANNEL]
    assert all("Open to all users" in row.text for row in launched)
    email = OutboxMessage.objects.get(kind=K.LAUNCH_EMAIL)
    assert email.channel == ""
    assert email.emails == ["dan@acme.example", "carla@acme.example"]  # primary contact first
    assert running.launched_on == d(3, 25)  # one step a working day from 3 Mar: the 17th
    assert f"{running} is now open to all TradingView users (launched on 25 Mar 2026)" in email.text
    # Delivery takes an e-mail's first line as its subject: it says what happened, then the greeting.
    subject, blank, greeting = email.text.splitlines()[:3]
    assert subject == f"{running} is live on TradingView: open to all users since 25 Mar 2026"
    assert (blank, greeting) == ("", "Hello,")


def test_a_refused_change_writes_no_notice(running, pm):
    passing = step(running, "passing-autotests")  # its prerequisites are open
    with on(d(3, 10)), pytest.raises(PrerequisitesOpen):
        steps.complete_step(passing, ctx(pm, d(3, 10)))
    assert not OutboxMessage.objects.exists()
    assert not SlackThread.objects.exists()


def test_a_rolled_back_change_leaves_no_notice(running, pm):
    class Undo(Exception):
        pass

    with on(d(3, 24)), pytest.raises(Undo), transaction.atomic():
        steps.complete_step(step(running, "endpoints-implementation"), ctx(pm, d(3, 24)))
        assert OutboxMessage.objects.filter(kind=K.PARTNER_DONE).count() == 1  # written inside the change
        raise Undo
    assert not OutboxMessage.objects.exists()
    assert step(running, "endpoints-implementation").status != "done"


def test_messages_about_one_step_share_one_thread_per_channel(running, pm):
    endpoints = step(running, "endpoints-implementation")
    with on(d(3, 10)):
        steps.block_step(endpoints, ctx(pm, d(3, 10), note="Keys missing."))
    with on(d(3, 11)):
        steps.unblock_step(step(running, "endpoints-implementation"), ctx(pm, d(3, 11), note="Keys here."))
    complete(running, "endpoints-implementation", d(3, 12), pm)
    partner_rows = OutboxMessage.objects.filter(step=endpoints, channel=PARTNER_CHANNEL)
    internal_rows = OutboxMessage.objects.filter(step=endpoints, channel=INTERNAL)
    assert partner_rows.count() == 2 and internal_rows.count() == 1
    threads = SlackThread.objects.filter(step=endpoints)
    assert threads.count() == 2
    assert {r.thread_id for r in partner_rows} == {threads.get(channel=PARTNER_CHANNEL).pk}
    assert {r.thread_id for r in internal_rows} == {threads.get(channel=INTERNAL).pk}


def test_no_partner_channel_no_partner_notice(running, pm):
    running.slack_channel_id = ""
    running.save(update_fields=["slack_channel_id"])
    up_to_sandbox_access(running, pm)
    complete(running, "sandbox-access", d(4, 1), pm)
    assert not OutboxMessage.objects.filter(kind=K.HANDED_OVER).exists()
    assert OutboxMessage.objects.filter(kind=K.PARTNER_DONE, channel=INTERNAL).count() == 2


# --- the partner's hand-overs -------------------------------------------------------------------


def test_a_handed_over_url_tells_tradingview_how_its_check_went(running, partner_user, handover_servers):
    check_url(running, "trading", "production", handover_servers.no_cors, by=partner_user)
    check_url(running, "trading", "production", handover_servers.good, by=partner_user)

    failed, passed = OutboxMessage.objects.filter(kind=K.PARTNER_HANDOVER).order_by("id")
    deployment = step(running, "production-deployment")
    for notice in (failed, passed):
        assert notice.channel == INTERNAL and notice.step == deployment
        assert notice.thread == SlackThread.objects.get(step=deployment, channel=INTERNAL)
        assert "dev.bob via web" in notice.text
    assert "The partner handed over (check failed)" in failed.text and "CORS" in failed.text
    assert "The partner handed over (check passed)" in passed.text and handover_servers.good in passed.text


def test_beta_testers_and_the_sheet_are_heard_too_and_a_refused_hand_over_is_not(running, partner_user):
    set_beta_testers(running, "trader_joe\nquant.ann", by=partner_user)
    save_auth_sheet(running, "trading", {"client_id": "acme-tv"}, by=partner_user)
    with pytest.raises(ValidationError):
        set_beta_testers(running, "not a username!", by=partner_user)

    testers, sheet = OutboxMessage.objects.filter(kind=K.PARTNER_HANDOVER).order_by("id")
    assert testers.step == step(running, "beta-testing") and "Beta testers: trader_joe, quant.ann." in testers.text
    assert sheet.step == step(running, "production-deployment")
    assert "still lacking the authorisation URI, token URI" in sheet.text


def test_no_internal_channel_no_hand_over_notice(settings, started_integration, partner_user):
    settings.SLACK_INTERNAL_CHANNEL = ""
    set_beta_testers(started_integration, "trader_joe", by=partner_user)
    assert not OutboxMessage.objects.filter(kind=K.PARTNER_HANDOVER).exists()


# --- a PM's note on a TradingView step stays TradingView's ------------------------------------------


def test_a_note_on_a_tradingview_step_never_goes_to_the_partners_channel(running, pm):
    onboarding = step(running, "slack-jira-onboarding")
    with on(d(3, 3)):
        steps.block_step(onboarding, ctx(pm, d(3, 3), note="INTERNAL: legal holds it"))
    with on(d(3, 4)):
        steps.unblock_step(step(running, "slack-jira-onboarding"), ctx(pm, d(3, 4), note="INTERNAL: legal agreed"))
        steps.complete_step(step(running, "slack-jira-onboarding"), ctx(pm, d(3, 4), note="INTERNAL: done, late"))
        steps.change_status(
            step(running, "autotests-configuration"), "not_applicable", ctx(pm, d(3, 4), note="INTERNAL: skip it")
        )
    with on(d(3, 5)):
        steps.reopen_step(step(running, "autotests-configuration"), ctx(pm, d(3, 5), note="INTERNAL: needed after all"))

    to_partner = OutboxMessage.objects.filter(channel=PARTNER_CHANNEL)
    assert not [m.text for m in to_partner if "INTERNAL" in m.text + str(m.blocks)]
    internal = " ".join(m.text for m in OutboxMessage.objects.filter(channel=INTERNAL))
    assert "INTERNAL: legal holds it" in internal  # TradingView's own channel hears it


# --- "TradingView notifies the partner via Slack once completed" ----------------------------------


def test_tradingview_configuring_the_autotests_is_heard_even_before_the_partner_can_run_them(running, pm):
    complete(running, "autotests-configuration", d(3, 4), pm)  # the partner's endpoints are not done yet
    passing = step(running, "passing-autotests")
    [notice] = OutboxMessage.objects.filter(channel=PARTNER_CHANNEL)
    assert notice.kind == K.HANDED_OVER
    assert notice.step == passing  # in the thread of the partner's next step
    assert notice.text.startswith(
        "TradingView has configured your autotests: you can now run them in Jenkins"
        " — your next step: Passing REST API autotests, due Mon 30 Mar 2026"
    )
    assert not [b for b in notice.blocks if b["type"] == "actions" and "Mark done" in str(b)]


def test_tradingview_finishing_the_onboarding_tells_the_partner_its_next_step(running, pm):
    complete(running, "slack-jira-onboarding", d(3, 4), pm)
    [notice] = OutboxMessage.objects.filter(channel=PARTNER_CHANNEL)
    assert notice.step == step(running, "endpoints-implementation")
    assert notice.text.startswith("TradingView has set up your Slack channel and Jira")
    assert "your next step: Data / trading endpoints implementation, due Mon 30 Mar 2026" in notice.text


def test_what_the_partner_hears_is_escaped(running, pm):
    running.name = "<!channel> Acme"
    running.save(update_fields=["name"])
    complete(running, "autotests-configuration", d(3, 4), pm)
    [notice] = OutboxMessage.objects.filter(channel=PARTNER_CHANNEL)
    assert "<!channel>" not in notice.text + str(notice.blocks)
    assert "&lt;!channel&gt; Acme" in notice.text


def test_once_per_completion_a_redo_says_it_again_a_duplicate_event_does_not(running, pm):
    from integrations import events
    from notifications.notices import on_roadmap_event

    seen = []

    def keep(sender, event, **kwargs):
        seen.append(event)

    events.roadmap_event.connect(keep)
    try:
        complete(running, "autotests-configuration", d(3, 4), pm)
    finally:
        events.roadmap_event.disconnect(keep)
    for event in seen:
        on_roadmap_event(sender=None, event=event)  # the same event delivered again
    assert OutboxMessage.objects.filter(channel=PARTNER_CHANNEL, kind=K.HANDED_OVER).count() == 1

    with on(d(3, 5)):
        steps.reopen_step(step(running, "autotests-configuration"), ctx(pm, d(3, 5), note="Job renamed"))
    complete(running, "autotests-configuration", d(3, 6), pm)
    assert OutboxMessage.objects.filter(channel=PARTNER_CHANNEL, kind=K.HANDED_OVER).count() == 2


def test_the_partner_hears_tradingview_finished_through_the_real_slack_client(running, pm, fake_slack):
    from notifications import delivery
    from tests.integrations.helpers import at

    complete(running, "autotests-configuration", d(3, 4), pm)
    delivery.deliver_due(now=at(d(3, 4), 15))
    [post] = fake_slack.posts(PARTNER_CHANNEL)
    assert "TradingView has configured your autotests" in post["text"]
