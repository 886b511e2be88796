"""Magic links: opening one shows a button, and pressing it (a POST with the page's CSRF token)
signs its partner user in, once; a used, revoked, expired or unknown one does not, and a session
a link opened ends when the link is revoked or expires."""

import socket
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from integrations.stage.models import MagicLink
from tests.integrations.helpers import at

pytestmark = pytest.mark.django_db


def link_url(raw):
    return reverse("stage-magic-link", args=[raw])


@pytest.fixture
def link(partner_user, pm):
    return MagicLink.issue(
        user=partner_user, sent_to="bob@acme.example.com", created_by=pm, expires_at=timezone.now() + timedelta(days=7)
    )


def open_link(client, raw):
    """Open the link (GET) and press its button (POST, with the page's CSRF token)."""
    page = client.get(link_url(raw))
    assert page.status_code == 200, page.content.decode()[:2000]
    return client.post(link_url(raw), {"csrfmiddlewaretoken": page.context["csrf_token"]})


def test_opening_a_link_signs_nobody_in_and_shows_one_button(client, link):
    row, raw = link
    response = client.get(link_url(raw))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<form") == 1 and 'method="post"' in html and "csrfmiddlewaretoken" in html
    assert "dev.bob" in html and "Acme Crypto Exchange" in html
    assert SESSION_KEY not in client.session
    # A mail scanner's GET does not use the link up.
    row.refresh_from_db()
    assert row.last_used_at is None


def test_the_button_signs_the_partner_in_and_opens_their_stage(partner_user, link, started_integration):
    row, raw = link
    client = Client(enforce_csrf_checks=True)
    response = open_link(client, raw)
    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).redirect_chain[-1][0] == reverse(
        "stage-page", args=[started_integration.pk]
    )
    assert int(client.session[SESSION_KEY]) == partner_user.pk
    row.refresh_from_db()
    assert row.last_used_at is not None


def test_signing_in_needs_the_pages_csrf_token(partner_user, link):
    # Login CSRF: another site cannot make a browser sign in as the link's user.
    row, raw = link
    client = Client(enforce_csrf_checks=True)
    assert client.post(link_url(raw)).status_code == 403
    assert SESSION_KEY not in client.session
    row.refresh_from_db()
    assert row.last_used_at is None


def test_a_link_works_once(client, link, partner_user):
    row, raw = link
    assert open_link(client, raw).status_code == 302
    # A second browser: neither the page nor the button signs it in.
    second = Client()
    opened = second.get(link_url(raw))
    assert opened.status_code == 410
    assert "already been used" in opened.content.decode() and "Ask your TradingView PM for a new link" in (
        opened.content.decode()
    )
    pressed = second.post(link_url(raw))
    assert pressed.status_code == 410 and "already been used" in pressed.content.decode()
    assert SESSION_KEY not in second.session
    # The browser that used it is simply taken to its page when it opens the link again.
    again = client.get(link_url(raw))
    assert again.status_code == 302 and again["Location"] == reverse("stage-list")


def test_a_staff_session_is_never_swapped_silently(client, pm, link, partner_user):
    row, raw = link
    client.force_login(pm)
    page = client.get(link_url(raw))
    assert page.status_code == 200
    html = page.content.decode()
    assert "You are signed in as alice" in html and "signs alice out" in html
    assert int(client.session[SESSION_KEY]) == pm.pk
    row.refresh_from_db()
    assert row.last_used_at is None
    # Pressing the button, knowingly, signs alice out and the partner user in.
    client.post(link_url(raw), {"csrfmiddlewaretoken": page.context["csrf_token"]})
    assert int(client.session[SESSION_KEY]) == partner_user.pk


def test_a_revoked_link_is_refused_kindly(client, link):
    row, raw = link
    row.revoke()
    response = client.get(link_url(raw))
    assert response.status_code == 410
    assert "Ask your TradingView PM for a new link" in response.content.decode()
    assert client.post(link_url(raw)).status_code == 410
    assert SESSION_KEY not in client.session


def test_an_expired_link_is_refused(client, link):
    _, raw = link
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert client.get(link_url(raw)).status_code == 410
        response = client.post(link_url(raw))
    assert response.status_code == 410
    assert SESSION_KEY not in client.session


def test_an_unknown_link_is_not_found(client, link):
    response = client.get(link_url("not-a-token"))
    assert response.status_code == 404
    assert "Ask your TradingView PM for a new link" in response.content.decode()
    assert client.post(link_url("not-a-token")).status_code == 404


