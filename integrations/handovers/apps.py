"""The hand-overs plug-in: its models, and the guard that missing hand-overs put on completing a step."""

from django.apps import AppConfig


class HandoversConfig(AppConfig):
    name = "integrations.handovers"
    label = "integrations_handovers"
    verbose_name = "Partner hand-overs"

    def ready(self):
        from integrations import guards
        from integrations.handovers.rules import handed_over, handover_refusal

        guards.register(guards.HANDOVERS, handover_refusal, since=handed_over)
