"""Checking a partner's base URL: it is HTTPS, it answers, and for the trading part its CORS lets
TradingView's web terminal call it.

``probe`` makes the requests; ``check_url`` validates a URL handed over for a part and
environment, saves it on the integration and records the probe as a ``UrlCheck``;
``latest_checks`` gives the latest check of each current URL.

The product makes requests to addresses a partner chose, so the probe guards against being used
to reach inside TradingView's network (SSRF): the host is resolved once, every address it resolves
to must be public, and the connection goes to the vetted address itself, so a second lookup
cannot swap in a private one (DNS rebinding). No credentials are ever sent and redirects are not
followed.
"""

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from integrations import events
from integrations.context import ChangeContext
from integrations.handovers.models import Environment, Part, UrlCheck
from integrations.models import ChangeSource, Integration, validate_https

Outcome = UrlCheck.Outcome

# Enough to see that the server answers; a partner's home page need not be read whole.
MAX_BODY_BYTES = 64 * 1024
# What the trading terminal calls first, with the user's token: its preflight must pass.
CORS_PATH = "accounts"
USER_AGENT = "TradingView-integration-handover-check/1.0"


@dataclass(frozen=True)
class Probe:
    """What one probe of a URL saw. ``detail`` is in words for the partner's engineer."""

    outcome: str
    detail: str
    status_code: int | None = None
    elapsed_ms: int | None = None

    @property
    def passed(self) -> bool:
        return self.outcome == Outcome.OK


class _Failed(Exception):
    """Ends a probe early with an outcome; the probe turns it into its ``Probe``."""

    def __init__(self, outcome: str, detail: str, status_code: int | None = None):
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail
        self.status_code = status_code


# --- the probe -----------------------------------------------------------------------------------


def probe(url: str, *, need_cors: bool) -> Probe:
    """Check ``url``: HTTPS, a public address, a valid certificate, an answer below 500 at the base
    URL and, when ``need_cors`` (the trading part), a CORS preflight of ``{url}/accounts`` that
    allows each of ``settings.TRADINGVIEW_ORIGINS`` to send an Authorization header."""
    started = time.monotonic()
    status_code = None
    try:
        target = _Target.parse(url)
        addresses = _vetted_addresses(target)
        status_code, answer = _request(target, addresses, "GET", target.path, {"Accept": "*/*"})
        if status_code >= 500:
            raise _Failed(
                Outcome.BAD_STATUS,
                f"The server answered {status_code} {answer.reason} at {url}: a server error. "
                "Any answer below 500 is fine (401, 403 and 404 too; no credentials are sent).",
                status_code,
            )
        detail = f"The server answered {status_code} {answer.reason} at {url}"
        if answer.location:
            detail += f" and redirects to {answer.location} (not followed)"
        detail += "."
        if need_cors:
            detail += " " + _check_cors(target, addresses)
        outcome = Outcome.OK
    except _Failed as failed:
        outcome, detail = failed.outcome, failed.detail
        status_code = failed.status_code or status_code
    return Probe(outcome, detail, status_code, round((time.monotonic() - started) * 1000))


@dataclass(frozen=True)
class _Target:
    url: str
    host: str
    port: int
    path: str  # with the query, as sent

    @classmethod
    def parse(cls, url: str) -> "_Target":
        try:
            parts = urlsplit(url)
            port = parts.port or 443
        except ValueError as error:
            raise _Failed(Outcome.NOT_HTTPS, f"{url!r} is not a valid URL ({error}).") from None
        if parts.scheme.lower() != "https":
            raise _Failed(Outcome.NOT_HTTPS, f"{url} is not an https:// URL; TradingView only calls HTTPS endpoints.")
        if not parts.hostname:
            raise _Failed(Outcome.NOT_HTTPS, f"{url} names no host.")
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        return cls(url, parts.hostname, port, path)

    def joined(self, name: str) -> str:
        """The path of ``name`` under the base URL (``/api`` + ``accounts`` -> ``/api/accounts``)."""
        base = self.path.split("?", 1)[0]
        return base.rstrip("/") + "/" + name


def _vetted_addresses(target: _Target) -> list[str]:
    """The addresses ``target.host`` resolves to, all public (or private ones allowed for tests)."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise _Failed(Outcome.UNRESOLVABLE, f"The name {target.host} does not resolve ({error}).") from None
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise _Failed(Outcome.UNRESOLVABLE, f"The name {target.host} resolves to no address.")
    if not settings.HANDOVER_CHECK_ALLOW_PRIVATE:
        private = [a for a in addresses if not is_public_address(a)]
        if private:
            named = (
                target.host if addresses == [target.host] else f"{target.host} resolves to {', '.join(private)}, which"
            )
            raise _Failed(
                Outcome.PRIVATE_ADDRESS,
                f"{named} is not a public internet address; "
                "TradingView can only reach public addresses. Nothing was sent to it.",
            )
    return addresses


def is_public_address(address: str) -> bool:
    """Whether ``address`` is a public internet address: not private, loopback, link-local,
    multicast, reserved or unspecified, also when written as an IPv4-mapped IPv6 address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 zone ("fe80::1%eth0") names no host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:10.0.0.1 reaches 10.0.0.1
            return is_public_address(str(ip.ipv4_mapped))
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public_address(str(embedded)):
            return False
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global  # shared address space (100.64/10) and the like
    )


