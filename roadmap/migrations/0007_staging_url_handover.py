"""The request for production URLs "confirms the staging URL": version 1's step waits for it."""

from django.db import migrations, models

KEY = "tradingview-rest-api"  # roadmap.default_template.KEY, frozen here as migrations are
STEP = "request-production-urls"


def confirm_staging_url(apps, schema_editor):
    TemplateStep = apps.get_model("roadmap", "TemplateStep")
    for step in TemplateStep.objects.filter(template__key=KEY, template__version=1, code=STEP):
        if "staging_url" not in step.handovers:
            step.handovers = [*step.handovers, "staging_url"]
            step.save(update_fields=["handovers"])


def forget_staging_url(apps, schema_editor):
    TemplateStep = apps.get_model("roadmap", "TemplateStep")
    for step in TemplateStep.objects.filter(template__key=KEY, template__version=1, code=STEP):
        step.handovers = [h for h in step.handovers if h != "staging_url"]
        step.save(update_fields=["handovers"])


class Migration(migrations.Migration):
    dependencies = [("roadmap", "0006_handovers")]

    operations = [
        migrations.AlterField(
            model_name="templatestep",
            name="handovers",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text='What the partner must hand over before the step can be done: any of "production_urls", '
                '"auth_sheet", "beta_testers", "staging_url" (the one a TradingView step may wait for: its request '
                "confirms the staging URL).",
            ),
        ),
        migrations.RunPython(confirm_staging_url, forget_staging_url),
    ]
