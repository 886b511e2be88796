"""Change detection: an ``ETag`` on each integration and step, ``If-None-Match`` and ``If-Match``.

The tag hashes what the detail shows (its JSON, which holds the id and ``updated_at``) and, for an
integration, the last change of its steps and hand-overs: the stored standing, a step or a sheet
can change without touching the integration's ``updated_at``, and a tag that missed them would
let a stale copy pass for current. A GET whose ``If-None-Match`` holds the tag gets a 304; a
change whose ``If-Match`` no longer matches is refused with 412 before anything is written.
"""

import hashlib
import json
from contextlib import contextmanager

from django.db import transaction
from rest_framework import status
from rest_framework.response import Response

from integrations.api.errors import PreconditionFailed


def etag_of(*parts) -> str:
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return f'"{hashlib.sha256(text.encode()).hexdigest()[:32]}"'


def _tags(header: str) -> list[str]:
    tags = []
    for part in header.split(","):
        part = part.strip()
        if part.startswith("W/"):
            part = part[2:]
        if part:
            tags.append(part)
    return tags


def _matches(header: str, tag: str) -> bool:
    tags = _tags(header)
    return "*" in tags or tag in tags


def not_modified(request, tag: str) -> Response | None:
    """A 304 when the caller's ``If-None-Match`` already holds ``tag``."""
    header = request.headers.get("If-None-Match")
    if header and _matches(header, tag):
        return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
    return None


def check_if_match(request, tag: str):
    """Refuse a change (412) when ``If-Match`` is given and does not hold ``tag``."""
    header = request.headers.get("If-Match")
    if header is not None and not _matches(header, tag):
        raise PreconditionFailed()


@contextmanager
def unchanged_since_read(request, obj, tag_now):
    """Make a change only if ``obj`` is as the caller read it (``If-Match``), holding its row meanwhile.

    ``tag_now()`` gives the object's current tag. Without If-Match the change proceeds; with one,
    the row is locked for the change's transaction, so a change in between cannot slip past.
    """
    if request.headers.get("If-Match") is None:
        yield
        return
    with transaction.atomic():
        type(obj).objects.select_for_update().filter(pk=obj.pk).first()
        check_if_match(request, tag_now())
        yield


def tagged(response: Response, tag: str) -> Response:
    response["ETag"] = tag
    return response
