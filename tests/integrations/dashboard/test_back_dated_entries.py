"""Back-dated entries: "they finished on Friday, I'm entering it on Monday".

A step action on a page takes when it happened and why it is entered late, through the same rules
(never in the future, never before the step's last change: refused with a 4xx saying which limit);
the history shows when it happened and when and by whom it was entered; the standing reads the
moment it happened. A partner back-dates its own steps on the stage page, in its own time zone.
"""

from datetime import UTC, date, datetime

import pytest
from django.urls import reverse

from integrations.models import IntegrationEvent, StepChange
from integrations.standing import standing
from integrations.steps import apply_action
from tests.integrations.helpers import at, ctx, on, step

pytestmark = pytest.mark.django_db

ONBOARDING = "slack-jira-onboarding"  # TradingView's, due Thursday 5 March 2026
ENDPOINTS = "endpoints-implementation"  # the partner's


@pytest.fixture
def staff_client(client, pm):
    client.force_login(pm)
    return client


def act(client, s, name, **data):
    return client.post(reverse("step-action", args=[s.pk, name]), data)


def test_a_step_done_on_thursday_and_entered_on_monday_is_on_time(staff_client, pm, started_integration):
    onboarding = step(started_integration, ONBOARDING)
    with on("2026-03-09", 10):
        response = act(staff_client, onboarding, "complete", at="2026-03-05T17:00", note="Done on Thursday's call")
        assert response.status_code == 302
        now = standing(started_integration, at("2026-03-09", 10))
    done = step(started_integration, ONBOARDING)
    assert done.completed_at == datetime(2026, 3, 5, 17, tzinfo=UTC)
    assert now.of(done).days_late == 0  # done on its deadline, not the day it was entered
    change = StepChange.objects.filter(step=done, to_status="done").get()
    assert change.at == datetime(2026, 3, 5, 17, tzinfo=UTC)
    assert change.entered_at == datetime(2026, 3, 9, 10, tzinfo=UTC)
    assert (change.by, change.note) == (pm, "Done on Thursday's call")
    with on("2026-03-09", 11):
        html = staff_client.get(reverse("integration-page", args=[started_integration.pk])).content.decode()
    history = html[html.index('id="history"') :]
    assert "5 Mar 2026, 17:00" in history and "entered 9 Mar 2026, 10:00 by alice" in history


def test_the_same_step_entered_late_without_a_date_counts_late(staff_client, started_integration):
    with on("2026-03-09", 10):
        act(staff_client, step(started_integration, ONBOARDING), "complete")
        now = standing(started_integration, at("2026-03-09", 10))
    done = step(started_integration, ONBOARDING)
    assert now.of(done).days_late == 2
    assert StepChange.objects.filter(step=done, to_status="done").get().entered_at is None


def test_a_date_in_the_future_is_refused_saying_so(staff_client, started_integration):
    with on("2026-03-09", 10):
        response = act(staff_client, step(started_integration, ONBOARDING), "complete", at="2026-03-10T09:00", note="x")
    assert response.status_code == 400
    assert "in the future; record it when it has happened" in response.content.decode()
    assert step(started_integration, ONBOARDING).status == "not_started"


def test_a_date_before_the_steps_last_change_is_refused_saying_which(staff_client, pm, started_integration):
    with on("2026-03-06", 9):
        act(staff_client, step(started_integration, ONBOARDING), "start")
    with on("2026-03-09", 10):
        response = act(staff_client, step(started_integration, ONBOARDING), "complete", at="2026-03-05T17:00", note="x")
    assert response.status_code == 409
    assert "comes before its last recorded change (in progress on 6 Mar 2026, 09:00)" in response.content.decode()
    assert step(started_integration, ONBOARDING).status == "in_progress"


def test_a_back_dated_entry_needs_a_reason(staff_client, started_integration):
    with on("2026-03-09", 10):
        response = act(staff_client, step(started_integration, ONBOARDING), "complete", at="2026-03-05T17:00")
    assert response.status_code == 400
    assert "Say why the change is entered with an earlier date." in response.content.decode()
    assert step(started_integration, ONBOARDING).status == "not_started"


