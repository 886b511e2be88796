"""The renderer chosen for a request is DRF's own choice, whatever the Accept header, format or renderers."""

import pytest
from drf_spectacular.views import SpectacularAPIView
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from integrations.api.negotiation import AcceptsAnything

ACCEPTS = [None, "*/*", "application/json", "application/json; indent=4", "text/html", "application/xml, */*;q=0.1"]
FORMATS = [None, "json", "yaml", "openapi"]
RENDERER_LISTS = {
    "the API's": [JSONRenderer()],
    "the schema's (YAML first)": [renderer() for renderer in SpectacularAPIView.renderer_classes],
}


def choice(negotiation, renderers, accept, format_param, suffix):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(APIRequestFactory().get("/", {"format": format_param} if format_param else {}, **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers, suffix)
    except NotAcceptable:
        return "406"
    except Exception as error:  # noqa: BLE001 (a 404 for an unknown format: the same either way)
        return type(error).__name__
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("renderers", RENDERER_LISTS.values(), ids=RENDERER_LISTS.keys())
@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("format_param", FORMATS)
@pytest.mark.parametrize("suffix", [None, "json"])
def test_the_choice_is_drfs(renderers, accept, format_param, suffix):
    ours = choice(AcceptsAnything(), renderers, accept, format_param, suffix)
    assert ours == choice(DefaultContentNegotiation(), renderers, accept, format_param, suffix)


def test_the_list_answers_json_to_a_script_accepting_anything(staff_api, world):
    for headers in ({}, {"Accept": "*/*"}):
        response = staff_api.get("integrations/", headers=headers)
        assert response.status_code == 200 and response["Content-Type"] == "application/json"
