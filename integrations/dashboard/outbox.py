"""The Slack outbox as the pages show it.

``notifications`` builds on ``integrations``, never the other way (DESIGN.md), so the pages look the
outbox model up by name when they render rather than importing the app.
"""

from django.apps import apps


def outbox_model():
    return apps.get_model("notifications", "OutboxMessage")
