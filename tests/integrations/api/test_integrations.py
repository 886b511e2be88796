"""Partners and integrations: lists with the dashboard's filters, pages, detail with the standing,
change detection (ETag, If-None-Match, If-Match), creation with kick-off, edits, re-plan, pause, resume.
"""

import json
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.renderers import JSONRenderer

from benchmarks.portfolio import copy_portfolio
from integrations import steps
from integrations.api.filters import SORT_CHOICES
from integrations.api.serializers import IntegrationSerializer
from integrations.jira.models import JiraIssue
from integrations.models import ChangeSource, Integration, IntegrationEvent, Partner, PartnerContact
from integrations.read_models.portfolio import Filters, filter_portfolio
from integrations.standing import standing
from roadmap.standing import working_days_late
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.api.conftest import error_of, names_field, results
from tests.integrations.helpers import at, ctx, on, step

pytestmark = pytest.mark.django_db

STORED = [
    "current_step",
    "ball_side",
    "next_due_on",
    "planned_launch_on",
    "forecast_launch_on",
    "delay_tradingview_days",
    "delay_partner_days",
    "delay_both_days",
]


# --- partners -----------------------------------------------------------------------------------


def test_staff_partner_detail_has_notes_and_contacts(staff_api, partner):
    partner.notes = "Prefers email."
    partner.save()
    PartnerContact.objects.create(partner=partner, name="Eve Ops", email="eve@acme.example.com", is_primary=True)
    body = staff_api.get(f"partners/{partner.pk}/").json()
    assert body["id"] == partner.pk and body["name"] == "Acme Crypto Exchange"
    assert body["notes"] == "Prefers email."
    assert [c["name"] for c in body["contacts"]] == ["Eve Ops"]


def test_partner_user_sees_its_partner_without_notes(partner_api, partner):
    partner.notes = "Internal: slow to answer."
    partner.save()
    body = partner_api.get(f"partners/{partner.pk}/").json()
    assert body["name"] == "Acme Crypto Exchange"
    assert "notes" not in body


def test_staff_create_and_update_a_partner(staff_api):
    response = staff_api.post("partners/", {"name": "Nova Markets", "kind": "broker", "time_zone": "Europe/Paris"})
    assert response.status_code == 201, response.content
    created = Partner.objects.get(name="Nova Markets")
    assert response.json()["id"] == created.pk
    response = staff_api.patch(f"partners/{created.pk}/", {"notes": "Met at the fair."})
    assert response.status_code == 200, response.content
    created.refresh_from_db()
    assert created.notes == "Met at the fair."


def test_partner_with_a_bad_time_zone_is_refused(staff_api):
    response = staff_api.post("partners/", {"name": "Nova Markets", "time_zone": "Mars/Olympus"})
    body = error_of(response, 400, "invalid")
    assert names_field(body, "time_zone"), body
    assert not Partner.objects.filter(name="Nova Markets").exists()


# --- integrations list ------------------------------------------------------------------------------


def test_list_is_the_dashboards_portfolio(staff_api, pm, world, other_integration):
    new = IntegrationFactory(partner=PartnerFactory(name="Not Kicked Off"), tv_pm=pm)
    for params in ({}, {"state": "all"}, {"sort": "-partner"}, {"q": "zeta"}, {"side": "partner"}, {"pm": "me"}):
        expected = [i.pk for i in filter_portfolio(Filters.from_request(params), pm)]
        got = [row["id"] for row in results(staff_api.get("integrations/", params))]
        assert got == expected, params
    assert new.pk in [row["id"] for row in results(staff_api.get("integrations/", {"state": "all"}))]


@pytest.mark.parametrize("sort", SORT_CHOICES)
def test_list_sorts_as_the_dashboards_portfolio_on_every_key(staff_api, pm, world, other_integration, sort):
    # The list reads only the column sorted on of the portfolio page's extra ones: the order is the page's.
    JiraIssue.objects.create(integration=other_integration, key="ZETA-1", is_bug=True)
    expected = [i.pk for i in filter_portfolio(Filters.from_request({"sort": sort, "state": "all"}), pm)]
    got = [row["id"] for row in results(staff_api.get("integrations/", {"sort": sort, "state": "all"}))]
    assert got == expected and len(got) == 2


