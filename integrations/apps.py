from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Partner integrations"

    def ready(self):
        from config import secret_key  # noqa: F401  (registers the deploy check of SECRET_KEY)
        from integrations import signals  # noqa: F401  (connects the beat heartbeat)
