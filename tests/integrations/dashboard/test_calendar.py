"""The PM's iCalendar feed: every open deadline, RFC 5545 text, and tokens that a password change revokes."""

from datetime import date

import icalendar
import pytest
from django.urls import reverse

from integrations import plan
from integrations.dashboard.portfolio import calendar_token
from integrations.models import IntegrationStep
from integrations.standing import standing
from roadmap.models import OPEN_STATUSES
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory
from tests.integrations.helpers import KICKOFF, PLANNED_DUE, at, ctx, on, step

pytestmark = pytest.mark.django_db


def kicked_off(pm, name):
    integration = IntegrationFactory(partner=PartnerFactory(name=name), tv_pm=pm)
    with on(KICKOFF, 9):
        return plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))


def feed(client, user):
    response = client.get(reverse("pm-calendar", args=[calendar_token(user)]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return response.content


def test_feed_holds_every_open_deadline(client, pm):
    first = kicked_off(pm, "Acme Broker")
    second = kicked_off(pm, "Zeta, Exchange; Ltd")
    kicked_off(UserFactory(username="bob", staff=True), "Not Mine Broker")
    with on(date(2026, 3, 4)):
        from integrations.steps import complete_step

        complete_step(step(first, "slack-jira-onboarding"), ctx(pm, at(date(2026, 3, 4))))
    with on(date(2026, 3, 4)):
        body = feed(client, pm)
        shown = {s.pk: standing(s.integration).deadline_shown(s) for s in IntegrationStep.objects.all()}
    calendar = icalendar.Calendar.from_ical(body)
    events = calendar.walk("VEVENT")
    expected = IntegrationStep.objects.filter(
        integration__in=[first, second], status__in=OPEN_STATUSES, due_date__isnull=False
    )
    assert len(events) == expected.count() == 33  # 17 + 17 steps, one done
    by_uid = {str(e["UID"]): e for e in events}
    for s in expected:
        event = by_uid[f"integration-step-{s.pk}@testserver"]
        # A step that cannot start yet is on its forecast deadline, never before its stored one.
        day, forecast = shown[s.pk]
        assert event.decoded("DTSTART") == day >= s.due_date
        assert str(event["SUMMARY"]) == f"{s.integration.partner.name}: {s}" + (" (forecast)" if forecast else "")
    onboarding = by_uid[f"integration-step-{step(second, 'slack-jira-onboarding').pk}@testserver"]
    assert str(onboarding["SUMMARY"]) == "Zeta, Exchange; Ltd: 1 · TradingView · Slack/Jira onboarding"
    assert onboarding.decoded("DTSTART") == PLANNED_DUE["slack-jira-onboarding"]
    assert onboarding.decoded("DTEND") == date(2026, 3, 6)
    assert f"integration-step-{step(first, 'slack-jira-onboarding').pk}@testserver" not in by_uid
    assert b"Not Mine Broker" not in body


def test_feed_is_rfc5545_text(client, pm):
    kicked_off(pm, "Ünïcode Brokerage Holdings International, Limited; with a very long name indeed")
    body = feed(client, pm)
    assert body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b"")
    lines = body.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines)
    assert any(line.startswith(b" ") for line in lines)  # folded
    assert b"Holdings International\\, Limited\\; with" in body.replace(b"\r\n ", b"")
    assert body.startswith(b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert all(b"DTSTAMP:" in e for e in body.split(b"BEGIN:VEVENT")[1:])


def test_uid_is_stable(client, pm):
    kicked_off(pm, "Acme Broker")
    uids = lambda: [str(e["UID"]) for e in icalendar.Calendar.from_ical(feed(client, pm)).walk("VEVENT")]  # noqa: E731
    assert uids() == uids()


def test_bad_token_is_404(client, pm):
    assert client.get(reverse("pm-calendar", args=["nonsense"])).status_code == 404
    token = calendar_token(pm)
    assert client.get(reverse("pm-calendar", args=[token[:-2] + "xx"])).status_code == 404


def test_password_change_revokes_the_token(client, pm):
    token = calendar_token(pm)
    assert client.get(reverse("pm-calendar", args=[token])).status_code == 200
    pm.set_password("a-new-password-123")
    pm.save()
    assert client.get(reverse("pm-calendar", args=[token])).status_code == 404
    assert client.get(reverse("pm-calendar", args=[calendar_token(pm)])).status_code == 200


def test_token_of_a_user_no_longer_staff_is_404(client, pm):
    token = calendar_token(pm)
    pm.is_staff = False
    pm.save()
    assert client.get(reverse("pm-calendar", args=[token])).status_code == 404


def test_queue_shows_the_feed_link(client, pm):
    client.force_login(pm)
    # The token is signed with the second it was made: the clock stands still while page and test make it.
    with on(KICKOFF, 9):
        body = client.get(reverse("my-queue")).content.decode()
        assert f"http://testserver/calendar/{calendar_token(pm)}.ics" in body
