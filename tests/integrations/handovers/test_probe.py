"""The URL probe against real servers on 127.0.0.1: each outcome, and what it tells the partner."""

import socket

import pytest

from integrations.handovers.models import UrlCheck
from integrations.handovers.probe import is_public_address, probe

Outcome = UrlCheck.Outcome


def test_a_server_answering_with_proper_cors_passes(handover_servers):
    result = probe(handover_servers.good, need_cors=True)

    assert result.outcome == Outcome.OK and result.passed
    assert result.status_code == 401  # no credentials are sent: 401 still answers
    assert "https://www.tradingview.com" in result.detail
    assert result.elapsed_ms is not None


def test_every_tradingview_origin_is_asked_for(handover_servers, settings):
    settings.TRADINGVIEW_ORIGINS = ["https://www.tradingview.com", "https://in.tradingview.com"]

    result = probe(handover_servers.good, need_cors=True)

    assert result.passed
    assert "https://www.tradingview.com, https://in.tradingview.com" in result.detail


def test_the_data_part_needs_no_cors(handover_servers):
    assert probe(handover_servers.no_cors, need_cors=False).outcome == Outcome.OK


def test_a_trading_server_without_cors_headers_fails_saying_which(handover_servers):
    result = probe(handover_servers.no_cors, need_cors=True)

    assert result.outcome == Outcome.NO_CORS
    assert result.detail.startswith("CORS missing for https://www.tradingview.com")
    assert "without Access-Control-Allow-Origin" in result.detail
    assert "/api/accounts" in result.detail


def test_cors_that_does_not_allow_the_authorization_header_fails(handover_servers):
    result = probe(handover_servers.cors_without_authorization, need_cors=True)

    assert result.outcome == Outcome.NO_CORS
    assert "Access-Control-Allow-Headers: Content-Type, without Authorization" in result.detail


def test_cors_for_another_origin_fails(handover_servers):
    result = probe(handover_servers.cors_other_origin, need_cors=True)

    assert result.outcome == Outcome.NO_CORS
    assert "Access-Control-Allow-Origin: https://partner.example.com" in result.detail
    assert "neither https://www.tradingview.com nor *" in result.detail


def test_plain_http_is_refused_without_a_request(handover_servers):
    result = probe(handover_servers.plain_http, need_cors=False)

    assert result.outcome == Outcome.NOT_HTTPS
    assert handover_servers.connections("plain_http") == 0


def test_a_server_error_fails_with_its_status(handover_servers):
    result = probe(handover_servers.server_error, need_cors=False)

    assert result.outcome == Outcome.BAD_STATUS
    assert result.status_code == 503
    assert "503" in result.detail


def test_a_redirect_counts_as_an_answer_and_says_where_it_points(handover_servers):
    result = probe(handover_servers.redirect, need_cors=False)

    assert result.outcome == Outcome.OK
    assert result.status_code == 302
    assert "redirects to https://example.com/login (not followed)" in result.detail


def test_a_slow_server_times_out(handover_servers, settings):
    settings.HANDOVER_CHECK_TIMEOUT_SECONDS = 1

    result = probe(handover_servers.slow, need_cors=False)

    assert result.outcome == Outcome.TIMEOUT
    assert "within 1 second" in result.detail
    assert 900 <= result.elapsed_ms < 4000


def test_a_certificate_from_an_unknown_authority_is_a_tls_error(handover_servers):
    result = probe(handover_servers.untrusted, need_cors=False)

    assert result.outcome == Outcome.TLS_ERROR
    assert "certificate" in result.detail


def test_the_certificate_must_name_the_host(handover_servers):
    # The same server by a name its certificate does not carry.
    port = handover_servers.servers["good"].port
    result = probe(f"https://127.0.0.2:{port}/api", need_cors=False)

    assert result.outcome in (Outcome.TLS_ERROR, Outcome.UNREACHABLE)
    if result.outcome == Outcome.TLS_ERROR:
        assert "127.0.0.2" in result.detail


def test_without_the_test_ca_the_servers_certificate_is_not_trusted(handover_servers, settings):
    settings.HANDOVER_CHECK_CA_BUNDLE = ""

    assert probe(handover_servers.good, need_cors=True).outcome == Outcome.TLS_ERROR


def test_a_closed_port_is_unreachable(handover_servers):
    result = probe(handover_servers.closed, need_cors=False)

    assert result.outcome == Outcome.UNREACHABLE
    assert "refused the connection" in result.detail


def test_a_name_that_does_not_resolve(handover_servers):
    result = probe("https://no-such-host.invalid/api", need_cors=False)

    assert result.outcome == Outcome.UNRESOLVABLE
    # In the partner's words, not the resolver's ("[Errno -2] Name or service not known").
    assert result.detail == "No such host: no-such-host.invalid (the name does not resolve)."


def test_localhost_reaches_the_server_when_private_addresses_are_allowed(handover_servers):
    assert probe(handover_servers.on_localhost("good"), need_cors=True).passed


# --- private addresses ---------------------------------------------------------------------------


@pytest.fixture
def private_refused(handover_servers, settings):
    settings.HANDOVER_CHECK_ALLOW_PRIVATE = False
    return handover_servers


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/api",
        "https://192.168.1.1/api",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/api",
        "https://[::ffff:10.0.0.1]/api",
        "https://0.0.0.0/api",
        "https://100.64.0.1/api",
    ],
)
def test_private_addresses_are_refused(private_refused, url):
    result = probe(url, need_cors=False)

    assert result.outcome == Outcome.PRIVATE_ADDRESS
    assert "not a public internet address" in result.detail


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:{port}/api",
        "https://localhost:{port}/api",
        "https://[::ffff:127.0.0.1]:{port}/api",
    ],
)
def test_a_private_address_gets_no_connection(private_refused, url, monkeypatch):
    connects = []
    real = socket.create_connection
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: connects.append(a) or real(*a, **k))

    result = probe(url.format(port=private_refused.servers["good"].port), need_cors=True)

    assert result.outcome == Outcome.PRIVATE_ADDRESS
    assert connects == []
    assert private_refused.connections("good") == 0


def test_a_name_resolving_to_a_private_address_among_public_ones_is_refused(private_refused, monkeypatch):
    """Any private address is enough: a name could otherwise sneak one in behind a public one."""
    monkeypatch.setattr(
        socket,
        "getaddrinfo",
        lambda *a, **k: [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 443)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 443)),
        ],
    )

    result = probe("https://rebind.example.com/api", need_cors=False)

    assert result.outcome == Outcome.PRIVATE_ADDRESS
    assert "127.0.0.1" in result.detail and "93.184.215.14" not in result.detail


def test_the_connection_goes_to_the_vetted_address_not_a_second_lookup(handover_servers, monkeypatch):
    """DNS rebinding: the name is resolved once; a lookup answering otherwise later is never made."""
    port = handover_servers.servers["good"].port
    lookups = []
    real = socket.getaddrinfo

    def resolve_once(host, *args, **kwargs):
        if host[0].isdigit():
            return real(host, *args, **kwargs)  # connecting to an address looks nothing up
        lookups.append(host)
        if len(lookups) > 1:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.9.9.9", port))]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(socket, "getaddrinfo", resolve_once)

    result = probe(f"https://localhost:{port}/api", need_cors=True)

    assert result.passed, result.detail
    assert lookups == ["localhost"]


@pytest.mark.parametrize(
    "address, public",
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("172.16.5.4", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::ffff:192.168.0.1", False),
        ("::ffff:93.184.215.14", True),
        ("::", False),
    ],
)
def test_public_addresses(address, public):
    assert is_public_address(address) is public
