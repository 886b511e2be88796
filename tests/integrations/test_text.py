"""Free text is cleaned once, the same way on every surface: line ends as LF, no surrounding
whitespace, and the limit counts what is kept (``integrations.text``)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from integrations.context import ChangeContext
from integrations.forms import NoteForm, ReasonForm
from integrations.models import ChangeSource, StepChange
from integrations.text import NOTE_MAX, FreeTextField, ago_text, clean_limited, clean_text, moment_text
from roadmap.refusals import InvalidInput
from tests.integrations.api.conftest import caller_for
from tests.integrations.helpers import KICKOFF, on, step

# A browser's textarea: CR LF line ends; NOTE_MAX characters once they are LF.
CRLF_NOTE = "a" * (NOTE_MAX - 2) + "\r\nb\r\n"
KEPT = "a" * (NOTE_MAX - 2) + "\nb"


@pytest.mark.parametrize(
    "given, kept",
    [
        (None, ""),
        ("", ""),
        ("  plain  ", "plain"),
        ("\r\n one\r\ntwo\rthree\n ", "one\ntwo\nthree"),
        ("\r" + "x" * 5, "xxxxx"),
        (42, "42"),
    ],
)
def test_clean_text(given, kept):
    assert clean_text(given) == kept


def test_the_limit_is_checked_on_the_cleaned_text():
    assert clean_limited("\r" + "x" * 200, 200) == "x" * 200
    assert clean_limited("x" * 199 + "\r\ny", 201) == "x" * 199 + "\ny"
    with pytest.raises(ValidationError, match="At most 200 characters; this has 201."):
        clean_limited("x" * 201, 200)


def test_a_form_field_cleans_before_measuring():
    field = FreeTextField(max_length=NOTE_MAX)
    assert field.clean(CRLF_NOTE) == KEPT
    with pytest.raises(ValidationError):
        field.clean(KEPT + "c")


@pytest.mark.parametrize("form_class, name", [(NoteForm, "note"), (ReasonForm, "reason")])
def test_the_pages_note_forms_clean_and_bound_the_note(form_class, name):
    form = form_class({name: CRLF_NOTE})
    assert form.is_valid(), form.errors
    assert form.cleaned_data[name] == KEPT
    too_long = form_class({name: KEPT + "c"})
    assert not too_long.is_valid()
    assert f"at most {NOTE_MAX} characters" in str(too_long.errors[name])


def test_the_change_context_keeps_the_note_cleaned(pm):
    assert ChangeContext(source=ChangeSource.JIRA, note="\r\nDone in Jira.\r\nBRK-1\r\n").note == "Done in Jira.\nBRK-1"
    assert ChangeContext.web(pm, CRLF_NOTE).note == KEPT


def test_a_note_typed_on_a_page_is_bounded(pm):
    with pytest.raises(InvalidInput, match=f"at most {NOTE_MAX} characters; this has {NOTE_MAX + 1}"):
        ChangeContext.web(pm, KEPT + "c")


# --- every surface ---------------------------------------------------------------------------------


def test_the_stage_page_keeps_a_note_cleaned_and_refuses_one_too_long(partner_user, started_integration):
    client = Client()
    client.force_login(partner_user)
    endpoints = step(started_integration, "endpoints-implementation")
    url = reverse("stage-step-action", args=[endpoints.pk, "block"])

    with on(KICKOFF):
        client.post(url, {"note": KEPT + "c"})
    assert step(started_integration, "endpoints-implementation").status == endpoints.status

    with on(KICKOFF):
        client.post(url, {"note": CRLF_NOTE})
    blocked = step(started_integration, "endpoints-implementation")
    assert blocked.status == "blocked" and blocked.blocked_reason == KEPT
    assert StepChange.objects.filter(step=endpoints).latest("at", "id").note == KEPT


def test_the_dashboard_keeps_a_note_cleaned_and_refuses_one_too_long(pm, started_integration):
    client = Client()
    client.force_login(pm)
    onboarding = step(started_integration, "slack-jira-onboarding")
    url = reverse("step-action", args=[onboarding.pk, "block"])

    with on(KICKOFF):
        client.post(url, {"note": KEPT + "c"})
    assert step(started_integration, "slack-jira-onboarding").status == onboarding.status

    with on(KICKOFF):
        client.post(url, {"note": CRLF_NOTE})
    assert step(started_integration, "slack-jira-onboarding").blocked_reason == KEPT


def test_the_api_keeps_a_note_cleaned_and_refuses_one_too_long(pm, started_integration):
    api = caller_for(pm)
    onboarding = step(started_integration, "slack-jira-onboarding")

    with on(KICKOFF):
        refused = api.post(f"steps/{onboarding.pk}/block/", {"note": KEPT + "c"})
    assert refused.status_code == 400 and refused.json()["code"] == "invalid"

    with on(KICKOFF):
        done = api.post(f"steps/{onboarding.pk}/block/", {"note": CRLF_NOTE})
    assert done.status_code == 200, done.content[:300]
    assert done.json()["blocked_reason"] == KEPT


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(0, "just now"), (59, "just now"), (60, "1\xa0minute ago"), (3 * 3600 + 120, "3\xa0hours, 2\xa0minutes ago")],
)
def test_how_long_ago_reads_as_people_say_it(seconds, said):
    assert ago_text(timezone.now() - timedelta(seconds=seconds)) == said


@pytest.mark.parametrize("zone", ["Europe/London", "Asia/Kolkata", "America/New_York"])
def test_a_moment_reads_as_djangos_date_format_writes_it(settings, zone):
    # moment_text writes the product's DATETIME_FORMAT itself (a list writes one a row): every minute of
    # a day and a day of every month, across the clock changes, reads exactly as Django's formatter has it.
    settings.TIME_ZONE = zone
    start = datetime(2026, 1, 1, 0, 7, tzinfo=UTC)
    moments = [start + timedelta(minutes=m) for m in range(0, 24 * 60, 7)]
    moments += [start + timedelta(days=d, hours=d % 24) for d in range(0, 400, 3)]
    for moment in moments:
        assert moment_text(moment) == date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    assert moment_text(datetime(2026, 11, 27, 12, 5, tzinfo=UTC)).startswith("27 Nov 2026, ")


def test_a_moment_in_a_language_with_other_format_characters_is_written_by_django():
    moment = datetime(2026, 3, 9, 14, 5, tzinfo=UTC)
    with translation.override("de"):
        assert moment_text(moment) == date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    assert moment_text(None) == ""
