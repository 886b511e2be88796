"""A step's comments through the API: in pages, as every list (``page``, ``page_size``, ``next``),
oldest first, and never an internal comment to a partner's token, on any page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.comments import post_comment
from tests.integrations.api.conftest import error_of, results
from tests.integrations.helpers import step

pytestmark = pytest.mark.django_db

ENDPOINTS = "endpoints-implementation"  # the partner's


@pytest.fixture
def long_thread(world, pm, partner_user):
    """60 comments on the partner's step: every third one internal (20), the others public (40)."""
    endpoints = step(world, ENDPOINTS)
    for n in range(60):
        if n % 3 == 2:
            post_comment(endpoints, pm, f"INTERNAL {n:02d}", internal=True)
        else:
            post_comment(endpoints, partner_user if n % 2 else pm, f"public {n:02d}")
    return endpoints


def every_page(caller, url) -> tuple[list[dict], int]:
    """Follow ``next`` from ``url``: the rows of every page, and how many pages."""
    rows, pages = [], 0
    while url:
        response = caller.get(url)
        rows += results(response)
        url, pages = response.json()["next"], pages + 1
    return rows, pages


def test_comments_come_fifty_to_a_page_with_a_link_to_the_next(staff_api, long_thread):
    first = staff_api.get(f"steps/{long_thread.pk}/comments/").json()
    assert first["count"] == 60 and first["previous"] is None
    assert [c["body"] for c in first["results"]][:3] == ["public 00", "public 01", "INTERNAL 02"]
    assert len(first["results"]) == 50
    assert first["next"].endswith(f"/api/v1/steps/{long_thread.pk}/comments/?page=2")
    second = staff_api.get(first["next"]).json()
    assert [c["body"] for c in second["results"]] == [
        f"INTERNAL {n:02d}" if n % 3 == 2 else f"public {n:02d}" for n in range(50, 60)
    ]
    assert second["next"] is None and second["previous"]


def test_a_partners_token_never_gets_an_internal_comment_on_any_page(partner_api, long_thread):
    rows, pages = every_page(partner_api, f"steps/{long_thread.pk}/comments/?page_size=7")
    assert pages == 6  # 40 public comments, 7 a page
    assert [c["body"] for c in rows] == [f"public {n:02d}" for n in range(60) if n % 3 != 2]
    assert not any(c["internal"] for c in rows)
    first = partner_api.get(f"steps/{long_thread.pk}/comments/?page_size=7").json()
    assert first["count"] == 40  # the count says nothing of internal ones either
    error_of(partner_api.get(f"steps/{long_thread.pk}/comments/?page=7&page_size=7"), 404, "not_found")


def test_page_size_is_bounded_as_every_list(staff_api, long_thread):
    assert len(results(staff_api.get(f"steps/{long_thread.pk}/comments/?page_size=200"))) == 60
    for bad in ("0", "201", "x"):
        error_of(staff_api.get(f"steps/{long_thread.pk}/comments/?page_size={bad}"), 400, "invalid")


def test_a_page_of_comments_costs_the_same_queries_however_long_the_thread(staff_api, world, pm):
    endpoints = step(world, ENDPOINTS)
    results(staff_api.get(f"steps/{endpoints.pk}/comments/"))  # the token's first use is recorded once
    counts = []
    for total in (3, 30):
        while endpoints.comments.count() < total:
            post_comment(endpoints, pm, "a comment")
        with CaptureQueriesContext(connection) as queries:
            results(staff_api.get(f"steps/{endpoints.pk}/comments/?page_size=10"))
        counts.append(len(queries))
    assert counts[0] == counts[1]


@pytest.mark.parametrize("flag", ["yes", "no", "false", 1, 0, "on"])
def test_internal_must_be_a_json_boolean(staff_api, world, flag):
    # DRF took "yes" (and "no", 0...) for a boolean: a script's "no" must not be read as anything.
    endpoints = step(world, ENDPOINTS)
    body = error_of(staff_api.post(f"steps/{endpoints.pk}/comments/", {"body": "hi", "internal": flag}), 400, "invalid")
    assert body["fields"]["internal"] == ["Give true or false (a JSON boolean)."]
    assert not endpoints.comments.exists()


def test_internal_given_as_a_json_boolean_is_taken(staff_api, world):
    endpoints = step(world, ENDPOINTS)
    response = staff_api.post(f"steps/{endpoints.pk}/comments/", {"body": "hi", "internal": True})
    assert response.status_code == 201, response.content
    assert endpoints.comments.get().internal is True
