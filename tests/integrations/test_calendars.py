"""Each side works to its own calendar, across Christmas and New Year 2026/27.

A partner in Germany and one in Japan, with TradingView's calendar from the settings (England,
and 24 and 31 December off): deadlines land on neither side's holidays, and days late skip the
holidays of the side that owes.
"""

import re
from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from integrations import plan
from integrations.models import Partner, StepChange
from integrations.standing import refresh_running, standing
from integrations.steps import complete_step
from tests.factories import IntegrationFactory, PartnerFactory
from tests.integrations.helpers import at, ctx, on, step

pytestmark = pytest.mark.django_db

CHRISTMAS, NEW_YEAR = date(2026, 12, 25), date(2027, 1, 1)


@pytest.fixture(autouse=True)
def tradingview_calendar(settings):
    settings.TRADINGVIEW_HOLIDAYS_COUNTRY = "GB"
    settings.TRADINGVIEW_HOLIDAYS_SUBDIVISION = "ENG"
    settings.TRADINGVIEW_DAYS_OFF = ["2026-12-24", "2026-12-31"]


def kicked_off(pm, country: str, zone: str, kickoff: date):
    partner = PartnerFactory(name=f"Partner {country}", time_zone=zone, country=country)
    integration = IntegrationFactory(partner=partner, tv_pm=pm)
    with on(kickoff, 9):
        return plan.start_integration(integration, kickoff, ctx(pm, at(kickoff, 9)))


@pytest.mark.parametrize(("country", "zone"), [("DE", "Europe/Berlin"), ("JP", "Asia/Tokyo")])
def test_a_kickoff_on_4_december_gives_no_deadline_on_a_holiday(pm, country, zone):
    integration = kicked_off(pm, country, zone, date(2026, 12, 4))
    due = {s.code: s.due_date for s in integration.steps.all()}
    assert due["endpoints-implementation"] == due["passing-autotests"] == date(2027, 1, 4)  # week 4 ends on 1 Jan
    assert not {CHRISTMAS, NEW_YEAR} & set(due.values())


@pytest.mark.parametrize(("country", "late"), [("", 8), ("DE", 6), ("JP", 7)])
def test_days_late_skip_the_holidays_of_the_partner_that_owes(pm, country, late):
    """Endpoints due Thursday 24 December, still open on Tuesday 5 January."""
    integration = kicked_off(pm, country, "Europe/London", date(2026, 11, 26))
    assert step(integration, "endpoints-implementation").due_date == date(2026, 12, 24)
    with on("2026-11-30"):
        for code in ("slack-jira-onboarding", "autotests-configuration"):
            complete_step(step(integration, code), ctx(pm, "2026-11-30"))
    with time_machine.travel(at("2027-01-05"), tick=False):
        refresh_running()
        now = standing(integration)
        assert now.days_late == late
        assert now.days_overdue(step(integration, "endpoints-implementation")) == late
        integration.refresh_from_db()
        assert integration.days_overdue() == late


def test_a_tradingview_task_counts_tradingviews_holidays_and_days_off(pm):
    """Sandbox access is TradingView's: due with the partner's week 4 (Thursday 24 Dec), on TradingView's
    first working day from then: 24 and 25 December are off, then the weekend and 28 December."""
    integration = kicked_off(pm, "JP", "Asia/Tokyo", date(2026, 11, 26))
    assert step(integration, "endpoints-implementation").due_date == date(2026, 12, 24)
    assert step(integration, "sandbox-access").due_date == date(2026, 12, 29)


def test_a_new_partner_keeps_its_time_zones_holidays_where_unambiguous():
    berlin, tokyo, utc = (Partner(name=n, time_zone=n) for n in ("Europe/Berlin", "Asia/Tokyo", "UTC"))
    for partner in (berlin, tokyo, utc):
        partner.default_country_from_zone()
    assert (berlin.country, tokyo.country, utc.country) == ("DE", "JP", "")
    assert not berlin.calendar.is_working_day(CHRISTMAS)
    assert utc.calendar.is_working_day(CHRISTMAS)


@pytest.mark.parametrize(("country", "subdivision", "field"), [("XX", "", "country"), ("DE", "ZZ", "subdivision")])
def test_an_unknown_country_or_region_is_refused(country, subdivision, field):
    partner = Partner(name="Nowhere", time_zone="UTC", country=country, subdivision=subdivision)
    with pytest.raises(ValidationError) as refused:
        partner.full_clean()
    assert field in refused.value.message_dict


