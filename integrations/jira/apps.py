"""The Jira plug-in: its models, its Celery tasks, and the guard that open bugs put on completing a step."""

from django.apps import AppConfig


class JiraConfig(AppConfig):
    name = "integrations.jira"
    label = "integrations_jira"
    verbose_name = "Jira sync"

    def ready(self):
        from integrations import guards
        from integrations.jira.rules import bugs_closed, open_bugs_refusal

        guards.register(guards.OPEN_BUGS, open_bugs_refusal, since=bugs_closed)
