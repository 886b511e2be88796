"""Keeps expected refusals short in the logs.

Django logs every 4xx answer on ``django.request``; a 403 or 404 raised as an exception
(``PermissionDenied``, ``Http404``) comes with its full traceback, though nothing went wrong: a
partner opened a PM page, a link was mistyped. ``ClientErrorsWithoutTraceback``, set on that
logger in ``LOGGING``, drops the traceback of answers below 500 and keeps the one line that says
what was refused; server errors keep theirs.
"""

import logging


class ClientErrorsWithoutTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
