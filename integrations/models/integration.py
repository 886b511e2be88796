"""An integration of a partner with TradingView: what it covers, its team, its planned steps.

The rules that change these rows live in ``integrations.plan`` (kick-off, re-plan, pause) and
``integrations.steps`` (status changes); what the rows mean for who owes what lives in
``integrations.standing``. Models hold data, validation and small derived facts.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator, URLValidator
from django.db import models
from django.utils import timezone

from integrations.models.partners import Partner
from integrations.stored_standing import HEALTH_DEFINITION, Health, IntegrationQuerySet, stored_days_late, stored_health
from integrations.text import day_text
from integrations.visibility import VisibleQuerySet
from roadmap.fields import ChoiceListField
from roadmap.lineup import RECOMMENDED_LINEUP, lineup_gaps
from roadmap.models import Channel, RoadmapTemplate, Side, StepStatus, TemplateStep, step_label
from roadmap.standing import is_open as step_is_open
from roadmap.standing import working_days_late


def validate_https(value: str):
    # Its own code: a form replaces the message of an "invalid" error with its generic one.
    URLValidator(
        schemes=["https"],
        message=f"{value!r} is not an https:// URL; TradingView requires HTTPS.",
        code="https_required",
    )(value)


USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def split_usernames(text: str) -> list[str]:
    """Usernames one per line (commas separate them too). Spaces do not: "bad user with spaces" is
    one wrong name, refused, never four testers."""
    return [name.strip() for name in re.split(r"[\r\n,]+", text or "") if name.strip()]


def validate_usernames(text: str):
    bad = [name for name in split_usernames(text) if not USERNAME_RE.match(name)]
    if bad:
        raise ValidationError(
            f"Not a TradingView username: {', '.join(repr(b) for b in bad)} "
            "(usernames have no spaces: letters, digits, '_', '.', '-'; one per line)."
        )


def validate_not_after_today(day):
    """The day the partner's own feed went live: a day still to come would open smoke testing
    (which waits for it, ``guards.own_feed_refusal``) before the feed is there. Today is
    TradingView's (``TIME_ZONE``), who records it."""
    today = timezone.localdate()
    if day is not None and day > today:
        raise ValidationError(
            f"The feed cannot have gone live on {day_text(day)}, after today ({day_text(today)}): "
            "record the day it went live.",
            code="in_the_future",
        )


