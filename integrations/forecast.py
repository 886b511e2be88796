"""The launch forecast with its confidence, for every running integration, stored on it.

``roadmap.confidence`` holds the rules; this module feeds them. The history is learned once per
run from every finished step of the portfolio (one query, read as plain values), then the
running integrations are forecast a batch at a time (``in_batches``), read as plain values,
simulated together (``confidence.forecast_many``), and what changed is written back in one query
(``write_changes``), so a run's queries grow with its batches, not its integrations. The daily standing refresh calls
``refresh_forecasts`` after the standing; lists read the stored columns. The health mark reads the
P85, so it is written again with it.

Each integration's traits (``traits_of``: its data types, its authorisation types, its partner's
kind, most specific first) name the groups whose history may speak for it, and the days it spent
paused (``integrations.clock.paused_dates``) are not counted in any step's duration.
"""

import functools
import json
from collections import defaultdict, namedtuple
from datetime import date, datetime
from types import SimpleNamespace

from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from integrations.batches import in_batches, write_changes
from integrations.clock import paused_dates
from integrations.models import Integration, IntegrationEvent, IntegrationStep
from integrations.stored_standing import day_began, stored_health, tradingview_zone
from roadmap import confidence
from roadmap.models import StepStatus

# The health mark reads the P85: it is written with it (``stored_standing.health_of``, the one rule).
FIELDS = ["forecast_p50", "forecast_p85", "forecast_risk", "forecast_computed_at", "health"]
# A step as the forecast reads it (``roadmap.confidence`` reads by attribute).
_STEP_COLUMNS = ("code", "side", "title", "position", "status", "planned_due_date", "completed_at", "reopened_at")
StepRow = namedtuple("StepRow", (*_STEP_COLUMNS, "depends_on"))
_TRAIT_VALUES = ("data_types", "trading_auth", "data_auth", "partner__kind")
# What the refresh reads of each integration: its traits, and what the health mark reads beside the P85.
_ROW_VALUES = (
    "id",
    "kickoff_on",
    *_TRAIT_VALUES,
    "state",
    "next_deadline_at",
    "planned_launch_on",
    "forecast_launch_on",
    *FIELDS[:3],
    "health",
)
PAUSES = (IntegrationEvent.Kind.PAUSED, IntegrationEvent.Kind.RESUMED)


def traits_of(data_types, trading_auth: str, data_auth: str, partner_kind: str) -> tuple[str, ...]:
    """The groups an integration belongs to, as a sentence names them, most specific first.

    ("crypto", "OAuth2Bearer, code flow (trading)", "exchange"): "... across 14 crypto integrations".
    """
    return _traits(tuple(data_types or ()), trading_auth, data_auth, partner_kind)


@functools.lru_cache(maxsize=4096)
def _traits(data_types: tuple, trading_auth: str, data_auth: str, partner_kind: str) -> tuple[str, ...]:
    # A portfolio holds few combinations: each is named once per process, not once per integration.
    labels = dict(Integration.DataType.choices)
    out = [labels.get(t, t) if labels.get(t, t).isupper() else labels.get(t, t).lower() for t in data_types]
    if trading_auth:
        out.append(f"{dict(Integration.TradingAuth.choices).get(trading_auth, trading_auth)} (trading)")
    if data_auth == Integration.DataAuth.NONE:
        out.append("public data")
    elif data_auth:
        out.append(f"{dict(Integration.DataAuth.choices).get(data_auth, data_auth)} (data)")
    if partner_kind:
        out.append(partner_kind)
    return tuple(out)


def _steps_by_integration(steps) -> dict[int, list]:
    """``{integration id: [StepRow, ...]}`` in roadmap order, read as plain values in one query."""
    rows = (
        steps.annotate(prerequisites=Cast("depends_on", output_field=TextField()))
        .order_by("integration_id", "position")
        .values_list("integration_id", *_STEP_COLUMNS, "prerequisites")
    )
    by_integration = defaultdict(list)
    for integration_id, *values, prerequisites in rows.iterator(chunk_size=5000):
        by_integration[integration_id].append(StepRow(*values, _prerequisites(prerequisites)))
    return by_integration


@functools.lru_cache(maxsize=4096)
def _prerequisites(text: str) -> tuple[str, ...]:
    # Read as the column's text and decoded once per distinct list: the template's few lists repeat
    # across every integration's steps, and decoding each row's JSON was a good part of a refresh.
    return tuple(json.loads(text)) if text else ()


def _pauses_by_integration(events) -> dict[int, list]:
    by_integration = defaultdict(list)
    for event in events:
        by_integration[event.integration_id].append(event)
    return by_integration


