"""The moment Slack's answer to a post was lost, kept on the row (it was only in the error text)."""

from django.db import migrations, models

UNKNOWN = "Unknown whether Slack received it"


def mark_unknown_rows(apps, schema_editor):
    """Rows waiting or failed after a lost answer: the time it was lost is near their last attempt."""
    OutboxMessage = apps.get_model("notifications", "OutboxMessage")
    rows = OutboxMessage.objects.filter(last_error__startswith=UNKNOWN).exclude(state="sent")
    rows.update(unknown_since=models.F("not_before"))


class Migration(migrations.Migration):
    dependencies = [("notifications", "0002_partner_handover")]

    operations = [
        migrations.AddField(
            model_name="outboxmessage",
            name="unknown_since",
            field=models.DateTimeField(
                blank=True,
                help_text="When Slack's answer to a post was lost: Slack may have the message. Cleared once known.",
                null=True,
            ),
        ),
        migrations.RunPython(mark_unknown_rows, migrations.RunPython.noop),
    ]
