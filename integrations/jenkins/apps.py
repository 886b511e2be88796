"""The Jenkins plug-in: its models, its Celery tasks, and the guard that failing autotests put on completing a step."""

from django.apps import AppConfig


class JenkinsConfig(AppConfig):
    name = "integrations.jenkins"
    label = "integrations_jenkins"
    verbose_name = "Jenkins autotests"

    def ready(self):
        from integrations import guards
        from integrations.jenkins import rules

        guards.register(guards.AUTOTESTS, rules.autotests_refusal)
        rules.connect()
