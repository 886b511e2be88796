"""SQL written once (``integrations.read_models.compiled``) gives what its queryset gives, for any values."""

from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import ObjectDoesNotExist
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.api.models import ApiToken
from integrations.models import Integration, PartnerUser
from integrations.read_models.compiled import CompiledQuery
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_model_rows_come_with_their_related_rows_for_each_value():
    acme, zeta = PartnerFactory(name="Acme"), PartnerFactory(name="Zeta")
    staff = UserFactory(username="alice", staff=True)
    users = [staff, UserFactory(username="bob"), UserFactory(username="carol")]
    PartnerUser.objects.create(user=users[1], partner=acme)
    PartnerUser.objects.create(user=users[2], partner=zeta)
    tokens = [ApiToken.issue(user=user, name="t")[0] for user in users]
    compiled = CompiledQuery(lambda digest: ApiToken.rows().filter(token_hash=digest), ["stand-in"])

    for token, partner in zip(tokens, [None, acme, zeta], strict=True):
        with CaptureQueriesContext(connection) as queries:
            [row] = compiled.rows(token.token_hash)
            assert (row.pk, row.user.username) == (token.pk, token.user.username)
            if partner is None:
                with pytest.raises(ObjectDoesNotExist):
                    row.user.partner_account  # noqa: B018 (known absent: no query)
            else:
                assert row.user.partner_account.partner.name == partner.name
        assert len(queries) == 1
    assert compiled.rows("no such hash") == []


def test_values_rows_are_converted_as_the_querysets_are():
    made = [IntegrationFactory(name=f"Int {n}", kickoff_on=date(2026, 3, 2 + n)) for n in range(3)]
    Integration.objects.filter(pk=made[1].pk).update(data_types=["crypto", "forex"], kickoff_on=None)

    def build(*ids):
        return Integration.objects.filter(pk__in=ids).values(
            "id", "kickoff_on", "data_types", "created_at", "partner__name"
        )

    compiled = CompiledQuery(build, [-1, -2])
    for pair in ([made[0].pk, made[1].pk], [made[2].pk, made[1].pk], [made[0].pk, 10**9]):
        assert sorted(compiled.rows(*pair), key=lambda r: r["id"]) == sorted(build(*pair), key=lambda r: r["id"])
        sql, params = build(*pair).query.sql_with_params()
        assert compiled.sql(*pair) == (sql, list(params))


def test_a_stand_in_must_be_one_parameter_of_the_sql():
    twice = CompiledQuery(lambda n: Integration.objects.filter(pk=n) | Integration.objects.filter(tv_pm_id=n), [-1])
    with pytest.raises(ValueError, match="2 of the SQL's parameters"):
        twice.rows(1)
    transformed = CompiledQuery(lambda text: Integration.objects.filter(name__icontains=text), ["stand-in"])
    with pytest.raises(ValueError, match="0 of the SQL's parameters"):
        transformed.rows("Acme")


def test_tuples_are_the_value_lists_rows_off_the_cursor(settings):
    # Dates, moments (read by psycopg's compiled loader on PostgreSQL), nulls, converted columns (the data
    # types' list), a related row's columns: what the queryset's ``values_list()`` gives, the same instants.
    settings.TIME_ZONE = "Europe/Berlin"
    made = [IntegrationFactory(name=f"Int {n}", kickoff_on=date(2026, 3, 2 + n)) for n in range(3)]
    Integration.objects.filter(pk=made[1].pk).update(
        data_types=["crypto", "forex"], kickoff_on=None, next_deadline_at=datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    )
    columns = ("id", "kickoff_on", "data_types", "created_at", "next_deadline_at", "partner__name")

    def build(*ids):
        return Integration.objects.filter(pk__in=ids).values_list(*columns)

    compiled = CompiledQuery(build, [-1, -2])
    for pair in ([made[0].pk, made[1].pk], [made[2].pk, made[1].pk], [made[0].pk, 10**9]):
        with CaptureQueriesContext(connection) as queries:
            rows = compiled.tuples(*pair)
        assert len(queries) == 1
        expected = sorted(build(*pair))
        assert sorted(tuple(row) for row in rows) == expected
        for row, want in zip(sorted(rows), expected, strict=True):
            moments = [value for value in row if isinstance(value, datetime)]
            assert [m.isoformat() for m in moments] == [w.isoformat() for w in want if isinstance(w, datetime)]
