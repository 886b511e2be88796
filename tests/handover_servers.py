"""Real servers on 127.0.0.1 for the hand-over URL check, so tests probe over real sockets and TLS.

``handover_servers`` (a pytest fixture; import it into a test module or conftest) starts, each on a
free port in its own thread:

- ``plain_http``: http://, answers 200;
- ``no_cors``: https, answers 401 to GET and 200 to the preflight, without CORS headers;
- ``good``: https, answers 401 to GET and a proper CORS preflight for any Origin in
  ``settings.TRADINGVIEW_ORIGINS`` (read when asked, so a test may change them);
- ``cors_without_authorization``: https, allows the origin but not the Authorization header;
- ``cors_other_origin``: https, its preflight allows only https://partner.example.com;
- ``redirect``: https, answers 302 to https://example.com/login;
- ``server_error``: https, 503 to everything;
- ``slow``: https, waits 5 seconds (or until stopped) before answering: set
  ``settings.HANDOVER_CHECK_TIMEOUT_SECONDS = 1`` to see it time out;
- ``delayed``: https, answers as ``good`` does, each answer a second late (a check of it takes
  about two seconds: long enough to be seen pending, well within every time-out);
- ``trickle``: https, starts its answer to GET at once, then sends one byte a second for ever
  (until stopped): no read ever waits long, so only a deadline for the whole check ends it;
- ``trickle_preflight``: https, answers GET as ``good`` does, then trickles its answer to the
  CORS preflight one byte a second for ever;
- ``silent``: a port that takes the TCP connection and never says a word (no TLS handshake);
- ``untrusted``: https with a certificate from a CA the check does not trust;
- ``closed``: an https URL on a port nothing listens on.

Each base URL ends in ``/api`` (e.g. ``servers.good == "https://127.0.0.1:PORT/api"``); the
certificates are valid for 127.0.0.1, ::1 and localhost. The fixture writes its trustme CA to a
file, sets ``settings.HANDOVER_CHECK_CA_BUNDLE`` to it and ``HANDOVER_CHECK_ALLOW_PRIVATE = True``,
and stops the servers after the test. ``servers.connections(name)`` counts the connections a
server accepted (to prove none was made). Without pytest, use ``running_handover_servers(folder)``
and set the two settings from ``servers.ca_path``.
"""

import contextlib
import http.server
import socket
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme
from django.conf import settings as django_settings

CERT_NAMES = ("127.0.0.1", "::1", "localhost")
SLOW_SECONDS = 5
DELAY_SECONDS = 1
TRICKLE_SECONDS = 1
OTHER_ORIGIN = "https://partner.example.com"


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers as its server's ``kind`` says; quiet, so test output stays readable."""

    protocol_version = "HTTP/1.1"
    timeout = 10  # a client that never speaks does not hold a thread for ever

    def log_message(self, format, *args):
        pass

    def do_GET(self):
        kind = self.server.kind
        if kind == "delayed":
            self.server.stopping.wait(DELAY_SECONDS)
        if kind == "trickle":
            self._trickle()
        elif kind == "slow":
            self.server.stopping.wait(SLOW_SECONDS)
            self._answer(200)
        elif kind == "server_error":
            self._answer(503)
        elif kind == "redirect":
            self._answer(302, {"Location": "https://example.com/login"})
        elif kind == "plain_http":
            self._answer(200)
        else:
            self._answer(401, {"WWW-Authenticate": "Bearer"})

    do_HEAD = do_GET
    do_POST = do_GET

    def do_OPTIONS(self):
        kind = self.server.kind
        origin = self.headers.get("Origin", "")
        if kind == "delayed":
            self.server.stopping.wait(DELAY_SECONDS)
        if kind == "trickle_preflight":
            self._trickle()
        elif kind in CORS_KINDS and origin in django_settings.TRADINGVIEW_ORIGINS:
            headers = {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE"}
            headers["Vary"] = "Origin"
            if kind != "cors_without_authorization":
                headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
            else:
                headers["Access-Control-Allow-Headers"] = "Content-Type"
            self._answer(204, headers)
        elif kind == "cors_other_origin":
            headers = {"Access-Control-Allow-Origin": OTHER_ORIGIN, "Access-Control-Allow-Headers": "Authorization"}
            self._answer(204, headers)
        elif kind in (*CORS_KINDS, "no_cors", "plain_http"):
            self._answer(200)
        else:
            self.do_GET()

    def _trickle(self):
        """A status line and the start of a header at once, then one byte a second until stopped."""
        self.close_connection = True
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Trickle: ")
            while not self.server.stopping.wait(TRICKLE_SECONDS):
                self.wfile.write(b"z")
        except OSError:  # the client gave up and closed the connection: what the check should do
            pass

    def _answer(self, status: int, headers: dict | None = None):
        body = b"" if status in (204, 304) else f"{status}\n".encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, kind: str, tls: ssl.SSLContext | None):
        self.kind = kind
        self.tls = tls
        self.accepted = 0
        self.stopping = threading.Event()
        super().__init__(("127.0.0.1", 0), _Handler)

    def get_request(self):
        sock, address = super().get_request()
        self.accepted += 1
        if self.tls is not None:
            # The handshake runs in the handler's thread, so a stuck client cannot stall the server.
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request, client_address):
        pass  # failed handshakes are what some tests are about

    @property
    def port(self) -> int:
        return self.server_address[1]


