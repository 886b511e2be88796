"""API tokens for scripts: created and revoked in the admin, hashed at rest, shown once."""

from django.conf import settings
from django.db import models

from integrations.issued_tokens import IssuedToken
from integrations.read_models.compiled import CompiledQuery


class ApiToken(IssuedToken):
    """A token acts as its user: staff see everything, a partner user only its own partner."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'release dashboard'.")

    class Meta(IssuedToken.Meta):
        app_label = "integrations"  # the tables and migrations stay with the integrations app
        verbose_name = "API token"

    @classmethod
    def rows(cls):
        # Every request reads the token's user and, for a partner's user, its partner (``visible_to``).
        return cls.objects.select_related("user__partner_account__partner")

    @classmethod
    def row_of(cls, digest: str):
        # Every API request looks its token up: the look-up's SQL (three joins) is written once.
        found = _BY_DIGEST.rows(digest)
        return found[0] if found else None

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


# A stand-in hash (no SHA-256 is written so): the token's look-up, compiled once.
_BY_DIGEST = CompiledQuery(lambda digest: ApiToken.rows().filter(token_hash=digest), ["stand-in digest"])
