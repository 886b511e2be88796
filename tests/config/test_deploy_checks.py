"""``check --deploy`` refuses the development-only switches in production: URL checks reaching
private addresses, and Jira deliveries accepted unsigned (``config.deploy_checks``)."""

import pytest

from tests.config.test_settings import production_env, run


@pytest.mark.parametrize(
    "variable, check_id, words",
    [
        ("HANDOVER_CHECK_ALLOW_PRIVATE", "config.E010", "private addresses"),
        ("JIRA_WEBHOOK_ALLOW_UNSIGNED", "config.E011", "unsigned"),
    ],
)
def test_a_development_switch_is_an_error_in_production(tmp_path, variable, check_id, words):
    env = production_env(tmp_path, **{variable: "1"})

    done = run(env, "manage.py", "check", "--deploy")

    assert done.returncode != 0, done.stdout + done.stderr
    assert f"({check_id})" in done.stderr and variable in done.stderr and words in done.stderr, done.stderr


def test_both_switches_are_each_reported(tmp_path):
    env = production_env(tmp_path, HANDOVER_CHECK_ALLOW_PRIVATE="1", JIRA_WEBHOOK_ALLOW_UNSIGNED="yes")

    done = run(env, "manage.py", "check", "--deploy")

    assert done.returncode != 0
    assert "config.E010" in done.stderr and "config.E011" in done.stderr


def test_switched_off_they_say_nothing(tmp_path):
    env = production_env(tmp_path, HANDOVER_CHECK_ALLOW_PRIVATE="0", JIRA_WEBHOOK_ALLOW_UNSIGNED="0")

    done = run(env, "manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
