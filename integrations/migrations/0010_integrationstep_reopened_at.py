"""A step remembers when it was last reopened, so its deadline can count from then.

Steps reopened before this migration get it from their history: the last change that took them
from done back to in progress, or from not applicable back to not started.
"""

from django.db import migrations, models
from django.db.models import Max, Q


def remember_reopens(apps, schema_editor):
    StepChange = apps.get_model("integrations", "StepChange")
    IntegrationStep = apps.get_model("integrations", "IntegrationStep")
    reopens = (
        StepChange.objects.filter(
            Q(from_status="done", to_status="in_progress") | Q(from_status="not_applicable", to_status="not_started")
        )
        .values("step_id")
        .annotate(last=Max("at"))
    )
    for row in reopens.iterator():
        IntegrationStep.objects.filter(pk=row["step_id"]).update(reopened_at=row["last"])


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0009_jira_delivery_duplicates"),
    ]

    operations = [
        migrations.AddField(
            model_name="integrationstep",
            name="reopened_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When it was last sent back to work; it is due again from then.",
                null=True,
            ),
        ),
        migrations.RunPython(remember_reopens, migrations.RunPython.noop),
    ]
