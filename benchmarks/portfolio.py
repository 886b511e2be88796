"""Bulk copies of a benchmark's integrations: large portfolios without kicking each one off.

Imported by the benchmark scripts after ``django.setup()``.
"""

import time

from django.db import transaction

from integrations.models import Integration, IntegrationStep, Partner


@transaction.atomic
def copy_portfolio(size: int, originals, time_zone: str = "Europe/London", slack_channels: bool = False) -> int:
    """Copy ``originals`` (integrations with their steps) until ``size`` integrations run; returns how many were made."""
    originals = list(originals)
    have = Integration.objects.filter(state__in=Integration.RUNNING_STATES).count()
    made = 0
    while have + made < size:
        batch = [
            (source, Partner(name=f"Bench copy {time.time_ns()} {made + n}", time_zone=time_zone))
            for n, source in enumerate(originals[: size - have - made])
        ]
        Partner.objects.bulk_create([p for _, p in batch])
        copies = []
        for source, partner in batch:
            copy = Integration(**{f.attname: getattr(source, f.attname) for f in Integration._meta.concrete_fields})
            copy.pk, copy.partner_id, copy.current_step_id, copy.name = None, partner.pk, None, partner.name
            if slack_channels:
                copy.slack_channel_id = f"CCOPY{have + made + len(copies):07d}"
            copies.append(copy)
        Integration.objects.bulk_create(copies)
        rows = []
        for (source, _), copy in zip(batch, copies, strict=True):
            for step in source.steps.all():
                clone = IntegrationStep(
                    **{f.attname: getattr(step, f.attname) for f in IntegrationStep._meta.concrete_fields}
                )
                clone.pk, clone.integration_id = None, copy.pk
                rows.append(clone)
        IntegrationStep.objects.bulk_create(rows, batch_size=2000)
        made += len(batch)
    return made
