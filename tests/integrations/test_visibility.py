"""``visible_to(user)``: the one visibility rule, for every model a partner may see."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from integrations import plan
from integrations.handovers.models import AuthorisationSheet, Environment, Part, UrlCheck
from integrations.jira.models import JiraIssue
from integrations.models import Integration, IntegrationEvent, IntegrationStep, Partner, StepChange, TeamMember
from integrations.visibility import VisibleQuerySet, partner_of
from tests.factories import IntegrationFactory, PartnerUserFactory, StaffUserFactory, TeamMemberFactory, UserFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on

pytestmark = pytest.mark.django_db

# Every model a partner may see, and how to reach one partner's rows of it.
SCOPED = {
    Partner: lambda i: Partner.objects.filter(pk=i.partner_id),
    Integration: lambda i: Integration.objects.filter(pk=i.pk),
    IntegrationStep: lambda i: IntegrationStep.objects.filter(integration=i),
    TeamMember: lambda i: TeamMember.objects.filter(integration=i),
    StepChange: lambda i: StepChange.objects.filter(step__integration=i),
    IntegrationEvent: lambda i: IntegrationEvent.objects.filter(integration=i),
    JiraIssue: lambda i: JiraIssue.objects.filter(integration=i),
    UrlCheck: lambda i: UrlCheck.objects.filter(integration=i),
    AuthorisationSheet: lambda i: AuthorisationSheet.objects.filter(integration=i),
}


def _started(name, pm):
    integration = IntegrationFactory(partner__name=name, tv_pm=pm)
    with on(KICKOFF, 9):
        plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    TeamMemberFactory(integration=integration)
    JiraIssue.objects.create(integration=integration, key=f"{name[:3].upper()}-1", summary="x", issue_type="Task")
    UrlCheck.objects.create(
        integration=integration,
        part=Part.TRADING,
        environment=Environment.PRODUCTION,
        url="https://broker.example.com/api",
        outcome=UrlCheck.Outcome.OK,
        checked_at=timezone.now(),
    )
    AuthorisationSheet.objects.create(integration=integration, part=Part.TRADING)
    return integration


@pytest.fixture
def two_partners():
    pm = StaffUserFactory(username="pm")
    return _started("Acme Markets", pm), _started("Zeta Brokerage", pm)


def test_every_scoped_model_uses_the_one_rule():
    for model in SCOPED:
        assert isinstance(model.objects.all(), VisibleQuerySet), model
        assert model.PARTNER_LOOKUP


@pytest.mark.parametrize("model", list(SCOPED), ids=lambda m: m.__name__)
def test_a_partner_user_sees_its_own_rows_and_nothing_of_another_partner(two_partners, model):
    acme, zeta = two_partners
    user = PartnerUserFactory(partner=acme.partner).user
    own = set(SCOPED[model](acme).values_list("pk", flat=True))
    foreign = set(SCOPED[model](zeta).values_list("pk", flat=True))
    assert own and foreign, "the fixture must give both partners rows of every model"

    seen = set(model.objects.visible_to(user).values_list("pk", flat=True))

    assert seen == own
    assert not seen & foreign


@pytest.mark.parametrize("model", list(SCOPED), ids=lambda m: m.__name__)
def test_staff_see_every_row(two_partners, model):
    staff = StaffUserFactory(username="another-pm")
    assert model.objects.visible_to(staff).count() == model.objects.count() > 0


@pytest.mark.parametrize(
    "who",
    ["anonymous", "no partner", "inactive partner user", "inactive staff", "nobody"],
)
@pytest.mark.parametrize("model", list(SCOPED), ids=lambda m: m.__name__)
def test_everyone_else_sees_nothing(two_partners, model, who):
    acme, _ = two_partners
    user = {
        "anonymous": lambda: AnonymousUser(),
        "no partner": lambda: UserFactory(username="dave"),
        "inactive partner user": lambda: PartnerUserFactory(partner=acme.partner, user__is_active=False).user,
        "inactive staff": lambda: StaffUserFactory(username="gone", is_active=False),
        "nobody": lambda: None,
    }[who]()
    assert not model.objects.visible_to(user).exists()


def test_partner_of_is_the_partner_of_an_active_partner_user_only(two_partners):
    acme, _ = two_partners
    member = PartnerUserFactory(partner=acme.partner).user
    assert partner_of(member) == acme.partner
    assert partner_of(StaffUserFactory(username="staff-too")) is None
    assert partner_of(UserFactory(username="loner")) is None
    assert partner_of(AnonymousUser()) is None
    assert partner_of(None) is None
