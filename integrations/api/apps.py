"""The REST API: its model (API tokens) comes with this app."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "integrations.api"
    label = "integrations_api"
    verbose_name = "REST API"
