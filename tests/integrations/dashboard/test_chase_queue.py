"""Chasing the partner from "My queue": the partner steps to chase and "Remind now"
(integrations.dashboard.portfolio, notifications.chase)."""

from datetime import date

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from benchmarks.portfolio import copy_portfolio
from integrations import plan
from integrations.models import Integration
from notifications.models import OutboxMessage
from tests.browser import needs_browser
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory
from tests.integrations.dashboard.test_browser import login
from tests.integrations.helpers import KICKOFF, at, ctx, on, step

pytestmark = pytest.mark.django_db

# The partner's endpoints are due Mon 2026-03-30.
TWO_WORKING_DAYS_BEFORE = date(2026, 3, 26)  # Thu: due within two working days
THREE_WORKING_DAYS_BEFORE = date(2026, 3, 25)  # Wed: not yet
DAY_AFTER = date(2026, 3, 31)  # Tue: 1 working day overdue


def kicked_off(pm, name, channel="C0PARTNER", **fields):
    integration = IntegrationFactory(partner=PartnerFactory(name=name), tv_pm=pm, slack_channel_id=channel, **fields)
    with on(KICKOFF, 9):
        return plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))


@pytest.fixture
def staff_client(client, pm):
    client.force_login(pm)
    return client


def chase_codes(response):
    return [(i.integration.partner.name, i.step.code) for i in response.context["chase"]]


def test_partner_steps_overdue_or_due_within_two_working_days_on_my_integrations(staff_client, pm):
    kicked_off(pm, "Mine Broker")
    kicked_off(UserFactory(username="bob", staff=True), "Not Mine Broker")
    with on(THREE_WORKING_DAYS_BEFORE):
        assert chase_codes(staff_client.get(reverse("my-queue"))) == []
    with on(TWO_WORKING_DAYS_BEFORE):
        response = staff_client.get(reverse("my-queue"))
    assert chase_codes(response) == [("Mine Broker", "endpoints-implementation")]
    body = response.content.decode()
    assert "Partner steps to chase" in body and "Not Mine Broker" not in body
    assert "Due in 2 working days" in body and "none yet" in body and ">Remind now</button>" in body
    # The preview is the reminder's own text, naming the PM.
    assert "What is left is yours to finish." in body and "Alice, your TradingView PM" in body
    with on(DAY_AFTER):
        body = staff_client.get(reverse("my-queue")).content.decode()
    assert "1 working day overdue" in body


def test_remind_now_writes_one_row_and_a_second_press_writes_none(staff_client, pm):
    integration = kicked_off(pm, "Acme Broker")
    target = step(integration, "endpoints-implementation")
    with on(DAY_AFTER, 10):
        response = staff_client.post(reverse("queue-remind", args=[target.pk]), HTTP_HX_REQUEST="true")
        assert response.status_code == 200
        assert "Reminder written at 10:00 by Alice" in response.content.decode()
        again = staff_client.post(reverse("queue-remind", args=[target.pk]), HTTP_HX_REQUEST="true")
        assert "Already reminded today at 10:00 by Alice" in again.content.decode()
    rows = OutboxMessage.objects.filter(step=target)
    assert rows.count() == 1
    row = rows.get()
    assert row.kind == OutboxMessage.Kind.OVERDUE and row.channel == "C0PARTNER" and row.sent_by == pm
    assert row.reason_key == f"overdue:{target.pk}:2026-03-31"  # the daily sweep's reason: once a day
    assert "Alice, your TradingView PM" in row.text
    with on(DAY_AFTER, 11):
        body = staff_client.get(reverse("my-queue")).content.decode()
    assert "Already reminded today at 10:00 by Alice" in body and ">Remind now</button>" not in body
    # The next day it can be sent again; the last one is shown.
    with on(date(2026, 4, 1), 10):
        body = staff_client.get(reverse("my-queue")).content.decode()
        assert "Overdue, 31 Mar 2026, 10:00 by Alice" in body and ">Remind now</button>" in body
        staff_client.post(reverse("queue-remind", args=[target.pk]))
    assert OutboxMessage.objects.filter(step=target).count() == 2


def test_remind_now_without_htmx_redirects_with_a_message(staff_client, pm):
    target = step(kicked_off(pm, "Acme Broker"), "endpoints-implementation")
    with on(DAY_AFTER, 10):
        response = staff_client.post(reverse("queue-remind", args=[target.pk]), follow=True)
    assert response.redirect_chain == [(reverse("my-queue"), 302)]
    assert "Reminder written at 10:00" in response.content.decode()


