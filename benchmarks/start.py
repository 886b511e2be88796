"""How each benchmark script starts Django: the project importable, the embedded settings, and a
throw-away SQLite file in a temporary folder unless ``DATABASE_URL`` names a database.

A script runs as ``python benchmarks/<name>.py``, so this folder is on ``sys.path``; it imports
``start`` first and calls ``start_django()`` before importing anything of Django's.

Every script takes ``--smoke``: its smallest sizes, a few seconds, to check that it still runs
(``make bench-smoke`` runs them all so, and CI runs that).
"""

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path


def throwaway_folder(prefix: str) -> str:
    """A new temporary folder, removed with what is in it when the script ends."""
    folder = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def start_django(prefix: str = "roadmap-bench-", **defaults: str):
    """Set up Django for a benchmark; ``defaults`` are environment variables set unless given.

    Once per process: a script importing another script's module does not set up Django again."""
    if "django.conf" in sys.modules:
        from django.apps import apps

        if apps.ready:
            return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if not os.environ.get("DATABASE_URL"):
        os.environ["VAR_DIR"] = throwaway_folder(prefix)
    for name, value in {"EMBEDDED": "1", "DJANGO_SETTINGS_MODULE": "config.settings", **defaults}.items():
        os.environ.setdefault(name, value)
    import django

    django.setup()
