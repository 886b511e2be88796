"""The hand-overs as the stage page shows and takes them: base URLs, beta testers, the sheet.

The rules live in ``integrations.handovers`` (checking a URL, saving the sheet and the beta
testers, what a step still lacks); this module only lays them out per part and environment and
turns a refusal into a message on the right form. Secrets are never asked for: the sheet's form
has only the non-secret fields the part's authorisation type needs.
"""

from dataclasses import dataclass

from django import forms

from integrations.handovers.models import AuthorisationSheet, Environment, Part, UrlCheck
from integrations.handovers.records import field_label, sheet_fields_needed
from integrations.handovers.rules import handover_summary, integration_parts


@dataclass
class UrlRow:
    part: str
    part_label: str
    environment: str
    environment_label: str
    url: str  # the URL handed over so far, as the integration holds it
    check: UrlCheck | None  # its latest check
    error: str = ""
    attempted: str = ""  # what the partner typed, when it was refused

    @property
    def key(self) -> str:
        return f"{self.part}-{self.environment}"


@dataclass
class SheetBlock:
    part: str
    part_label: str
    form: forms.Form
    saved: AuthorisationSheet | None
    summary: object  # the part's PartHandovers


def parts_of(integration) -> list[str]:
    return integration_parts(integration)


class UrlForm(forms.Form):
    part = forms.ChoiceField(choices=Part.choices)
    environment = forms.ChoiceField(choices=Environment.choices)
    # Not a URLField: the check itself says what is wrong with an http:// or malformed URL.
    url = forms.CharField(max_length=500, strip=True)

    def __init__(self, *args, integration=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.integration = integration

    def clean_part(self):
        part = self.cleaned_data["part"]
        if self.integration is not None and part not in parts_of(self.integration):
            raise forms.ValidationError(f"{self.integration} has no {Part(part).label.lower()} part.")
        return part


class BetaTestersForm(forms.Form):
    beta_testers = forms.CharField(
        label="Beta testers' TradingView usernames",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "one username per line"}),
        help_text="One TradingView username per line.",
    )


def _sentence_case(label: str) -> str:
    # Not str.capitalize(): it would lower "IP" and "URI".
    return label[:1].upper() + label[1:]


class SheetForm(forms.Form):
    """The non-secret fields of one part's sheet: those its authorisation type needs, and the IP
    addresses to whitelist. ``save_auth_sheet`` checks them; this form only lays them out."""

    def __init__(self, *args, integration=None, part=None, saved=None, **kwargs):
        super().__init__(*args, prefix=f"sheet-{part}", **kwargs)
        self.needed = sheet_fields_needed(integration, part)
        for name in [*self.needed, "ip_addresses"]:
            widget = forms.Textarea(attrs={"rows": 3}) if name == "ip_addresses" else forms.TextInput()
            self.fields[name] = forms.CharField(
                label=_sentence_case(field_label(name)),
                required=False,
                widget=widget,
                initial=getattr(saved, name, "") if saved else "",
                help_text="One per line; IPv4, IPv6 or CIDR." if name == "ip_addresses" else "",
            )


def context(integration, steps, forms_given: dict) -> dict:
    """The hand-over section: each part's URLs with their latest check, its sheet, the beta testers."""
    summary = handover_summary(integration, steps)
    url_error = forms_given.get("url_error") or {}
    given_sheet = forms_given.get("sheet_form")
    rows, sheets = [], []
    for part in summary.parts:
        for environment in (Environment.PRODUCTION, Environment.STAGING):
            row = UrlRow(
                part=part.part,
                part_label=part.label,
                environment=environment,
                environment_label=Environment(environment).label,
                url=getattr(part, f"{environment}_url"),
                check=getattr(part, f"{environment}_check"),
            )
            if url_error.get("key") == row.key:
                row.error, row.attempted = url_error["message"], url_error["value"]
            rows.append(row)
        if given_sheet and given_sheet[0] == part.part:
            form = given_sheet[1]
        else:
            form = SheetForm(integration=integration, part=part.part, saved=part.sheet)
        sheets.append(SheetBlock(part=part.part, part_label=part.label, form=form, saved=part.sheet, summary=part))
    beta_form = forms_given.get("beta_form") or BetaTestersForm(initial={"beta_testers": integration.beta_testers})
    step_titles = {s.code: s for s in steps}
    missing = [(step_titles[code], sentences) for code, sentences in summary.missing.items() if sentences]
    return {
        "url_rows": rows,
        "sheets": sheets,
        "beta_form": beta_form,
        "handovers": summary,
        "missing": missing,
        # The checks the worker is running: the card polls until they are done.
        "pending_check_ids": ",".join(str(check.pk) for check in summary.pending_checks),
    }
