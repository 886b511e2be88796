"""Secret tokens handed to people or scripts: magic links, calendar feeds, API tokens.

A token is 32 random bytes, URL-safe; only its SHA-256 is stored, so a database leak gives no
working token, and the token itself is shown once, when issued. A token works until it is revoked
or, when it has one, until its expiry. ``IssuedToken`` is the abstract model each kind extends.
"""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class IssuedToken(models.Model):
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, so people can tell their tokens apart without the secret.
    prefix = models.CharField(max_length=8, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: until revoked.")
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @classmethod
    def issue(cls, **fields) -> tuple["IssuedToken", str]:
        """Create a token row; return it with the raw token, which is never stored."""
        raw = secrets.token_urlsafe(32)
        row = cls.objects.create(token_hash=token_digest(raw), prefix=raw[:8], **fields)
        return row, raw

    @classmethod
    def rows(cls):
        """The rows ``find`` looks in; a kind may read what each use of its tokens needs with them."""
        return cls.objects.all()

    @classmethod
    def find(cls, raw: str, now=None):
        """The live (not revoked, not expired) token row for ``raw``, or None."""
        if not raw or len(raw) > 200:
            return None
        row = cls.row_of(token_digest(raw))
        return row if row is not None and row.is_live(now) else None

    @classmethod
    def row_of(cls, digest: str):
        """The row (from ``rows()``) whose hash is ``digest``, live or not; None when there is none."""
        try:
            # get(), not first(): the hash is unique, and first() sorts (a tenth of the query's making).
            return cls.rows().get(token_hash=digest)
        except cls.DoesNotExist:
            return None

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and timezone.now() >= self.expires_at:
            return "expired"
        return "live"

    def revoke(self, now=None):
        if self.revoked_at is None:
            self.revoked_at = now or timezone.now()
            self.save(update_fields=["revoked_at"])

    def mark_used(self, now=None):
        """Record use, at most once a minute per token, so reads do not write on every request."""
        now = now or timezone.now()
        if self.last_used_at is None or (now - self.last_used_at).total_seconds() > 60:
            type(self).objects.filter(pk=self.pk).update(last_used_at=now)
            self.last_used_at = now
