"""``manage.py refresh_standings``: bring every running integration's stored standing up to today.

What the daily beat task does, run by hand (after a deploy that changed the rules, say).
"""

from django.core.management.base import BaseCommand

from integrations.standing import refresh_running


class Command(BaseCommand):
    help = "Recompute the stored standing (ball in court, deadlines, forecast, delay split) of running integrations."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size, **options):
        def report(done, total):
            self.stdout.write(f"  {done}/{total} integrations")

        count = refresh_running(batch_size=batch_size, progress_to=report)
        self.stdout.write(self.style.SUCCESS(f"Refreshed the standing of {count} running integration(s)."))
