"""The outbox: every Slack message (and launch e-mail) is a row, written with the change that caused it.

A row is unique on its reason (``reason_key``: integration, step, kind, day), so a beat that fires
twice, a retried task or two workers never write, and so never send, the same message twice. A
worker delivers due rows (``notifications.delivery``); back-off and pacing live on the row
(``not_before``), never in a sleeping worker.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone


class SlackThread(models.Model):
    """A step's first message in a channel: the step's later messages go in its thread."""

    step = models.ForeignKey("integrations.IntegrationStep", on_delete=models.CASCADE, related_name="slack_threads")
    channel = models.CharField(max_length=40)
    ts = models.CharField(max_length=32, blank=True, help_text="Slack's id of the first message, once sent.")
    status_shown = models.CharField(max_length=20, blank=True, help_text="The step status the first message shows.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["step", "channel"], name="unique_step_thread_per_channel")]

    def __str__(self):
        return f"{self.step} in {self.channel}"


class OutboxMessage(models.Model):
    class Kind(models.TextChoices):
        REMINDER = "reminder", "Reminder before the deadline"
        DUE_TODAY = "due_today", "Due today"
        OVERDUE = "overdue", "Overdue"
        ESCALATION = "escalation", "Escalation to the PM and business manager"
        TRADINGVIEW_DUE = "tradingview_due", "TradingView task due"
        TRADINGVIEW_LATE = "tradingview_late", "TradingView task late"
        HANDED_OVER = "handed_over", "TradingView finished a task; the partner's turn"
        PARTNER_DONE = "partner_done", "The partner finished a step"
        PARTNER_HANDOVER = "partner_handover", "The partner handed something over"
        BLOCKED = "blocked", "Blocked"
        UNBLOCKED = "unblocked", "Unblocked"
        REPLANNED = "replanned", "Re-planned"
        LAUNCHED = "launched", "Launched"
        LAUNCH_EMAIL = "launch_email", "Launch e-mail to the partner"
        DIGEST = "digest", "Weekly digest"
        THREAD_STATUS = "thread_status", "Step status on its first message"
        CHANNEL_DIGEST = "channel_digest", "Steps listed in one message to a channel"
        LEAD_ESCALATION = "lead_escalation", "Escalation of a TradingView task to the PM's lead"
        JIRA_NEWS = "jira_news", "News from Jira"
        COMMENT_MENTION = "comment_mention", "Mentioned in a step's comment"
        WELCOME = "welcome", "Welcome to the partner at kick-off"
        LAUNCH_AGREED = "launch_agreed", "Launch date agreed"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        WAITING = "waiting", "Waiting to retry"
        FAILED = "failed", "Failed"
        DIGESTED = "digested", "Listed in a digest message"
        NOT_TRUE = "not_true", "Not sent: no longer true"

    reason_key = models.CharField(max_length=200, unique=True, help_text="Why it exists; once per reason.")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.CASCADE, null=True, blank=True, related_name="outbox"
    )
    step = models.ForeignKey(
        "integrations.IntegrationStep", on_delete=models.CASCADE, null=True, blank=True, related_name="outbox"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text='Who asked for it by hand (a PM\'s "Remind now"); empty when the product wrote it on its own.',
    )
    channel = models.CharField(max_length=40, blank=True, help_text="Slack channel id; empty for an e-mail.")
    emails = models.JSONField(default=list, blank=True, help_text="Recipients of an e-mail.")
    step_due_on = models.DateField(
        null=True,
        blank=True,
        help_text="The step's deadline the message names: news of the step's state is not posted once the step "
        "is due on another day.",
    )
    thread = models.ForeignKey(SlackThread, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages")
    text = models.TextField(help_text="The plain-text fallback (and the e-mail body).")
    blocks = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    not_before = models.DateTimeField(default=timezone.now, db_index=True, help_text="Not sent before this.")
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, help_text="Why it waits or failed; why it was not sent.")
    claimed_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(
        max_length=200,
        blank=True,
        help_text="The worker process sending it (host, process namespace, id and start): a row it left "
        '"sending" is taken back as soon as that process is gone.',
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    slack_ts = models.CharField(max_length=32, blank=True)
    digest = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="listed",
        help_text="The message that lists this step's (a row listed in a digest is never sent itself).",
    )
    unknown_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When Slack's answer to a post was lost: Slack may have the message. Cleared once known.",
    )

    class Meta:
        ordering = ["not_before", "id"]
        indexes = [
            models.Index(fields=["state", "not_before"]),
            # A channel's last post (pacing: one message per second per channel), read per due row.
            models.Index(
                fields=["channel", "sent_at"],
                name="outbox_channel_last_post",
                condition=models.Q(state="sent") & ~models.Q(kind="thread_status"),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.text[:60]}"


class SlackUser(models.Model):
    """Who a Slack user is here: buttons act as that user, mentions find the PM by e-mail."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="slack_account")
    slack_user_id = models.CharField(max_length=20, unique=True)

    def __str__(self):
        return f"{self.user.get_username()} ({self.slack_user_id})"


class ReminderSweep(models.Model):
    """A zone's local day whose reminders were planned: the hourly sweep plans each zone's day once."""

    zone = models.CharField(max_length=64, help_text="IANA name of the recipients' time zone.")
    day = models.DateField(help_text="The local day swept.")
    swept_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["zone", "day"], name="unique_reminder_sweep_per_zone_day")]

    def __str__(self):
        return f"{self.zone} {self.day}"
