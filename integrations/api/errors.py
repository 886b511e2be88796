"""Every 4xx of the API as one JSON shape: ``{"code", "message"}`` plus ``"fields"`` for bad input.

Maps the domain's refusals (``roadmap.refusals.Refusal``: their own status and code), Django's
``ValidationError`` (model ``full_clean`` and the hand-over records), ``Http404`` and DRF's own
exceptions. The codes are stable: scripts branch on them; messages are for people.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from roadmap.refusals import Refusal

# DRF's exception -> (our code, the message when DRF's own is not for people).
DRF_CODES = {
    exceptions.NotAuthenticated: ("not_authenticated", "Authenticate with a token or sign in."),
    exceptions.AuthenticationFailed: ("not_authenticated", None),
    exceptions.PermissionDenied: ("permission_denied", "Only TradingView staff may do this."),
    exceptions.NotFound: ("not_found", "Not found."),
    exceptions.MethodNotAllowed: ("method_not_allowed", None),
    exceptions.NotAcceptable: ("not_acceptable", "The API answers in JSON only (Accept: application/json)."),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", "Send the body as JSON (application/json)."),
    exceptions.ParseError: ("parse_error", None),
    exceptions.Throttled: ("throttled", None),
}


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_code = "precondition_failed"
    default_detail = "The object changed since you read it (If-Match does not match its ETag); read it again."


def body(code: str, message: str, fields: dict | None = None) -> dict:
    result = {"code": code, "message": message}
    if fields is not None:
        result["fields"] = fields
    return result


def _messages(detail) -> list[str]:
    if isinstance(detail, dict):
        return [m for value in detail.values() for m in _messages(value)]
    if isinstance(detail, list | tuple):
        return [m for value in detail for m in _messages(value)]
    return [str(detail)]


def _fields(detail) -> dict[str, list[str]]:
    """DRF's error detail as field -> messages; what is wrong inside a field (a list item, a
    nested object) is told under the field's own name."""
    if isinstance(detail, dict):
        return {str(name): _messages(value) for name, value in detail.items()}
    return {"non_field_errors": _messages(detail)}


def validation_fields(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            ("non_field_errors" if name == "__all__" else name): [str(m) for e in errors for m in e.messages]
            for name, errors in error.error_dict.items()
        }
    return {"non_field_errors": list(error.messages)}


def _invalid(fields: dict[str, list[str]]) -> Response:
    first = next((f"{name}: {messages[0]}" for name, messages in fields.items() if messages), "")
    message = "The request is not valid" + (f" ({first})." if first else ".")
    if first.startswith("non_field_errors: "):
        message = fields["non_field_errors"][0]
    return Response(body("invalid", message, fields), status=status.HTTP_400_BAD_REQUEST)


def exception_handler(exc, context):
    """DRF's exception handler for the API (setting ``REST_FRAMEWORK["EXCEPTION_HANDLER"]``)."""
    response = _response(exc)
    if response is not None:
        set_rollback()
    return response


def _response(exc):
    if isinstance(exc, Refusal):
        return Response(body(exc.code, exc.message), status=exc.http_status)
    if isinstance(exc, DjangoValidationError):
        return _invalid(validation_fields(exc))
    if isinstance(exc, Http404):
        return Response(body("not_found", "Not found."), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, RequestDataTooBig):
        # Django's own answer would be its HTML 400 page; a script reads the API's JSON.
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = f"The body is larger than {limit} bytes, the most a request may carry."
        return Response(body("too_large", message), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a bug: Django's 500 handling and logging take it
    if isinstance(exc, exceptions.ValidationError):
        return _invalid(_fields(exc.detail))
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    code, message = exc.default_code, None
    for kind, (mapped, text) in DRF_CODES.items():
        if isinstance(exc, kind):
            code, message = mapped, text
            break
    if isinstance(exc, exceptions.Throttled):
        wait = int(exc.wait or 1)
        headers["Retry-After"] = str(wait)
        message = f"Too many requests; retry in {wait} s."
    if message is None or (isinstance(exc, exceptions.PermissionDenied | exceptions.NotFound) and _custom(exc)):
        message = " ".join(_messages(exc.detail))
    return Response(body(code, message), status=exc.status_code, headers=headers)


def _custom(exc) -> bool:
    """Whether the exception was raised with its own message rather than DRF's default one."""
    return str(exc.detail) != str(exc.default_detail)
