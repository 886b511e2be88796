"""``check --deploy`` refuses a production without an https ``SITE_URL``: Slack's buttons link to it."""

import pytest

from config.checks import site_url_check
from tests.config.test_settings import production_env, run


@pytest.mark.parametrize(
    "site_url",
    ["", "   ", "http://roadmap.example.com", "roadmap.example.com", "https://", "https:///path", "ftp://x.example"],
    ids=["unset", "blank", "plain-http", "no-scheme", "no-host", "empty-host", "ftp"],
)
def test_production_needs_an_https_site_url(settings, site_url):
    settings.EMBEDDED = settings.DEBUG = False
    settings.SITE_URL = site_url

    [error] = site_url_check()

    assert error.id == "config.E002"
    assert "SITE_URL" in error.msg


@pytest.mark.parametrize("site_url", ["https://roadmap.example.com", "https://roadmap.example.com/"])
def test_an_https_site_url_passes(settings, site_url):
    settings.EMBEDDED = settings.DEBUG = False
    settings.SITE_URL = site_url

    assert site_url_check() == []


@pytest.mark.parametrize("mode", ["EMBEDDED", "DEBUG"])
def test_the_embedded_and_debug_modes_may_link_to_plain_http(settings, mode):
    settings.EMBEDDED = settings.DEBUG = False
    setattr(settings, mode, True)
    settings.SITE_URL = "http://127.0.0.1:8000"

    assert site_url_check() == []


def test_check_deploy_names_the_missing_site_url(tmp_path):
    env = production_env(tmp_path)
    env.pop("SITE_URL")

    done = run(env, "manage.py", "check", "--deploy")

    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "config.E002" in output and "SITE_URL" in output


def test_production_has_no_default_site_url_and_the_embedded_mode_has_its_own(tmp_path):
    from tests.config.test_settings import clean_env, settings_of

    env = production_env(tmp_path)
    env.pop("SITE_URL")
    assert settings_of(env, "SITE_URL") == ["''"]
    assert settings_of(clean_env(tmp_path, EMBEDDED="1"), "SITE_URL") == ["'http://127.0.0.1:8000'"]
