from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from config import checks  # noqa: F401  (registers the deploy check of SITE_URL, where messages link)
        from notifications import notices  # noqa: F401  (connects the roadmap event receivers)