def learn_history(zone=None, today: date | None = None) -> confidence.History:
    """Durations of every finished step of every kicked-off integration, paused days left out: three queries.

    The steps still open in a running integration count too, as lasting at least the working days
    they have run by ``today`` (the refresh's day; today by default) (``roadmap.confidence.History.weighted``):
    without them the history holds only the slow steps that have finished, and looks short.
    """
    zone = zone or tradingview_zone()
    today = today or timezone.localtime(timezone.now(), zone).date()
    with_done = IntegrationStep.objects.filter(status=StepStatus.DONE).values("integration_id")
    learnt = Integration.objects.filter(kickoff_on__isnull=False).filter(
        Q(pk__in=with_done) | Q(launched_on__isnull=True, cancelled_on__isnull=True)
    )
    kicked_off = learnt.values_list("pk", "kickoff_on", "launched_on", "cancelled_on", *_TRAIT_VALUES)
    integrations = {
        pk: (kickoff, ended_on or today, traits_of(*traits), None if ended_on else today)
        for pk, kickoff, launched_on, cancelled_on, *traits in kicked_off.iterator(chunk_size=5000)
        for ended_on in [launched_on or cancelled_on]
    }
    steps = _steps_by_integration(IntegrationStep.objects.filter(integration__in=learnt.values("pk")))
    pauses = _pauses_by_integration(
        IntegrationEvent.objects.filter(kind__in=PAUSES, integration__in=learnt.values("pk")).order_by("at", "id")
    )
    return confidence.History.learn(
        (
            (steps[i], kickoff, paused_dates(None, ended, pauses.get(i, ())), traits, running_on)
            for i, (kickoff, ended, traits, running_on) in integrations.items()
            if i in steps
        ),
        zone,
    )


def _case(integration, steps, pauses, today: date) -> confidence.Case:
    """What ``roadmap.confidence`` needs of one integration (its model or its row read as values)."""
    return confidence.Case(
        [s for s in steps if s.planned_due_date is not None],
        integration.kickoff_on,
        traits_of(integration.data_types, integration.trading_auth, integration.data_auth, integration.partner_kind),
        paused_dates(None, today, pauses),
        # Seeded by how it stands: integrations standing alike are simulated once, and the same
        # standing gives the same figures.
        seed=None,
    )


def forecast_of(integration: Integration, history: confidence.History, now: datetime, steps=None, pauses=None):
    """``roadmap.confidence.Forecast`` of one kicked-off integration as of ``now`` (seeded by its standing: stable).

    ``pauses``: its paused and resumed events, in order (read from the database unless given).
    """
    zone = tradingview_zone()
    today = timezone.localtime(now, zone).date()
    steps = list(integration.steps.all() if steps is None else steps)
    if pauses is None:
        pauses = integration.events.filter(kind__in=PAUSES).order_by("at", "id")
    row = SimpleNamespace(
        pk=integration.pk,
        kickoff_on=integration.kickoff_on,
        data_types=integration.data_types,
        trading_auth=integration.trading_auth,
        data_auth=integration.data_auth,
        partner_kind=integration.partner.kind,
    )
    return confidence.forecast_many([_case(row, steps, pauses, today)], today, history, zone=zone)[0]


def refresh_forecasts(now: datetime | None = None, batch_size: int = 500, stale_only: bool = False) -> int:
    """Forecast every running, kicked-off integration and store it; ``stale_only``: those not yet forecast today.

    Each batch costs three reads (the integrations' columns, their steps, their pauses), all as
    plain values, and one write of what changed: the queries grow with the batches. The batch is
    simulated at once (``confidence.forecast_many``).
    """
    now = now or timezone.now()
    zone = tradingview_zone()
    today = timezone.localtime(now, zone).date()
    running = Integration.objects.running().filter(kickoff_on__isnull=False)
    if stale_only:
        began = day_began(now, zone)
        running = running.filter(
            Q(forecast_computed_at__isnull=True) | Q(forecast_computed_at__lt=began) | Q(forecast_computed_at__gt=now)
        )
    if not running.exists():
        return 0
    history = learn_history(zone, today)  # running steps counted up to the day forecast, as the forecasts count them
    done = 0
    for batch in in_batches(running.values(*_ROW_VALUES), batch_size):
        rows = [SimpleNamespace(**row, pk=row["id"], partner_kind=row["partner__kind"]) for row in batch]
        pks = [row.pk for row in rows]
        steps = _steps_by_integration(IntegrationStep.objects.filter(integration_id__in=pks))
        pauses = _pauses_by_integration(
            IntegrationEvent.objects.filter(kind__in=PAUSES, integration_id__in=pks).order_by("at", "id")
        )
        cases = [_case(row, steps[row.pk], pauses.get(row.pk, ()), today) for row in rows]
        changes = {}
        for row, got in zip(rows, confidence.forecast_many(cases, today, history, zone=zone), strict=True):
            new = {"forecast_p50": got.p50, "forecast_p85": got.p85, "forecast_risk": got.risk}
            new["health"] = stored_health(SimpleNamespace(**(vars(row) | new)), now)
            changes[row.pk] = {name: value for name, value in new.items() if getattr(row, name) != value}
            changes[row.pk]["forecast_computed_at"] = now
        write_changes(Integration, changes)
        done += len(rows)
    return done
