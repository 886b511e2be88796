"""Inviting a partner's people and revoking their access: the rules of ``integrations.partner_access``."""

import pytest
from django.contrib.auth import get_user_model

from integrations import partner_access
from integrations.models import PartnerUser
from integrations.stage.models import MagicLink
from roadmap.refusals import InvalidInput, NotAllowed
from tests.factories import PartnerFactory, UserFactory

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_an_invitation_makes_a_login_of_the_partner_and_a_live_link(partner, pm):
    invitation = partner_access.invite(partner, "  Mei Tanaka ", "Mei@Nimbus.example.com", pm)
    user = invitation.account.user
    assert (user.first_name, user.last_name, user.email) == ("Mei", "Tanaka", "Mei@Nimbus.example.com")
    assert user.username == "mei@nimbus.example.com"
    assert not user.has_usable_password() and not user.is_staff and user.is_active
    assert invitation.account.partner == partner and invitation.account.invited_by == pm
    assert MagicLink.find(invitation.raw_token) == invitation.link
    assert invitation.link.user == user and invitation.link.sent_to == user.email


@pytest.mark.parametrize(
    ("name", "email", "message"),
    [
        ("", "mei@nimbus.example.com", "Give the person's name."),
        ("Mei", "", "Give the person's e-mail address."),
        ("Mei", "bad user with spaces", "is not an e-mail address"),
        ("Mei", "mei@", "is not an e-mail address"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(partner, pm, name, email, message):
    users, links = User.objects.count(), MagicLink.objects.count()
    with pytest.raises(InvalidInput, match=message):
        partner_access.invite(partner, name, email, pm)
    assert (User.objects.count(), MagicLink.objects.count()) == (users, links)


def test_a_staff_address_a_duplicate_and_someone_elses_login_are_refused(partner, pm):
    partner_access.invite(partner, "Mei Tanaka", "mei@nimbus.example.com", pm)
    UserFactory(username="carol", email="carol@other.example.com")
    before = (User.objects.count(), PartnerUser.objects.count(), MagicLink.objects.count())
    with pytest.raises(InvalidInput, match="TradingView staff login"):
        partner_access.invite(partner, "Alice", pm.email.upper(), pm)
    with pytest.raises(InvalidInput, match="already on Acme Crypto Exchange's team"):
        partner_access.invite(partner, "Mei again", "MEI@nimbus.example.com", pm)
    with pytest.raises(InvalidInput, match="already has a login of someone else"):
        partner_access.invite(partner, "Carol", "carol@other.example.com", pm)
    other = PartnerFactory(name="Other Broker")
    with pytest.raises(InvalidInput, match="already has a login of someone else"):
        partner_access.invite(other, "Mei", "mei@nimbus.example.com", pm)
    assert (User.objects.count(), PartnerUser.objects.count(), MagicLink.objects.count()) == before


def test_the_partners_team_invites_only_when_the_pm_allows_it(partner, pm, partner_user):
    with pytest.raises(NotAllowed):
        partner_access.invite(partner, "Kim", "kim@acme.example.com", partner_user)
    partner.team_may_invite = True
    partner.save()
    invitation = partner_access.invite(partner, "Kim", "kim@acme.example.com", partner_user)
    assert invitation.account.invited_by == partner_user
    other = PartnerFactory(name="Other Broker", team_may_invite=True)
    with pytest.raises(NotAllowed):
        partner_access.invite(other, "Lee", "lee@other.example.com", partner_user)


def test_revoking_ends_the_login_and_its_links_and_inviting_again_gives_it_back(partner, pm):
    invitation = partner_access.invite(partner, "Mei Tanaka", "mei@nimbus.example.com", pm)
    assert partner_access.revoke_access(invitation.account) == 1
    invitation.account.user.refresh_from_db()
    assert not invitation.account.user.is_active
    assert MagicLink.find(invitation.raw_token) is None
    people = list(partner_access.people_with_access(partner))
    assert [(p.user.email, p.user.is_active, p.live_links) for p in people] == [("mei@nimbus.example.com", False, 0)]

    again = partner_access.invite(partner, "Mei Tanaka", "mei@nimbus.example.com", pm)
    assert again.reactivated and again.account.pk == invitation.account.pk
    assert again.account.user.is_active and MagicLink.find(again.raw_token) is not None
