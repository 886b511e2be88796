"""Beta testers and the authorisation sheet: what each needs, what is refused, nothing written on error."""

import pytest
from django.core.exceptions import ValidationError
from django.http import QueryDict

from integrations.handovers.models import AuthorisationSheet
from integrations.handovers.records import save_auth_sheet, set_beta_testers, sheet_fields_needed
from integrations.models import Integration
from tests.factories import IntegrationFactory

pytestmark = pytest.mark.django_db

TA = Integration.TradingAuth
DA = Integration.DataAuth


# --- beta testers --------------------------------------------------------------------------------


def test_beta_testers_are_saved_one_per_line(integration, partner_user):
    names = set_beta_testers(integration, " trader_joe,\nmary.k  \n\n", by=partner_user)

    assert names == ["trader_joe", "mary.k"]
    integration.refresh_from_db()
    assert integration.beta_testers == "trader_joe\nmary.k"
    assert integration.beta_tester_list == names


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "at least one"),
        ("  \n ", "at least one"),
        ("joe\nnot a name!", "Not a TradingView username: 'not a name!'"),
        # Spaces do not separate names: the label says one per line (four testers were made of this).
        ("bad user with spaces", "Not a TradingView username: 'bad user with spaces' (usernames have no spaces"),
        ("joe\nmary\nJOE", "Given more than once: JOE"),
        ("\n".join(f"tester{i}" for i in range(51)), "At most 50"),
    ],
)
def test_bad_beta_testers_write_nothing(integration, text, message):
    integration.beta_testers = "earlier"
    integration.save()

    with pytest.raises(ValidationError) as raised:
        set_beta_testers(integration, text)

    assert message in raised.value.message_dict["beta_testers"][0]
    integration.refresh_from_db()
    assert integration.beta_testers == "earlier"


def test_fifty_beta_testers_are_fine(integration):
    assert len(set_beta_testers(integration, "\n".join(f"tester{i}" for i in range(50)))) == 50


# --- what the sheet needs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "trading_auth, data_auth, trading, data",
    [
        (TA.OAUTH2_CODE, DA.FIXED_TOKEN, ["client_id", "authorization_uri", "token_uri"], []),
        (TA.OAUTH2_IMPLICIT, DA.NONE, ["client_id", "authorization_uri"], []),
        (TA.PASSWORD_BEARER, DA.SERVER_OAUTH2, [], ["client_id", "token_uri"]),
        (TA.PASSWORD_BEARER, DA.PASSWORD_BEARER, [], []),
    ],
)
def test_the_sheet_each_authorisation_type_needs(trading_auth, data_auth, trading, data):
    integration = IntegrationFactory(trading_auth=trading_auth, data_auth=data_auth)

    assert sheet_fields_needed(integration, "trading") == trading
    assert sheet_fields_needed(integration, "data") == data


def test_a_part_the_integration_lacks_needs_no_sheet():
    data_only = IntegrationFactory(stocks_data_only=True, data_auth=DA.SERVER_OAUTH2)

    assert sheet_fields_needed(data_only, "trading") == []
    assert sheet_fields_needed(data_only, "data") == ["client_id", "token_uri"]


# --- saving the sheet ----------------------------------------------------------------------------

SHEET = {
    "client_id": "tv-client-42",
    "authorization_uri": "https://broker.example.com/oauth/authorize",
    "token_uri": "https://broker.example.com/oauth/token",
    "ip_addresses": "203.0.113.7\n2001:db8::1, 198.51.100.0/24",
}


def test_the_sheet_is_saved_with_who_and_its_addresses_one_per_line(integration, partner_user):
    sheet = save_auth_sheet(integration, "trading", SHEET, by=partner_user)

    sheet.refresh_from_db()
    assert sheet.client_id == "tv-client-42"
    assert sheet.token_uri == "https://broker.example.com/oauth/token"
    assert sheet.ip_addresses == "203.0.113.7\n2001:db8::1\n198.51.100.0/24"
    assert sheet.updated_by == partner_user


def test_saving_again_updates_the_given_fields_and_keeps_the_others(integration, pm):
    save_auth_sheet(integration, "trading", SHEET, by=pm)

    sheet = save_auth_sheet(integration, "trading", {"client_id": "tv-client-43"}, by=pm)

    assert AuthorisationSheet.objects.count() == 1
    assert (sheet.client_id, sheet.token_uri) == ("tv-client-43", SHEET["token_uri"])


def test_a_form_post_is_taken_as_it_comes(integration, pm):
    post = QueryDict(mutable=True)
    post.update({"csrfmiddlewaretoken": "abc", "client_id": "tv-client", "token_uri": SHEET["token_uri"]})

    assert save_auth_sheet(integration, "trading", post, by=pm).client_id == "tv-client"


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"token_uri": "http://broker.example.com/oauth/token"}, "token_uri", "not an https:// URL"),
        ({"authorization_uri": "not a url"}, "authorization_uri", "not an https:// URL"),
        ({"ip_addresses": "203.0.113.7\nbroker.example.com"}, "ip_addresses", "'broker.example.com'"),
        ({"ip_addresses": "300.1.1.1"}, "ip_addresses", "Not an IP address"),
        ({"client_id": "two words"}, "client_id", "no spaces"),
        ({"client_id": "x" * 201}, "client_id", "At most 200"),
        ({"colour": "blue"}, "colour", "not a field of the sheet"),
    ],
)
def test_bad_sheet_values_write_nothing(integration, pm, data, field, message):
    with pytest.raises(ValidationError) as raised:
        save_auth_sheet(integration, "trading", {**SHEET, **data}, by=pm)

    assert message in raised.value.message_dict[field][0]
    assert AuthorisationSheet.objects.count() == 0


