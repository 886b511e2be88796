"""``manage.py send_reminders [--date YYYY-MM-DD]``: plan one day's reminders (and Monday's digest) into the outbox.

Every recipient's reminders of that day at once (beat's hourly ``notifications.plan_reminders`` plans each zone's day as its morning comes); safe to run again (each message once
per reason). ``manage.py deliver_outbox`` then sends what is due.
"""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from integrations.clock import today_for
from notifications.reminders import plan_reminders


class Command(BaseCommand):
    help = "Write one day's Slack reminders (and, on Mondays, the PMs' weekly digest) into the outbox."

    def add_arguments(self, parser):
        parser.add_argument("--date", dest="day", help="The day to plan, YYYY-MM-DD (default: today).")

    def handle(self, *args, day=None, **options):
        if day:
            try:
                day = date.fromisoformat(day)
            except ValueError:
                raise CommandError(f"--date {day!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-03-30.") from None
        else:
            day = today_for()
        written = plan_reminders(day)
        self.stdout.write(
            f"Planned {written} new message{'s' if written != 1 else ''} for {day:%Y-%m-%d} into the outbox."
        )