def test_the_pm_adds_a_partner_in_the_admin_with_its_zones_country(admin_client):
    form = admin_client.get("/admin/integrations/partner/add/").content.decode()
    management = {name: "0" for name in re.findall(r'name="([\w-]+-(?:TOTAL|INITIAL)_FORMS)"', form)}
    response = admin_client.post(
        "/admin/integrations/partner/add/",
        {"name": "Kyoto Securities", "kind": "broker", "time_zone": "Asia/Tokyo", **management},
    )
    assert response.status_code == 302
    assert Partner.objects.get(name="Kyoto Securities").country == "JP"


def test_the_stage_page_says_a_deadline_moved_for_a_holiday(pm, client):
    integration = kicked_off(pm, "DE", "Europe/Berlin", date(2026, 11, 27))  # week 4: Friday 25 December
    assert step(integration, "endpoints-implementation").due_date == date(2026, 12, 28)
    client.force_login(pm)
    with on("2026-12-01"):
        page = client.get(f"/partner/integrations/{integration.pk}/").content.decode()
    assert "moved from 25 Dec: Christmas Day in Germany" in page


def test_the_pms_integration_page_says_a_deadline_moved_for_a_holiday_too(pm, client):
    integration = kicked_off(pm, "DE", "Europe/Berlin", date(2026, 11, 27))  # week 4: Friday 25 December
    client.force_login(pm)
    with on("2026-12-01"):
        page = client.get(reverse("integration-page", args=[integration.pk])).content.decode()
    assert "moved from 25 Dec: Christmas Day in Germany" in page


def test_a_partner_moving_to_another_country_replans_its_open_deadlines_and_says_why(pm, partner_user, client):
    """Germany keeps Christmas: week 4 (Friday 25 December) is due Monday 28. The partner's calendar becomes
    Japan's, where 25 December is worked: the open deadline moves back to it, with a history row saying why."""
    integration = kicked_off(pm, "DE", "Europe/Berlin", date(2026, 11, 27))
    endpoints = step(integration, "endpoints-implementation")
    assert endpoints.planned_due_date == date(2026, 12, 28)
    partner = integration.partner
    client.force_login(pm)

    with on("2026-12-01"):
        plan.set_holidays(partner, "JP", "", ctx(pm, at("2026-12-01", 10)))

    moved = step(integration, "endpoints-implementation")
    assert (moved.planned_due_date, moved.due_date) == (date(2026, 12, 25), date(2026, 12, 25))
    row = StepChange.objects.filter(step=moved, from_due=date(2026, 12, 28)).get()
    assert row.to_due == date(2026, 12, 25) and row.by == pm
    assert "Japan" in row.note and "Germany" in row.note and "holidays" in row.note


def test_a_pm_changing_the_partners_country_in_the_admin_replans_too(pm, client):
    integration = kicked_off(pm, "DE", "Europe/Berlin", date(2026, 11, 27))
    partner = integration.partner
    pm.is_superuser = True
    pm.save()
    client.force_login(pm)
    form = {
        "name": partner.name,
        "kind": partner.kind,
        "website": partner.website,
        "time_zone": partner.time_zone,
        "country": "JP",
        "subdivision": "",
        "notes": "",
        **{
            f"{prefix}-{key}": value
            for prefix in ("contacts", "users", "integrations")
            for key, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"))
        },
    }

    with on("2026-12-01"):
        client.post(reverse("admin:integrations_partner_change", args=[partner.pk]), form)

    partner.refresh_from_db()
    assert partner.country == "JP"
    assert step(integration, "endpoints-implementation").planned_due_date == date(2026, 12, 25)


def test_the_moved_note_names_japans_new_year_and_not_a_plain_weekend(pm):
    from roadmap.calendars import WorkingCalendar

    japan = WorkingCalendar("JP")
    assert japan.moved_for_holiday(NEW_YEAR, date(2027, 1, 4)) == "moved from 1 Jan: New Year's Day in Japan"
    assert japan.moved_for_holiday(CHRISTMAS, date(2026, 12, 28)) == ""
    assert japan.moved_for_holiday(date(2027, 1, 2), date(2027, 1, 4)) == ""


def test_the_partner_sets_its_holidays_on_the_stage_page(pm, partner_user, client):
    partner = partner_user.partner_account.partner
    integration = IntegrationFactory(partner=partner, tv_pm=pm)
    client.force_login(partner_user)
    url = f"/partner/integrations/{integration.pk}/holidays/"
    client.post(url, {"country": "de", "subdivision": "by"})
    partner.refresh_from_db()
    assert (partner.country, partner.subdivision) == ("DE", "BY")
    page = client.get(f"/partner/integrations/{integration.pk}/").content.decode()
    assert "Germany (BY)" in page

    response = client.post(url, {"country": "XX"}, follow=True)
    assert response.status_code == 200
    assert "Holidays not changed" in response.content.decode()
    partner.refresh_from_db()
    assert partner.country == "DE"
