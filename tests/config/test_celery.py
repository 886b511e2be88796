"""The Celery app finds the tasks of every installed app by itself: nothing in the core imports
the Jira plug-in's tasks, yet a worker started fresh has them registered, and every task beat
sends is one of them."""

import json
import logging

from integrations import tasks as core_tasks
from integrations.jira import tasks as jira_tasks
from notifications import tasks as notification_tasks
from tests.config.test_settings import clean_env, run

# What a worker does as it starts: load the Celery app, then import every installed app's tasks.
WORKER_START = """
import json, sys
import django
from config.celery import app
django.setup()  # every app's ready(): the core's imports are all made
imported_before = "integrations.jira.tasks" in sys.modules
app.loader.import_default_modules()
from django.conf import settings
print(json.dumps({
    "imported_before": imported_before,
    "registered": sorted(app.tasks),
    "scheduled": sorted(entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()),
}))
"""


def test_a_fresh_worker_discovers_the_tasks_of_every_installed_app(tmp_path):
    # Jira configured, so beat also sends the pull.
    env = clean_env(tmp_path, EMBEDDED="1", JIRA_URL="https://jira.example.com", JIRA_USER="u", JIRA_API_TOKEN="t")

    done = run(env, "-c", WORKER_START)

    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["imported_before"] is False  # found by the discovery, not imported by the core
    assert {
        jira_tasks.PROCESS_DELIVERY_TASK,
        jira_tasks.SWEEP_TASK,
        jira_tasks.PULL_TASK,
        core_tasks.HEARTBEAT_TASK,
        core_tasks.REFRESH_STANDINGS_TASK,
        notification_tasks.DELIVER_TASK,
        notification_tasks.PLAN_REMINDERS_TASK,
    } <= set(seen["registered"])
    assert jira_tasks.PULL_TASK in seen["scheduled"]
    assert set(seen["scheduled"]) <= set(seen["registered"])


def test_an_ack_through_a_transport_the_broker_dropped_is_logged_not_fatal(caplog):
    """A task finishing after Redis dropped acks through the detached transport (AttributeError
    'hostname'); the worker's consumer logs that and goes on instead of exiting."""
    from kombu.message import Message

    from config.celery import BrokerLossTolerantConsumer, app

    class DetachedChannel:
        def basic_ack(self, delivery_tag, multiple=False):
            raise AttributeError("'NoneType' object has no attribute 'hostname'")

    class Controller:  # the worker the consumer belongs to, as far as its constructor reads it
        use_eventloop = False

    consumer = BrokerLossTolerantConsumer(
        on_task_request=None, app=app, hostname="test@host", controller=Controller(), pool=None
    )
    message = Message(body=b"{}", delivery_tag="tag-1", channel=DetachedChannel(), content_type="application/json")

    message.ack_log_error(logging.getLogger("celery.worker.request"), consumer.connection_errors)

    assert "Couldn't ack 'tag-1'" in caplog.text
