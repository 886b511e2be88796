"""Ways in for a partner without a password: magic links and calendar feeds."""

from django.conf import settings
from django.db import models

from integrations.issued_tokens import IssuedToken


class MagicLink(IssuedToken):
    """A signed-in link a PM sends to one partner user: it opens their stage page without a
    password until it expires or is revoked; revoking it also ends the sessions it opened."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="magic_links")
    sent_to = models.EmailField(blank=True, help_text="Where the PM sent it, for the record.")

    class Meta(IssuedToken.Meta):
        app_label = "integrations"  # the tables and migrations stay with the integrations app

    def __str__(self):
        return f"Link for {self.user.get_username()} ({self.prefix}…)"


class CalendarFeed(IssuedToken):
    """An iCalendar feed of one partner's deadlines behind a revocable token."""

    partner = models.ForeignKey("integrations.Partner", on_delete=models.CASCADE, related_name="calendar_feeds")

    class Meta(IssuedToken.Meta):
        app_label = "integrations"  # the tables and migrations stay with the integrations app

    def __str__(self):
        return f"Calendar of {self.partner} ({self.prefix}…)"
