"""Jira: where the technical work happens. The product reads it and never asks anyone to type a status twice.

- ``models``: what the product knows of each Jira issue, the inbox of webhook deliveries, and the
  state of the pull (its watermark and its failures).
- ``issues``: reading an issue's JSON (from a webhook or a search) into facts, and applying them:
  which step the issue belongs to, and what its status means for that step.
- ``rules``: what open bugs hold up (a fixing step, the closed release): a completion guard that
  ``apps`` registers with ``integrations.guards``, so the core never imports Jira.
- ``inbox``, ``views``: the signed webhook and the processing of what it stored.
- ``pull``: the periodic search that catches what webhooks missed.
- ``tasks``: their Celery tasks, found by the Celery app's discovery of installed apps.

A plug-in of the core (``integrations.jira.apps``): it imports the core, never the other way round.
"""
