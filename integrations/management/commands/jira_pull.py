"""``manage.py jira_pull``: one pull cycle now, or a back-fill of one integration's Jira project.

The beat task runs the same cycle every ``JIRA_PULL_SECONDS``. ``--full --integration ID`` reads
every issue of that integration's project (no ``updated`` clause) and leaves the watermark alone;
``--force`` asks Jira even while the pull is backing off after a failure.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.jira.pull import pull_cycle
from integrations.models import Integration


class Command(BaseCommand):
    help = "Read the Jira issues changed since the last pull (or all of one integration's) and apply them."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="Read every issue, not only the recently updated.")
        parser.add_argument("--integration", type=int, help="With --full: only this integration's Jira project.")
        parser.add_argument("--force", action="store_true", help="Ask Jira now even while backing off.")

    def handle(self, *args, full, integration, force, **options):
        if not settings.JIRA_ENABLED:
            raise CommandError(
                "Jira is not configured: set JIRA_URL, JIRA_USER and JIRA_API_TOKEN (and leave JIRA_ENABLED on)."
            )
        target = None
        if integration is not None:
            if not full:
                raise CommandError("--integration goes with --full (a back-fill of that integration's project).")
            target = Integration.objects.filter(pk=integration).first()
            if target is None:
                raise CommandError(f"No integration has the id {integration}.")
            if not target.jira_project_key:
                raise CommandError(f"{target} has no Jira project key; set one in the admin first.")
            self.stdout.write(f"Back-filling {target} from the Jira project {target.jira_project_key}.")

        def report(counts):
            self.stdout.write(
                f"  page {counts['pages']}: {counts['read']} issues read so far "
                f"({counts['applied']} applied, {counts['waiting']} waiting, {counts['ignored']} ignored)"
            )

        counts = pull_cycle(full=full, integration=target, progress=report if full else None, force=force)
        if counts["skipped"]:
            hint = " (--force asks Jira now.)" if counts["backing_off_until"] else ""
            self.stdout.write(f"Nothing pulled. {counts['skipped']}{hint}")
            return
        self.stdout.write(
            f"Read {counts['read']} issue(s) of {counts['projects']} Jira project(s) in {counts['pages']} page(s): "
            f"{counts['applied']} applied, {counts['waiting']} waiting, {counts['ignored']} ignored, "
            f"{counts['malformed']} malformed."
        )
        if counts["unknown_projects"]:
            self.stdout.write(
                self.style.WARNING(
                    f"Jira knows no project {', '.join(counts['unknown_projects'])} (or may not show it to "
                    f"{settings.JIRA_USER}); fix the integrations' Jira project keys."
                )
            )
        if counts["error"]:
            raise CommandError(f"The pull stopped: {counts['error']} What was read before is kept.")
        watermark = counts["watermark"]
        if target is None and watermark:
            self.stdout.write(self.style.SUCCESS(f"Read up to {watermark:%Y-%m-%d %H:%M:%S %Z}."))
        else:
            self.stdout.write(self.style.SUCCESS("Done."))
