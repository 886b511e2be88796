"""Expected refusals (403, 404) are logged as one line; only server errors keep their traceback."""

import logging

import pytest
from django.urls import reverse

from config.quiet_refusals import ClientErrorsWithoutTraceback

pytestmark = pytest.mark.django_db


def request_records(caplog):
    return [r for r in caplog.records if r.name == "django.request"]


def test_a_403_and_a_404_are_one_line_without_a_traceback(client, partner_user, caplog):
    client.force_login(partner_user)
    with caplog.at_level(logging.INFO):
        assert client.get(reverse("portfolio")).status_code == 403
        assert client.get(reverse("stage-page", args=[999999])).status_code == 404
        assert client.get("/no/such/page/").status_code == 404
    records = request_records(caplog)
    assert [r.levelname for r in records] == ["WARNING"] * 3
    assert "Forbidden" in records[0].getMessage() and "Not Found" in records[1].getMessage()
    assert all(r.exc_info is None and r.exc_text is None for r in records)
    assert "Traceback" not in caplog.text


def test_server_errors_keep_their_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError as error:
        exc_info = (type(error), error, error.__traceback__)
    quiet = ClientErrorsWithoutTraceback()
    for status, kept in ((403, False), (404, False), (500, True)):
        record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "x", None, exc_info)
        record.status_code = status
        assert quiet.filter(record) is True
        assert (record.exc_info is not None) is kept
