"""The demo portfolio's hand-overs (``manage.py seed_demo``): DEMO DATA, never a real check.

The demo cannot reach the network, and its partners' hosts (``*.example``) do not exist, so the
production URL checks are written as passing ``UrlCheck`` rows directly, saying so in their
detail. The sheet and the beta testers go through the same functions as a partner's. With the
production URLs, TradingView records the partner's own data feed in its production (where the
partner connects one), so smoke testing, which waits for it, can start.
"""

from integrations.handovers.models import Environment, Part, UrlCheck
from integrations.handovers.records import save_auth_sheet, set_beta_testers, sheet_fields_needed
from integrations.handovers.rules import integration_parts
from integrations.handovers.url_check import url_field
from integrations.models import Integration

DEMO_CHECK_DETAIL = "Demo data: recorded as passed by seed_demo; no request was made."


def record_demo_handovers(integration, kinds: list[str], by, at):
    """Hand over what ``kinds`` (a step's ``handovers``) names, as of ``at``, by ``by``."""
    slug = integration.partner.name.split()[0].lower()
    if "staging_url" in kinds:
        for part in integration_parts(integration):
            field = url_field(part, Environment.STAGING)
            if not getattr(integration, field):
                host = "staging-api" if part == Part.TRADING else "staging-data"
                url = f"https://{host}.{slug}.example/tradingview"
                Integration.objects.filter(pk=integration.pk).update(**{field: url})
                setattr(integration, field, url)
    own_feed = integration.data_source == Integration.DataSource.OWN_FEED
    if "production_urls" in kinds and own_feed and integration.own_feed_in_production_on is None:
        integration.own_feed_in_production_on = at.date()
        Integration.objects.filter(pk=integration.pk).update(own_feed_in_production_on=at.date())
    if "production_urls" in kinds:
        for part in integration_parts(integration):
            field = url_field(part, Environment.PRODUCTION)
            host = "api" if part == Part.TRADING else "data"
            url = getattr(integration, field) or f"https://{host}.{slug}.example/tradingview"
            Integration.objects.filter(pk=integration.pk).update(**{field: url})
            setattr(integration, field, url)
            UrlCheck.objects.create(
                integration=integration,
                part=part,
                environment=Environment.PRODUCTION,
                url=url,
                checked_at=at,
                checked_by=by,
                started_at=at,
                attempts=1,
                finished_at=at,
                outcome=UrlCheck.Outcome.OK,
                detail=DEMO_CHECK_DETAIL,
                status_code=401,
                elapsed_ms=120,
            )
    if "auth_sheet" in kinds:
        for part in integration_parts(integration):
            values = {
                "client_id": f"tradingview-{slug}",
                "authorization_uri": f"https://auth.{slug}.example/oauth/authorize",
                "token_uri": f"https://auth.{slug}.example/oauth/token",
            }
            needed = sheet_fields_needed(integration, part)
            if needed:
                save_auth_sheet(integration, part, {name: values[name] for name in needed}, by=by)
    if "beta_testers" in kinds:
        set_beta_testers(integration, f"{slug}_beta1\n{slug}_beta2", by=by)
