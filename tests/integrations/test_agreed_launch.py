"""The agreed launch date: recorded by a PM, the launch is due on it, the slip is measured against it."""

from datetime import date

import pytest
from django.urls import reverse

from integrations import plan
from integrations.agreed_launch import agree_launch, agreement_text
from integrations.models import IntegrationEvent, StepChange
from integrations.standing import standing
from integrations.steps import complete_step
from roadmap.refusals import IntegrationEnded, InvalidInput, NotRunning
from tests.factories import IntegrationFactory
from tests.integrations.handovers.helpers import hand_over_everything
from tests.integrations.helpers import KICKOFF, LAUNCH_WINDOW, PLANNED_DUE, STEP_CODES, at, ctx, on, step

pytestmark = pytest.mark.django_db

PLANNED_LAUNCH = LAUNCH_WINDOW[1]  # Monday 25 May 2026, the end of week 12
AGREED = date(2026, 6, 1)  # a Monday, one week after the plan's launch
BETA_DONE = PLANNED_DUE["beta-testing"]  # Monday 11 May 2026


def walk_to_beta_testing(integration, pm):
    """Every step before the launch done on its planned day, the partner's hand-overs made."""
    hand_over_everything(integration)
    for code in STEP_CODES[:-1]:
        with on(PLANNED_DUE[code], 10):
            complete_step(step(integration, code), ctx(pm, at(PLANNED_DUE[code], 10)))


def agree(integration, pm, day=AGREED, who="Mei", when=BETA_DONE, note=""):
    with on(when, 14):
        return agree_launch(integration, day, who, ctx(pm, at(when, 14), note=note))


def test_the_launch_is_due_on_the_agreed_date_and_the_plan_and_baseline_stay(started_integration, pm):
    walk_to_beta_testing(started_integration, pm)
    agree(started_integration, pm, note="Agreed on the beta call")

    started_integration.refresh_from_db()
    assert started_integration.agreed_launch_on == AGREED
    assert started_integration.launch_agreed_by == "Mei"
    assert started_integration.launch_agreed_at == at(BETA_DONE, 14)
    assert started_integration.launch_agreement_note == "Agreed on the beta call"
    event = started_integration.events.get(kind=IntegrationEvent.Kind.LAUNCH_AGREED)
    assert (event.from_value, event.to_value, event.by) == ("", "2026-06-01", pm)
    assert event.note == "Agreed by Mei. Agreed on the beta call"
    launch = step(started_integration, "open-to-all-users")
    assert launch.due_date == AGREED and launch.planned_due_date == PLANNED_LAUNCH
    move = StepChange.objects.filter(step=launch).latest("at", "id")
    assert (move.from_due, move.to_due) == (PLANNED_LAUNCH, AGREED)
    assert "Launch agreed for 1 Jun 2026 by Mei" in move.note

    now = standing(started_integration, at("2026-05-20"))
    assert now.launch_due == AGREED and now.forecast_launch == AGREED
    assert now.planned_launch == now.baseline_launch == PLANNED_LAUNCH
    assert now.slip_days == now.slip_vs_agreed_days == 0  # on time against what was agreed
    assert now.slip_vs_plan_days == 5 and now.slip_vs_baseline_days == 5
    assert now.overdue_steps() == []
    # The stored columns keep the plan's launch; the launch step's deadline is the agreed date.
    assert started_integration.planned_launch_on == PLANNED_LAUNCH


def test_past_the_agreed_date_the_launch_is_overdue_and_the_slip_counts_from_it(started_integration, pm):
    walk_to_beta_testing(started_integration, pm)
    agree(started_integration, pm)

    now = standing(started_integration, at("2026-06-04"))  # Thursday: 3 working days past Monday 1 June

    launch = step(started_integration, "open-to-all-users")
    assert now.days_overdue(launch) == 3
    assert now.forecast_launch == date(2026, 6, 4)
    assert now.slip_vs_agreed_days == now.slip_days == 3 and now.split.tradingview == 3
    assert now.slip_vs_plan_days == 8 and now.slip_vs_baseline_days == 8
    assert agreement_text(now) == "Launch agreed for 1 Jun 2026 (by Mei, 11 May); 3 working days past it"


