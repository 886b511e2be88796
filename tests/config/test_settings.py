"""Production safety: the settings refuse an unsafe production start, ``check --deploy`` is clean
on the documented production environment, and the demo commands stay in the embedded mode.

The settings are read once per process, so the production cases run ``manage.py`` (or import the
settings module) in a subprocess with an environment built here, independent of the caller's.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2]
# Everything the settings read that would change what these tests see.
CALLER_VARIABLES = {
    "DATABASE_URL",
    "DATABASE_CONN_MAX_AGE",
    "DATABASE_CONN_HEALTH_CHECKS",
    "DATABASE_PREPARED_STATEMENTS",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "EMBEDDED",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "CACHE_URL",
    "API_THROTTLE_RATE",
    "SITE_URL",
    "HANDOVER_CHECK_ALLOW_PRIVATE",
    "JIRA_WEBHOOK_ALLOW_UNSIGNED",
}


def clean_env(tmp_path, **values) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CALLER_VARIABLES}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        VAR_DIR=str(tmp_path / "var"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PYTHONUNBUFFERED="1",
    )
    env.update(values)
    return env


def production_env(tmp_path, **values) -> dict[str, str]:
    return clean_env(
        tmp_path,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="roadmap.example.com",
        SITE_URL="https://roadmap.example.com",
        **values,
    )


def run(env, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def settings_of(env, *names) -> list[str]:
    """The settings module's values of ``names`` in a process with ``env``, one repr a line."""
    code = "import config.settings as s\n" + "".join(f"print(repr(s.{name}))\n" for name in names)
    done = run(env, "-c", code)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.mark.parametrize("proxy", ["", "HTTP_X_FORWARDED_PROTO,https"])