def test_list_sorts_by_partner_both_ways(staff_api, world, other_integration):
    ascending = [row["id"] for row in results(staff_api.get("integrations/", {"sort": "partner"}))]
    descending = [row["id"] for row in results(staff_api.get("integrations/", {"sort": "-partner"}))]
    assert ascending == [world.pk, other_integration.pk]
    assert descending == ascending[::-1]


@pytest.mark.parametrize(
    "name, value",
    [
        ("side", "nobody"),
        ("overdue", "yes"),
        ("blocked", "2"),
        ("due", "year"),
        ("launch", "week"),
        ("data_type", "tulips"),
        ("parts", "all"),
        ("state", "sleeping"),
        ("sort", "colour"),
        ("sort", "--partner"),
        ("pm", "someone"),
        ("page", "0"),
        ("page", "x"),
        ("page_size", "201"),
        ("page_size", "-1"),
    ],
)
def test_invalid_filter_values_are_400_naming_the_parameter(staff_api, world, name, value):
    body = error_of(staff_api.get("integrations/", {name: value}), 400, "invalid")
    assert names_field(body, name), body


def test_pages(staff_api, pm, world, other_integration):
    first = staff_api.get("integrations/", {"page_size": 1, "sort": "partner"}).json()
    assert first["count"] == 2 and first["previous"] is None and first["next"]
    assert [r["id"] for r in first["results"]] == [world.pk]
    assert "sort=partner" in first["next"] and "page_size=1" in first["next"]  # the filters carry over
    second = staff_api.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == [other_integration.pk]
    assert second["next"] is None and second["previous"]
    error_of(staff_api.get("integrations/", {"page_size": 1, "page": 3}), 404, "not_found")


def test_default_page_size_is_50(staff_api, world):
    copy_portfolio(55, Integration.objects.filter(pk=world.pk).prefetch_related("steps"))
    body = staff_api.get("integrations/").json()
    assert body["count"] == 55 and len(body["results"]) == 50
    assert len(staff_api.get("integrations/", {"page_size": 200}).json()["results"]) == 55


@pytest.mark.parametrize(
    "persona, caller", [("staff_api", "pm"), ("partner_api", "partner_user")], indirect=["persona"]
)
def test_list_rows_are_the_integration_serializers_field_for_field(
    persona, caller, request, pm, world, other_integration, settings
):
    # The list writes its rows out without the serializer: both must give the same JSON, in every
    # state and for every kind of value (nulls, lists, dates, moments in summer and in winter).
    settings.TIME_ZONE = "Europe/London"  # moments are written in it: "+01:00" in summer, "Z" in winter
    with on("2026-03-09", 10):
        steps.complete_step(step(world, "endpoints-implementation"), ctx(pm, at("2026-03-09", 10)))
    new = IntegrationFactory(partner=world.partner, tv_pm=None, name="Acme not kicked off", stocks_data_only=True)
    Integration.objects.filter(pk=new.pk).update(
        beta_testers="alice.tv\nbob_tv", created_at=at("2026-07-01", 9), updated_at=at("2026-01-15", 18)
    )
    Integration.objects.filter(pk=world.pk).update(
        agreed_launch_on=date(2026, 6, 1), launch_agreed_by="Acme's PM", own_feed_in_production_on=date(2026, 4, 2)
    )
    ended = IntegrationFactory(partner=world.partner, tv_pm=pm, name="Acme launched")
    Integration.objects.filter(pk=ended.pk).update(state="launched", launched_on=date(2026, 5, 4), health=None)
    context = {"request": SimpleNamespace(user=request.getfixturevalue(caller))}
    listed = results(persona.get("integrations/", {"state": "all", "page_size": 200}))
    assert {row["id"] for row in listed} >= {world.pk, new.pk, ended.pk}
    for row in listed:
        integration = Integration.objects.select_related("partner", "current_step", "tv_pm").get(pk=row["id"])
        shown = json.loads(JSONRenderer().render(IntegrationSerializer(integration, context=context).data))
        assert row == shown
        assert list(row) == list(shown) and list(row["standing"]) == list(shown["standing"])


