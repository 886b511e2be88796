"""Bringing a partner's people in from the integration page: invite, see who has access, revoke; the
magic-link form offers them; the stage page lets the team invite a colleague when the PM allows it."""

import re

import pytest
import time_machine
from django.contrib.auth import SESSION_KEY, get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from integrations.models import PartnerUser
from integrations.stage.models import MagicLink
from integrations.text import moment_text
from tests.integrations.helpers import at

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def staff_client(client, pm):
    client.force_login(pm)
    return client


def page_url(integration):
    return reverse("integration-page", args=[integration.pk])


def invite(client, integration, name="Mei Tanaka", email="mei@nimbus.example.com", follow=True):
    return client.post(
        reverse("partner-invite", args=[integration.pk]),
        {"invite-name": name, "invite-email": email},
        follow=follow,
    )


def test_a_pm_invites_a_partner_user_who_gets_the_link_by_mail_and_signs_in(staff_client, started_integration):
    response = invite(staff_client, started_integration)
    assert response.status_code == 200
    html = response.content.decode()
    account = PartnerUser.objects.get(user__email="mei@nimbus.example.com")
    assert account.partner == started_integration.partner
    # The e-mail says what happened, and carries the link the PM is shown once.
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["mei@nimbus.example.com"]
    assert message.subject == "You are invited to Acme Crypto Exchange's TradingView integration page"
    url = re.search(r"http://testserver/partner/link/[\w-]+/", message.body).group(0)
    assert "Invited Mei Tanaka &lt;mei@nimbus.example.com&gt;" in html and url in html
    # Who has access: her row, never signed in yet, with a link to send another magic link, preselected.
    row = re.search(rf'<tr id="access-{account.pk}">.*?</tr>', html, re.S).group(0)
    assert "Mei Tanaka" in row and "never" in row and "1 live link" in row
    assert f"/admin/integrations/magiclink/add/?user={account.user_id}&amp;sent_to=mei%40nimbus.example.com" in row

    partner = Client()
    page = partner.get(url)
    partner.post(url, {"csrfmiddlewaretoken": page.context["csrf_token"]}, follow=True)
    assert int(partner.session[SESSION_KEY]) == account.user_id
    assert partner.get(reverse("stage-page", args=[started_integration.pk])).status_code == 200
    html = staff_client.get(page_url(started_integration)).content.decode()
    row = re.search(rf'<tr id="access-{account.pk}">.*?</tr>', html, re.S).group(0)
    assert "never" not in row and "<time" in row


def test_the_pm_is_told_until_when_the_link_works_as_people_read_a_time(staff_client, started_integration):
    with time_machine.travel(at("2026-03-03", 10), tick=False):
        response = invite(staff_client, started_integration)
    expires_at = MagicLink.objects.get(user__email="mei@nimbus.example.com").expires_at
    [message] = [str(m) for m in response.context["messages"]]
    assert re.search(r"works until \d{1,2} [A-Z][a-z]{2} 2026, \d\d:\d\d: http", message)
    assert f"works until {moment_text(expires_at)}: " in message


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("bad user with spaces", "is not an e-mail address"),
        ("alice@example.com", "is a TradingView staff login"),
        ("dev.bob@example.com", "already on Acme Crypto Exchange&#x27;s team"),
    ],
)
def test_refused_invitations_are_400_with_the_reason_and_what_was_typed(
    staff_client, started_integration, partner_user, email, message
):
    users, links = User.objects.count(), MagicLink.objects.count()
    response = invite(staff_client, started_integration, name="Somebody New", email=email)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert 'value="Somebody New"' in html
    assert (User.objects.count(), MagicLink.objects.count()) == (users, links)
    assert mail.outbox == []


def test_a_pm_revokes_access_and_the_session_ends(staff_client, started_integration):
    invite(staff_client, started_integration)
    account = PartnerUser.objects.get(user__email="mei@nimbus.example.com")
    partner = Client()
    partner.force_login(account.user)
    assert partner.get(reverse("stage-page", args=[started_integration.pk])).status_code == 200

    response = staff_client.post(
        reverse("partner-access-revoke", args=[started_integration.pk, account.pk]), follow=True
    )
    assert "Mei Tanaka can no longer sign in and 1 live link revoked" in response.content.decode()
    assert not MagicLink.objects.filter(user=account.user, revoked_at__isnull=True).exists()
    assert partner.get(reverse("stage-page", args=[started_integration.pk])).status_code == 302  # to log in


def test_another_partners_user_cannot_be_revoked_from_this_page(staff_client, started_integration):
    from tests.integrations.stage.support import other_partner_user

    user, _ = other_partner_user()
    response = staff_client.post(
        reverse("partner-access-revoke", args=[started_integration.pk, user.partner_account.pk])
    )
    assert response.status_code == 404


def test_the_magic_link_form_offers_invited_users_and_preselects_from_the_row(staff_client, started_integration, pm):
    pm.is_superuser = True
    pm.save()
    invite(staff_client, started_integration)
    account = PartnerUser.objects.get(user__email="mei@nimbus.example.com")
    response = staff_client.get(
        reverse("admin:integrations_magiclink_add") + f"?user={account.user_id}&sent_to=mei%40nimbus.example.com"
    )
    form = response.context["adminform"].form
    assert account.user in form.fields["user"].queryset
    assert str(form["user"].value()) == str(account.user_id)
    assert form["sent_to"].value() == "mei@nimbus.example.com"


def test_partner_users_show_in_the_partners_admin_page(staff_client, started_integration, pm):
    pm.is_superuser = True
    pm.save()
    invite(staff_client, started_integration)
    html = staff_client.get(
        reverse("admin:integrations_partner_change", args=[started_integration.partner_id])
    ).content.decode()
    assert "partner users (logins of the partner" in html.lower()
    assert "mei@nimbus.example.com" in html


def test_the_stage_page_lets_the_team_invite_only_when_the_pm_allows_it(
    staff_client, started_integration, partner_user
):
    client = Client()
    stage = reverse("stage-page", args=[started_integration.pk])
    invite_url = reverse("stage-team-invite", args=[started_integration.pk])
    client.force_login(partner_user)
    assert 'id="invite"' not in client.get(stage).content.decode()
    refused = client.post(invite_url, {"invite-name": "Kim Lee", "invite-email": "kim@acme.example.com"})
    assert refused.status_code == 403
    assert "ask your TradingView PM" in refused.content.decode()
    assert not User.objects.filter(email="kim@acme.example.com").exists()

    staff_client.post(reverse("partner-team-may-invite", args=[started_integration.pk]), {"team_may_invite": "1"})
    assert 'id="invite"' in client.get(stage).content.decode()
    response = client.post(invite_url, {"invite-name": "Kim Lee", "invite-email": "kim@acme.example.com"}, follow=True)
    html = response.content.decode()
    assert "Invited Kim Lee: a sign-in link was e-mailed to kim@acme.example.com." in html
    assert "/partner/link/" not in html  # the link is the colleague's alone
    kim = PartnerUser.objects.get(user__email="kim@acme.example.com")
    assert kim.partner == started_integration.partner and kim.invited_by == partner_user
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["kim@acme.example.com"]

    bad = client.post(invite_url, {"invite-name": "Kim Lee", "invite-email": "kim@acme.example.com"})
    assert bad.status_code == 400 and "already on Acme Crypto Exchange" in bad.content.decode()