def test_without_an_agreement_the_launch_is_due_at_the_end_of_week_twelve(started_integration, pm):
    walk_to_beta_testing(started_integration, pm)

    now = standing(started_integration, at("2026-05-28"))  # Thursday after the plan's launch

    assert now.launch_due == now.planned_launch == PLANNED_LAUNCH
    assert now.days_overdue(step(started_integration, "open-to-all-users")) == 3
    assert now.slip_vs_agreed_days == 0 and now.slip_vs_plan_days == now.slip_days == 3
    assert agreement_text(now) == ""


def test_agreeing_again_is_recorded_and_moves_the_launch(started_integration, pm):
    walk_to_beta_testing(started_integration, pm)
    agree(started_integration, pm)
    agree(started_integration, pm, day=date(2026, 6, 8), who="Mei and Tom", when="2026-05-13")

    rows = list(started_integration.events.filter(kind=IntegrationEvent.Kind.LAUNCH_AGREED).order_by("at"))
    assert [(r.from_value, r.to_value) for r in rows] == [("", "2026-06-01"), ("2026-06-01", "2026-06-08")]
    assert step(started_integration, "open-to-all-users").due_date == date(2026, 6, 8)
    now = standing(started_integration, at("2026-06-04"))
    assert now.launch_due == date(2026, 6, 8) and now.overdue_steps() == []
    assert agreement_text(now) == "Launch agreed for 8 Jun 2026 (by Mei and Tom, 13 May); on time"


def test_a_late_beta_testing_moves_the_agreed_launch_no_further_than_its_finish(started_integration, pm):
    """Agreed before beta testing passed: the launch waits for it, but the plan's two weeks after it no longer hold."""
    hand_over_everything(started_integration)
    for code in STEP_CODES[:-2]:
        with on(PLANNED_DUE[code], 10):
            complete_step(step(started_integration, code), ctx(pm, at(PLANNED_DUE[code], 10)))
    agree(started_integration, pm, day=date(2026, 5, 18), when="2026-05-08")
    with on("2026-05-20", 10):
        complete_step(step(started_integration, "beta-testing"), ctx(pm, at("2026-05-20", 10)))

    now = standing(started_integration, at("2026-05-20", 15))
    assert now.of(step(started_integration, "open-to-all-users")).deadline == date(2026, 5, 20)
    assert now.split.partner == now.slip_days == 2


def test_a_re_plan_keeps_the_agreement(started_integration, pm):
    agree(started_integration, pm, day=date(2026, 6, 15), when="2026-03-10")
    with on("2026-03-11"):
        plan.replan(started_integration, "2026-03-09", ctx(pm, at("2026-03-11"), note="Partner's team changed"))

    now = standing(started_integration, at("2026-03-11", 15))
    assert now.launch_due == date(2026, 6, 15) and now.planned_launch == date(2026, 6, 1)


@pytest.mark.parametrize(
    ("day", "who", "message"),
    [
        ("2026-05-08", "Mei", "is in the past"),
        ("2030-01-01", "Mei", "more than 3 years"),
        ("next week", "Mei", "is not a date"),
        ("2026-06-01", "  ", "Say who agreed"),
        ("2026-06-01", "M" * 201, "at most 200 characters"),
    ],
)
def test_bad_agreements_are_refused_and_nothing_is_written(started_integration, pm, day, who, message):
    with pytest.raises(InvalidInput, match=message):
        agree(started_integration, pm, day=day, who=who, when="2026-05-11")
    started_integration.refresh_from_db()
    assert started_integration.agreed_launch_on is None
    assert not started_integration.events.filter(kind=IntegrationEvent.Kind.LAUNCH_AGREED).exists()


def test_an_agreement_before_the_kickoff_or_twice_the_same_is_refused(integration, pm):
    with on("2026-02-20", 9):
        plan.start_integration(integration, KICKOFF, ctx(pm, at("2026-02-20", 9)))
    with pytest.raises(InvalidInput, match="before the kick-off"):
        agree(integration, pm, day="2026-02-27", when="2026-02-20")
    agree(integration, pm, day="2026-06-01", when="2026-02-21")
    with pytest.raises(InvalidInput, match="already agreed"):
        agree(integration, pm, day="2026-06-01", when="2026-02-22")


def test_no_agreement_for_an_integration_not_kicked_off_or_ended(integration, started_integration, pm):
    with pytest.raises(NotRunning):
        agree(IntegrationFactory(), pm, when="2026-03-10")
    with on("2026-03-10"):
        plan.cancel(started_integration, ctx(pm, at("2026-03-10"), note="Partner withdrew"))
    with pytest.raises(IntegrationEnded):
        agree(started_integration, pm, when="2026-03-11")