def list_queries(api) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert api.get("integrations/", {"state": "all"}).status_code == 200
    return len(queries)


@pytest.mark.parametrize("persona", ["staff_api", "partner_api"], indirect=True)
def test_list_queries_do_not_grow_with_integrations(persona, world, partner):
    list_queries(persona)  # the first request warms up content types and the like
    one = list_queries(persona)
    seen = len(results(persona.get("integrations/", {"state": "all"})))
    # Bulk copies go to new partners, which the partner user would not see: these stay Acme's.
    for n in range(4):
        IntegrationFactory(partner=partner, name=f"Acme copy {n}", tv_pm=world.tv_pm)
    five = list_queries(persona)
    assert len(results(persona.get("integrations/", {"state": "all"}))) == seen + 4
    assert five == one, (one, five)


def test_staff_list_queries_do_not_grow_with_running_copies(staff_api, world):
    list_queries(staff_api)
    one = list_queries(staff_api)
    copy_portfolio(5, Integration.objects.filter(pk=world.pk).prefetch_related("steps"))
    assert len(results(staff_api.get("integrations/"))) == 5
    assert list_queries(staff_api) == one


# --- detail, standing, ETag -------------------------------------------------------------------------


def test_detail_has_the_live_standing_and_the_list_the_stored_one(staff_api, world, pm):
    with on("2026-03-09", 10):
        # A week on, TradingView's first two steps late: the stored standing moves with the change.
        steps.complete_step(step(world, "endpoints-implementation"), ctx(pm, at("2026-03-09", 10)))
    world.refresh_from_db()
    expected = {"detail": standing(world).stored_fields(), "list": {n: getattr(world, n) for n in STORED}}
    detail = staff_api.get(f"integrations/{world.pk}/").json()
    assert detail["id"] == world.pk and detail["updated_at"]
    row = next(r for r in results(staff_api.get("integrations/")) if r["id"] == world.pk)
    for where, got in (("detail", detail["standing"]), ("list", row["standing"])):
        want = expected[where]
        assert got["current_step"]["id"] == want["current_step"].pk, where
        assert got["ball_side"] == want["ball_side"], where
        for name in ("planned_launch_on", "forecast_launch_on", "next_due_on"):
            assert got[name] == want[name].isoformat(), (where, name)
        assert got["baseline_launch_on"] == world.baseline_launch_on.isoformat()
        assert got["delay_days"] == {
            "tradingview": want["delay_tradingview_days"],
            "partner": want["delay_partner_days"],
            "both": want["delay_both_days"],
        }, where
    # Today is long after the plan: the live forecast has moved past the stored one.
    assert detail["standing"]["forecast_launch_on"] > row["standing"]["forecast_launch_on"]

    # Days overdue move with the calendar, counted as the integration page counts them.
    overdue = {}
    for day in ("2026-03-16", "2026-03-20"):
        with on(day, 10):
            overdue[day] = staff_api.get(f"integrations/{world.pk}/").json()["standing"]["days_overdue"]
        with on(day, 10):
            # As Integration.days_overdue counts it, from the live next deadline.
            deadline = standing(world).stored_fields()["next_deadline_at"]
        # Working days from the day before the deadline ended, as every count of days late.
        assert overdue[day] == working_days_late(deadline.date() - timedelta(days=1), date.fromisoformat(day)) > 0, day
    assert overdue["2026-03-20"] - overdue["2026-03-16"] == 4  # Monday to Friday


