"""Probing a partner's base URL over the network: it is HTTPS, it answers, and for the trading part
its CORS lets TradingView's web terminal call it. No database here: ``checking`` records the result.

The product makes requests to addresses a partner chose, so the probe guards against being used
to reach inside TradingView's network (SSRF): the host is resolved once, every address it resolves
to must be public, and the connection goes to the vetted address itself, so a second lookup
cannot swap in a private one (DNS rebinding). No credentials are ever sent and redirects are not
followed.

It also guards against a partner's server holding it: each wait for the network is cut at
``HANDOVER_CHECK_TIMEOUT_SECONDS``, and the whole check (the name lookup, the connection, the TLS
handshake, the GET and the CORS preflight together) at ``HANDOVER_CHECK_DEADLINE_SECONDS``, so a
server sending one byte a second, each read short, is still stopped on time.
"""

import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from integrations.handovers.models import UrlCheck

Outcome = UrlCheck.Outcome

# Enough to see that the server answers; a partner's home page need not be read whole.
MAX_BODY_BYTES = 64 * 1024
# What the trading terminal calls first, with the user's token: its preflight must pass.
CORS_PATH = "accounts"
USER_AGENT = "TradingView-integration-handover-check/1.0"
# How much of a stalled answer a timed-out check quotes, to say what was seen.
QUOTED_BYTES = 80


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


def _number(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else str(n)


def _seconds(n: float) -> str:
    return f"{_number(n)} second{'' if n == 1 else 's'}"


class _Deadline:
    """The time the whole check may take, and the per-read time-out cut to what is left of it."""

    def __init__(self, seconds: float, per_wait: float):
        self.seconds = seconds
        self.per_wait = per_wait
        self.ends = time.monotonic() + seconds
        self.cut = False  # whether the last wait was shortened (or refused) by the deadline

    def remaining(self) -> float:
        return self.ends - time.monotonic()

    def wait(self) -> float:
        """How long the next wait for the network may last; TimeoutError once the deadline has passed."""
        left = self.remaining()
        self.cut = left <= self.per_wait
        if left <= 0:
            raise TimeoutError("the check's deadline has passed")
        return min(self.per_wait, left)

    @property
    def limit(self) -> str:
        return f"the check's {_number(self.seconds)}-second limit"


# --- the probe -----------------------------------------------------------------------------------


def probe(url: str, *, need_cors: bool) -> Probe:
    """Check ``url``: HTTPS, a public address, a valid certificate, an answer below 500 at the base
    URL and, when ``need_cors`` (the trading part), a CORS preflight of ``{url}/accounts`` that
    allows each of ``settings.TRADINGVIEW_ORIGINS`` to send an Authorization header; all within
    ``HANDOVER_CHECK_DEADLINE_SECONDS``."""
    started = time.monotonic()
    deadline = _Deadline(settings.HANDOVER_CHECK_DEADLINE_SECONDS, settings.HANDOVER_CHECK_TIMEOUT_SECONDS)
    status_code = None
    detail = ""
    try:
        target = _Target.parse(url)
        addresses = _vetted_addresses(target, deadline)
        status_code, answer = _request(target, addresses, deadline, "GET", target.path, {"Accept": "*/*"})
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
            detail += " " + _check_cors(target, addresses, deadline)
        outcome = Outcome.OK
    except _Failed as failed:
        outcome = failed.outcome
        status_code = failed.status_code or status_code
        # A check cut short still says what it saw before (the GET's answer, when the preflight stalled).
        detail = f"{detail} {failed.detail}" if detail and failed.outcome == Outcome.TIMEOUT else failed.detail
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


def _resolve(target: _Target, deadline: _Deadline) -> list:
    """``getaddrinfo`` for the target, given up on at the deadline (the resolver has no time-out of
    its own we could set: the lookup runs in a thread left to finish by itself)."""
    found = {}

    def lookup():
        try:
            found["infos"] = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        except BaseException as error:  # handed to the check's thread below
            found["error"] = error

    thread = threading.Thread(target=lookup, name="handover-check-lookup", daemon=True)
    thread.start()
    thread.join(max(deadline.remaining(), 0))
    if thread.is_alive():
        raise _Failed(Outcome.TIMEOUT, f"The name {target.host} did not resolve within {deadline.limit}.")
    if "error" in found:
        raise found["error"]
    return found["infos"]


# The resolver's answers as the partner's PM would say them (its own text is "[Errno -2] Name or
# service not known"); every other failure of the lookup is named as a failed look-up.
_RESOLVER_ERRORS = {
    socket.EAI_NONAME: "No such host: {host} (the name does not resolve).",
    socket.EAI_AGAIN: "The name {host} could not be looked up now (the name server did not answer); check again later.",
    socket.EAI_FAIL: "The name {host} could not be looked up (the name server failed).",
}
for _code in ("EAI_NODATA", "EAI_ADDRFAMILY"):  # Linux's "no address for this name"
    if hasattr(socket, _code):
        _RESOLVER_ERRORS[getattr(socket, _code)] = "The name {host} has no address: no such host."


def _not_resolved(host: str, error: Exception) -> str:
    if isinstance(error, UnicodeError):
        return f"{host} is not a valid host name."
    text = _RESOLVER_ERRORS.get(error.errno, "The name {host} could not be looked up: no such host.")
    return text.format(host=host)


def _vetted_addresses(target: _Target, deadline: _Deadline) -> list[str]:
    """The addresses ``target.host`` resolves to, all public (or private ones allowed for tests)."""
    try:
        infos = _resolve(target, deadline)
    except (socket.gaierror, UnicodeError) as error:
        raise _Failed(Outcome.UNRESOLVABLE, _not_resolved(target.host, error)) from None
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


class _DeadlineSocket(ssl.SSLSocket):
    """A TLS socket whose every wait (handshake, read, write) is cut to what is left of the check's
    deadline, so no sequence of short reads can outlast it; it keeps what it received, to quote."""

    deadline: _Deadline | None = None
    received = b""
    received_count = 0

    def _bound(self):
        if self.deadline is not None:
            self.settimeout(self.deadline.wait())

    def _seen(self, data: bytes):
        self.received_count += len(data)
        if len(self.received) < QUOTED_BYTES:
            self.received = (self.received + data)[:QUOTED_BYTES]

    def do_handshake(self, block=False):
        self._bound()
        return super().do_handshake(block)

    def read(self, len=1024, buffer=None):  # noqa: A002  (SSLSocket's own signature)
        self._bound()
        got = super().read(len, buffer)
        self._seen(bytes(buffer[:got]) if buffer is not None else got)
        return got

    def recv_into(self, buffer, nbytes=0, flags=0):
        self._bound()
        return super().recv_into(buffer, nbytes, flags)  # reads through read(), which keeps what came

    def recv(self, buflen=1024, flags=0):
        self._bound()
        return super().recv(buflen, flags)

    def send(self, data, flags=0):
        self._bound()
        return super().send(data, flags)


class _PinnedConnection(http.client.HTTPSConnection):
    """An HTTPS connection to a vetted address, with the URL's host for SNI, the certificate check
    and the Host header, every wait bounded by the check's deadline."""

    def __init__(self, host: str, port: int, address: str, *, context: ssl.SSLContext, deadline: _Deadline):
        super().__init__(host, port, timeout=deadline.per_wait, context=context)
        self.address = address
        self.deadline = deadline
        self.phase = "connect"
        self.tls = None

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.deadline.wait())
        self.phase = "handshake"
        try:
            self.tls = self._context.wrap_socket(sock, server_hostname=self.host, do_handshake_on_connect=False)
            self.tls.deadline = self.deadline
            self.tls.do_handshake()
        except BaseException:
            (self.tls or sock).close()
            raise
        self.sock = self.tls
        self.phase = "answer"