# --- the pages and the API ------------------------------------------------------------------


def test_the_pm_records_it_on_the_integration_page_and_bad_input_is_a_400(client, pm, started_integration):
    client.force_login(pm)
    page = reverse("integration-page", args=[started_integration.pk])
    agree_url = reverse("integration-agree-launch", args=[started_integration.pk])
    today = date.today()
    assert 'id="agree-launch"' in client.get(page).content.decode()

    for data, message in [
        ({"agree-agreed_launch_on": "soon", "agree-agreed_by": "Mei"}, "Enter a valid date."),
        ({"agree-agreed_launch_on": "2026-01-05", "agree-agreed_by": "Mei"}, "is in the past"),
        (
            {"agree-agreed_launch_on": today.replace(year=today.year + 4).isoformat(), "agree-agreed_by": "Mei"},
            "3 years",
        ),
        ({"agree-agreed_launch_on": today.isoformat(), "agree-agreed_by": ""}, "This field is required."),
    ]:
        response = client.post(agree_url, data)
        assert response.status_code == 400, data
        assert message in response.content.decode()
    started_integration.refresh_from_db()
    assert started_integration.agreed_launch_on is None

    day = today.replace(year=today.year + 1)
    response = client.post(
        agree_url, {"agree-agreed_launch_on": day.isoformat(), "agree-agreed_by": "<b>Mei</b>", "agree-note": ""}
    )
    assert response.status_code == 302
    html = client.get(page).content.decode()
    header = html[html.index('id="agreed-launch"') :][:300]
    assert f"Launch agreed for {day.day} {day:%b %Y} (by &lt;b&gt;Mei&lt;/b&gt;, " in header
    assert "<b>Mei</b>" not in html


def test_the_partner_sees_the_agreed_date_on_its_stage_page(client, partner_user, started_integration, pm):
    agree(started_integration, pm, when="2026-03-10")
    client.force_login(partner_user)
    with on("2026-03-10"):
        html = client.get(reverse("stage-page", args=[started_integration.pk])).content.decode()
    assert 'id="agreed-launch">1 Jun 2026' in html


def test_the_api_says_the_agreed_date_and_the_slip_against_it(client, pm, started_integration):
    agree(started_integration, pm, when="2026-03-10")
    client.force_login(pm)
    body = client.get(f"/api/v1/integrations/{started_integration.pk}/").json()
    assert body["standing"]["agreed_launch_on"] == "2026-06-01"
    assert body["standing"]["launch_agreed_by"] == "Mei"
    assert "slip_vs_agreed_days" in body["standing"]


def test_with_htmx_the_form_answers_in_place_errors_beside_their_field(client, pm, started_integration):
    client.force_login(pm)
    agree_url = reverse("integration-agree-launch", args=[started_integration.pk])
    html = client.get(reverse("integration-page", args=[started_integration.pk])).content.decode()
    form = html[html.index('id="agree-launch"') - 200 :][:600]
    assert f'hx-post="{agree_url}"' in form and 'hx-target="#agree-launch"' in form

    # A refused date: only the form comes back (200, so htmx swaps it), the error beside the date.
    response = client.post(
        agree_url, {"agree-agreed_launch_on": "2026-01-05", "agree-agreed_by": "Mei"}, headers={"HX-Request": "true"}
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<form method="post"') and 'id="agree-launch"' in body
    assert 'id="id_agree-agreed_launch_on-error"' in body and "is in the past" in body
    assert 'value="Mei"' in body  # what the PM typed stays
    assert "<html" not in body and 'id="summary"' not in body

    # Agreed: the form with the agreement and a message, and the header, steps, timeline and history
    # swapped out of band (the launch is due on the new date).
    day = date.today().replace(year=date.today().year + 1)
    response = client.post(
        agree_url,
        {"agree-agreed_launch_on": day.isoformat(), "agree-agreed_by": "Mei", "agree-note": ""},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "Launch date agreed: the launch is due on it." in body
    assert f"Launch agreed for {day.day} {day:%b %Y} (by Mei, " in body
    for section in ("summary", "steps", "timeline", "history"):
        assert f'id="{section}"' in body and body.count('hx-swap-oob="true"') >= 4
    started_integration.refresh_from_db()
    assert started_integration.agreed_launch_on == day