@pytest.mark.parametrize("key", ["client_secret", "password", "private_key", "secret", "token", "api_key"])
def test_secret_looking_keys_are_refused_and_nothing_is_written(integration, pm, key):
    with pytest.raises(ValidationError) as raised:
        save_auth_sheet(integration, "trading", {**SHEET, key: "s3cr3t"}, by=pm)

    assert raised.value.message_dict[key][0].startswith("Secrets are never typed into the product")
    assert AuthorisationSheet.objects.count() == 0


def test_a_private_key_pasted_into_a_field_is_refused(integration, pm):
    pasted = "-----BEGIN RSA PRIVATE KEY-----MIIEow-----END RSA PRIVATE KEY-----"

    with pytest.raises(ValidationError) as raised:
        save_auth_sheet(integration, "trading", {"client_id": pasted}, by=pm)

    assert "Secrets are never typed" in raised.value.message_dict["client_id"][0]
    assert AuthorisationSheet.objects.count() == 0


def test_a_sheet_for_a_part_the_integration_lacks_is_refused(pm):
    data_only = IntegrationFactory(stocks_data_only=True)

    with pytest.raises(ValidationError) as raised:
        save_auth_sheet(data_only, "trading", SHEET, by=pm)

    assert "has no trading part" in raised.value.message_dict["part"][0]
    assert AuthorisationSheet.objects.count() == 0


# --- secrets in URIs, and text measured as it is kept ----------------------------------------------

SECRET_PARAMETERS = ["client_secret", "secret", "password", "token", "api_key", "private_key"]


@pytest.mark.parametrize("field", ["authorization_uri", "token_uri"])
@pytest.mark.parametrize("name", [*SECRET_PARAMETERS, "CLIENT_SECRET", "Password", "access_token", "Api-Key"])
@pytest.mark.parametrize(
    "uri",
    [
        "https://broker.example.com/oauth?{name}=s3cr3t",
        "https://broker.example.com/oauth?client_id=tv&{name}=s3cr3t",
        "https://broker.example.com/oauth?client_id=tv;{name}=s3cr3t",
        "https://broker.example.com/oauth#{name}=s3cr3t",
        "https://broker.example.com/oauth?state=1#x=1&{name}",
    ],
)
def test_a_uri_carrying_a_secret_is_refused_naming_it(integration, pm, field, name, uri):
    with pytest.raises(ValidationError) as raised:
        save_auth_sheet(integration, "trading", {**SHEET, field: uri.format(name=name)}, by=pm)

    message = raised.value.message_dict[field][0]
    assert repr(name) in message and "looks like a secret" in message
    assert "Secrets are never typed into the product" in message
    assert AuthorisationSheet.objects.count() == 0


def test_a_percent_encoded_secret_name_is_refused_too(integration, pm):
    with pytest.raises(ValidationError) as raised:
        save_auth_sheet(integration, "trading", {"token_uri": "https://b.example/t?client%5Fsecret=x"}, by=pm)

    assert "'client_secret'" in raised.value.message_dict["token_uri"][0]


def test_a_password_before_the_host_is_refused(integration, pm):
    with pytest.raises(ValidationError) as raised:
        save_auth_sheet(integration, "trading", {"token_uri": "https://tv:hunter2@b.example/token"}, by=pm)

    assert "password before its host" in raised.value.message_dict["token_uri"][0]


@pytest.mark.parametrize(
    "uri",
    [
        # The implicit flow's own parameters: a value may say "token", a name ending in it is not a secret.
        "https://broker.example.com/oauth/authorize?response_type=token&client_id=tv&state=xyz",
        "https://broker.example.com/oauth/authorize?token_type=bearer#section",
    ],
)
def test_ordinary_oauth_parameters_pass(integration, pm, uri):
    sheet = save_auth_sheet(integration, "trading", {**SHEET, "authorization_uri": uri}, by=pm)

    assert sheet.authorization_uri == uri


@pytest.mark.parametrize("value", ["\r" + "x" * 200, "x" * 200 + "\r\n", " \r\n" + "x" * 200 + "\n\r "])
def test_a_value_is_trimmed_before_its_length_is_checked(integration, pm, value):
    sheet = save_auth_sheet(integration, "trading", {"client_id": value}, by=pm)

    sheet.refresh_from_db()
    assert sheet.client_id == "x" * 200


def test_the_limit_counts_what_is_kept(integration, pm):
    with pytest.raises(ValidationError) as raised:
        save_auth_sheet(integration, "trading", {"client_id": "\r" + "x" * 201}, by=pm)

    assert raised.value.message_dict["client_id"] == ["At most 200 characters; this has 201."]


def test_a_uri_is_measured_after_trimming(integration, pm):
    uri = "https://broker.example.com/" + "a" * (500 - len("https://broker.example.com/"))
    sheet = save_auth_sheet(integration, "trading", {"token_uri": "\r\n" + uri + "\r\n"}, by=pm)

    assert sheet.token_uri == uri