class Integration(models.Model):
    class Parts(models.TextChoices):
        DATA = "data", "Data"
        TRADING = "trading", "Trading"
        BOTH = "both", "Data and trading"

    class DataType(models.TextChoices):
        CRYPTO = "crypto", "Crypto"
        FOREX = "forex", "Forex"
        CFD = "cfd", "CFD"
        STOCKS = "stocks", "Stocks"
        FUTURES = "futures", "Futures"
        INDICES = "indices", "Indices"
        BONDS = "bonds", "Bonds"
        OTHER = "other", "Other"

    class DataSource(models.TextChoices):
        OWN_FEED = "own_feed", "Own data feed"
        EXCHANGE_MAPPING = "exchange_mapping", "Exchange mapping"

    class TradingAuth(models.TextChoices):
        PASSWORD_BEARER = "password_bearer", "PasswordBearer"
        OAUTH2_CODE = "oauth2_code", "OAuth2Bearer, code flow"
        OAUTH2_IMPLICIT = "oauth2_implicit", "OAuth2Bearer, implicit flow (deprecated)"

    class DataAuth(models.TextChoices):
        PASSWORD_BEARER = "password_bearer", "PasswordBearer"
        SERVER_OAUTH2 = "server_oauth2", "ServerOAuth2Bearer"
        FIXED_TOKEN = "fixed_token", "Fixed token"
        NONE = "none", "None (public data)"

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        LAUNCHED = "launched", "Launched"
        CANCELLED = "cancelled", "Cancelled"

    class BallSide(models.TextChoices):
        TRADINGVIEW = "tradingview", "TradingView"
        PARTNER = "partner", "Partner"
        BOTH = "both", "Both"

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="integrations")
    name = models.CharField(max_length=200, blank=True, help_text="Defaults to the partner's name.")
    template = models.ForeignKey(
        RoadmapTemplate, on_delete=models.PROTECT, related_name="+", help_text="The roadmap version it follows."
    )
    parts = models.CharField(max_length=10, choices=Parts.choices)
    data_types = ChoiceListField(choice_list=DataType.choices)
    data_source = models.CharField(max_length=20, choices=DataSource.choices, blank=True)
    trading_auth = models.CharField("trading authorisation", max_length=20, choices=TradingAuth.choices, blank=True)
    data_auth = models.CharField("data authorisation", max_length=20, choices=DataAuth.choices, blank=True)
    trading_staging_url = models.URLField(blank=True, validators=[validate_https])
    trading_production_url = models.URLField(blank=True, validators=[validate_https])
    data_staging_url = models.URLField(blank=True, validators=[validate_https])
    data_production_url = models.URLField(blank=True, validators=[validate_https])
    own_feed_in_production_on = models.DateField(
        "own data feed in TradingView production since",
        null=True,
        blank=True,
        validators=[validate_not_after_today],
        help_text="When TradingView deployed the partner's own data feed to its production: smoke testing "
        "waits for it when the partner connects its own feed.",
    )
    spec_version = models.CharField(
        "REST API spec version",
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^\d+\.\d+(\.\d+)?$", "Give the spec version as e.g. 1.9.")],
    )
    slack_channel_id = models.CharField(
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^[CG][A-Z0-9]{6,}$", "A Slack channel id looks like C024BE91L.")],
    )
    jira_project_key = models.CharField(
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^[A-Z][A-Z0-9_]{1,9}$", "A Jira project key looks like BRK.")],
    )
    jira_epic_key = models.CharField(
        "Jira epic",
        max_length=32,
        blank=True,
        validators=[RegexValidator(r"^[A-Z][A-Z0-9_]{1,9}-[0-9]+$", "A Jira epic key looks like BRK-1.")],
        help_text="Optional: the epic that gathers the integration's issues.",
    )
    jira_news_in_slack = models.BooleanField(
        "Jira news in Slack",
        default=True,
        help_text="Issues of the Jira project created, moved or commented are a short line in the step's "
        "thread in the partner's Slack channel.",
    )
    tv_pm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="TradingView PM",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pm_integrations",
    )
    business_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    tech_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    beta_testers = models.TextField(
        blank=True, validators=[validate_usernames], help_text="TradingView usernames, one per line."
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.ACTIVE)
    kickoff_on = models.DateField("kick-off", null=True, blank=True, editable=False)
    baseline_launch_on = models.DateField(
        "baseline launch", null=True, blank=True, editable=False, help_text="The first plan's launch date; never moves."
    )
    # The launch date the partner and TradingView agreed (``integrations.agreed_launch``): the launch
    # is due on it from then on. Each change is an ``IntegrationEvent`` of kind "launch agreed".
    agreed_launch_on = models.DateField("agreed launch", null=True, blank=True, editable=False)
    launch_agreed_by = models.CharField(
        "launch agreed by", max_length=200, blank=True, editable=False, help_text="Who agreed the launch date."
    )
    launch_agreed_at = models.DateTimeField(
        "launch agreement recorded", null=True, blank=True, editable=False, help_text="When it was recorded."
    )
    launch_agreement_note = models.TextField(blank=True, editable=False)
    paused_on = models.DateField(null=True, blank=True, editable=False)
    launched_on = models.DateField(null=True, blank=True, editable=False)
    cancelled_on = models.DateField(null=True, blank=True, editable=False)

    # The stored standing: written by integrations.standing.store_standing() after every change
    # and by the daily refresh, so lists can filter and sort on it in SQL.
    current_step = models.ForeignKey(
        "IntegrationStep", on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    ball_side = models.CharField("ball in court", max_length=20, choices=BallSide.choices, blank=True, editable=False)
    next_due_on = models.DateField(null=True, blank=True, editable=False)
    next_deadline_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When next_due_on ends in the owing side's time zone."
    )
    planned_launch_on = models.DateField("planned launch", null=True, blank=True, editable=False)
    forecast_launch_on = models.DateField("forecast launch", null=True, blank=True, editable=False)
    delay_tradingview_days = models.PositiveIntegerField(default=0, editable=False)
    delay_partner_days = models.PositiveIntegerField(default=0, editable=False)
    delay_both_days = models.PositiveIntegerField(default=0, editable=False)
    standing_as_of = models.DateField(null=True, blank=True, editable=False)
    standing_refreshed_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="The moment the stored standing was computed at; refreshed again once a day it counts in changes.",
    )
    # The launch forecast with its confidence (integrations.forecast), written by the daily refresh.
    forecast_p50 = models.DateField("launch P50", null=True, blank=True, editable=False)
    forecast_p85 = models.DateField("launch P85", null=True, blank=True, editable=False)
    forecast_risk = models.TextField("what drives the launch risk", blank=True, editable=False)
    forecast_computed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Late / at risk / on track (stored_standing.health_of): written with the standing and the forecast.
    health = models.PositiveSmallIntegerField(
        "health",
        choices=Health.choices,
        null=True,
        blank=True,
        editable=False,
        help_text=" ".join(HEALTH_DEFINITION.values()),
    )
    partner_sees_forecast = models.BooleanField(
        "the partner sees the P50 launch",
        default=False,
        help_text="Show the partner's team the launch date the portfolio's history gives at even odds.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    PARTNER_LOOKUP = "partner"  # what visible_to() filters on
    objects = IntegrationQuerySet.as_manager()

    class Meta:
        ordering = ["partner__name", "name"]
        indexes = [
            models.Index(fields=["state", "ball_side", "next_due_on"]),
            # The portfolio's default sort; its counts read only these columns, so the index alone
            # answers them, without a visit to each (wide) row.
            models.Index(
                fields=["state", "next_deadline_at", "next_due_on", "forecast_launch_on"], name="integration_counts"
            ),
            # The forecast sort.
            models.Index(fields=["state", "forecast_launch_on"], name="integration_state_forecast"),
            models.Index(fields=["state", "forecast_p85"], name="integration_state_p85"),
            models.Index(fields=["state", "health"], name="integration_state_health"),
        ]

    RUNNING_STATES = (State.ACTIVE, State.PAUSED)

    def __str__(self):
        return self.name or str(self.partner)

    def save(self, *args, **kwargs):
        if not self.name and self.partner_id:
            self.name = self.partner.name
        super().save(*args, **kwargs)

    @property
    def is_running(self) -> bool:
        """Kicked off and neither launched nor cancelled: its plan can still change."""
        return self.state in self.RUNNING_STATES

    @property
    def is_active(self) -> bool:
        """Its clock runs: neither paused, launched nor cancelled (kicked off or not yet)."""
        return self.state == self.State.ACTIVE

    @property
    def is_paused(self) -> bool:
        return self.state == self.State.PAUSED

    @property
    def is_launched(self) -> bool:
        return self.state == self.State.LAUNCHED

    @property
    def is_cancelled(self) -> bool:
        return self.state == self.State.CANCELLED

    @property
    def has_ended(self) -> bool:
        """Launched or cancelled: for good, its steps and plan can no longer change."""
        return self.state in (self.State.LAUNCHED, self.State.CANCELLED)

    @property
    def has_data_part(self) -> bool:
        return self.parts in (self.Parts.DATA, self.Parts.BOTH)

    @property
    def has_trading_part(self) -> bool:
        return self.parts in (self.Parts.TRADING, self.Parts.BOTH)

    @property
    def is_started(self) -> bool:
        return self.kickoff_on is not None

    @property
    def beta_tester_list(self) -> list[str]:
        return split_usernames(self.beta_testers)

    def clean(self):
        errors = {}
        if self.has_data_part:
            if not self.data_types:
                errors["data_types"] = "A data integration needs at least one data type."
            if not self.data_source:
                errors["data_source"] = "Say whether the data comes from the partner's own feed or exchange mapping."
            if not self.data_auth:
                errors["data_auth"] = "Choose the data part's authorisation type."
        elif self.parts:
            for name in ("data_types", "data_source", "data_auth", "data_staging_url", "data_production_url"):
                if getattr(self, name):
                    errors[name] = "The integration has no data part; leave this empty or add the data part."
        if (
            self.jira_epic_key
            and self.jira_project_key
            and not self.jira_epic_key.startswith(f"{self.jira_project_key}-")
        ):
            errors["jira_epic_key"] = f"The epic must be an issue of the Jira project {self.jira_project_key}."
        if self.has_trading_part:
            if not self.trading_auth:
                errors["trading_auth"] = "Choose the trading part's authorisation type."
        elif self.parts:
            for name in ("trading_auth", "trading_staging_url", "trading_production_url"):
                if getattr(self, name):
                    errors[name] = "The integration has no trading part; leave this empty or add the trading part."
        if errors:
            raise ValidationError(errors)

    # --- team -------------------------------------------------------------------------------

    def team_counts(self) -> dict[str, int]:
        counts = dict.fromkeys(RECOMMENDED_LINEUP, 0)
        for member in self.team.all():
            counts[member.role] = counts.get(member.role, 0) + 1
        return counts

    def team_gaps(self) -> list[str]:
        return lineup_gaps(self.team_counts())

    @property
    def meets_recommended_lineup(self) -> bool:
        return not self.team_gaps()

    # --- stored standing -------------------------------------------------------------------

    def days_overdue(self, now=None) -> int:
        """Days late now, from the stored standing: the same count as ``Standing.days_late``."""
        return stored_days_late(self, now)

    @property
    def health_mark(self) -> Health | None:
        """Late, at risk or on track now (``stored_standing.health_of`` on the stored columns); None unless running.

        The stored ``health`` column, which lists sort on, is the same rule as of the last refresh: beat's
        quarter-hour refresh catches it up once a deadline's day has ended.
        """
        return stored_health(self, timezone.now())

    @property
    def health_definition(self) -> str:
        """What the health mark means, as its hover and screen-reader text say."""
        mark = self.health_mark
        return HEALTH_DEFINITION[mark] if mark else ""

    @property
    def slip_days(self) -> int:
        return self.delay_tradingview_days + self.delay_partner_days + self.delay_both_days

    @property
    def slip_vs_baseline_days(self) -> int:
        """Working days the forecast launch lies after the baseline, as ``Standing.slip_vs_baseline_days``."""
        if not self.forecast_launch_on or not self.baseline_launch_on:
            return 0
        return working_days_late(self.baseline_launch_on, self.forecast_launch_on)


class TeamMember(models.Model):
    class Role(models.TextChoices):
        PM = "pm", "Project manager"
        DEVELOPER = "developer", "Developer"
        QA = "qa", "QA specialist"

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="team")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    role = models.CharField(max_length=20, choices=Role.choices)
    slack_user_id = models.CharField(max_length=20, blank=True)

    PARTNER_LOOKUP = "integration__partner"  # what visible_to() filters on
    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["role", "name"]

    def __str__(self):
        return f"{self.name} ({self.get_role_display()})"