def test_remind_now_refuses_a_step_not_to_chase(staff_client, pm):
    integration = kicked_off(pm, "Acme Broker")
    other = kicked_off(UserFactory(username="bob", staff=True), "Bob Broker")
    with on(DAY_AFTER, 10):
        tradingview_step = step(integration, "slack-jira-onboarding")
        for target in (tradingview_step, step(other, "endpoints-implementation")):
            response = staff_client.post(reverse("queue-remind", args=[target.pk]), HTTP_HX_REQUEST="true")
            assert response.status_code == 409
    assert not OutboxMessage.objects.filter(kind=OutboxMessage.Kind.OVERDUE).exists()


def test_no_slack_channel_says_so_and_writes_nothing(staff_client, pm):
    target = step(kicked_off(pm, "Acme Broker", channel=""), "endpoints-implementation")
    with on(DAY_AFTER, 10):
        body = staff_client.get(reverse("my-queue")).content.decode()
        assert "No Slack channel set" in body
        staff_client.post(reverse("queue-remind", args=[target.pk]), HTTP_HX_REQUEST="true")
    assert not OutboxMessage.objects.filter(step=target).exists()


def test_partner_users_cannot_see_or_remind(client, pm, partner_user, started_integration):
    client.force_login(partner_user)
    target = step(started_integration, "endpoints-implementation")
    assert client.get(reverse("my-queue")).status_code == 403
    with on(DAY_AFTER, 10):
        assert client.post(reverse("queue-remind", args=[target.pk])).status_code == 403
    assert not OutboxMessage.objects.filter(step=target).exists()


def test_hostile_partner_and_step_text_is_escaped(staff_client, pm):
    integration = kicked_off(pm, "<script>alert(1)</script> & Co")
    target = step(integration, "endpoints-implementation")
    target.title = "<img src=x onerror=alert(2)>"
    target.save(update_fields=["title"])
    with on(DAY_AFTER, 10):
        body = staff_client.get(reverse("my-queue")).content.decode()
        staff_client.post(reverse("queue-remind", args=[target.pk]))
    assert "<script>alert(1)" not in body and "<img src=x" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in body
    row = OutboxMessage.objects.get(step=target)
    assert "<script>" not in row.text and "&lt;script&gt;" in row.text  # Slack's escaping, in one place


def test_query_count_does_not_grow_with_the_integrations(staff_client, pm):
    original = kicked_off(pm, "Original Broker")
    with on(DAY_AFTER, 10):
        staff_client.post(reverse("queue-remind", args=[step(original, "endpoints-implementation").pk]))
        with CaptureQueriesContext(connection) as one:
            response = staff_client.get(reverse("my-queue"))
        assert len(response.context["chase"]) == 1
        copy_portfolio(30, Integration.objects.filter(pk=original.pk).prefetch_related("steps"))
        with CaptureQueriesContext(connection) as thirty:
            response = staff_client.get(reverse("my-queue"))
    assert len(response.context["chase"]) == 30
    assert len(one) == len(thirty), [q["sql"] for q in thirty.captured_queries]


@pytest.mark.django_db(transaction=True)
@needs_browser
def test_a_pm_chases_a_late_partner_step_in_the_browser(page, pm):
    """Headless Chromium: "Remind now" on the queue swaps its row in place; the outbox has the row.

    Screenshots: /tmp/chase-remind-1440.png and /tmp/chase-remind-390.png."""
    integration = kicked_off(pm, "Acme Broker")
    target = step(integration, "endpoints-implementation")
    with time_machine.travel(at(DAY_AFTER, 10), tick=True):
        login(page, pm)
        page.goto("/queue/")
        row = page.locator(f"#chase-step-{target.pk}")
        assert "1 working day overdue" in row.inner_text() and "none yet" in row.inner_text()
        row.locator("summary:has-text('Preview')").click()
        assert "Alice, your TradingView PM" in row.inner_text()
        row.locator("button:has-text('Remind now')").click()
        page.wait_for_selector(f"#chase-step-{target.pk} [role=status]")
        assert "Reminder written at 10:00 by Alice" in page.locator(f"#chase-step-{target.pk}").inner_text()
        assert OutboxMessage.objects.filter(step=target, sent_by=pm).count() == 1
        page.goto("/queue/")
        page.screenshot(path="/tmp/chase-remind-1440.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path="/tmp/chase-remind-390.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
