"""How each benchmark script starts Django: the project importable, the embedded settings, and a
throw-away SQLite file in a temporary folder unless ``DATABASE_URL`` names a database.

A script runs as ``python benchmarks/<name>.py``, so this folder is on ``sys.path``; it imports
``start`` first and calls ``start_django()`` before importing anything of Django's.
"""

import os
import sys
import tempfile
from pathlib import Path


def start_django(prefix: str = "roadmap-bench-", **defaults: str):
    """Set up Django for a benchmark; ``defaults`` are environment variables set unless given."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    if not os.environ.get("DATABASE_URL"):
        os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix=prefix)
    for name, value in {"EMBEDDED": "1", "DJANGO_SETTINGS_MODULE": "config.settings", **defaults}.items():
        os.environ.setdefault(name, value)
    import django

    django.setup()
