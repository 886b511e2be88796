"""Handing everything over at once, for tests that only need a step's hand-overs out of the way."""

from django.utils import timezone

from integrations.handovers.models import Environment, UrlCheck
from integrations.handovers.records import save_auth_sheet, set_beta_testers, sheet_fields_needed
from integrations.handovers.rules import integration_parts
from integrations.handovers.url_check import url_field

SHEET = {
    "client_id": "tradingview-client",
    "authorization_uri": "https://broker.example.com/oauth/authorize",
    "token_uri": "https://broker.example.com/oauth/token",
}


def passing_check(integration, part: str, environment: str = Environment.PRODUCTION, url: str | None = None):
    """A stored passing check of the part's current URL (set to ``url`` first when given), with no network."""
    field = url_field(part, environment)
    if url is not None:
        setattr(integration, field, url)
        integration.save(update_fields=[field])
    return UrlCheck.objects.create(
        integration=integration,
        part=part,
        environment=environment,
        url=getattr(integration, field),
        outcome=UrlCheck.Outcome.OK,
        detail="Recorded by the test as passed.",
        status_code=401,
        attempts=1,
        finished_at=timezone.now(),
    )


def hand_over_everything(integration):
    """Passing checks of the production URLs, the sheets each part needs, one beta tester; and, where the
    partner connects its own feed, the feed recorded in TradingView's production (smoke testing waits for it)."""
    if integration.data_source == "own_feed" and integration.own_feed_in_production_on is None:
        integration.own_feed_in_production_on = timezone.localdate()
        integration.save(update_fields=["own_feed_in_production_on"])
    for part in integration_parts(integration):
        passing_check(integration, part)
        needed = sheet_fields_needed(integration, part)
        if needed:
            save_auth_sheet(integration, part, {name: SHEET[name] for name in needed})
    set_beta_testers(integration, "beta.tester")


def run_pending_checks() -> list[int]:
    """Run every pending URL check as the worker would (its Celery task, in this process); their ids."""
    from integrations.handovers.tasks import check_handed_over_url

    pending = list(
        UrlCheck.objects.filter(outcome=UrlCheck.Outcome.CHECKING).order_by("id").values_list("id", flat=True)
    )
    for check_id in pending:
        check_handed_over_url.apply(args=[check_id])
    return pending
