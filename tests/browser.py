"""Headless Chromium for the page tests: Debian's /usr/bin/chromium driven by Playwright.

``needs_browser`` skips a module without Chromium unless REQUIRE_BROWSER=1 (CI sets it once it has
installed Chromium, so there a missing browser fails instead). The ``page`` fixture is registered
for the whole suite by the root conftest.
"""

import os
import shutil

import pytest
from django.db import connections

CHROMIUM = "/usr/bin/chromium"
WIDTH, HEIGHT = 1440, 900

needs_browser = pytest.mark.skipif(
    not shutil.which(CHROMIUM) and not os.environ.get("REQUIRE_BROWSER"),
    reason="needs Debian's chromium (apt-get install -y chromium); .ci/run installs it",
)


@pytest.fixture
def page(live_server, monkeypatch):
    """A Chromium page at 1440 x 900 whose relative URLs go to the live server."""
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; the ORM calls the test makes
    # between page actions are still synchronous, and Django must be told so.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        context = browser.new_context(base_url=live_server.url, viewport={"width": WIDTH, "height": HEIGHT})
        page = context.new_page()
        page.set_default_timeout(15_000)
        yield page
        # With Playwright's loop running, the ORM calls the test made got connections of
        # their own (Django keeps them per async context); close them before the loop stops,
        # or PostgreSQL cannot drop the test database at the end of the run.
        connections.close_all()
        browser.close()


def reopen(page):
    """Load the page's URL again, as a new navigation.

    Not ``page.reload()``: Chromium's reload right after a redirected POST can fail with "Not
    attached to an active page" (seen once in CI). Without the fragment: going to the same URL with
    its "#..." only scrolls, it does not load the page.
    """
    page.goto(page.url.split("#", 1)[0])
