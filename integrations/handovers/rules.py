"""What a step still waits for from the partner, and the summary of hand-overs pages and the API show.

A step lists the hand-overs it needs in ``handovers`` (``roadmap.models.HANDOVER_KINDS``):

- ``production_urls``: for each part of the integration, its production URL is set and the latest
  check of that same URL passed (a check still running has not passed yet); staging URLs are
  checked and shown;
- ``staging_url``: for each part, the staging URL is set and the latest check of it, if any, did not
  fail: what the request for production URLs asks the partner to confirm;
- ``auth_sheet``: for each part whose authorisation type needs a sheet, the sheet has the fields
  it needs (``records.sheet_fields_needed``); a type needing no sheet is satisfied;
- ``beta_testers``: at least one beta tester's username.

``handover_refusal`` turns what is missing into a retryable ``HandoverMissing``, so news from Jira
completing the step waits in the inbox until the partner hands it over.
"""

from dataclasses import dataclass, field

from integrations import guards
from integrations.handovers.models import AuthorisationSheet, Environment, Part, UrlCheck
from integrations.handovers.records import field_label, sheet_fields_needed, sheet_missing_fields
from integrations.handovers.url_check import latest_among, latest_checks, url_field
from roadmap.refusals import HandoverMissing

PART_NAMES = {Part.TRADING: "trading", Part.DATA: "data"}


def integration_parts(integration) -> list[str]:
    """The parts the integration has, trading first (the order pages show them in)."""
    parts = []
    if integration.has_trading_part:
        parts.append(Part.TRADING)
    if integration.has_data_part:
        parts.append(Part.DATA)
    return parts


NO_BETA_TESTERS = "No beta testers have been named (their TradingView usernames)."


def missing_handovers(step, *, checks=None, sheets=None) -> list[str]:
    """One sentence per missing hand-over of ``step.handovers``, e.g. "The production URL of the
    trading part has not passed its check (CORS missing for https://www.tradingview.com)."

    ``checks`` (from ``latest_checks``) and ``sheets`` (part -> sheet) save the queries when the
    caller has them already.
    """
    kinds = step.handovers or []
    if not kinds:
        return []
    integration = step.integration
    missing = []
    if ("production_urls" in kinds or "staging_url" in kinds) and checks is None:
        checks = _guard_checks(integration)
    if "staging_url" in kinds:
        missing += _missing_staging_urls(integration, checks)
    if "production_urls" in kinds:
        missing += _missing_urls(integration, checks)
    if "auth_sheet" in kinds:
        if sheets is None:
            sheets = guards.read_for(sheets_of, integration.pk, {})
        missing += _missing_sheets(integration, sheets)
    if "beta_testers" in kinds and not integration.beta_tester_list:
        missing.append(NO_BETA_TESTERS)
    return missing


def _missing_urls(integration, checks) -> list[str]:
    missing = []
    for part in integration_parts(integration):
        name = PART_NAMES[part]
        url = getattr(integration, url_field(part, Environment.PRODUCTION))
        check = checks.get((part, Environment.PRODUCTION))
        if not url:
            missing.append(f"The production URL of the {name} part has not been handed over.")
        elif check is None or check.url != url:
            missing.append(f"The production URL of the {name} part ({url}) has not been checked yet.")
        elif check.pending:
            missing.append(
                f"The production URL of the {name} part ({url}) is being checked; its result follows shortly."
            )
        elif not check.passed:
            missing.append(f"The production URL of the {name} part has not passed its check ({_reason(check)}).")
    return missing


def _missing_staging_urls(integration, checks) -> list[str]:
    """The staging URL is confirmed once set: a check still to run does not hold it, a failed one does."""
    missing = []
    for part in integration_parts(integration):
        name = PART_NAMES[part]
        url = getattr(integration, url_field(part, Environment.STAGING))
        check = checks.get((part, Environment.STAGING))
        if not url:
            missing.append(f"The staging URL of the {name} part has not been confirmed.")
        elif check is not None and check.url == url and not check.pending and not check.passed:
            missing.append(f"The staging URL of the {name} part has not passed its check ({_reason(check)}).")
    return missing


def _reason(check: UrlCheck) -> str:
    """The first sentence of what the check saw: short enough for a refusal."""
    first = check.detail.split(". ", 1)[0].split(": ", 1)[0].rstrip(".") if check.detail else ""
    return first or check.get_outcome_display()


def _missing_sheets(integration, sheets) -> list[str]:
    missing = []
    for part in integration_parts(integration):
        absent = sheet_missing_fields(integration, part, sheets.get(part))
        if absent:
            names = _and([field_label(f) for f in absent])
            missing.append(f"The authorisation sheet of the {PART_NAMES[part]} part lacks the {names}.")
    return missing


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _sheets(integration) -> dict[str, AuthorisationSheet]:
    return {sheet.part: sheet for sheet in AuthorisationSheet.objects.filter(integration_id=integration.pk)}


def sheets_of(integration_ids) -> dict[int, dict[str, AuthorisationSheet]]:
    """Integration id -> its sheets by part: what the guard reads (``guards.read_for``), one query for many."""
    sheets = {}
    for sheet in AuthorisationSheet.objects.filter(integration_id__in=integration_ids):
        sheets.setdefault(sheet.integration_id, {})[sheet.part] = sheet
    return sheets


def url_checks_of(integration_ids) -> dict[int, list[UrlCheck]]:
    """Integration id -> its URL checks, newest first: what the guard reads (``guards.read_for``), one query for many."""
    checks = {}
    for check in UrlCheck.objects.filter(integration_id__in=integration_ids).order_by("-checked_at", "-id"):
        checks.setdefault(check.integration_id, []).append(check)
    return checks


