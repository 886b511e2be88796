"""Template tags showing whether the background jobs (Celery worker and beat) and the Jira sync are alive."""

from django import template

from integrations.jira.health import jira_health
from integrations.models import Heartbeat

register = template.Library()

JOBS = {"worker": "Celery worker", "beat": "Celery beat"}


@register.simple_tag
def background_jobs() -> list[dict]:
    """Each job with its label and Heartbeat row (None when it has never been seen)."""
    seen = {heartbeat.name: heartbeat for heartbeat in Heartbeat.objects.filter(name__in=JOBS)}
    return [{"name": name, "label": label, "heartbeat": seen.get(name)} for name, label in JOBS.items()]


@register.filter
def heartbeat_age(heartbeat: Heartbeat) -> str:
    """How long ago the heartbeat was seen (``Heartbeat.age_text``)."""
    return heartbeat.age_text


@register.simple_tag
def jira_sync():
    """The Jira block of the admin's front page (``integrations.jira.health.jira_health``)."""
    return jira_health()
