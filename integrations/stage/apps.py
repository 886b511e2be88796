"""The partners' stage pages: their models (magic links, calendar feeds) come with this app."""

from django.apps import AppConfig


class StageConfig(AppConfig):
    name = "integrations.stage"
    label = "integrations_stage"
    verbose_name = "Partner stage pages"