@dataclass
class HandoverServers:
    ca_path: Path
    urls: dict[str, str] = field(default_factory=dict)
    servers: dict[str, _Server] = field(default_factory=dict)

    def __getattr__(self, name):
        urls = self.__dict__.get("urls", {})
        if name in urls:
            return urls[name]
        raise AttributeError(name)

    def connections(self, name: str) -> int:
        """How many connections the server ``name`` has accepted so far."""
        return self.servers[name].accepted

    def on_localhost(self, name: str) -> str:
        """The base URL of ``name`` by the host name ``localhost`` instead of the address."""
        return self.urls[name].replace("127.0.0.1", "localhost")


# The kinds whose CORS preflight allows TradingView's origins (with the Authorization header or not).
CORS_KINDS = ("good", "delayed", "trickle_preflight", "cors_without_authorization")

TLS_KINDS = (
    "good",
    "delayed",
    "trickle",
    "trickle_preflight",
    "no_cors",
    "cors_without_authorization",
    "cors_other_origin",
    "redirect",
    "server_error",
    "slow",
)


def _tls_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*CERT_NAMES).configure_cert(context)
    return context


def _silent_listener() -> socket.socket:
    """A socket that listens (the kernel completes TCP handshakes) but is never accepted from."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    return sock


def _free_closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_handover_servers(folder: Path):
    """Start the servers, write the trusted CA into ``folder``; yield ``HandoverServers``; stop them."""
    ca = trustme.CA()
    ca_path = Path(folder) / "handover-ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    result = HandoverServers(ca_path=ca_path)
    contexts = {kind: _tls_context(ca) for kind in TLS_KINDS}
    contexts["untrusted"] = _tls_context(trustme.CA())  # a CA outside the bundle
    contexts["plain_http"] = None
    threads = []
    silent = _silent_listener()
    try:
        for kind, context in contexts.items():
            server = _Server(kind, context)
            thread = threading.Thread(target=server.serve_forever, args=(0.05,), name=f"handover-{kind}", daemon=True)
            thread.start()
            threads.append(thread)
            result.servers[kind] = server
            scheme = "http" if context is None else "https"
            result.urls[kind] = f"{scheme}://127.0.0.1:{server.port}/api"
        result.urls["closed"] = f"https://127.0.0.1:{_free_closed_port()}/api"
        result.urls["silent"] = f"https://127.0.0.1:{silent.getsockname()[1]}/api"
        yield result
    finally:
        servers = list(result.servers.values())
        for server in servers:
            server.stopping.set()
        # Each shutdown waits for its loop's next poll: stop them together rather than in turn.
        stoppers = [threading.Thread(target=server.shutdown) for server in servers]
        for stopper in stoppers:
            stopper.start()
        for stopper in stoppers:
            stopper.join()
        for server in servers:
            server.server_close()
        for thread in threads:
            thread.join(timeout=5)
        silent.close()


@pytest.fixture
def handover_servers(settings, tmp_path):
    """The hand-over test servers, with the URL check set to trust them and reach 127.0.0.1."""
    with running_handover_servers(tmp_path) as servers:
        settings.HANDOVER_CHECK_CA_BUNDLE = str(servers.ca_path)
        settings.HANDOVER_CHECK_ALLOW_PRIVATE = True
        yield servers
