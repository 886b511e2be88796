"""The plug-ins and surfaces are apps of their own, while their models keep the integrations
app's tables, migrations and admin pages."""

import pytest
from django.apps import apps
from django.contrib import admin

from integrations.api.models import ApiToken
from integrations.handovers.models import AuthorisationSheet, UrlCheck
from integrations.jira.models import JiraConnection, JiraDelivery, JiraIssue
from integrations.stage.models import CalendarFeed, MagicLink

PLUG_IN_MODELS = [
    JiraIssue,
    JiraDelivery,
    JiraConnection,
    UrlCheck,
    AuthorisationSheet,
    MagicLink,
    CalendarFeed,
    ApiToken,
]


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("integrations_jira", "integrations.jira"),
        ("integrations_handovers", "integrations.handovers"),
        ("integrations_stage", "integrations.stage"),
        ("integrations_api", "integrations.api"),
    ],
)
def test_each_plug_in_and_surface_is_an_installed_app(label, name):
    assert apps.get_app_config(label).name == name
    assert list(apps.get_app_config(label).get_models()) == []  # their models stay with integrations


@pytest.mark.parametrize("model", PLUG_IN_MODELS, ids=lambda m: m.__name__)
def test_their_models_keep_the_integrations_tables(model):
    assert model._meta.app_label == "integrations"
    assert model._meta.db_table == f"integrations_{model.__name__.lower()}"
    assert apps.get_model("integrations", model.__name__) is model
    # The Jira connection's state shows on the Jira pages of the admin, not as a model page.
    assert (model in admin.site._registry) is (model is not JiraConnection)
