"""A benchmark's integrations: a few kicked off through the services (``seed_originals``), then
bulk copies of them (``copy_portfolio``) for large portfolios without kicking each one off.

Imported by the benchmark scripts after ``django.setup()``.
"""

import time
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone

from integrations import plan, steps
from integrations.context import ChangeContext
from integrations.models import Integration, IntegrationStep, Partner
from roadmap.models import RoadmapTemplate

KICKOFF = date(2026, 3, 2)


def moment(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=hour))


def bench_integration(template, name: str, **fields) -> Integration:
    """A data-and-trading crypto integration of a new partner named ``name`` (made unique), not kicked off."""
    partner = Partner.objects.create(name=f"{name} {time.time_ns()}")
    return Integration.objects.create(
        partner=partner,
        template=template,
        parts="both",
        data_types=["crypto"],
        data_source="own_feed",
        data_auth="fixed_token",
        trading_auth="oauth2_code",
        **fields,
    )


def seed_originals(count: int = 10, pm=None):
    """``count`` integrations kicked off through the services, some steps done: the originals to copy."""
    template = RoadmapTemplate.latest("tradingview-rest-api")
    for n in range(count):
        integration = bench_integration(template, f"Bench {n:05d}", tv_pm=pm)
        plan.start_integration(integration, KICKOFF, ChangeContext("system", at=moment(KICKOFF)))
        for k, code in enumerate(["slack-jira-onboarding", "autotests-configuration"][: n % 3]):
            steps.complete_step(integration.steps.get(code=code), ChangeContext("system", at=moment(KICKOFF, 11 + k)))


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


def settle():
    """After a bulk copy on PostgreSQL: VACUUM ANALYZE the tables it filled, as autovacuum does within a
    minute or so of a load that size. The planner gets the tables' real sizes and the visibility map that
    lets an index answer a count alone; measured straight after the INSERTs, every plan would be for
    empty tables and every index read would visit the rows. SQLite keeps neither: nothing to do."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Partner, Integration, IntegrationStep):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
