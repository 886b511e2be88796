"""The change context: who changes the roadmap, from where, when and why, validated once."""

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser

from integrations.context import CLOCK_SKEW, ChangeContext
from integrations.models import ChangeSource
from roadmap.refusals import InvalidInput, Refusal
from tests.factories import UserFactory

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def alice():
    return UserFactory.build(username="alice", is_staff=True)


def test_clock_skew_is_five_minutes():
    assert timedelta(minutes=5) == CLOCK_SKEW


# --- what is refused -------------------------------------------------------------------------


@pytest.mark.parametrize("source", ["fax", "", "WEB", None])
def test_an_unknown_source_is_refused(source):
    with pytest.raises(InvalidInput) as caught:
        ChangeContext(source=source)

    refusal = caught.value
    assert isinstance(refusal, Refusal)
    assert refusal.code == "invalid_input"
    assert f"Unknown change source {source!r}" in refusal.message
    assert "web, api, jira, slack, system" in refusal.message


@pytest.mark.parametrize("source", list(ChangeSource))
def test_every_change_source_is_accepted(source):
    assert ChangeContext(source=source).source == source


@pytest.mark.parametrize("by", ["alice", 42, AnonymousUser()])
def test_a_change_is_made_by_a_user_or_by_nobody(by):
    with pytest.raises(InvalidInput, match="A change is made by a user, not by"):
        ChangeContext(source=ChangeSource.WEB, by=by)


@pytest.mark.parametrize("by_name", [None, 7, "x" * 201])
def test_by_name_is_a_short_text(by_name):
    with pytest.raises(InvalidInput, match="at most 200 characters"):
        ChangeContext(source=ChangeSource.JIRA, by_name=by_name)
    assert ChangeContext(source=ChangeSource.JIRA, by_name="x" * 200).by_name == "x" * 200


def test_the_note_must_be_text():
    with pytest.raises(InvalidInput, match="The note must be text"):
        ChangeContext(source=ChangeSource.WEB, note=None)


@pytest.mark.parametrize(
    "when",
    [datetime(2026, 3, 9, 12, 0), date(2026, 3, 9), "2026-03-09T12:00:00+00:00"],
    ids=["naive datetime", "date", "string"],
)
def test_a_time_without_its_time_zone_is_refused(when):
    with pytest.raises(InvalidInput, match="a date and time with its time zone") as caught:
        ChangeContext(source=ChangeSource.JIRA, at=when)
    assert repr(when) in caught.value.message


def test_a_time_more_than_five_minutes_ahead_is_refused(frozen_now):
    with pytest.raises(InvalidInput) as caught:
        ChangeContext(source=ChangeSource.JIRA, at=frozen_now + CLOCK_SKEW + timedelta(seconds=1))

    assert caught.value.message == (
        "The change is dated 10 Mar 2026, 12:05, in the future; record it when it has happened."
    )
    with pytest.raises(InvalidInput, match="in the future"):
        ChangeContext(source=ChangeSource.JIRA, at=datetime(2027, 1, 1, tzinfo=UTC))


# --- what is accepted ------------------------------------------------------------------------


@pytest.mark.parametrize("ahead", [timedelta(seconds=1), timedelta(minutes=2), CLOCK_SKEW])
def test_a_time_ahead_within_the_clock_skew_is_taken_as_now(frozen_now, ahead):
    context = ChangeContext(source=ChangeSource.JIRA, at=frozen_now + ahead)

    assert context.moment == frozen_now
    assert context.at == frozen_now + ahead  # what the reporter said, kept
    assert context.row()["at"] == frozen_now


def test_without_a_time_the_change_happens_now(frozen_now):
    context = ChangeContext(source=ChangeSource.WEB)

    assert context.at is None
    assert context.moment == frozen_now
    assert context.today == date(2026, 3, 10)


def test_a_past_time_is_kept(frozen_now):
    then = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    context = ChangeContext(source=ChangeSource.JIRA, at=then)

    assert context.moment == context.at == then
    assert context.today == date(2026, 3, 2)


def test_today_is_in_the_projects_time_zone(settings):
    settings.TIME_ZONE = "Asia/Tokyo"
    context = ChangeContext(source=ChangeSource.JIRA, at=datetime(2026, 3, 2, 23, 30, tzinfo=UTC))

    assert context.today == date(2026, 3, 3)  # 08:30 in Tokyo


def test_the_note_is_stripped():
    context = ChangeContext(source=ChangeSource.WEB, note="  \n Partner asked for more time.\t ")
    assert context.note == "Partner asked for more time."
    assert ChangeContext(source=ChangeSource.WEB, note="   ").note == ""


def test_row_gives_the_who_when_and_where_of_a_history_row(alice):
    then = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    context = ChangeContext(source=ChangeSource.WEB, by=alice, at=then, note="Kick-off call.")

    row = context.row()
    assert row.pop("entered_at") == context.entered  # entered now, long after it happened
    assert row == {"at": then, "source": "web", "by": alice, "by_name": "", "shared_with_partner": False}

    jira = ChangeContext(source=ChangeSource.JIRA, by_name="j.smith (Jira)", at=then)
    assert jira.row() == {
        "at": then,
        "source": "jira",
        "by": None,
        "by_name": "j.smith (Jira)",
        "shared_with_partner": False,
        "entered_at": jira.entered,
    }


def test_with_note_keeps_everything_else_and_the_moment(alice, frozen_now):
    context = ChangeContext(source=ChangeSource.SLACK, by=alice, note="First.")

    other = context.with_note("  Second.  ")

    assert (other.note, other.source, other.by, other.moment) == ("Second.", "slack", alice, frozen_now)
    assert context.note == "First."


def test_a_context_cannot_be_changed(alice):
    context = ChangeContext(source=ChangeSource.WEB, by=alice)
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.note = "Changed my mind."
    with pytest.raises(dataclasses.FrozenInstanceError):
        context.moment = NOW


def test_str_says_who_how_and_when(alice):
    then = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
    assert str(ChangeContext(source=ChangeSource.WEB, by=alice, at=then)) == "alice via web at 2 Mar 2026, 09:30"
    assert (
        str(ChangeContext(source=ChangeSource.JIRA, by_name="j.smith", at=then))
        == "j.smith via jira at 2 Mar 2026, 09:30"
    )
    assert str(ChangeContext(source=ChangeSource.SYSTEM, at=then)) == "system via system at 2 Mar 2026, 09:30"
