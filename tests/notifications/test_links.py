"""Where a message's "Open" button and links lead: the page its readers may open, on ``SITE_URL``.

A partner's channel links to its stage page (``/partner/integrations/<id>/``), TradingView's channel
and the PM's digest to the dashboard's integration page, at the step. Never to the admin.
"""

import json
from datetime import date

import pytest
from django.urls import set_script_prefix

from integrations import plan, steps
from notifications.messages import page_url
from notifications.models import OutboxMessage, SlackThread, SlackUser
from notifications.reminders import plan_reminders
from roadmap.models import Side
from tests.integrations.helpers import ctx, on, step
from tests.notifications.conftest import INTERNAL_CHANNEL, PARTNER_CHANNEL, SITE_URL

K = OutboxMessage.Kind


def d(month, day):
    return date(2026, month, day)


def open_urls(row: OutboxMessage) -> list[str]:
    return [e["url"] for b in row.blocks if b["type"] == "actions" for e in b["elements"] if "url" in e]


@pytest.fixture
def acme(settings, started_integration):
    settings.SITE_URL = SITE_URL
    settings.SLACK_INTERNAL_CHANNEL = INTERNAL_CHANNEL
    started_integration.slack_channel_id = PARTNER_CHANNEL
    started_integration.save(update_fields=["slack_channel_id"])
    return started_integration


def stage_page(integration) -> str:
    return f"{SITE_URL}/partner/integrations/{integration.pk}/"


def dashboard_page(integration, step_=None) -> str:
    return f"{SITE_URL}/integrations/{integration.pk}/" + (f"#step-{step_.pk}" if step_ else "")


def test_a_step_notice_links_the_partner_to_its_stage_page_and_tradingview_to_the_dashboard(acme, pm):
    endpoints = step(acme, "endpoints-implementation")
    onboarding = step(acme, "slack-jira-onboarding")
    with on(d(3, 10)):
        steps.block_step(endpoints, ctx(pm, d(3, 10), note="Keys missing."))
        steps.block_step(onboarding, ctx(pm, d(3, 10), note="Invite pending."))

    partners = OutboxMessage.objects.get(kind=K.BLOCKED, step=endpoints)
    ours = OutboxMessage.objects.get(kind=K.BLOCKED, step=onboarding)
    assert (partners.channel, open_urls(partners)) == (PARTNER_CHANNEL, [stage_page(acme)])
    assert (ours.channel, open_urls(ours)) == (INTERNAL_CHANNEL, [dashboard_page(acme, onboarding)])


def test_a_notice_to_both_channels_links_each_to_its_own_page(acme, pm):
    with on(d(3, 10)):
        plan.replan(acme, d(3, 16), ctx(pm, d(3, 10), note="Later."))

    rows = {row.channel: row for row in OutboxMessage.objects.filter(kind=K.REPLANNED)}
    assert open_urls(rows[PARTNER_CHANNEL]) == [stage_page(acme)]
    assert open_urls(rows[INTERNAL_CHANNEL]) == [dashboard_page(acme)]


def test_the_thread_status_update_links_as_its_channel_does(acme, pm):
    endpoints = step(acme, "endpoints-implementation")
    SlackThread.objects.create(step=endpoints, channel=PARTNER_CHANNEL, ts="1.0")
    SlackThread.objects.create(step=endpoints, channel=INTERNAL_CHANNEL, ts="2.0")
    with on(d(3, 24)):
        steps.complete_step(endpoints, ctx(pm, d(3, 24)))

    updates = {row.channel: row for row in OutboxMessage.objects.filter(kind=K.THREAD_STATUS)}
    assert open_urls(updates[PARTNER_CHANNEL]) == [stage_page(acme)]
    assert open_urls(updates[INTERNAL_CHANNEL]) == [dashboard_page(acme, endpoints)]


def test_reminders_link_as_their_channel_does(acme, pm):
    with on(d(3, 5), 6):
        plan_reminders(d(3, 5))  # TradingView's first tasks are due
    with on(d(3, 19), 6):
        plan_reminders(d(3, 19))  # the partner's endpoints in 7 working days

    [reminder] = OutboxMessage.objects.filter(kind=K.REMINDER)
    assert (reminder.channel, open_urls(reminder)) == (PARTNER_CHANNEL, [stage_page(acme)])
    for due in OutboxMessage.objects.filter(kind=K.TRADINGVIEW_DUE):
        assert open_urls(due) == [dashboard_page(acme, due.step)]


def test_the_digest_links_the_pm_to_the_dashboard(acme, pm):
    SlackUser.objects.create(user=pm, slack_user_id="U0ALICE")
    with on(d(3, 30), 6):
        plan_reminders(d(3, 30))

    digest = OutboxMessage.objects.get(kind=K.DIGEST)
    assert f"<{dashboard_page(acme)}|{acme}>" in digest.blocks[1]["text"]["text"]


def test_no_message_links_to_the_admin(acme, pm):
    SlackUser.objects.create(user=pm, slack_user_id="U0ALICE")
    with on(d(3, 10)):
        steps.block_step(step(acme, "endpoints-implementation"), ctx(pm, d(3, 10), note="Keys missing."))
        plan.replan(acme, d(3, 16), ctx(pm, d(3, 10), note="Later."))
    with on(d(3, 30), 6):
        plan_reminders(d(3, 30))

    everything = json.dumps(list(OutboxMessage.objects.values_list("text", "blocks")))
    assert OutboxMessage.objects.count() >= 4
    assert "/admin/" not in everything
    assert "127.0.0.1" not in everything


def test_without_a_site_url_there_is_no_link_to_follow(acme, pm, settings):
    settings.SITE_URL = ""
    SlackUser.objects.create(user=pm, slack_user_id="U0ALICE")
    with on(d(3, 10)):
        steps.block_step(step(acme, "endpoints-implementation"), ctx(pm, d(3, 10), note="Keys missing."))
    with on(d(3, 30), 6):
        plan_reminders(d(3, 30))

    rows = list(OutboxMessage.objects.all())
    assert rows and all(open_urls(row) == [] for row in rows)
    digest = OutboxMessage.objects.get(kind=K.DIGEST)
    assert f"*{acme}*" in digest.blocks[1]["text"]["text"] and "<" not in digest.blocks[1]["text"]["text"]


def test_links_follow_the_script_prefix_the_product_is_served_under(acme):
    """The pages' paths are worked out once per page name, and again under another prefix."""
    assert page_url(acme, Side.PARTNER) == stage_page(acme)
    set_script_prefix("/roadmap/")
    try:
        assert page_url(acme, Side.PARTNER) == f"{SITE_URL}/roadmap/partner/integrations/{acme.pk}/"
        assert page_url(acme, Side.TRADINGVIEW) == f"{SITE_URL}/roadmap/integrations/{acme.pk}/"
    finally:
        set_script_prefix("/")
    assert page_url(acme, Side.TRADINGVIEW) == dashboard_page(acme)
