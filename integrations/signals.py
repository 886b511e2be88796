"""Records the beat heartbeat: beat publishing the heartbeat task proves beat is running.

The signal fires in the process that publishes the task, so in beat it marks "beat" alive, while
the task itself, run by a worker, marks "worker" alive. A stopped worker then shows as a stale
worker heartbeat next to a fresh beat one.
"""

import logging

from celery.signals import beat_init, before_task_publish
from django.db import DatabaseError

from integrations.tasks import HEARTBEAT_TASK, heartbeat, refresh_standings

log = logging.getLogger(__name__)


_in_beat = False


@beat_init.connect
def mark_beat_process(**kwargs):
    global _in_beat
    _in_beat = True


@beat_init.connect
def first_heartbeat(**kwargs):
    """Send one heartbeat as beat starts, so a fresh start shows both jobs alive within seconds.

    Interval schedules first fire a whole interval after beat starts. The standing refresh goes
    with it: a product that was stopped for days shows today's standing as soon as it is back.
    """
    heartbeat.delay()
    refresh_standings.delay(everything=True)


@before_task_publish.connect
def record_beat(sender=None, **kwargs):
    if not _in_beat or sender != HEARTBEAT_TASK:
        return
    from integrations.models import Heartbeat

    try:
        Heartbeat.beat("beat", detail="celery beat")
    except DatabaseError:
        # Losing one beat mark must not stop beat from sending the task.
        log.exception("heartbeat.beat_record_failed")
