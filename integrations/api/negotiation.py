"""Which renderer answers: DRF's negotiation, read without parsing when the caller accepts anything.

Scripts send ``Accept: */*`` or no Accept header at all. For those DRF's negotiation picks the first
renderer with its own media type, after building the request's header map and parsing the header:
a twentieth of the integrations list's CPU time. Here that answer is given at once; any other Accept
header, a ``?format=`` or a format suffix goes through DRF's negotiation as before.
"""

from rest_framework.negotiation import DefaultContentNegotiation

ANYTHING = "*/*"


class AcceptsAnything(DefaultContentNegotiation):
    def select_renderer(self, request, renderers, format_suffix=None):
        if (
            renderers
            and not format_suffix
            and request.META.get("HTTP_ACCEPT", ANYTHING) == ANYTHING
            and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
