"""The partner edits its own team line-up; the product says whether it meets the recommendation."""

import pytest
from django.urls import reverse

from integrations.models import TeamMember
from tests.factories import TeamMemberFactory

pytestmark = pytest.mark.django_db


def add(client, integration, **fields):
    data = {f"member-new-{k}": v for k, v in fields.items()}
    return client.post(reverse("stage-team-add", args=[integration.pk]), data, follow=True)


@pytest.fixture
def bob(client, partner_user):
    client.force_login(partner_user)
    return client


def test_adding_people_until_the_line_up_is_met(bob, started_integration):
    html = bob.get(reverse("stage-page", args=[started_integration.pk])).content.decode()
    assert "Short of the recommended line-up" in html and "1 more project manager" in html
    people = [("Pat", "pm"), ("Dana", "developer"), ("Dev", "developer"), ("Quinn", "qa"), ("Quill", "qa")]
    for name, role in people:
        response = add(bob, started_integration, name=name, email=f"{name.lower()}@acme.example.com", role=role)
        assert response.status_code == 200
    assert TeamMember.objects.filter(integration=started_integration).count() == 5
    assert "Meets the recommended line-up." in response.content.decode()


def test_a_bad_email_or_unknown_role_is_refused_with_a_clear_message(bob, started_integration):
    response = add(bob, started_integration, name="Pat", email="not-an-email", role="pm")
    assert response.status_code == 400
    assert "Enter an e-mail address such as dev@broker.example.com." in response.content.decode()
    response = add(bob, started_integration, name="Pat", email="pat@acme.example.com", role="ceo")
    assert response.status_code == 400
    assert "Choose a role: project manager, developer or QA specialist." in response.content.decode()
    assert not TeamMember.objects.exists()


def test_a_refused_form_sent_by_htmx_comes_back_as_200_so_htmx_swaps_it_in(bob, started_integration):
    data = {"member-new-name": "Pat", "member-new-email": "not-an-email", "member-new-role": "pm"}
    url = reverse("stage-team-add", args=[started_integration.pk])
    response = bob.post(url, data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Enter an e-mail address such as dev@broker.example.com." in response.content.decode()
    assert bob.post(url, data).status_code == 400


def test_editing_and_removing_a_member(bob, started_integration):
    member = TeamMemberFactory(integration=started_integration, name="Pat", role="developer")
    prefix = f"member-{member.pk}"
    edit = reverse("stage-team-edit", args=[started_integration.pk, member.pk])
    bob.post(edit, {f"{prefix}-name": "Pat Lee", f"{prefix}-email": "pat@acme.example.com", f"{prefix}-role": "qa"})
    member.refresh_from_db()
    assert (member.name, member.email, member.role) == ("Pat Lee", "pat@acme.example.com", "qa")
    response = bob.post(edit, {f"{prefix}-name": "Pat Lee", f"{prefix}-email": "x@", f"{prefix}-role": "qa"})
    assert response.status_code == 400
    member.refresh_from_db()
    assert member.email == "pat@acme.example.com"
    bob.post(reverse("stage-team-remove", args=[started_integration.pk, member.pk]))
    assert not TeamMember.objects.exists()


def test_a_member_is_edited_only_through_its_own_integration(bob, started_integration, partner):
    from tests.factories import IntegrationFactory

    second = IntegrationFactory(partner=partner)
    member = TeamMemberFactory(integration=second, name="Pat")
    # Bob may see both integrations, but the member belongs to the second one.
    edit = reverse("stage-team-edit", args=[started_integration.pk, member.pk])
    assert bob.post(edit, {f"member-{member.pk}-name": "X", f"member-{member.pk}-role": "qa"}).status_code == 404
    member.refresh_from_db()
    assert member.name == "Pat"
