"""The API's JSON reader: DRF's, refusing a NUL character anywhere in the body.

The pages' NUL check (``config.middleware``) reads the path, the query and form fields; a JSON
body is read here, once, and a NUL in any string or key is refused with the same code and
message, whichever field it is in (a text field, a list, a key the serializer does not know).
"""

from rest_framework import exceptions, status
from rest_framework.parsers import JSONParser

from config.middleware import NUL, NUL_CODE, NUL_MESSAGE


class NulCharacter(exceptions.APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = NUL_CODE
    default_detail = NUL_MESSAGE


def holds_nul(value) -> bool:
    stack = [value]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if NUL in value:
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


class JsonWithoutNul(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        if holds_nul(data):
            raise NulCharacter()
        return data
