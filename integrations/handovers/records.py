"""Recording what the partner hands over by hand: the beta testers and the authorisation sheet.

Each function validates everything first and writes nothing when anything is wrong, raising a
``ValidationError`` keyed by field, so a form or the API can show the message where it belongs.
Secrets (client secrets, passwords, private keys, tokens) are never typed into the product: they
travel by TradingView's secure channel, and anything that looks like one is refused.
"""

import ipaddress
import re
from urllib.parse import unquote_plus, urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction

from integrations import events
from integrations.context import ChangeContext
from integrations.handovers.models import AuthorisationSheet, Part
from integrations.handovers.url_check import person
from integrations.models import ChangeSource, Integration, split_usernames, validate_https, validate_usernames
from integrations.text import clean_text, too_long

MAX_BETA_TESTERS = 50

SHEET_FIELDS = ("client_id", "authorization_uri", "token_uri", "ip_addresses")
URI_FIELDS = ("authorization_uri", "token_uri")

# What each authorisation type needs on the sheet; a type not listed needs no sheet.
TRADING_SHEET = {
    Integration.TradingAuth.OAUTH2_CODE: ["client_id", "authorization_uri", "token_uri"],
    Integration.TradingAuth.OAUTH2_IMPLICIT: ["client_id", "authorization_uri"],
}
DATA_SHEET = {
    Integration.DataAuth.SERVER_OAUTH2: ["client_id", "token_uri"],
}

# Keys a caller may pass that are not the sheet's (a form's CSRF token), ignored.
IGNORED_KEYS = {"csrfmiddlewaretoken", "part"}
SECRET_KEY_RE = re.compile(r"secret|passw|private|(^|[_-])token$|api[_-]?key|credential", re.IGNORECASE)
SECRET_VALUE_RE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
SECRETS_NEVER_TYPED = (
    "Secrets are never typed into the product: send the client secret, passwords and private keys "
    "through TradingView's secure channel. The sheet holds only the client id, the URIs and IP addresses."
)


def set_beta_testers(integration, text: str, by=None, source=ChangeSource.WEB) -> list[str]:
    """Save the beta testers' TradingView usernames (one per line, or separated by commas) and
    return them. At least one, at most 50, no duplicates; ``ValidationError({"beta_testers": ...})``."""
    names = split_usernames(text)
    try:
        validate_usernames(text)
    except ValidationError as error:
        raise ValidationError({"beta_testers": error.messages[0]}) from None
    if not names:
        raise ValidationError({"beta_testers": "Give at least one beta tester's TradingView username."})
    if len(names) > MAX_BETA_TESTERS:
        raise ValidationError({"beta_testers": f"At most {MAX_BETA_TESTERS} beta testers; {len(names)} were given."})
    seen, repeated = set(), []
    for name in names:
        # TradingView usernames do not tell case apart.
        if name.lower() in seen and name not in repeated:
            repeated.append(name)
        seen.add(name.lower())
    if repeated:
        raise ValidationError({"beta_testers": f"Given more than once: {', '.join(repeated)}."})
    integration.beta_testers = "\n".join(names)
    with transaction.atomic():
        Integration.objects.filter(pk=integration.pk).update(beta_testers=integration.beta_testers)
        events.announce(
            events.PARTNER_HANDOVER,
            integration,
            ChangeContext(source, by=person(by)),
            handover="beta_testers",
            summary=f"Beta testers: {', '.join(names)}.",
            passed=None,
        )
    return names


def sheet_fields_needed(integration, part: str) -> list[str]:
    """Which AuthorisationSheet fields that part's auth type needs ([] when no sheet is needed, or
    the integration has no such part). IP addresses are never required."""
    if part == Part.TRADING and integration.has_trading_part:
        return list(TRADING_SHEET.get(integration.trading_auth, []))
    if part == Part.DATA and integration.has_data_part:
        return list(DATA_SHEET.get(integration.data_auth, []))
    return []


def sheet_missing_fields(integration, part: str, sheet: AuthorisationSheet | None) -> list[str]:
    """The needed fields of ``part``'s sheet that are still empty."""
    return [name for name in sheet_fields_needed(integration, part) if sheet is None or not getattr(sheet, name)]


def field_label(name: str) -> str:
    return str(AuthorisationSheet._meta.get_field(name).verbose_name)


