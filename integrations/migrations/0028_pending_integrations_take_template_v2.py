"""Integrations not kicked off yet move to version 2 of the default roadmap, the one new kick-offs take.

They have no steps yet (a kick-off copies them), so nothing changes under them; running and ended
integrations keep the version they were kicked off on.
"""

from django.db import migrations

KEY = "tradingview-rest-api"  # roadmap.default_template.KEY, frozen here as migrations are


def _move(apps, from_version, to_version):
    RoadmapTemplate = apps.get_model("roadmap", "RoadmapTemplate")
    Integration = apps.get_model("integrations", "Integration")
    old = RoadmapTemplate.objects.filter(key=KEY, version=from_version).first()
    new = RoadmapTemplate.objects.filter(key=KEY, version=to_version).first()
    if old is None or new is None:
        return
    Integration.objects.filter(template=old, kickoff_on__isnull=True, state="active").update(template=new)


def to_version_2(apps, schema_editor):
    _move(apps, 1, 2)


def back_to_version_1(apps, schema_editor):
    _move(apps, 2, 1)


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0027_step_rounds_fields"),
        ("roadmap", "0009_default_template_v2"),
    ]

    operations = [migrations.RunPython(to_version_2, back_to_version_1)]
