"""Raw tokens never reach a log line: the request logs (``django.server``, the embedded web server's
access log, and ``django.request``, Django's warnings about 4xx and 5xx) print request paths, and
the configured handlers redact the token segment of magic-link and calendar-feed URLs."""

import io
import logging
from contextlib import contextmanager

import pytest

TOKEN = "Zx8kQ2r7VvLm3nB1cD4eF5gH6iJ7kL8mN9oP0qR1sT2"
PATHS = [f"/partner/link/{TOKEN}/", f"/partner/calendar/{TOKEN}.ics", f"/calendar/{TOKEN}.ics"]


@contextmanager
def captured(logger_name: str, handler_name: str):
    """What the configured handler ``handler_name`` of ``logger_name``'s chain writes, in a buffer."""
    logger = logging.getLogger(logger_name)
    chain = [logger, logging.getLogger()] if logger.propagate else [logger]
    handler = next(h for each in chain for h in each.handlers if h.name == handler_name)
    buffer = io.StringIO()
    old = handler.setStream(buffer)
    try:
        yield buffer
    finally:
        handler.setStream(old)


@pytest.mark.parametrize("path", PATHS)
def test_the_web_servers_access_log_redacts_tokens(path):
    with captured("django.server", "django.server") as out:
        # As runserver's request handler logs a request.
        logging.getLogger("django.server").info(
            '"%s" %s %s', f"GET {path} HTTP/1.1", "200", "1234", extra={"status_code": 200}
        )
    line = out.getvalue()
    assert "[redacted]" in line and "200 1234" in line
    assert TOKEN not in line and TOKEN[:8] not in line


@pytest.mark.parametrize("path", PATHS)
def test_djangos_request_warnings_redact_tokens(path):
    with captured("django.request", "console") as out:
        logging.getLogger("django.request").warning("Not Found: %s", path)
    line = out.getvalue()
    assert "Not Found: /" in line and "[redacted]" in line
    assert TOKEN not in line


@pytest.mark.django_db
def test_a_request_for_an_unknown_link_logs_no_token(client):
    with captured("django.request", "console") as out:
        assert client.get(f"/partner/link/{TOKEN}/").status_code == 404
        assert client.get(f"/partner/calendar/{TOKEN}.ics").status_code == 404
    logged = out.getvalue()
    assert logged.count("[redacted]") == 2
    assert TOKEN not in logged


def test_other_paths_are_left_alone():
    with captured("django.request", "console") as out:
        logging.getLogger("django.request").warning("Not Found: %s", "/partner/integrations/5/calendar/3/revoke/")
    assert "/partner/integrations/5/calendar/3/revoke/" in out.getvalue()