def _guard_checks(integration) -> dict[tuple[str, str], UrlCheck]:
    """``latest_checks`` of the integration, from the guard's read of its checks; none read without a URL."""
    if not any(getattr(integration, url_field(part, env)) for part in Part.values for env in Environment.values):
        return {}
    return latest_among(integration, guards.read_for(url_checks_of, integration.pk, []))


def handover_refusal(step, steps=None) -> HandoverMissing | None:
    """Why ``step`` cannot be completed before the partner hands something over, or None.

    A completion guard (``integrations.guards``); the other steps (``steps``) play no part."""
    missing = missing_handovers(step)
    if not missing:
        return None
    return HandoverMissing(
        f"{step} cannot be done before the partner hands over, on the stage page, what it needs: {' '.join(missing)}"
    )


def handed_over(step, steps=None) -> list[tuple]:
    """When each hand-over ``step`` needs was in, where its time is recorded: a production URL when its
    check passed, a sheet when it was last saved. Beta testers carry no time of their own.

    A completion guard's ``since`` (``integrations.guards``): news that waited for a hand-over is applied then."""
    kinds = step.handovers or []
    integration = step.integration
    times = []
    if "production_urls" in kinds:
        checks = _guard_checks(integration)
        for part in integration_parts(integration):
            url = getattr(integration, url_field(part, Environment.PRODUCTION))
            check = checks.get((part, Environment.PRODUCTION))
            if url and check is not None and check.url == url and check.passed:
                when = check.finished_at or check.checked_at
                times.append((when, f"the production URL of the {PART_NAMES[part]} part passed its check"))
    if "auth_sheet" in kinds:
        sheets = guards.read_for(sheets_of, integration.pk, {})
        for part in integration_parts(integration):
            sheet = sheets.get(part)
            if sheet is not None and sheet_fields_needed(integration, part):
                times.append(
                    (sheet.updated_at, f"the authorisation sheet of the {PART_NAMES[part]} part was handed over")
                )
    return times


# --- the summary pages and the API show ----------------------------------------------------------


@dataclass
class PartHandovers:
    """One part's hand-overs: its URLs with their latest checks, and its authorisation sheet."""

    part: str
    label: str
    auth_label: str
    staging_url: str
    production_url: str
    staging_check: UrlCheck | None
    production_check: UrlCheck | None
    sheet_fields: list[str]  # what its authorisation type needs on the sheet; [] for no sheet
    sheet: AuthorisationSheet | None
    sheet_missing: list[str]

    @property
    def sheet_missing_labels(self) -> list[str]:
        """The needed sheet fields still empty, as people call them."""
        return [field_label(name) for name in self.sheet_missing]

    @property
    def needs_sheet(self) -> bool:
        return bool(self.sheet_fields)

    @property
    def production_url_passed(self) -> bool:
        check = self.production_check
        return bool(self.production_url and check and check.url == self.production_url and check.passed)


@dataclass
class HandoverSummary:
    parts: list[PartHandovers]
    beta_testers: list[str]
    # step code -> the sentences of what is missing, for each step that needs hand-overs ([] when complete)
    missing: dict[str, list[str]] = field(default_factory=dict)
    # Everything the roadmap asks the partner to hand over that is not in yet, whether or not a
    # step waits for it now (before the kick-off no step does): what the card says is missing.
    outstanding: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.outstanding and not any(self.missing.values())

    def part(self, part: str) -> PartHandovers | None:
        return next((p for p in self.parts if p.part == part), None)

    @property
    def pending_checks(self) -> list[UrlCheck]:
        """The latest checks of the current URLs that the worker has not finished yet."""
        checks = [c for p in self.parts for c in (p.production_check, p.staging_check)]
        return [c for c in checks if c is not None and c.pending]


def handover_summary(integration, steps=None) -> HandoverSummary:
    """Per part of the integration: staging/production URL with its latest check, the sheet's
    needed fields, the sheet and its missing fields; the beta testers; what each step that needs
    hand-overs still misses. Three queries (checks, sheets, steps; none for steps when given)."""
    checks = latest_checks(integration)
    sheets = _sheets(integration)
    parts = []
    for part in integration_parts(integration):
        auth_field = "trading_auth" if part == Part.TRADING else "data_auth"
        sheet = sheets.get(part)
        parts.append(
            PartHandovers(
                part=part,
                label=Part(part).label,
                auth_label=getattr(integration, f"get_{auth_field}_display")(),
                staging_url=getattr(integration, url_field(part, Environment.STAGING)),
                production_url=getattr(integration, url_field(part, Environment.PRODUCTION)),
                staging_check=checks.get((part, Environment.STAGING)),
                production_check=checks.get((part, Environment.PRODUCTION)),
                sheet_fields=sheet_fields_needed(integration, part),
                sheet=sheet,
                sheet_missing=sheet_missing_fields(integration, part, sheet),
            )
        )
    if steps is None:
        steps = integration.steps.all()
    missing = {}
    for step in steps:
        if step.handovers:
            step.integration = integration  # no query for it per step
            missing[step.code] = missing_handovers(step, checks=checks, sheets=sheets)
    outstanding = (
        _missing_staging_urls(integration, checks)
        + _missing_urls(integration, checks)
        + _missing_sheets(integration, sheets)
    )
    if not integration.beta_tester_list:
        outstanding.append(NO_BETA_TESTERS)
    return HandoverSummary(
        parts=parts, beta_testers=integration.beta_tester_list, missing=missing, outstanding=outstanding
    )
