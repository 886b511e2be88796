"""The admin: enough for a TradingView PM to track every partner, one module per family of pages.

- ``partners``: partners, their contacts and their integrations.
- ``integrations``: the integrations list (its filters) and each integration's page (standing,
  plan operations, team, steps, history, Jira section).
- ``steps``: a step's page and the operations that change its status.
- ``jira``, ``jira_inbox``: Jira issues (linked to a step by hand, or by their labels) and the
  webhook inbox (replayable).
- ``jenkins``: linked Jenkins jobs (revocable), their builds and the webhook's deliveries (replayable).
- ``templates``: roadmap templates, their versions and steps.
- ``outbox``: the notifications' outbox, Slack threads and Slack users.
- ``comments``: the steps' comments, to read and remove.
- ``heartbeats``: the background jobs' heartbeats.
- ``operations``: changes made by calling a service rather than by editing fields, the framework
  every page above uses; ``common``: pieces several pages share.

Every step is shown by its label, "3 · TradingView · Sandbox access configuration": its roadmap
number, its side and its title. Django's autodiscover imports this package; importing each module
here registers its pages.
"""

from integrations.admin import (  # noqa: F401  (each module registers its pages)
    comments,
    heartbeats,
    integrations,
    jenkins,
    jira,
    jira_inbox,
    outbox,
    partners,
    steps,
    templates,
)