def test_check_deploy_is_clean_on_the_production_env(tmp_path, proxy):
    env = production_env(tmp_path, SECURE_PROXY_SSL_HEADER=proxy)

    done = run(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNING" not in done.stdout + done.stderr


def test_production_defaults_are_secure(tmp_path):
    values = settings_of(
        production_env(tmp_path, SECURE_PROXY_SSL_HEADER=" HTTP_X_FORWARDED_PROTO , https "),
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_PROXY_SSL_HEADER",
    )

    assert values == ["True", "True", "True", "3600", "('HTTP_X_FORWARDED_PROTO', 'https')"]


def test_production_keeps_database_connections_and_checks_them_before_reuse(tmp_path):
    url = "postgres://roadmap@db.internal:5432/roadmap"
    production = settings_of(
        production_env(tmp_path, DATABASE_URL=url),
        "DATABASES['default']['CONN_MAX_AGE']",
        "DATABASES['default']['CONN_HEALTH_CHECKS']",
    )
    tuned = settings_of(
        production_env(tmp_path, DATABASE_URL=url, DATABASE_CONN_MAX_AGE="0", DATABASE_CONN_HEALTH_CHECKS="0"),
        "DATABASES['default']['CONN_MAX_AGE']",
        "DATABASES['default']['CONN_HEALTH_CHECKS']",
    )
    embedded = settings_of(clean_env(tmp_path, EMBEDDED="1"), "DATABASES['default']['CONN_MAX_AGE']")

    assert production == ["60", "True"]
    assert tuned == ["0", "False"]
    assert embedded == ["0"]  # one SQLite file shared by three processes: nothing kept open


def test_postgresql_connections_may_prepare_statements_unless_a_pooler_cannot_hold_them(tmp_path):
    url = "postgres://roadmap@db.internal:5432/roadmap"
    threshold = "DATABASES['default']['OPTIONS'].get('prepare_threshold', 'unset')"

    production = settings_of(production_env(tmp_path, DATABASE_URL=url), threshold)
    behind_a_pooler = settings_of(
        production_env(tmp_path, DATABASE_URL=url, DATABASE_PREPARED_STATEMENTS="0"), threshold
    )
    sqlite = settings_of(production_env(tmp_path), threshold)

    assert production == ["5"]  # psycopg's own threshold, which Django turns off
    assert behind_a_pooler == ["None"]
    assert sqlite == ["'unset'"]


def test_a_malformed_connection_age_names_the_variable(tmp_path):
    done = run(production_env(tmp_path, DATABASE_CONN_MAX_AGE="forever"), "-c", "import config.settings")

    assert done.returncode != 0
    assert "DATABASE_CONN_MAX_AGE='forever'" in done.stderr


def test_embedded_mode_serves_plain_http_with_a_generated_key(tmp_path):
    env = clean_env(tmp_path, EMBEDDED="1")

    key, *flags = settings_of(env, "SECRET_KEY", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "SECURE_HSTS_SECONDS")

    assert flags == ["False", "False", "0"]
    assert key == repr((tmp_path / "var" / "secret_key").read_text().strip())


@pytest.mark.parametrize(
    "process",
    [
        ("-c", "import config.wsgi"),
        ("-c", "import config.asgi"),
        ("-m", "celery", "-A", "config", "worker", "--pool=solo"),
        ("-m", "celery", "-A", "config", "beat"),
        ("manage.py", "check", "--deploy"),
    ],
    ids=["wsgi", "asgi", "worker", "beat", "check-deploy"],
)
def test_production_without_secret_key_does_not_start(tmp_path, process):
    env = clean_env(tmp_path, DEBUG="0")

    done = run(env, *process)

    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "SECRET_KEY is not set" in output
    assert "make run" in output
    assert not (tmp_path / "var" / "secret_key").exists()  # no per-machine key made up


def test_maintenance_commands_run_without_a_secret_key(tmp_path):
    # A deployment prepares its database before its secret is wired in; nothing here signs.
    env = clean_env(tmp_path, DEBUG="0")

    done = run(env, "manage.py", "makemigrations", "--check", "--dry-run")

    assert done.returncode == 0, done.stderr
    assert "No changes detected" in done.stdout


def test_a_malformed_proxy_header_names_the_variable(tmp_path):
    done = run(production_env(tmp_path, SECURE_PROXY_SSL_HEADER="https"), "-c", "import config.settings")

    assert done.returncode != 0
    assert "SECURE_PROXY_SSL_HEADER='https'" in done.stderr


def test_a_malformed_api_throttle_rate_stops_the_start(tmp_path):
    done = run(production_env(tmp_path, API_THROTTLE_RATE="lots"), "-c", "import config.settings")

    assert done.returncode != 0
    assert "API_THROTTLE_RATE='lots' is not a rate" in done.stderr


def test_production_shares_its_cache_through_redis_and_the_embedded_mode_keeps_its_own(tmp_path):
    redis = "redis://redis.internal:6379/0"
    (production,) = settings_of(production_env(tmp_path, REDIS_URL=redis), "CACHES['default']['LOCATION']")
    (embedded,) = settings_of(clean_env(tmp_path, EMBEDDED="1", REDIS_URL=redis), "CACHES['default']['BACKEND']")

    assert production == repr(redis)
    assert embedded == repr("django.core.cache.backends.locmem.LocMemCache")


@pytest.mark.django_db
def test_seed_demo_refuses_outside_the_embedded_mode(settings):
    settings.EMBEDDED = False

    with pytest.raises(CommandError, match="--allow-outside-embedded"):
        call_command("seed_demo")

    assert not get_user_model().objects.filter(username=settings.DEMO_USERNAME).exists()


@pytest.mark.django_db
def test_seed_demo_runs_outside_the_embedded_mode_when_allowed_and_warns(settings, capsys):
    settings.EMBEDDED = False

    call_command("seed_demo", "--allow-outside-embedded")

    assert "password" in capsys.readouterr().err
    assert get_user_model().objects.filter(username=settings.DEMO_USERNAME, is_superuser=True).exists()


def test_run_product_refuses_outside_the_embedded_mode(settings):
    settings.EMBEDDED = False

    with pytest.raises(CommandError, match="EMBEDDED=1"):
        call_command("run_product")