def test_detail_has_an_etag_and_answers_304(staff_api, world):
    response = staff_api.get(f"integrations/{world.pk}/")
    etag = response["ETag"]
    assert etag
    again = staff_api.get(f"integrations/{world.pk}/", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b"" and again["ETag"] == etag
    assert staff_api.get(f"integrations/{world.pk}/", headers={"If-None-Match": '"stale"'}).status_code == 200


def test_etag_changes_with_the_integration(staff_api, world):
    before = staff_api.get(f"integrations/{world.pk}/")["ETag"]
    assert staff_api.patch(f"integrations/{world.pk}/", {"spec_version": "2.0"}).status_code == 200
    after = staff_api.get(f"integrations/{world.pk}/")
    assert after["ETag"] != before
    assert staff_api.get(f"integrations/{world.pk}/", headers={"If-None-Match": before}).status_code == 200


def test_patch_with_a_stale_if_match_writes_nothing(staff_api, world):
    stale = staff_api.get(f"integrations/{world.pk}/")["ETag"]
    assert staff_api.patch(f"integrations/{world.pk}/", {"spec_version": "2.0"}).status_code == 200
    response = staff_api.patch(f"integrations/{world.pk}/", {"spec_version": "3.0"}, headers={"If-Match": stale})
    error_of(response, 412, "precondition_failed")
    world.refresh_from_db()
    assert world.spec_version == "2.0"


def test_patch_with_a_fresh_if_match_applies(staff_api, world):
    fresh = staff_api.get(f"integrations/{world.pk}/")["ETag"]
    response = staff_api.patch(f"integrations/{world.pk}/", {"spec_version": "2.1"}, headers={"If-Match": fresh})
    assert response.status_code == 200, response.content
    assert response["ETag"] != fresh
    world.refresh_from_db()
    assert world.spec_version == "2.1"


# --- create and edit ------------------------------------------------------------------------------------


def creation(partner, pm, **extra):
    return {
        "partner": partner.pk,
        "name": "Acme Data",
        "parts": "data",
        "data_types": ["crypto"],
        "data_source": "own_feed",
        "data_auth": "fixed_token",
        "spec_version": "1.9",
        "tv_pm": pm.pk,
        **extra,
    }


def test_staff_create_an_integration_without_kickoff(staff_api, partner, pm):
    response = staff_api.post("integrations/", creation(partner, pm))
    assert response.status_code == 201, response.content
    created = Integration.objects.get(pk=response.json()["id"])
    assert created.name == "Acme Data" and created.partner == partner and created.tv_pm == pm
    assert created.kickoff_on is None and not created.steps.exists()


def test_staff_create_and_kick_off_in_one_request(staff_api, partner, pm):
    response = staff_api.post("integrations/", creation(partner, pm, kickoff_on="2026-11-30"))
    assert response.status_code == 201, response.content
    created = Integration.objects.get(pk=response.json()["id"])
    assert created.kickoff_on.isoformat() == "2026-11-30"
    assert created.steps.count() == 17
    event = IntegrationEvent.objects.get(integration=created, kind="kicked_off")
    assert event.source == ChangeSource.API and event.by == pm


def test_create_runs_the_models_validation(staff_api, partner, pm):
    before = Integration.objects.count()
    # A trading part without a trading authorisation, and a plain-http URL: the model's rules.
    response = staff_api.post(
        "integrations/", creation(partner, pm, parts="both", data_staging_url="http://insecure.example.com")
    )
    body = error_of(response, 400, "invalid")
    assert body["fields"]
    assert Integration.objects.count() == before


def test_create_with_a_bad_kickoff_writes_nothing(staff_api, partner, pm):
    before = Integration.objects.count()
    response = staff_api.post("integrations/", creation(partner, pm, kickoff_on="2099-01-01"))
    assert response.status_code == 400
    assert response.json()["code"] in ("invalid", "invalid_input")
    assert Integration.objects.count() == before


def test_patch_changes_editable_fields_not_state_or_dates(staff_api, world):
    response = staff_api.patch(f"integrations/{world.pk}/", {"spec_version": "2.0", "jira_project_key": "ACME"})
    assert response.status_code == 200, response.content
    for field in ("state", "kickoff_on", "next_due_on", "current_step"):
        error_of(staff_api.patch(f"integrations/{world.pk}/", {field: "paused"}), 400, "invalid")
    world.refresh_from_db()
    assert (world.spec_version, world.jira_project_key, world.state) == ("2.0", "ACME", "active")


def test_the_own_feed_cannot_be_recorded_live_on_a_day_still_to_come(staff_api, world):
    """The day the partner's own feed went live opens smoke testing at once: a day still to come (a
    typo for this year, a planned date) would open it before the feed is there. Refused, nothing written."""
    with on("2026-04-15"):
        response = staff_api.patch(f"integrations/{world.pk}/", {"own_feed_in_production_on": "2026-04-16"})
        body = error_of(response, 400, "invalid")
        assert body["fields"]["own_feed_in_production_on"] == [
            "The feed cannot have gone live on 16 Apr 2026, after today (15 Apr 2026): record the day it went live."
        ]
        world.refresh_from_db()
        assert world.own_feed_in_production_on is None
        ok = staff_api.patch(f"integrations/{world.pk}/", {"own_feed_in_production_on": "2026-04-15"})
        assert ok.status_code == 200, ok.content


# --- re-plan, pause, resume -------------------------------------------------------------------------------


def test_pause_and_resume(staff_api, world):
    response = staff_api.post(f"integrations/{world.pk}/pause/", {"note": "Partner on holiday"})
    assert response.status_code == 200, response.content
    world.refresh_from_db()
    assert world.state == "paused"
    event = IntegrationEvent.objects.get(integration=world, kind="paused")
    assert event.source == ChangeSource.API and event.note == "Partner on holiday"
    # Pausing twice is a conflict with the integration's state.
    error_of(staff_api.post(f"integrations/{world.pk}/pause/", {"note": "again"}), 409, "not_running")
    assert staff_api.post(f"integrations/{world.pk}/resume/", {"note": "Back"}).status_code == 200
    world.refresh_from_db()
    assert world.state == "active"


def test_replan_needs_a_reason(staff_api, world):
    error_of(staff_api.post(f"integrations/{world.pk}/replan/", {"kickoff_on": "2026-12-07"}), 400, "reason_required")
    world.refresh_from_db()
    assert world.kickoff_on.isoformat() == "2026-03-02"
    response = staff_api.post(
        f"integrations/{world.pk}/replan/", {"kickoff_on": "2026-12-07", "reason": "Partner restarted"}
    )
    assert response.status_code == 200, response.content
    world.refresh_from_db()
    assert world.kickoff_on.isoformat() == "2026-12-07"
    assert step(world, "endpoints-implementation").planned_due_date > date(2026, 12, 7)
    assert IntegrationEvent.objects.filter(integration=world, kind="replanned", source="api").count() == 1


def test_a_pause_and_a_resume_entered_late_are_dated_when_they_happened(staff_api, world):
    with on("2026-03-13", 15):
        paused = {"note": "Partner re-org.", "at": "2026-03-09T10:00:00Z"}
        response = staff_api.post(f"integrations/{world.pk}/pause/", paused)
    assert response.status_code == 200, response.content
    assert response.json()["paused_on"] == "2026-03-09"
    event = IntegrationEvent.objects.get(integration=world, kind="paused")
    assert (event.at, event.entered_at, event.source) == (at("2026-03-09", 10), at("2026-03-13", 15), "api")
    with on("2026-03-18", 9):
        resumed = {"note": "Restarted on Monday's call.", "at": "2026-03-16T10:00:00Z"}
        assert staff_api.post(f"integrations/{world.pk}/resume/", resumed).status_code == 200
    event = IntegrationEvent.objects.get(integration=world, kind="resumed")
    assert (event.at, event.from_value, event.to_value) == (at("2026-03-16", 10), "2026-03-09", "2026-03-16")


def test_a_back_dated_pause_is_refused_without_a_reason_in_the_future_or_before_the_last_change(staff_api, world):
    url = f"integrations/{world.pk}/pause/"
    with on("2026-03-13", 15):
        error_of(staff_api.post(url, {"at": "2026-03-09T10:00:00Z"}), 400, "reason_required")
        error_of(staff_api.post(url, {"at": "2026-03-14T10:00:00Z", "note": "x"}), 400, "invalid_input")
        error_of(staff_api.post(url, {"at": "2026-03-01T10:00:00Z", "note": "x"}), 409, "stale_change")
        error_of(staff_api.post(url, {"at": "last friday", "note": "x"}), 400, "invalid")
    world.refresh_from_db()
    assert world.state == "active"
    assert not IntegrationEvent.objects.filter(integration=world, kind="paused").exists()
