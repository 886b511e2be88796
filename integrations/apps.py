from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Partner integrations"

    def ready(self):
        from integrations import signals  # noqa: F401  (connects the beat heartbeat)
