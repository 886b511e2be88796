"""``manage.py run_product``: the whole product on one machine, with no servers to install.

Migrates the database, loads the demo portfolio, then runs the web server, a Celery worker and
Celery beat as child processes, and prints where to log in. Ctrl-C stops all three; if one of
them dies, the others are stopped too, so a half-running product is never left behind. It is the
embedded demo (`make run` sets ``EMBEDDED=1``): it refuses to run otherwise, and passes
``EMBEDDED=1`` on to its children.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from integrations.management.commands.seed_demo import demo_login


class Command(BaseCommand):
    help = "Run web, Celery worker and Celery beat together, on the embedded defaults."

    def add_arguments(self, parser):
        parser.add_argument(
            "--addr", default=os.environ.get("RUN_ADDR", "127.0.0.1:8000"), help="host:port to serve on"
        )
        parser.add_argument("--no-demo", action="store_true", help="Do not load the demo portfolio.")

    def handle(self, *args, addr, no_demo, **options):
        if not settings.EMBEDDED:
            raise CommandError(
                "run_product is the embedded demo (runserver, a public demo login) and runs only with "
                "EMBEDDED=1: start it with `make run` or `EMBEDDED=1 manage.py run_product`. For a "
                "production start see the README's Production section."
            )
        self.stdout.write("Preparing the database...")
        call_command("migrate", interactive=False, verbosity=0)
        if no_demo:
            # An empty product still needs someone to log in: the PM login, with nothing else.
            demo_login()
        else:
            call_command("seed_demo", stdout=self.stdout)
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        commands = {
            # --insecure: serve the admin's static files without DEBUG, fine for a local run.
            "web": [python, manage, "runserver", addr, "--noreload", "--insecure"],
            "worker": [python, "-m", "celery", "-A", "config", "worker", "--pool=solo", "--loglevel=INFO"],
            "beat": [python, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO"],
        }
        env = {**os.environ, "EMBEDDED": "1"}
        children = {}
        for name, command in commands.items():
            children[name] = subprocess.Popen(command, cwd=settings.BASE_DIR, env=env)
        broker = settings.CELERY_BROKER_URL.split("://")[0] + "://"
        engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        second_login = (
            "  No integrations yet: bring your first partner in from the dashboard.\n"
            if no_demo
            else f"  A partner's view: log in as  {settings.DEMO_PARTNER_USERNAME} / {settings.DEMO_PASSWORD}\n"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"\nThe product is running (database: {engine}, broker: {broker}).\n"
                f"  Log in at http://{addr}/  as  {settings.DEMO_USERNAME} / {settings.DEMO_PASSWORD}\n"
                f"  (the dashboard; setup and history in the admin at http://{addr}/admin/)\n"
                f"{second_login}"
                f"  The REST API: http://{addr}/api/docs/\n"
                "  Worker and beat heartbeats show on the admin's front page. Ctrl-C stops everything.\n"
            )
        )
        stopping = False

        def stop(signum=None, frame=None):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while not stopping:
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(f"{name} exited with code {child.returncode}; stopping the others.")
                        stopping = True
                time.sleep(0.5)
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.terminate()
            deadline = time.monotonic() + 10
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
        self.stdout.write("Stopped.")
