"""Root conftest, also loaded as a plugin (``-p conftest`` in pyproject.toml) so that it runs
before pytest-django imports the settings.

The suite runs in the embedded mode (secret key generated under ``VAR_DIR``, plain http), as
``make run`` does; subprocesses the tests start inherit it. Tests of the production mode build
their subprocess's environment explicitly.
"""

import os

os.environ.setdefault("EMBEDDED", "1")

# The headless-Chromium ``page`` fixture, for the page tests that ask for it.
pytest_plugins = ["tests.browser"]
