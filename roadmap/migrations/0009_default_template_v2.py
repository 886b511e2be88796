"""Installs version 2 of the default roadmap template: final testing as two dated rounds.

Running integrations keep the version they were kicked off on; new integrations take the newest.
"""

from django.db import migrations

from roadmap import default_template

VERSION = 2  # frozen here as migrations are: the newest version may change later


def install(apps, schema_editor):
    default_template.install(
        apps.get_model("roadmap", "RoadmapTemplate"), apps.get_model("roadmap", "TemplateStep"), version=VERSION
    )


def uninstall(apps, schema_editor):
    # PROTECT (an integration's template and steps) refuses this while an integration follows version 2.
    RoadmapTemplate = apps.get_model("roadmap", "RoadmapTemplate")
    RoadmapTemplate.objects.filter(key=default_template.KEY, version=VERSION).delete()


class Migration(migrations.Migration):
    dependencies = [("roadmap", "0008_step_rounds_fields")]

    operations = [migrations.RunPython(install, uninstall)]