def _tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.sslsocket_class = _DeadlineSocket
    if settings.HANDOVER_CHECK_CA_BUNDLE:
        context.load_verify_locations(cafile=settings.HANDOVER_CHECK_CA_BUNDLE)
    return context


def _request(
    target: _Target, addresses: list[str], deadline: _Deadline, method: str, path: str, headers: dict
) -> tuple[int, _Answer]:
    """Send one request to the first vetted address that takes the connection; the status and answer."""
    context = _tls_context()
    refused = None
    for address in addresses:
        connection = _PinnedConnection(target.host, target.port, address, context=context, deadline=deadline)
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
            raise _Failed(Outcome.TIMEOUT, _timed_out(target, connection, method, path)) from None
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


def _timed_out(target: _Target, connection: _PinnedConnection, method: str, path: str) -> str:
    """What a request cut by a time-out had seen: how far it got, and the start of any answer."""
    deadline = connection.deadline
    within = f"within {deadline.limit if deadline.cut else _seconds(deadline.per_wait)}"
    if connection.phase == "connect":
        return f"{target.host} did not take the connection on port {target.port} {within}."
    if connection.phase == "handshake":
        return f"The TLS handshake with {target.host} had not finished {within}."
    tls = connection.tls
    if not tls.received_count:
        if not deadline.cut:
            return f"{target.url} did not answer {method} {path} {within}."
        return f"{target.url} had not answered {method} {path} {within}."
    start = tls.received.decode("latin-1")
    start = "".join(c if c.isprintable() else " " for c in start.replace("\r\n", " ")).strip()
    return (
        f"{target.url} had not finished answering {method} {path} {within}: "
        f"{tls.received_count} bytes came, starting {start!r}."
    )


def _check_cors(target: _Target, addresses: list[str], deadline: _Deadline) -> str:
    """Send TradingView's CORS preflight from each origin; say what passed, or raise what is wrong."""
    path = target.joined(CORS_PATH)
    seen = []
    for origin in settings.TRADINGVIEW_ORIGINS:
        status, answer = _request(
            target,
            addresses,
            deadline,
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
