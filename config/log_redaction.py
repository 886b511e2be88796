"""Keeps raw tokens out of the logs.

A magic link (``/partner/link/<token>/``) and a calendar feed (``/partner/calendar/<token>.ics``,
the PM's ``/calendar/<token>.ics``) carry their credential in the path, and request logs print
paths: the embedded web server's access log (``django.server``) and Django's warnings about 4xx
and 5xx answers (``django.request``). ``RedactTokens``, set on the handlers in ``LOGGING``,
replaces the token segment before any handler writes the record.
"""

import logging
import re

REDACTED = "[redacted]"
TOKEN_IN_PATH = re.compile(r"(/link/)[^/\s\"'?#]+|(/calendar/)[^/\s\"'?#]+?(?=\.ics)")


def redact(text: str) -> str:
    return TOKEN_IN_PATH.sub(lambda match: (match.group(1) or match.group(2)) + REDACTED, text)


class RedactTokens(logging.Filter):
    """A handler filter: rewrites the record's message with the tokens redacted; never drops it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # a malformed record: logging reports it as usual
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
