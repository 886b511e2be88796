"""Comments on a step: a thread both sides read, with TradingView's internal comments kept to it.

Who reads which comment (the one rule; every surface reads it from here): TradingView's staff read
every comment; the partner's users read the public comments of their own integrations' steps and
never an internal one (``Comment.objects.seen_by(user)``). The body is the author's plain text,
never markup: every surface escapes it.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from integrations.models.integration import IntegrationStep
from integrations.visibility import VisibleQuerySet, sees_everything


class CommentQuerySet(VisibleQuerySet):
    def seen_by(self, user):
        """The comments ``user`` may read: all for staff; a partner's users, their steps' public ones."""
        visible = self.visible_to(user)
        return visible if sees_everything(user) else visible.filter(internal=False)


class Comment(models.Model):
    step = models.ForeignKey(IntegrationStep, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(help_text="Plain text, as the author wrote it; escaped wherever it is shown.")
    internal = models.BooleanField(
        default=False, help_text="TradingView's only: never shown to the partner, on any page, the API or Slack."
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    PARTNER_LOOKUP = "step__integration__partner"  # what visible_to() filters on
    objects = CommentQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["step", "created_at"], name="comment_step_created")]

    def __str__(self):
        return f"{self.step}: {self.who} on {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def who(self) -> str:
        if self.author_id is None:
            return "someone removed"
        return self.author.get_full_name() or self.author.get_username()
