"""The partner's calendar feed: its open deadlines behind a revocable token."""

from datetime import UTC, datetime

import icalendar
import pytest
import time_machine
from django.urls import reverse

from integrations.stage.models import CalendarFeed
from integrations.steps import block_step
from tests.integrations.helpers import KICKOFF, ctx, on, step
from tests.integrations.stage.support import other_partner_user

pytestmark = pytest.mark.django_db


def feed_url(raw):
    return reverse("stage-calendar", args=[raw])


def test_the_feed_lists_the_partners_open_deadlines_as_all_day_events(client, started_integration):
    _, foreign = other_partner_user()
    _, raw = CalendarFeed.issue(partner=started_integration.partner)
    response = client.get(feed_url(raw))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    calendar = icalendar.Calendar.from_ical(response.content)
    events = [e for e in calendar.walk("VEVENT")]
    summaries = [str(e["SUMMARY"]) for e in events]
    # Only partner-side steps (8), all of Acme's, none of TradingView's tasks.
    assert len(events) == 8
    assert all(s.startswith("Acme Crypto Exchange: ") and "Partner ·" in s for s in summaries)
    first = events[0]
    assert str(first["DTSTART"].to_ical().decode()) == "20260330"
    assert "Acme Crypto Exchange" in str(calendar["X-WR-CALNAME"])
    assert "PM" not in str(calendar["PRODID"])  # a partner's feed is not the PM's


def test_a_revoked_or_unknown_feed_is_not_found(client, started_integration):
    feed, raw = CalendarFeed.issue(partner=started_integration.partner)
    assert client.get(feed_url(raw)).status_code == 200
    feed.revoke()
    assert client.get(feed_url(raw)).status_code == 404
    assert client.get(feed_url("nope")).status_code == 404


def test_the_partner_makes_and_revokes_its_feed_on_the_stage_page(client, partner_user, started_integration):
    client.force_login(partner_user)
    response = client.post(reverse("stage-calendar-create", args=[started_integration.pk]), follow=True)
    message = next(str(m) for m in response.context["messages"] if "calendar link" in str(m))
    raw = message.rsplit("/", 1)[-1].removesuffix(".ics")
    feed = CalendarFeed.find(raw)
    assert feed is not None and feed.partner == started_integration.partner and feed.created_by == partner_user
    assert client.get(feed_url(raw)).status_code == 200
    html = response.content.decode()
    assert f"{feed.prefix}…" in html
    client.post(reverse("stage-calendar-revoke", args=[started_integration.pk, feed.pk]))
    assert client.get(feed_url(raw)).status_code == 404


def test_the_feed_carries_no_note_of_tradingviews(client, started_integration, pm):
    with on(KICKOFF):
        block_step(step(started_integration, "slack-jira-onboarding"), ctx(pm, note="INTERNAL: legal holds it"))
        block_step(step(started_integration, "endpoints-implementation"), ctx(pm, note="INTERNAL too"))
    _, raw = CalendarFeed.issue(partner=started_integration.partner)

    assert "INTERNAL" not in client.get(feed_url(raw)).content.decode()


def test_the_stage_page_says_when_a_feed_was_made_and_read_in_the_partners_time(
    client, partner_user, started_integration, settings
):
    """The card said "last read 6 Dec 2026, 05:20 UTC" for a feed read at 13:20 UTC: the time was
    TradingView's (TIME_ZONE, Los Angeles) under a UTC label, on a page whose dates are the partner's."""
    settings.TIME_ZONE = "America/Los_Angeles"
    partner = started_integration.partner
    partner.time_zone = "Pacific/Auckland"
    partner.save(update_fields=["time_zone"])
    # 13:00 UTC: Sunday 05:00 in Los Angeles, Monday 02:00 in Auckland.
    with time_machine.travel(datetime(2026, 12, 6, 13, tzinfo=UTC), tick=False):
        feed, raw = CalendarFeed.issue(partner=partner)
    with time_machine.travel(datetime(2026, 12, 6, 13, 20, tzinfo=UTC), tick=False):
        assert client.get(feed_url(raw)).status_code == 200
    client.force_login(partner_user)
    html = client.get(reverse("stage-page", args=[started_integration.pk])).content.decode()
    card = html[html.index('id="calendar"') :].split("</ul>")[0]
    assert "made 7 Dec 2026, last read 7 Dec 2026, 02:20" in card
    assert "UTC" not in card
