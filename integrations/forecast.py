"""The launch forecast with its confidence, for every running integration, stored on it.

``roadmap.confidence`` holds the rules; this module feeds them. The history is learned once per
run from every finished step of the portfolio (one query, read as plain values), then the
running integrations are forecast a batch at a time (``in_batches``) and written back in bulk,
so a run's queries grow with its batches, not its integrations. The daily standing refresh calls
``refresh_forecasts`` after the standing; lists read the stored columns. The health mark reads the
P85, so it is written again with it.
"""

from collections import defaultdict
from datetime import datetime
from types import SimpleNamespace

from django.db.models import Prefetch, Q
from django.utils import timezone

from integrations.batches import in_batches
from integrations.models import Integration, IntegrationStep
from integrations.stored_standing import day_began, stored_health, tradingview_zone
from roadmap import confidence
from roadmap.models import StepStatus

# The health mark reads the P85: it is written with it (``stored_standing.health_of``, the one rule).
FIELDS = ["forecast_p50", "forecast_p85", "forecast_risk", "forecast_computed_at", "health"]
_STEP_VALUES = ("code", "side", "title", "position", "status", "depends_on", "planned_due_date", "completed_at")


def learn_history(zone=None) -> confidence.History:
    """Durations of every finished step of every kicked-off integration: one query."""
    zone = zone or tradingview_zone()
    with_done = IntegrationStep.objects.filter(status=StepStatus.DONE).values("integration_id")
    rows = (
        IntegrationStep.objects.filter(integration__kickoff_on__isnull=False, integration_id__in=with_done)
        .order_by("integration_id", "position")
        .values_list("integration_id", "integration__kickoff_on", "reopened_at", *_STEP_VALUES)
    )
    steps, kickoffs = defaultdict(list), {}
    for integration_id, kickoff, reopened_at, *values in rows.iterator(chunk_size=5000):
        kickoffs[integration_id] = kickoff
        steps[integration_id].append(
            SimpleNamespace(reopened_at=reopened_at, **dict(zip(_STEP_VALUES, values, strict=True)))
        )
    return confidence.History.learn(((steps[i], kickoffs[i]) for i in steps), zone)


def forecast_of(integration: Integration, history: confidence.History, now: datetime, steps=None):
    """``roadmap.confidence.Forecast`` of one kicked-off integration as of ``now`` (seeded by its id: stable)."""
    zone = tradingview_zone()
    steps = list(integration.steps.all() if steps is None else steps)
    return confidence.forecast(
        [s for s in steps if s.planned_due_date is not None],
        integration.kickoff_on,
        timezone.localtime(now, zone).date(),
        history,
        seed=integration.pk,
        zone=zone,
    )


def refresh_forecasts(now: datetime | None = None, batch_size: int = 500, stale_only: bool = False) -> int:
    """Forecast every running, kicked-off integration and store it; ``stale_only``: those not yet forecast today."""
    now = now or timezone.now()
    running = Integration.objects.running().filter(kickoff_on__isnull=False)
    if stale_only:
        began = day_began(now, tradingview_zone())
        running = running.filter(
            Q(forecast_computed_at__isnull=True) | Q(forecast_computed_at__lt=began) | Q(forecast_computed_at__gt=now)
        )
    if not running.exists():
        return 0
    history = learn_history()
    running = running.prefetch_related(Prefetch("steps", queryset=IntegrationStep.objects.order_by("position")))
    done = 0
    for batch in in_batches(running, batch_size):
        for integration in batch:
            got = forecast_of(integration, history, now, integration.steps.all())
            integration.forecast_p50, integration.forecast_p85 = got.p50, got.p85
            integration.forecast_risk, integration.forecast_computed_at = got.risk, now
            integration.health = stored_health(integration, now)
        Integration.objects.bulk_update(batch, FIELDS, batch_size=batch_size)
        done += len(batch)
    return done
