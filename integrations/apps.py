from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Partner integrations"

    def ready(self):
        # Registers the deploy checks: SECRET_KEY, and the development-only switches.
        from config import deploy_checks, secret_key  # noqa: F401
        from integrations import signals  # noqa: F401  (connects the beat heartbeat)