def test_an_unreadable_date_is_refused(staff_client, started_integration):
    response = act(staff_client, step(started_integration, ONBOARDING), "start", at="last friday", note="x")
    assert response.status_code == 400
    assert "Give when it happened as a date and time" in response.content.decode()


def test_the_htmx_form_offers_when_on_an_action(staff_client, started_integration):
    with on("2026-03-09", 10):
        html = staff_client.get(reverse("integration-page", args=[started_integration.pk])).content.decode()
    onboarding = step(started_integration, ONBOARDING)
    row = html[html.index(f'id="step-{onboarding.pk}"') :].split("</tr>")[0]
    assert row.count('<details class="when">') == 4  # start, done, block, not applicable
    assert 'type="datetime-local" name="at"' in row


def test_a_partner_back_dates_its_own_step_in_its_time_zone(client, partner_user, pm, started_integration):
    with on("2026-03-04"):
        for code in (ONBOARDING, "autotests-configuration"):
            apply_action(step(started_integration, code), "complete", ctx(pm))
    client.force_login(partner_user)
    endpoints = step(started_integration, ENDPOINTS)
    with on("2026-03-09", 10):
        page = client.get(reverse("stage-page", args=[started_integration.pk])).content.decode()
        assert 'type="datetime-local" name="at"' in page and "Europe/Berlin" in page
        response = client.post(
            reverse("stage-step-action", args=[endpoints.pk, "start"]),
            {"at": "2026-03-05T09:00", "note": "Our team began on Thursday"},
        )
    assert response.status_code == 302
    started = step(started_integration, ENDPOINTS)
    assert started.started_at == datetime(2026, 3, 5, 8, tzinfo=UTC)  # 09:00 in Berlin
    change = StepChange.objects.get(step=started, to_status="in_progress")
    assert (change.by, change.entered_at) == (partner_user, datetime(2026, 3, 9, 10, tzinfo=UTC))
    # Within the same limits: not before what the partner itself recorded.
    with on("2026-03-09", 11):
        response = client.post(
            reverse("stage-step-action", args=[endpoints.pk, "block"]), {"at": "2026-03-04T09:00", "note": "Keys"}
        )
    assert response.status_code == 409
    assert "comes before its last recorded change" in response.content.decode()


def test_a_partner_is_told_a_refused_date_in_its_time_zone(client, partner_user, pm, started_integration):
    """The stage page takes dates in the partner's zone (Berlin) but refused them in TradingView's
    (UTC here): "a change dated 4 Mar 2026, 08:00" for the 09:00 the partner typed."""
    with on("2026-03-04"):
        for code in (ONBOARDING, "autotests-configuration"):
            apply_action(step(started_integration, code), "complete", ctx(pm))
    client.force_login(partner_user)
    endpoints = step(started_integration, ENDPOINTS)
    with on("2026-03-09", 10):
        client.post(reverse("stage-step-action", args=[endpoints.pk, "start"]), {"at": "2026-03-05T09:00", "note": "x"})
        stale = client.post(
            reverse("stage-step-action", args=[endpoints.pk, "block"]), {"at": "2026-03-04T09:00", "note": "Keys"}
        )
        future = client.post(
            reverse("stage-step-action", args=[endpoints.pk, "block"]), {"at": "2026-03-09T12:30", "note": "Keys"}
        )
    assert stale.status_code == 409
    assert (
        "a change dated 4 Mar 2026, 09:00 comes before its last recorded change (in progress on 5 Mar 2026, 09:00)"
        in stale.content.decode()
    )
    assert future.status_code == 400
    assert "The change is dated 9 Mar 2026, 12:30, in the future" in future.content.decode()


# --- pause and resume -------------------------------------------------------------------------


def plan_post(client, integration, what, htmx=False, **data):
    headers = {"HX-Request": "true"} if htmx else {}
    fields = {f"{what}-{name}": value for name, value in data.items()}
    return client.post(reverse(f"integration-{what}", args=[integration.pk]), fields, headers=headers)


