"""The OpenAPI description: every operation lists the error answers it can give, in the one error shape."""

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable: not_found, invalid, prerequisites_open, ...")
    message = serializers.CharField(help_text="A sentence for people.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="For code 'invalid': field or parameter -> messages.",
    )


class ApiSchema(AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        codes = ["400", "401", "403", "404", "406", "429"]
        if self.method in UNSAFE:
            codes += ["409", "412", "415"]
        for code in codes:
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
        detail = getattr(self.view, "etag_actions", ())
        if self.method == "GET" and getattr(self.view, "action", None) in detail:
            responses.setdefault("304", {"description": "Not modified: If-None-Match holds the current ETag."})
        return responses


# Fields only staff get: a partner's user receives the same objects without them.
STAFF_ONLY_FIELDS = {"Partner": ["notes", "contacts"]}


def staff_only_fields(result, generator, request, public):
    """Post-processing hook: staff-only fields are optional in the responses' schema."""
    schemas = result.get("components", {}).get("schemas", {})
    for component, names in STAFF_ONLY_FIELDS.items():
        schema = schemas.get(component)
        if not schema:
            continue
        schema["required"] = [name for name in schema.get("required", []) if name not in names]
        for name in names:
            if name in schema.get("properties", {}):
                schema["properties"][name]["description"] = "Staff only: absent for a partner's user."
    return result
