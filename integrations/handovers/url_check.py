"""Handing over a partner's base URL: ``hand_over_url`` validates it, saves it on the integration
and stores a pending ``UrlCheck`` whose check the worker runs (``tasks``, queued after the commit);
``latest_checks`` gives the latest check of each current URL.

The check itself (``checking``, over ``probe``) never runs in the request that hands the URL over:
a partner's server may take ``HANDOVER_CHECK_DEADLINE_SECONDS`` to answer, and no web worker
should wait for it.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations.handovers import checking, tasks
from integrations.handovers.models import Environment, Part, UrlCheck
from integrations.models import ChangeSource, Integration, validate_https


def url_field(part: str, environment: str) -> str:
    """The Integration field that holds the URL of ``part`` in ``environment``."""
    return f"{part}_{environment}_url"


def hand_over_url(integration, part: str, environment: str, url: str, by=None, source=ChangeSource.WEB) -> UrlCheck:
    """Validate (https, integration has that part) -> ValidationError({"url": "..."}) if bad,
    nothing written; else save the URL into the integration field (e.g. trading_production_url)
    and store a pending ``UrlCheck`` ("checking"), returned, whose check is queued for the worker
    once the transaction commits. Makes no request: the hand-over is announced, with the check's
    result, when the worker has recorded it."""
    check = _store(integration, part, environment, url, by, source)
    transaction.on_commit(lambda: tasks.queue_check(check.pk))
    return check


def check_url(integration, part: str, environment: str, url: str, by=None, source=ChangeSource.WEB) -> UrlCheck:
    """Hand the URL over and run its check now, in this process, as the worker would; the recorded
    check. For the shell and scripts: a web request calls ``hand_over_url``, never this."""
    check = _store(integration, part, environment, url, by, source)
    checking.run_check(check.pk)
    check.refresh_from_db()
    return check


def _store(integration, part, environment, url, by, source) -> UrlCheck:
    """Validate; save the URL on the integration and a pending check of it, in one transaction."""
    url = (url or "").strip()
    _validate(integration, part, environment, url)
    field = url_field(part, environment)
    now = timezone.now()
    with transaction.atomic():
        Integration.objects.filter(pk=integration.pk).update(**{field: url, "updated_at": now})
        setattr(integration, field, url)
        return UrlCheck.objects.create(
            integration=integration,
            part=part,
            environment=environment,
            url=url,
            checked_at=now,
            checked_by=person(by),
            source=source,
            outcome=UrlCheck.Outcome.CHECKING,
        )


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


def read_check(integration, check_id) -> UrlCheck | None:
    """The integration's check ``check_id``, or None."""
    return UrlCheck.objects.filter(integration_id=integration.pk, pk=check_id).select_related("checked_by").first()


def still_checking(integration, check_ids) -> bool:
    """Whether the integration's checks among ``check_ids`` (others are ignored) are all still
    pending: nothing new to show. False when none of them is the integration's."""
    outcomes = list(
        UrlCheck.objects.filter(integration_id=integration.pk, pk__in=set(check_ids)).values_list("outcome", flat=True)
    )
    return bool(outcomes) and all(outcome == UrlCheck.Outcome.CHECKING for outcome in outcomes)


def latest_among(integration, checks) -> dict[tuple[str, str], UrlCheck]:
    """``latest_checks`` from ``checks``, the integration's checks newest first, read already."""
    latest = {}
    for check in checks:
        if getattr(integration, url_field(check.part, check.environment), None) == check.url:
            latest.setdefault((check.part, check.environment), check)
    return latest


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
