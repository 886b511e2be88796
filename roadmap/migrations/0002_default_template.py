"""Installs version 1 of the default roadmap template."""

from django.db import migrations

from roadmap import default_template


def install(apps, schema_editor):
    default_template.install(apps.get_model("roadmap", "RoadmapTemplate"), apps.get_model("roadmap", "TemplateStep"), version=1)


class Migration(migrations.Migration):
    dependencies = [("roadmap", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
