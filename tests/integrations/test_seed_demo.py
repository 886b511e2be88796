"""``manage.py seed_demo``: a dozen partners at different steps, and a demo login."""

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from integrations.models import Integration, IntegrationStep, Partner, StepChange
from roadmap.models import StepStatus


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_builds_a_varied_portfolio_once(settings):
    output = seed()

    assert "Demo portfolio: 12 partner(s) added, 0 already there." in output
    assert f"Demo login: {settings.DEMO_USERNAME} / {settings.DEMO_PASSWORD}" in output
    user = authenticate(username=settings.DEMO_USERNAME, password=settings.DEMO_PASSWORD)
    assert user is not None and user.is_staff

    integrations = Integration.objects.all()
    assert integrations.count() == 12
    states = sorted(integrations.values_list("state", flat=True))
    assert states.count("launched") == 1
    assert states.count("paused") == 1
    assert IntegrationStep.objects.filter(status=StepStatus.BLOCKED).count() == 2
    overdue = [i for i in integrations if i.days_overdue() > 0]
    assert len(overdue) >= 5
    assert {i.ball_side for i in integrations} >= {"tradingview", "partner", "both"}
    # Every step's history starts with its planning row, written by the system at kick-off.
    assert StepChange.objects.filter(from_status="").count() == 12 * 15

    again = seed()
    assert "Demo portfolio: 0 partner(s) added, 12 already there." in again
    assert Partner.objects.count() == 12


@pytest.mark.django_db
def test_seed_demo_reset_rebuilds_the_demo_partners():
    seed()
    first = set(Integration.objects.values_list("pk", flat=True))
    output = seed("--reset")
    assert "12 partner(s) added" in output
    assert Integration.objects.count() == 12
    assert first.isdisjoint(Integration.objects.values_list("pk", flat=True))