@dataclass(frozen=True)
class _Answer:
    reason: str
    headers: http.client.HTTPMessage
    location: str


class _PinnedConnection(http.client.HTTPSConnection):
    """An HTTPS connection to a vetted address, with the URL's host for SNI, the certificate check
    and the Host header."""

    def __init__(self, host: str, port: int, address: str, *, context: ssl.SSLContext, timeout: float):
        super().__init__(host, port, timeout=timeout, context=context)
        self.address = address

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        try:
            self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.HANDOVER_CHECK_CA_BUNDLE:
        context.load_verify_locations(cafile=settings.HANDOVER_CHECK_CA_BUNDLE)
    return context


def _request(target: _Target, addresses: list[str], method: str, path: str, headers: dict) -> tuple[int, _Answer]:
    """Send one request to the first vetted address that takes the connection; the status and answer."""
    timeout = settings.HANDOVER_CHECK_TIMEOUT_SECONDS
    context = _tls_context()
    refused = None
    for address in addresses:
        connection = _PinnedConnection(target.host, target.port, address, context=context, timeout=timeout)
        try:
            connection.request(method, path, headers={"User-Agent": USER_AGENT, **headers})
            response = connection.getresponse()
            response.read(MAX_BODY_BYTES)
            return response.status, _Answer(response.reason, response.headers, response.getheader("Location", ""))
        except ConnectionRefusedError:
            refused = address  # another address of the name may answer
        except ssl.SSLCertVerificationError as error:
            raise _Failed(
                Outcome.TLS_ERROR,
                f"The TLS certificate of {target.host} is not valid: {error.verify_message or error.reason}.",
            ) from None
        except ssl.SSLError as error:
            raise _Failed(
                Outcome.TLS_ERROR, f"The TLS handshake with {target.host} failed: {error.reason or error}."
            ) from None
        except TimeoutError:
            raise _Failed(
                Outcome.TIMEOUT,
                f"{target.url} did not answer {method} {path} within {timeout} second{'' if timeout == 1 else 's'}.",
            ) from None
        except (http.client.HTTPException, OSError) as error:
            raise _Failed(
                Outcome.UNREACHABLE, f"{target.url} could not be reached ({type(error).__name__}: {error})."
            ) from None
        finally:
            connection.close()
    raise _Failed(
        Outcome.UNREACHABLE,
        f"{target.host} refused the connection on port {target.port} (last tried {refused}).",
    )


def _check_cors(target: _Target, addresses: list[str]) -> str:
    """Send TradingView's CORS preflight from each origin; say what passed, or raise what is wrong."""
    path = target.joined(CORS_PATH)
    seen = []
    for origin in settings.TRADINGVIEW_ORIGINS:
        status, answer = _request(
            target,
            addresses,
            "OPTIONS",
            path,
            {
                "Origin": origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization",
            },
        )
        where = f"the CORS preflight OPTIONS {path} from {origin}"
        allow_origin = (answer.headers.get("Access-Control-Allow-Origin") or "").strip()
        allow_headers = answer.headers.get("Access-Control-Allow-Headers") or ""
        if not 200 <= status < 300:
            raise _Failed(
                Outcome.NO_CORS,
                f"CORS missing for {origin}: {where} answered {status} {answer.reason}; "
                "browsers need a 2xx answer to a preflight.",
                status,
            )
        if not allow_origin:
            raise _Failed(
                Outcome.NO_CORS,
                f"CORS missing for {origin}: {where} answered without Access-Control-Allow-Origin.",
                status,
            )
        if allow_origin not in (origin, "*"):
            raise _Failed(
                Outcome.NO_CORS,
                f"CORS missing for {origin}: {where} answered Access-Control-Allow-Origin: {allow_origin}, "
                f"which is neither {origin} nor *.",
                status,
            )
        allowed = {h.strip().lower() for h in allow_headers.split(",")}
        if not allowed & {"authorization", "*"}:
            if allow_headers.strip():
                got = f"Access-Control-Allow-Headers: {allow_headers.strip()}, without Authorization"
            else:
                got = "without Access-Control-Allow-Headers"
            raise _Failed(
                Outcome.NO_CORS,
                f"CORS missing for {origin}: {where} answered {got}; it must allow the Authorization header.",
                status,
            )
        seen.append(origin)
    return f"CORS allows {', '.join(seen)} to send the Authorization header to {path}."


# --- recording checks ----------------------------------------------------------------------------


def url_field(part: str, environment: str) -> str:
    """The Integration field that holds the URL of ``part`` in ``environment``."""
    return f"{part}_{environment}_url"


def check_url(integration, part: str, environment: str, url: str, by=None, source=ChangeSource.WEB) -> UrlCheck:
    """Validate (https, integration has that part) -> ValidationError({"url": "..."}) if bad,
    nothing written; else save the URL into the integration field (e.g. trading_production_url),
    probe it (need_cors for the trading part), store and return a UrlCheck row (atomic for the
    writes; the network probe happens outside any open transaction).

    Call it outside a transaction: the probe may take ``HANDOVER_CHECK_TIMEOUT_SECONDS`` per
    request, and no row should stay locked meanwhile.
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
