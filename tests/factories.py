"""factory_boy factories for the project's models.

Integrations follow the newest version of the default roadmap template, which the
``roadmap`` data migration installs in every test database.
"""

import factory
from django.contrib.auth import get_user_model

from integrations.models import Integration, Partner, PartnerUser, TeamMember
from roadmap import default_template
from roadmap.models import RoadmapTemplate, TemplateStep


def latest_default_template() -> RoadmapTemplate:
    """The newest version of the default roadmap, as the migration installed it.

    A transactional test (``django_db(transaction=True)``) empties every table when it ends,
    the migration's rows included; a later test in the same process then installs every version
    again, as the migrations would.
    """
    try:
        return RoadmapTemplate.latest(default_template.KEY)
    except RoadmapTemplate.DoesNotExist:
        return default_template.install_all(RoadmapTemplate, TemplateStep)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.LazyAttribute(lambda u: u.username.capitalize())
    password = factory.django.Password("correct-horse-battery")

    class Params:
        # A TradingView staff member (a PM): can use the admin and the API.
        staff = factory.Trait(is_staff=True)


class StaffUserFactory(UserFactory):
    is_staff = True


class PartnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partner
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Partner Broker {n}")
    kind = Partner.Kind.BROKER
    website = factory.LazyAttribute(lambda p: f"https://{p.name.lower().replace(' ', '-')}.example.com")
    time_zone = "Europe/London"


class IntegrationFactory(factory.django.DjangoModelFactory):
    """A data-and-trading crypto integration with the partner's own feed, not kicked off yet."""

    class Meta:
        model = Integration

    partner = factory.SubFactory(PartnerFactory)
    template = factory.LazyFunction(latest_default_template)
    parts = Integration.Parts.BOTH
    data_types = factory.LazyFunction(lambda: [Integration.DataType.CRYPTO])
    data_source = Integration.DataSource.OWN_FEED
    data_auth = Integration.DataAuth.FIXED_TOKEN
    trading_auth = Integration.TradingAuth.OAUTH2_CODE
    trading_staging_url = "https://staging.broker.example.com/api"
    trading_production_url = "https://broker.example.com/api"
    data_staging_url = "https://staging-data.broker.example.com/api"
    data_production_url = "https://data.broker.example.com/api"
    spec_version = "1.9"

    class Params:
        # A data-only stocks integration mapped from an exchange: no autotests apply.
        stocks_data_only = factory.Trait(
            parts=Integration.Parts.DATA,
            data_types=[Integration.DataType.STOCKS],
            data_source=Integration.DataSource.EXCHANGE_MAPPING,
            trading_auth="",
            trading_staging_url="",
            trading_production_url="",
        )
        trading_only = factory.Trait(
            parts=Integration.Parts.TRADING,
            data_types=[],
            data_source="",
            data_auth="",
            data_staging_url="",
            data_production_url="",
        )


class TeamMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeamMember

    integration = factory.SubFactory(IntegrationFactory)
    name = factory.Sequence(lambda n: f"Team Member {n}")
    email = factory.Sequence(lambda n: f"member{n}@broker.example.com")
    role = TeamMember.Role.DEVELOPER


class PartnerUserFactory(factory.django.DjangoModelFactory):
    """A login of a partner's team: acts on its own partner's partner-side steps only."""

    class Meta:
        model = PartnerUser

    user = factory.SubFactory(UserFactory)
    partner = factory.SubFactory(PartnerFactory)