def test_revoking_the_link_ends_the_session_it_opened(client, link, started_integration):
    row, raw = link
    open_link(client, raw)
    page = reverse("stage-page", args=[started_integration.pk])
    assert client.get(page).status_code == 200
    row.revoke()
    response = client.get(page)
    assert response.status_code == 410
    assert "Your session has ended" in response.content.decode()
    assert SESSION_KEY not in client.session
    # And it stays ended: next time it is the log-in page.
    assert client.get(page)["Location"].startswith(reverse("login"))


def test_the_session_ends_when_the_link_expires(client, partner_user, pm, started_integration):
    with time_machine.travel(at("2026-03-03", 9), tick=False):
        _, raw = MagicLink.issue(user=partner_user, expires_at=at("2026-03-05", 9))
        open_link(client, raw)
    page = reverse("stage-page", args=[started_integration.pk])
    with time_machine.travel(at("2026-03-04", 9), tick=False):
        assert client.get(page).status_code == 200
    with time_machine.travel(at("2026-03-05", 10), tick=False):
        assert client.get(page).status_code == 410


def test_a_password_session_is_not_touched_by_links(client, link, partner_user, started_integration):
    row, _ = link
    client.force_login(partner_user)
    row.revoke()
    assert client.get(reverse("stage-page", args=[started_integration.pk])).status_code == 200


def test_a_pm_makes_a_link_in_the_admin_and_sees_it_once(client, pm, partner_user, settings):
    pm.is_superuser = True
    pm.save()
    client.force_login(pm)
    response = client.post(
        reverse("admin:integrations_magiclink_add"),
        {"user": partner_user.pk, "sent_to": "bob@acme.example.com", "expires_at_0": "", "expires_at_1": ""},
        follow=True,
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    row = MagicLink.objects.get()
    assert row.created_by == pm and row.user == partner_user
    assert row.expires_at - timezone.now() > timedelta(days=settings.MAGIC_LINK_DAYS) - timedelta(minutes=1)
    shown = [str(m) for m in response.context["messages"]]
    url = next(m for m in shown if "/partner/link/" in m).rsplit(" ", 1)[-1]
    assert MagicLink.find(url.rstrip("/").rsplit("/", 1)[-1]) == row
    # The list shows its state; the admin action revokes it.
    listing = client.get(reverse("admin:integrations_magiclink_changelist")).content.decode()
    assert "Live" in listing and "Acme Crypto Exchange" in listing
    client.post(
        reverse("admin:integrations_magiclink_changelist"),
        {"action": "revoke", "_selected_action": [row.pk]},
    )
    row.refresh_from_db()
    assert row.state == "revoked"
    assert "Revoked" in client.get(reverse("admin:integrations_magiclink_changelist")).content.decode()


def test_the_admin_offers_links_only_for_partner_users(client, pm, partner_user):
    pm.is_superuser = True
    pm.save()
    client.force_login(pm)
    response = client.post(reverse("admin:integrations_magiclink_add"), {"user": pm.pk, "sent_to": ""})
    assert response.status_code == 200
    assert not MagicLink.objects.exists()


def make_link_in_admin(client, pm, partner_user, sent_to):
    pm.is_superuser = True
    pm.save()
    client.force_login(pm)
    response = client.post(
        reverse("admin:integrations_magiclink_add"),
        {"user": partner_user.pk, "sent_to": sent_to, "expires_at_0": "", "expires_at_1": ""},
        follow=True,
    )
    assert response.status_code == 200
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def test_a_link_with_an_address_is_e_mailed_and_the_e_mailed_link_works(client, pm, partner_user, mailoutbox):
    shown = make_link_in_admin(client, pm, partner_user, "bob@acme.example.com")

    assert [level for level, text in shown if "E-mailed the link to bob@acme.example.com" in text] == ["success"]
    (mail,) = mailoutbox
    assert mail.to == ["bob@acme.example.com"]
    assert mail.subject == "Your sign-in link to Acme Crypto Exchange's TradingView integration page"
    url = next(line for line in mail.body.splitlines() if "/partner/link/" in line)
    assert "(Europe/Berlin)" in mail.body
    assert "signs you in once" in mail.body
    client.logout()
    opened = open_link(client, url.split("testserver", 1)[-1].rstrip("/").rsplit("/", 1)[-1])
    assert opened.status_code == 302 and client.session[SESSION_KEY] == str(partner_user.pk)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound for a moment, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_when_the_e_mail_fails_the_pm_is_told_and_still_sees_the_link_once(client, pm, partner_user, settings):
    # A real SMTP connection to a port nothing listens on: refused.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2

    shown = make_link_in_admin(client, pm, partner_user, "bob@acme.example.com")

    (level, text) = next((level, text) for level, text in shown if "/partner/link/" in text)
    assert level == "error" and "e-mailing it to bob@acme.example.com failed" in text
    assert MagicLink.find(text.rstrip("/").rsplit("/", 1)[-1]) is not None
