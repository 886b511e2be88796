"""The history reads its stored dates in the one format people read: "5 Mar 2026", not "2026-03-05"."""

from datetime import UTC, datetime

import pytest
from django.test import RequestFactory

from integrations.models import ChangeSource, IntegrationEvent, StepChange
from integrations.read_models.history import history

Kind = IntegrationEvent.Kind


def _changes(integration):
    request = RequestFactory().get("/")
    steps = StepChange.objects.filter(step__integration=integration)
    return [row.change for row in history(request, steps, integration.events.all()).rows]


def _stored(integration, kind, from_value="", to_value="", day=1):
    """An event as the database keeps it, with its values as stored text (ISO for dates)."""
    IntegrationEvent.objects.create(
        integration=integration,
        kind=kind,
        from_value=from_value,
        to_value=to_value,
        source=ChangeSource.WEB,
        at=datetime(2026, 4, day, 9, tzinfo=UTC),
    )


@pytest.mark.django_db
def test_events_stored_with_iso_dates_read_as_people_read_dates(integration):
    _stored(integration, Kind.KICKED_OFF, to_value="2026-03-02", day=1)
    _stored(integration, Kind.REPLANNED, from_value="2026-03-02", to_value="2026-03-16", day=2)
    _stored(integration, Kind.PAUSED, to_value="2026-03-09", day=3)
    _stored(integration, Kind.RESUMED, from_value="2026-03-09", to_value="2026-03-19", day=4)
    _stored(integration, Kind.LAUNCH_AGREED, from_value="2026-05-25", to_value="2026-06-01", day=5)
    _stored(integration, Kind.LAUNCHED, to_value="2026-06-01", day=6)

    assert _changes(integration) == [
        "Launched on 1 Jun 2026",
        "Launch agreed for 1 Jun 2026 (was 25 May 2026)",
        "Resumed on 19 Mar 2026 (paused since 9 Mar 2026)",
        "Paused on 9 Mar 2026",
        "Re-planned: kick-off 2 Mar 2026 → 16 Mar 2026",
        "Kicked off on 2 Mar 2026",
    ]


@pytest.mark.django_db
def test_event_values_that_are_not_dates_are_shown_as_they_are(integration):
    _stored(integration, Kind.CANCELLED, from_value="active", to_value="cancelled", day=1)
    _stored(integration, Kind.FORECAST_SHOWN, from_value="hidden", to_value="shown", day=2)
    _stored(integration, Kind.PAUSED, to_value="2026-13-45", day=3)

    assert _changes(integration) == [
        "Paused on 2026-13-45",
        "The partner sees the P50 launch",
        "Cancelled (was Active)",
    ]


@pytest.mark.django_db
def test_a_kick_off_reads_its_steps_due_dates_and_its_own_day_as_people_read_them(started_integration):
    changes = _changes(started_integration)

    assert "Kicked off on 2 Mar 2026" in changes
    assert "Planned: Not started; due 5 Mar 2026" in changes
    assert not [change for change in changes if "2026-" in change]
