"""The WSGI application ``benchmarks/webhook.py`` serves through gunicorn: the product's own URLs
(``/hooks/jira/`` among them, through the whole middleware stack) plus two floors for the same run,
``/bench/bare/`` (answers 204) and ``/bench/insert/`` (inserts and commits one row, then 204).

Not a script: gunicorn imports it (``hook_server:application``, this folder on its path).
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

settings.ROOT_URLCONF = __name__
application = get_wsgi_application()

from django.http import HttpResponse  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

from integrations.jira.models import JiraDelivery  # noqa: E402


@csrf_exempt
def bare(request):
    return HttpResponse(status=204)


@csrf_exempt
def bare_insert(request):
    """The floor of a hook that stores before it answers: one row inserted and committed, then 204."""
    JiraDelivery.objects.create(delivery_id=f"floor-{time.time_ns()}", event="bench", body={}, outcome="ignored")
    return HttpResponse(status=204)


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/insert/", bare_insert),
    path("", include("config.urls")),
]