class IntegrationStep(models.Model):
    """One step of an integration's plan: a copy of its template step, with status and due date."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="steps")
    template_step = models.ForeignKey(TemplateStep, on_delete=models.PROTECT, null=True, related_name="+")
    position = models.PositiveSmallIntegerField()
    code = models.SlugField(max_length=60)
    number = models.PositiveSmallIntegerField(null=True, blank=True)
    side = models.CharField(max_length=20, choices=Side.choices)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    checklist = models.JSONField(default=list, blank=True, help_text="The checklist items that apply.")
    tells_via = ChoiceListField(choice_list=Channel.choices)
    depends_on = models.JSONField(default=list, blank=True)
    due_week = models.PositiveSmallIntegerField(null=True, blank=True)
    due_week_last = models.PositiveSmallIntegerField(null=True, blank=True)
    turnaround_days = models.PositiveSmallIntegerField(default=3)
    # Copied from the template step (``roadmap.schedule``): re-planning plans by the same rules.
    prepared_ahead = models.BooleanField(default=True)
    keeps_days = models.PositiveSmallIntegerField(null=True, blank=True)
    jira_bug_labels = models.JSONField(default=list, blank=True)
    held_by_ux_bugs = models.BooleanField(default=False)
    handovers = models.JSONField(default=list, blank=True, help_text="What the partner hands over first.")
    window_start = models.DateField(null=True, blank=True)
    planned_due_date = models.DateField(
        null=True, blank=True, help_text="The plan's date: set at kick-off, moved by re-planning and pauses."
    )
    due_date = models.DateField(
        null=True,
        blank=True,
        help_text="The deadline: the planned date, moved later when a prerequisite was handed over late.",
    )
    status = models.CharField(max_length=20, choices=StepStatus.choices, default=StepStatus.NOT_STARTED)
    blocked_reason = models.TextField(blank=True)
    applicability_note = models.TextField(blank=True, help_text="Why the step applies only in part, or not at all.")
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When it was last sent back to work; it is due again from then.",
    )
    # A fixing step (one with testing-round labels) done by the partner waits for TradingView to
    # check the fixes (``checking_since``): the ball is TradingView's and what depends on it waits
    # until then (``roadmap.standing.awaiting_check``). TradingView marking it done has checked them.
    checking_since = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the partner's fixes were done and handed to TradingView to check; empty once checked.",
    )
    verified_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When TradingView checked the fixes of this fixing step."
    )
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, editable=False, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    PARTNER_LOOKUP = "integration__partner"  # what visible_to() filters on
    objects = VisibleQuerySet.as_manager()

    class Meta:
        ordering = ["integration", "position"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "code"], name="unique_integration_step_code"),
            models.UniqueConstraint(fields=["integration", "position"], name="unique_integration_step_position"),
        ]
        # The portfolio's blocked count reads the blocked steps once, not every integration's steps.
        indexes = [models.Index(fields=["status"], name="integrationstep_status")]

    def __str__(self):
        return step_label(self)

    @property
    def is_open(self) -> bool:
        return step_is_open(self)

    @property
    def is_launch(self) -> bool:
        """The last step of the roadmap: opening the integration to all users."""
        return not self.integration.steps.filter(position__gt=self.position).exists()
