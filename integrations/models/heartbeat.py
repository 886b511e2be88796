"""When the Celery worker and beat last showed they are alive."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.timesince import timesince


class Heartbeat(models.Model):
    """When the Celery worker and beat last showed they are alive."""

    name = models.CharField(max_length=20, unique=True)  # "worker" or "beat"
    last_seen_at = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True)

    def __str__(self):
        return self.name

    @classmethod
    def beat(cls, name: str, detail: str = ""):
        cls.objects.update_or_create(name=name, defaults={"last_seen_at": timezone.now(), "detail": detail[:200]})

    @property
    def age_seconds(self) -> float:
        return (timezone.now() - self.last_seen_at).total_seconds()

    @property
    def age_text(self) -> str:
        """How long ago the heartbeat was seen, to the second while that matters."""
        seconds = int(self.age_seconds)
        if seconds < 120:
            return f"{max(seconds, 0)} second{'' if seconds == 1 else 's'}"
        return timesince(self.last_seen_at)

    @property
    def is_stale(self) -> bool:
        return self.age_seconds > settings.HEARTBEAT_STALE_AFTER