def save_auth_sheet(integration, part: str, data: dict, by=None, source=ChangeSource.WEB) -> AuthorisationSheet:
    """Save the fields of ``data`` on ``part``'s sheet (creating it); fields absent from ``data`` keep
    their value. URIs must be https; IP addresses are IPv4/IPv6 addresses or CIDR ranges, one per
    line. A key that looks like a secret (client_secret, password, private_key, token ...) or a
    value holding a private key is refused. ``ValidationError`` of field -> message (an unknown or
    secret key is reported under its own name); nothing is written on error."""
    has_part = integration.has_trading_part if part == Part.TRADING else integration.has_data_part
    if part not in Part.values or not has_part:
        raise ValidationError({"part": f"{integration} has no {part} part."})
    values = clean_sheet_values(data)
    with transaction.atomic():
        sheet, _ = AuthorisationSheet.objects.select_for_update().get_or_create(integration=integration, part=part)
        for key, value in values.items():
            setattr(sheet, key, value)
        sheet.updated_by = person(by)
        sheet.save()
        missing = [field_label(name) for name in sheet_missing_fields(integration, part, sheet)]
        events.announce(
            events.PARTNER_HANDOVER,
            integration,
            ChangeContext(source, by=person(by)),
            handover="auth_sheet",
            summary=f"The {part} authorisation sheet"
            + (f", still lacking the {', '.join(missing)}." if missing else ", complete."),
            passed=None,
        )
    return sheet


def clean_sheet_values(data) -> dict:
    """The sheet's fields of ``data``, cleaned; ``ValidationError`` of field -> message."""
    errors, values = {}, {}
    for key in data:
        if key in IGNORED_KEYS:
            continue
        value = _value(data, key)
        if key not in SHEET_FIELDS:
            errors[key] = SECRETS_NEVER_TYPED if SECRET_KEY_RE.search(key) else f"{key!r} is not a field of the sheet."
            continue
        if SECRET_VALUE_RE.search(value):
            errors[key] = SECRETS_NEVER_TYPED
            continue
        try:
            values[key] = _clean(key, value)
        except ValidationError as error:
            errors[key] = error.messages[0]
    if errors:
        raise ValidationError(errors)
    return values


def _value(data, key) -> str:
    """The value of ``key`` as cleaned text: every check that follows measures what is kept."""
    value = data.get(key)  # a QueryDict gives its last value
    if isinstance(value, (list, tuple)):
        value = "\n".join(str(v) for v in value) if key == "ip_addresses" else (value[-1] if value else "")
    return clean_text(value)


def _clean(key: str, value: str) -> str:
    field = AuthorisationSheet._meta.get_field(key)
    if field.max_length and too_long(value, field.max_length):
        raise ValidationError(too_long(value, field.max_length))
    if key in URI_FIELDS and value:
        validate_https(value)
        refuse_secret_parameters(value)
    if key == "ip_addresses":
        return clean_ip_addresses(value)
    if key == "client_id" and any(c.isspace() or not c.isprintable() for c in value):
        raise ValidationError("A client id has no spaces or control characters.")
    return value


def refuse_secret_parameters(uri: str):
    """Refuse a URI that carries a secret: a parameter of its query or fragment named like one
    (``?client_secret=...``, ``#access_token=...``, any case, ``&`` or ``;`` between), or a
    password before its host; the message names it."""
    parts = urlsplit(uri)
    if parts.password is not None:
        raise ValidationError(f"The URI carries a password before its host. {SECRETS_NEVER_TYPED}")
    for where, text in (("query", parts.query), ("fragment", parts.fragment)):
        for pair in re.split(r"[&;]", text):
            name = unquote_plus(pair.partition("=")[0]).strip()
            if SECRET_KEY_RE.search(name):
                raise ValidationError(
                    f"The URI's {where} carries {name!r}, which looks like a secret. {SECRETS_NEVER_TYPED}"
                )


def clean_ip_addresses(text: str) -> str:
    """The addresses of ``text`` (IPv4/IPv6 or CIDR; lines, spaces or commas between), one per line."""
    entries = [e for e in re.split(r"[\s,]+", text or "") if e]
    bad, clean = [], []
    for entry in entries:
        try:
            clean.append(
                str(ipaddress.ip_network(entry, strict=False)) if "/" in entry else str(ipaddress.ip_address(entry))
            )
        except ValueError:
            bad.append(entry)
    if bad:
        raise ValidationError(
            f"Not an IP address or CIDR range: {', '.join(repr(b) for b in bad)} "
            "(e.g. 203.0.113.7, 2001:db8::1 or 198.51.100.0/24; one per line)."
        )
    return "\n".join(dict.fromkeys(clean))
