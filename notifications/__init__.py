"""Who is told what and when: reminders, notices, the outbox, Slack and email (to come)."""
