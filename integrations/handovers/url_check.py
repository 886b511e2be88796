"""Checking a partner's base URL when it is handed over: ``check_url`` validates a URL handed over
for a part and environment, saves it on the integration and records the probe (``probe``, which
makes the requests within the check's deadline) as a ``UrlCheck``; ``latest_checks`` gives the
latest check of each current URL.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations import events
from integrations.context import ChangeContext
from integrations.handovers.models import Environment, Part, UrlCheck
from integrations.handovers.probe import probe
from integrations.models import ChangeSource, Integration, validate_https

# --- recording checks ----------------------------------------------------------------------------


def url_field(part: str, environment: str) -> str:
    """The Integration field that holds the URL of ``part`` in ``environment``."""
    return f"{part}_{environment}_url"


def check_url(integration, part: str, environment: str, url: str, by=None, source=ChangeSource.WEB) -> UrlCheck:
    """Validate (https, integration has that part) -> ValidationError({"url": "..."}) if bad,
    nothing written; else save the URL into the integration field (e.g. trading_production_url),
    probe it (need_cors for the trading part), store and return a UrlCheck row (atomic for the
    writes; the network probe happens outside any open transaction).

    Call it outside a transaction: the probe may take ``HANDOVER_CHECK_DEADLINE_SECONDS``, and no
    row should stay locked meanwhile.
    """
    url = (url or "").strip()
    _validate(integration, part, environment, url)
    result = probe(url, need_cors=part == Part.TRADING)
    field = url_field(part, environment)
    now = timezone.now()
    with transaction.atomic():
        Integration.objects.filter(pk=integration.pk).update(**{field: url, "updated_at": now})
        setattr(integration, field, url)
        check = UrlCheck.objects.create(
            integration=integration,
            part=part,
            environment=environment,
            url=url,
            checked_at=now,
            checked_by=by if by is not None and by.is_authenticated else None,
            outcome=result.outcome,
            detail=result.detail,
            status_code=result.status_code,
            elapsed_ms=result.elapsed_ms,
        )
        label = f"{Part(part).label} {Environment(environment).label.lower()} URL {url}"
        events.announce(
            events.PARTNER_HANDOVER,
            integration,
            ChangeContext(source, by=person(by), at=now),
            handover="production_urls" if environment == Environment.PRODUCTION else "",
            summary=f"{label}: {result.detail}",
            passed=result.passed,
        )
        return check


def _validate(integration, part: str, environment: str, url: str):
    if part not in Part.values:
        raise ValidationError({"url": f"{part!r} is not a part; say {' or '.join(Part.values)}."})
    if environment not in Environment.values:
        raise ValidationError({"url": f"{environment!r} is not an environment; say {' or '.join(Environment.values)}."})
    has_part = integration.has_trading_part if part == Part.TRADING else integration.has_data_part
    if not has_part:
        raise ValidationError({"url": f"{integration} has no {part} part, so it needs no {part} URL."})
    if not url:
        raise ValidationError({"url": "Give the base URL, e.g. https://api.example.com/tradingview."})
    limit = Integration._meta.get_field(url_field(part, environment)).max_length
    if len(url) > limit:
        raise ValidationError({"url": f"The URL is longer than {limit} characters."})
    try:
        validate_https(url)
    except ValidationError as error:
        raise ValidationError({"url": error.messages[0]}) from None


def latest_checks(integration) -> dict[tuple[str, str], UrlCheck]:
    """(part, environment) -> the latest check of the URL the integration holds now; one query.

    A check of an earlier URL does not count: a URL handed over again needs a new check.
    """
    current = {}
    for part in Part.values:
        for environment in Environment.values:
            url = getattr(integration, url_field(part, environment))
            if url:
                current[(part, environment)] = url
    if not current:
        return {}
    wanted = None
    for (part, environment), url in current.items():
        q = Q(part=part, environment=environment, url=url)
        wanted = q if wanted is None else wanted | q
    latest = {}
    for check in UrlCheck.objects.filter(wanted, integration_id=integration.pk).order_by("-checked_at", "-id"):
        latest.setdefault((check.part, check.environment), check)
    return latest


def person(by):
    """The signed-in user who handed over, for the change's context (None for the system)."""
    return by if by is not None and by.is_authenticated else None
