"""The data migrations of version 2 of the default roadmap: installed beside version 1, and integrations
not kicked off yet move to it, while running and ended ones keep the version they were kicked off on."""

from datetime import date

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from roadmap import default_template

BEFORE = [("roadmap", "0008_step_rounds_fields"), ("integrations", "0027_step_rounds_fields")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_version_2_is_installed_and_only_integrations_not_kicked_off_move_to_it():
    apps = migrate(BEFORE)
    RoadmapTemplate, TemplateStep = (
        apps.get_model("roadmap", "RoadmapTemplate"),
        apps.get_model("roadmap", "TemplateStep"),
    )
    v1 = default_template.install(RoadmapTemplate, TemplateStep, version=1)  # a flushed database has none
    assert not RoadmapTemplate.objects.filter(key=default_template.KEY, version=2).exists()
    partner = apps.get_model("integrations", "Partner").objects.create(name="Migrating Broker", time_zone="UTC")
    Integration = apps.get_model("integrations", "Integration")
    pending = Integration.objects.create(partner=partner, template=v1, parts="trading")
    running = Integration.objects.create(partner=partner, template=v1, parts="trading", kickoff_on=date(2026, 3, 2))
    withdrawn = Integration.objects.create(partner=partner, template=v1, parts="trading", state="cancelled")

    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    apps = migrate(leaves)

    RoadmapTemplate = apps.get_model("roadmap", "RoadmapTemplate")
    v2 = RoadmapTemplate.objects.get(key=default_template.KEY, version=2)
    assert list(v2.steps.order_by("position").values_list("code", flat=True)) == [
        r["code"] for r in default_template.STEPS
    ]
    Integration = apps.get_model("integrations", "Integration")
    versions = {i.pk: i.template.version for i in Integration.objects.select_related("template")}
    assert versions == {pending.pk: 2, running.pk: 1, withdrawn.pk: 1}

    # Back again: the pending integration returns to version 1, and version 2 goes.
    migrate(BEFORE)
    assert Integration.objects.get(pk=pending.pk).template_id == v1.pk
    assert not RoadmapTemplate.objects.filter(key=default_template.KEY, version=2).exists()
    migrate(leaves)
