"""``manage.py deliver_outbox``: deliver the outbox rows due now, once, and print the counts."""

from django.core.management.base import BaseCommand

from notifications import delivery


class Command(BaseCommand):
    help = "Deliver the outbox messages (Slack and e-mail) that are due now, and print what happened."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=200, help="At most this many rows (default 200).")

    def handle(self, *args, limit, **options):
        counts = delivery.deliver_due(limit=limit)
        if not counts:
            self.stdout.write("Nothing due.")
            return
        self.stdout.write(", ".join(f"{name}: {count}" for name, count in sorted(counts.items())))
