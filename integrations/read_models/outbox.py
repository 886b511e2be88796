"""The Slack and e-mail outbox as the pages and the API show it.

``notifications`` builds on ``integrations``, never the other way, so the outbox model is looked up
by name when it is read rather than imported from the app.
"""

from django.apps import apps


def outbox_model():
    return apps.get_model("notifications", "OutboxMessage")
