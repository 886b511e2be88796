"""What the product's inbound hooks share (Jira's and Jenkins' webhooks, Slack's buttons).

A request from outside that the hook will not take is answered with an HTTP status and a message
saying what is wrong, never a 500: the hook raises ``Refused`` while it checks the request.
"""

from django.http import UnreadablePostError


class Refused(Exception):
    """A request answered with an error: the HTTP status and the message for the sender."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def read_body(request, limit: int, setting: str) -> bytes:
    """The raw body, refused (413) past ``limit`` bytes (the ``setting`` that sets it) without reading
    more than one byte beyond."""
    declared = request.META.get("CONTENT_LENGTH") or ""
    if declared:
        if not (declared.isascii() and declared.isdigit()):
            raise Refused(400, f"Content-Length {declared!r} is not a number of bytes.")
        if int(declared) > limit:
            raise _too_big(limit, setting)
    # Content-Length may be absent or understated (chunked bodies): read at most limit + 1 bytes.
    chunks, size = [], 0
    try:
        while size <= limit:
            chunk = request.read(limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except UnreadablePostError as error:
        raise Refused(400, f"The body could not be read: {error}") from error
    if size > limit:
        raise _too_big(limit, setting)
    return b"".join(chunks)


def _too_big(limit: int, setting: str) -> Refused:
    return Refused(413, f"The body is larger than {limit} bytes ({setting}).")
