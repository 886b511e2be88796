"""The iCalendar feed (integrations.read_models.calendar): what a calendar app reads back is what was written."""

from datetime import date

import icalendar
import pytest

from integrations import plan
from integrations.read_models.calendar import ical_feed, partner_deadlines, pm_deadlines, shown_deadlines
from roadmap.models import Side
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on

# Every character RFC 5545 TEXT escapes, line breaks of each kind, multi-byte characters that a
# fold must not split, and enough of it to need several folds.
HOSTILE = 'Zeta, Exchange; Ltd \\ "Q" a\nb\r\nc\rd Ünïcode 日本語 🚀 ' + "é" * 40


def kicked_off(pm, partner_name, name=""):
    integration = IntegrationFactory(partner=PartnerFactory(name=partner_name), tv_pm=pm, name=name)
    with on(KICKOFF, 9):
        return plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))


def content_lines(text: str) -> list[bytes]:
    body = text.encode("utf-8")
    assert body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b"")
    return body.split(b"\r\n")[:-1]


@pytest.mark.django_db
def test_hostile_text_round_trips(pm):
    kicked_off(pm, HOSTILE, name=f"{HOSTILE} integration")
    steps = list(pm_deadlines(pm))
    now = at(KICKOFF, 10)
    text = ical_feed(HOSTILE, steps, "example.com", now=now)
    shown = shown_deadlines(steps, now)

    lines = content_lines(text)
    assert all(len(line) <= 75 for line in lines)
    assert all(line.decode("utf-8") for line in lines)  # no fold splits a character
    assert any(line.startswith(b" ") for line in lines)

    calendar = icalendar.Calendar.from_ical(text)
    # A CR alone or CRLF is written as a line break, and read back as "\n".
    plain = HOSTILE.replace("\r\n", "\n").replace("\r", "\n")
    # The parser leaves an X- property's value as written: it must be written as escaped TEXT.
    assert str(calendar["X-WR-CALNAME"]) == icalendar.vText(f"Integration deadlines · {plain}").to_ical().decode()
    events = calendar.walk("VEVENT")
    assert len(events) == len(steps) == 17
    by_uid = {str(event["UID"]): event for event in events}
    for s in steps:
        event = by_uid[f"integration-step-{s.pk}@example.com"]
        day, forecast = shown[s.pk]
        assert day == s.due_date  # on the kick-off day every forecast is the plan
        if forecast:  # waits for its prerequisites
            assert str(event["SUMMARY"]) == f"{plain}: {s} (forecast)"
            assert str(event["DESCRIPTION"]) == (
                f"{plain} integration: {s} waits for its prerequisites; forecast deadline {day:%Y-%m-%d}, "
                "as their forecasts stand today."
            )
        else:
            assert str(event["SUMMARY"]) == f"{plain}: {s}"
            assert str(event["DESCRIPTION"]) == (
                f"{plain} integration: {s} is {s.get_status_display().lower()}, due {s.due_date:%Y-%m-%d}."
            )
        assert event.decoded("DTSTART") == s.due_date
        assert (event.decoded("DTEND") - s.due_date).days == 1
        assert str(event["TRANSP"]) == "TRANSPARENT"


@pytest.mark.django_db
def test_the_partner_feed_holds_only_the_partners_steps(pm):
    integration = kicked_off(pm, "Acme Broker")
    text = ical_feed("Acme Broker", partner_deadlines(integration.partner), "example.com")
    events = icalendar.Calendar.from_ical(text).walk("VEVENT")
    assert len(events) == 8
    assert all(" Partner · " in str(e["SUMMARY"]) for e in events)
    assert integration.steps.filter(side=Side.PARTNER).count() == 8


def test_a_feed_of_no_steps_is_an_empty_calendar():
    text = ical_feed("Ann", [], "example.com")
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n")
    assert icalendar.Calendar.from_ical(text).walk("VEVENT") == []


def test_the_stamp_of_a_step_never_saved_is_now():
    class Step:
        pk, updated_at, due_date = 1, None, date(2026, 3, 5)
        integration = type("Integration", (), {"partner": type("Partner", (), {"name": "Acme"})()})()

        def get_status_display(self):
            return "Not started"

    now = at(date(2026, 3, 4), 9)
    event = icalendar.Calendar.from_ical(ical_feed("Ann", [Step()], "example.com", now=now)).walk("VEVENT")[0]
    assert event.decoded("DTSTAMP") == now