def test_a_pause_entered_on_friday_is_dated_monday_through_htmx(staff_client, pm, started_integration):
    with on("2026-03-13", 15):
        response = plan_post(
            staff_client, started_integration, "pause", htmx=True, at="2026-03-09T10:00", note="Partner re-org."
        )
    assert response.status_code == 200
    html = response.content.decode()
    # The plan section in place, now offering to resume (also back-dated); the rest swapped out of band.
    plan_section = html[html.index('id="plan"') : html.index("</section>")]
    assert "Paused: the clock is stopped for both sides." in plan_section
    assert 'name="resume-at"' in plan_section and 'name="pause-at"' not in plan_section
    for section in ("summary", "timeline", "steps", "history"):
        assert f'<section id="{section}"' in html and html.count('hx-swap-oob="true"') == 4
    history = html[html.index('id="history"') :]
    assert "9 Mar 2026, 10:00" in history and "entered 13 Mar 2026, 15:00 by alice" in history
    started_integration.refresh_from_db()
    assert started_integration.paused_on == date(2026, 3, 9)
    event = started_integration.events.get(kind=IntegrationEvent.Kind.PAUSED)
    assert (event.at, event.entered_at, event.note) == (at("2026-03-09", 10), at("2026-03-13", 15), "Partner re-org.")

    with on("2026-03-18", 9):
        response = plan_post(staff_client, started_integration, "resume", at="2026-03-16T10:00", note="Monday's call.")
    assert response.status_code == 302
    started_integration.refresh_from_db()
    assert started_integration.state == "active"
    assert started_integration.events.get(kind=IntegrationEvent.Kind.RESUMED).at == at("2026-03-16", 10)


@pytest.mark.parametrize(
    ("what", "said"),
    [("pause", "Paused: the clock is stopped for both sides."), ("resume", "Resumed: open deadlines moved")],
)
def test_a_pause_or_resume_through_htmx_says_so_once(staff_client, started_integration, what, said):
    """The plan section's answer said it twice: in the section and again inside its agreed launch date's form."""
    if what == "resume":
        with on("2026-03-09", 10):
            plan_post(staff_client, started_integration, "pause", note="Partner re-org.")
    with on("2026-03-13", 15):
        response = plan_post(staff_client, started_integration, what, htmx=True, note="As agreed.")
    assert response.status_code == 200
    assert response.content.decode().count(said) == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_a_back_dated_pause_without_a_reason_is_refused_at_the_note(staff_client, started_integration, htmx):
    with on("2026-03-13", 15):
        response = plan_post(staff_client, started_integration, "pause", htmx=htmx, at="2026-03-09T10:00")
    assert response.status_code == (200 if htmx else 400)
    html = response.content.decode()
    assert 'id="id_pause-note-error">Say why the change is entered with an earlier date.' in html
    assert 'value="2026-03-09T10:00"' in html  # what the PM typed stays
    started_integration.refresh_from_db()
    assert started_integration.state == "active"


@pytest.mark.parametrize(
    ("when", "refusal"),
    [
        ("2026-03-14T10:00", "in the future; record it when it has happened"),
        ("2026-03-01T10:00", "comes before Acme Crypto Exchange&#x27;s last recorded change (kicked off on 2 Mar 2026"),
    ],
)
def test_a_pause_dated_in_the_future_or_before_the_last_change_is_refused_at_the_date(
    staff_client, started_integration, when, refusal
):
    with on("2026-03-13", 15):
        response = plan_post(staff_client, started_integration, "pause", htmx=True, at=when, note="x")
    html = response.content.decode()
    error = html[html.index('id="id_pause-at-error"') :].split("</span>")[0]
    assert refusal in error
    assert not started_integration.events.filter(kind=IntegrationEvent.Kind.PAUSED).exists()


def test_a_pause_back_dated_past_a_steps_change_is_refused_naming_the_step(staff_client, pm, started_integration):
    with on("2026-03-11", 11):
        apply_action(step(started_integration, ONBOARDING), "complete", ctx(pm))
    with on("2026-03-13", 15):
        response = plan_post(staff_client, started_integration, "pause", at="2026-03-09T10:00", note="Monday.")
    assert response.status_code == 400
    html = response.content.decode()
    assert "comes before the last recorded change of 1 · TradingView · Slack" in html
    assert "(done on 11 Mar 2026, 11:00)" in html
