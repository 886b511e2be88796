"""The API's JSON shapes, and the checks on what comes in.

Writes are validated by the models' own ``full_clean()`` (the rules live there, once); the
serializers add what JSON needs: unknown fields refused, strings bounded, types checked.
"""

from functools import cached_property
from types import SimpleNamespace

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.db.models import CharField, Func
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations.api.errors import validation_fields
from integrations.handovers import records
from integrations.handovers.models import AuthorisationSheet, Environment, Part, UrlCheck
from integrations.jenkins.models import JenkinsBuild
from integrations.jira.models import JiraIssue
from integrations.models import (
    STEP_NOTE_FIELDS,
    USERNAME_RE,
    Integration,
    IntegrationStep,
    Partner,
    PartnerContact,
    split_usernames,
)
from integrations.stored_standing import HEALTH_DEFINITION, Health, health_of, stored_days_late, stored_health
from integrations.text import NOTE_MAX, clean_text
from integrations.visibility import sees_everything
from roadmap import default_template
from roadmap.models import RoadmapTemplate
from roadmap.standing import working_days_late

USERNAME_MESSAGE = "Not a TradingView username (letters, digits, '_', '.', '-')."


class StrictText(serializers.CharField):
    """Text that must come as a JSON string: DRF's CharField would turn 42 or true into "42"."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class FreeText(serializers.CharField):
    """Free text, cleaned as on every surface (``integrations.text.clean_text``: LF line ends, no
    surrounding whitespace) before its length is checked."""

    def to_internal_value(self, data):
        return clean_text(super().to_internal_value(data))


class StrictFields:
    """Refuse fields the serializer does not know, non-strings for its text fields and non-booleans for its flags.

    DRF drops unknown fields and turns numbers into text; a script's typo should be an error.
    """

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name: field for name, field in self.fields.items() if not field.read_only}
            errors = {str(name): [self.unknown_field_message(str(name))] for name in data if name not in writable}
            for name, field in writable.items():
                value = data.get(name)
                textual = isinstance(field, serializers.CharField | serializers.ChoiceField)
                if textual and value is not None and not isinstance(value, str):
                    errors[name] = ["Give text (a JSON string)."]
                # DRF's BooleanField also takes "yes", "off", 1 and the like: a script's "no" must not pass for false.
                if isinstance(field, serializers.BooleanField) and value is not None and not isinstance(value, bool):
                    errors[name] = ["Give true or false (a JSON boolean)."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)

    def unknown_field_message(self, name: str) -> str:
        return "Unknown field."


def full_clean(instance, attrs: dict, exclude=()):
    """Apply ``attrs`` to ``instance`` and run the model's own validation; errors become DRF's."""
    for name, value in attrs.items():
        setattr(instance, name, value)
    try:
        instance.full_clean(exclude=list(exclude))
    except DjangoValidationError as error:
        raise serializers.ValidationError(validation_fields(error)) from None


# --- partners ---------------------------------------------------------------------------------


class ContactSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerContact
        fields = ["id", "name", "email", "title", "is_primary"]


class PartnerSerializer(StrictFields, serializers.ModelSerializer):
    """A partner; ``notes`` (internal) and ``contacts`` only for staff."""

    contacts = ContactSerializer(many=True, read_only=True, required=False)
    notes = FreeText(required=False, allow_blank=True, max_length=20000)

    class Meta:
        model = Partner
        fields = ["id", "name", "kind", "website", "time_zone", "notes", "contacts", "created_at"]
        extra_kwargs = {"website": {"max_length": 200}}

    def get_fields(self):
        fields = super().get_fields()
        fields["contacts"].read_only = True
        return fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not request.user.is_staff:
            data.pop("notes", None)
            data.pop("contacts", None)
        return data

    def validate(self, attrs):
        full_clean(self.instance or Partner(), dict(attrs), exclude=["name"] if "name" not in attrs else [])
        return attrs


# --- integrations -----------------------------------------------------------------------------


class StepRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = IntegrationStep
        fields = ["id", "code", "number", "title", "side", "status"]


WORKING_DAYS = "in working days (Monday to Friday, paused days not counted), the unit of every count of days late"


class DelaySerializer(serializers.Serializer):
    tradingview = serializers.IntegerField(help_text=f"Working days charged to TradingView, {WORKING_DAYS}.")
    partner = serializers.IntegerField(help_text=f"Working days charged to the partner, {WORKING_DAYS}.")
    both = serializers.IntegerField(help_text=f"Working days both sides were late at once, {WORKING_DAYS}.")


class StandingSerializer(serializers.Serializer):
    """Where the integration stands: live (``integrations.standing.standing``) on the detail,
    from the stored standing (refreshed after every change and daily) on lists."""

    current_step = StepRefSerializer(allow_null=True)
    ball_side = serializers.CharField(help_text="tradingview, partner, both, or empty when nobody owes.")
    next_due_on = serializers.DateField(allow_null=True)
    next_deadline_at = serializers.DateTimeField(allow_null=True)
    days_overdue = serializers.IntegerField(
        help_text=f"Days late now: those of the owed deadline that ended first, {WORKING_DAYS}."
    )
    planned_launch_on = serializers.DateField(allow_null=True)
    forecast_launch_on = serializers.DateField(allow_null=True)
    baseline_launch_on = serializers.DateField(allow_null=True)
    slip_days = serializers.IntegerField(
        help_text=f"Forecast launch after the current plan's, {WORKING_DAYS}: the sum of delay_days."
    )
    slip_vs_baseline_days = serializers.IntegerField(
        help_text=f"Forecast launch after the first plan's (re-plans and pauses included), {WORKING_DAYS}."
    )
    agreed_launch_on = serializers.DateField(
        allow_null=True, help_text="The launch date both sides agreed; the launch is due on it once set."
    )
    launch_agreed_by = serializers.CharField(help_text="Who agreed the launch date; empty without one.")
    slip_vs_agreed_days = serializers.IntegerField(
        help_text=f"Forecast launch after the agreed launch date (0 without one), {WORKING_DAYS}."
    )
    delay_days = DelaySerializer(help_text=f"The slip split by who lost each day, {WORKING_DAYS}.")
    as_of = serializers.DateField(allow_null=True)
    health = serializers.ChoiceField(
        [h.slug for h in Health],
        allow_null=True,
        help_text="late, at_risk or on_track; null when not running, and for a partner's users (it reads the P85). "
        + " ".join(HEALTH_DEFINITION.values()),
    )


def standing_fields(integration, live=None, user=None, now=None) -> dict:
    """The standing as the API shows it: from ``live`` (a ``Standing``) when given, else stored as of ``now``."""
    now = now or timezone.now()
    if live is None:
        stored = integration
        days_overdue = integration.days_overdue(now)
    else:
        stored = SimpleNamespace(**{**vars(integration), **live.stored_fields()})
        days_overdue = live.days_late
    delays = (stored.delay_tradingview_days, stored.delay_partner_days, stored.delay_both_days)
    health = stored_health(stored, now) if sees_everything(user) else None
    forecast, baseline = stored.forecast_launch_on, integration.baseline_launch_on
    agreed = integration.agreed_launch_on
    return {
        "current_step": stored.current_step,
        "ball_side": stored.ball_side,
        "next_due_on": stored.next_due_on,
        "next_deadline_at": stored.next_deadline_at,
        "days_overdue": days_overdue,
        "planned_launch_on": stored.planned_launch_on,
        "forecast_launch_on": forecast,
        "baseline_launch_on": baseline,
        "slip_days": sum(delays),
        "slip_vs_baseline_days": working_days_late(baseline, forecast) if forecast and baseline else 0,
        "agreed_launch_on": agreed,
        "launch_agreed_by": integration.launch_agreed_by,
        "slip_vs_agreed_days": working_days_late(agreed, forecast) if forecast and agreed else 0,
        "delay_days": dict(zip(("tradingview", "partner", "both"), delays, strict=True)),
        "as_of": stored.standing_as_of,
        "health": health.slug if health else None,
    }


class IntegrationSerializer(StrictFields, serializers.ModelSerializer):
    """An integration; on PATCH, its editable fields (state and dates change through actions)."""

    partner_name = serializers.CharField(source="partner.name", read_only=True)
    data_types = serializers.ListField(
        child=serializers.ChoiceField(Integration.DataType.choices), required=False, max_length=8
    )
    tv_pm = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_staff=True),
        allow_null=True,
        required=False,
        error_messages={"does_not_exist": "User {pk_value} is not a TradingView staff user; the PM must be staff."},
    )
    beta_testers = serializers.ListField(source="beta_tester_list", child=serializers.CharField(), read_only=True)
    standing = serializers.SerializerMethodField()

    class Meta:
        model = Integration
        fields = [
            "id",
            "partner",
            "partner_name",
            "template",
            "name",
            "parts",
            "data_types",
            "data_source",
            "own_feed_in_production_on",
            "trading_auth",
            "data_auth",
            "trading_staging_url",
            "trading_production_url",
            "data_staging_url",
            "data_production_url",
            "spec_version",
            "slack_channel_id",
            "jira_project_key",
            "jira_epic_key",
            "tv_pm",
            "beta_testers",
            "state",
            "kickoff_on",
            "paused_on",
            "launched_on",
            "cancelled_on",
            "standing",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["partner", "template", "state", "kickoff_on", "paused_on", "launched_on", "cancelled_on"]

    @extend_schema_field(StandingSerializer)
    def get_standing(self, integration):
        live = self.context.get("standing")
        request = self.context.get("request")
        return self._standing_shape.to_representation(
            standing_fields(integration, live, getattr(request, "user", None))
        )

    @cached_property
    def _standing_shape(self) -> StandingSerializer:
        """One ``StandingSerializer`` for every row this serializer shows: building one (its fields
        deep-copied, its nested step and delay shapes) per row of a list page cost more than the
        row's other fields together."""
        return StandingSerializer()

    def validate(self, attrs):
        full_clean(self.instance, dict(attrs), exclude=["beta_testers"])
        return attrs


# --- the integrations list ---------------------------------------------------------------------

# The current step's fields in the list (``StepRefSerializer``'s), and their columns.
_STEP_COLUMNS = [(name, f"current_step__{name}") for name in StepRefSerializer.Meta.fields]

# The dates the list only shows, read as the text it shows (``DayText``); those it also counts with are read as dates.
TEXT_DAYS = [
    "own_feed_in_production_on",
    "kickoff_on",
    "paused_on",
    "launched_on",
    "cancelled_on",
    "next_due_on",
    "standing_as_of",
]


def _shown(name: str) -> str:
    """The column ``listed`` reads for field ``name``: a date it only shows is read as its text (``DayText``)."""
    return f"{name}_text" if name in TEXT_DAYS else name


# The columns the list reads, as ``values_list()`` names them, in the order ``_listed`` unpacks them:
# what ``IntegrationSerializer`` writes, and what its standing is worked out from. One query reads a
# page's rows with these and no others (the portfolio page's extra columns are for the page).
LISTED_COLUMNS = [
    # ``IntegrationSerializer``'s own fields, in its order (the partner's name and the standing come below).
    *(_shown(name) for name in IntegrationSerializer.Meta.fields if name not in ("partner_name", "standing")),
    # The stored standing (``standing_fields``, ``stored_health``).
    "ball_side",
    _shown("next_due_on"),
    "next_deadline_at",
    "planned_launch_on",
    "forecast_launch_on",
    "forecast_p85",
    "baseline_launch_on",
    "agreed_launch_on",
    "launch_agreed_by",
    "delay_tradingview_days",
    "delay_partner_days",
    "delay_both_days",
    _shown("standing_as_of"),
    # The partner's name, and its zone and calendar for the days overdue.
    "partner__name",
    "partner__time_zone",
    "partner__country",
    "partner__subdivision",
    *(column for _, column in _STEP_COLUMNS),
]


class DayText(Func):
    """A date column as DRF's ``DateField`` writes it ("2026-03-02"), written by the database, or null.

    Read as a date and written back out, each of a page's 350 shown dates cost the list as much as
    three of its other columns. PostgreSQL formats it; SQLite keeps a date as that text already (the
    concatenation only keeps sqlite3 from reading it back as a date by the column's declared type).
    """

    template = "(%(expressions)s || '')"
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(compiler, connection, template="to_char(%(expressions)s, 'YYYY-MM-DD')", **extra)


def listed(integrations):
    """``integrations`` (a list page's) as the rows ``listed_integrations`` reads: ``values_list()`` of
    ``LISTED_COLUMNS``, no model instances (making them was a fifth of the list's time)."""
    texts = {f"{name}_text": DayText(name) for name in TEXT_DAYS}
    return integrations.annotate(**texts).values_list(*LISTED_COLUMNS)


class ListedPartner:
    """A list row's partner: its zone and calendar as the model's own properties give them
    (``Partner.zone``, ``Partner.calendar``), without a model instance."""

    __slots__ = ("time_zone", "country", "subdivision")
    zone = Partner.zone
    calendar = Partner.calendar

    def __init__(self, time_zone: str, country: str, subdivision: str):
        self.time_zone, self.country, self.subdivision = time_zone, country, subdivision


# The moments' texts by time zone, kept from page to page (a text depends on the instant and the zone
# alone): the rows' own created_at and updated_at are each a page's only one, and the same pages are
# read again and again. Emptied, zone by zone, when it holds more than MOMENT_TEXTS_MAX.
_MOMENT_TEXTS: dict = {}
MOMENT_TEXTS_MAX = 20_000


class ListedPage:
    """What the rows of one list page share: the time zone and moment they are written in, whether the
    caller sees the health mark, and what is worked out from the stored standing, once per distinct input.

    Of the 50 rows of a page many share a deadline's end, a partner's calendar, a pair of launch dates or
    a moment: the days late (``stored_days_late``, the one count), the working days between two launch
    dates (``working_days_late``) and a moment's text are the same for each, and working them out again
    for every row was a third of the list's CPU time. The moments' texts are kept for later pages too
    (``_MOMENT_TEXTS``); the days late are counted at the page's moment and are the page's alone.
    """

    def __init__(self, user, now=None, zone=None):
        self.now = now or timezone.now()
        self.zone = zone or timezone.get_current_timezone()
        self.shows_health = sees_everything(user)
        self._days_late, self._between = {}, {}
        self._moments = _MOMENT_TEXTS.get(self.zone)
        if self._moments is None or len(self._moments) > MOMENT_TEXTS_MAX:
            self._moments = _MOMENT_TEXTS[self.zone] = {}

    def days_late(self, state, deadline, ball_side, time_zone, country, subdivision) -> int:
        """``stored_days_late`` of an integration with these columns, at ``now``."""
        if state != "active" or deadline is None or self.now < deadline:
            return 0  # the count's own first test, without a look-up
        key = (deadline, ball_side, time_zone, country, subdivision)
        found = self._days_late.get(key)
        if found is None:
            integration = SimpleNamespace(
                state=state,
                next_deadline_at=deadline,
                ball_side=ball_side,
                partner=ListedPartner(time_zone, country, subdivision),
            )
            found = self._days_late[key] = stored_days_late(integration, self.now)
        return found

    def between(self, start, end) -> int:
        """``working_days_late(start, end)``, 0 when either is missing (``standing_fields``' slips)."""
        if not start or not end:
            return 0
        key = (start, end)
        found = self._between.get(key)
        if found is None:
            found = self._between[key] = working_days_late(start, end)
        return found

    def moment(self, value) -> str | None:
        """A moment as DRF's ``DateTimeField`` writes it: in the current time zone, UTC as "Z"."""
        if value is None:
            return None
        found = self._moments.get(value)
        if found is None:
            text = value.astimezone(self.zone).isoformat()
            found = self._moments[value] = text[:-6] + "Z" if text.endswith("+00:00") else text
        return found


def listed_integrations(rows, user) -> list[dict]:
    """The integrations of a list page (``listed`` rows) as ``IntegrationSerializer`` shows each, field for field.

    DRF's serializer, walking its fields and their nested shapes for each of a page's 50 rows, cost
    more than the page's queries together. ``IntegrationSerializer`` stays the shape's definition
    (the schema, the detail); tests keep the two equal.
    """
    page = ListedPage(user)
    return [_listed(row, page) for row in rows]


def _listed(row, page: ListedPage) -> dict:
    """One row as ``IntegrationSerializer`` writes it; its standing as ``standing_fields`` gives the stored one."""
    (
        pk,
        partner,
        template,
        name,
        parts,
        data_types,
        data_source,
        own_feed_in_production_on,
        trading_auth,
        data_auth,
        trading_staging_url,
        trading_production_url,
        data_staging_url,
        data_production_url,
        spec_version,
        slack_channel_id,
        jira_project_key,
        jira_epic_key,
        tv_pm,
        beta_testers,
        state,
        kickoff_on,
        paused_on,
        launched_on,
        cancelled_on,
        created_at,
        updated_at,
        ball_side,
        next_due_on,
        next_deadline_at,
        planned_launch_on,
        forecast_launch_on,
        forecast_p85,
        baseline_launch_on,
        agreed_launch_on,
        launch_agreed_by,
        delay_tradingview_days,
        delay_partner_days,
        delay_both_days,
        standing_as_of,
        partner_name,
        time_zone,
        country,
        subdivision,
        *step,
    ) = row
    health = None
    if page.shows_health:
        health = health_of(
            state=state,
            next_deadline_at=next_deadline_at,
            planned_launch=planned_launch_on,
            forecast_launch=forecast_launch_on,
            p85=forecast_p85,
            now=page.now,
        )
    return {
        "id": pk,
        "partner": partner,
        "partner_name": partner_name,
        "template": template,
        "name": name,
        "parts": parts,
        "data_types": data_types,  # a list of its own (the field reads each row's text into a new one)
        "data_source": data_source,
        "own_feed_in_production_on": own_feed_in_production_on,
        "trading_auth": trading_auth,
        "data_auth": data_auth,
        "trading_staging_url": trading_staging_url,
        "trading_production_url": trading_production_url,
        "data_staging_url": data_staging_url,
        "data_production_url": data_production_url,
        "spec_version": spec_version,
        "slack_channel_id": slack_channel_id,
        "jira_project_key": jira_project_key,
        "jira_epic_key": jira_epic_key,
        "tv_pm": tv_pm,
        "beta_testers": split_usernames(beta_testers) if beta_testers else [],
        "state": state,
        "kickoff_on": kickoff_on,
        "paused_on": paused_on,
        "launched_on": launched_on,
        "cancelled_on": cancelled_on,
        "standing": {
            "current_step": None if step[0] is None else dict(zip(_STEP_NAMES, step, strict=True)),
            "ball_side": ball_side,
            "next_due_on": next_due_on,
            "next_deadline_at": page.moment(next_deadline_at),
            "days_overdue": page.days_late(state, next_deadline_at, ball_side, time_zone, country, subdivision),
            "planned_launch_on": planned_launch_on.isoformat() if planned_launch_on else None,
            "forecast_launch_on": forecast_launch_on.isoformat() if forecast_launch_on else None,
            "baseline_launch_on": baseline_launch_on.isoformat() if baseline_launch_on else None,
            "slip_days": delay_tradingview_days + delay_partner_days + delay_both_days,
            "slip_vs_baseline_days": page.between(baseline_launch_on, forecast_launch_on),
            "agreed_launch_on": agreed_launch_on.isoformat() if agreed_launch_on else None,
            "launch_agreed_by": launch_agreed_by,
            "slip_vs_agreed_days": page.between(agreed_launch_on, forecast_launch_on),
            "delay_days": {
                "tradingview": delay_tradingview_days,
                "partner": delay_partner_days,
                "both": delay_both_days,
            },
            "as_of": standing_as_of,
            "health": _HEALTH_SLUGS[health] if health else None,
        },
        "created_at": page.moment(created_at),
        "updated_at": page.moment(updated_at),
    }


_STEP_NAMES = [name for name, _ in _STEP_COLUMNS]
_HEALTH_SLUGS = {health: health.slug for health in Health}  # the enum's property, looked up per row, cost more


class IntegrationCreateSerializer(IntegrationSerializer):
    """A new integration; with ``kickoff_on`` it is kicked off in the same request."""

    partner = serializers.PrimaryKeyRelatedField(queryset=Partner.objects.all())
    template = serializers.PrimaryKeyRelatedField(
        queryset=RoadmapTemplate.objects.all(), required=False, help_text="Default: the newest default roadmap."
    )
    kickoff_on = serializers.DateField(required=False, allow_null=True, help_text="Kick off on this day.")

    class Meta(IntegrationSerializer.Meta):
        read_only_fields = ["state", "paused_on", "launched_on", "cancelled_on"]

    def validate(self, attrs):
        attrs.setdefault("template", RoadmapTemplate.latest(default_template.KEY))
        fields = {k: v for k, v in attrs.items() if k != "kickoff_on"}
        full_clean(Integration(**fields), {}, exclude=["beta_testers"])
        return attrs


class ReplanSerializer(StrictFields, serializers.Serializer):
    kickoff_on = serializers.DateField(required=False, help_text="The new kick-off; default today.")
    reason = FreeText(required=False, allow_blank=True, default="", max_length=NOTE_MAX)


class NoteSerializer(StrictFields, serializers.Serializer):
    note = FreeText(required=False, allow_blank=True, default="", max_length=NOTE_MAX)


class DatedNoteSerializer(NoteSerializer):
    """A pause's or a resume's note, and when it happened when that was earlier than now."""

    at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="When it happened, only when earlier than now (ISO 8601, with its offset); then `note` must "
        "say why. Never in the future, nor before the integration's or one of its steps' last change.",
    )


# --- steps ------------------------------------------------------------------------------------


@extend_schema_field({"type": "array", "items": {"type": "string"}})
class TextListField(serializers.JSONField):
    pass


class RefusalSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class StepActionSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    needs_note = serializers.BooleanField()
    allowed = serializers.BooleanField()
    refusal = RefusalSerializer(allow_null=True)


class StepSerializer(serializers.ModelSerializer):
    """A step. Its blocked reason and not-applicable note are notes of its history: a partner's user
    reads them by the history's rule, given as ``context["notes_seen"]``
    (``step_notes_seen_by_partner``); staff read them all."""

    checklist = TextListField(read_only=True)
    depends_on = TextListField(read_only=True)
    handovers = TextListField(read_only=True)
    jira_bug_labels = TextListField(read_only=True)

    class Meta:
        model = IntegrationStep
        fields = [
            "id",
            "integration",
            "position",
            "code",
            "number",
            "side",
            "title",
            "description",
            "checklist",
            "depends_on",
            "handovers",
            "jira_bug_labels",
            "status",
            "planned_due_date",
            "due_date",
            "blocked_reason",
            "applicability_note",
            "started_at",
            "completed_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, step):
        data = super().to_representation(step)
        if self.context.get("staff"):
            return data
        seen = self.context.get("notes_seen", set())
        for name in STEP_NOTE_FIELDS.values():
            if (step.pk, name) not in seen:
                data[name] = ""
        return data


class StepDetailSerializer(StepSerializer):
    actions = serializers.SerializerMethodField(help_text="What the caller may do now, and what is refused and why.")

    class Meta(StepSerializer.Meta):
        fields = [*StepSerializer.Meta.fields, "actions"]
        read_only_fields = fields

    @extend_schema_field(StepActionSerializer(many=True))
    def get_actions(self, step):
        return [
            {
                "name": a.name,
                "label": a.label,
                "needs_note": a.needs_note,
                "allowed": a.allowed,
                "refusal": {"code": a.refusal.code, "message": a.refusal.message} if a.refusal else None,
            }
            for a in self.context["actions"]
        ]


# --- comments ---------------------------------------------------------------------------------


class CommentSerializer(serializers.Serializer):
    """A comment on a step; a partner's user is never given an internal one (``Comment.objects.seen_by``)."""

    id = serializers.IntegerField()
    step = serializers.IntegerField(source="step_id")
    author = serializers.CharField(source="who", help_text="The author's name.")
    body = serializers.CharField(help_text="Plain text as written: escape it wherever it is shown.")
    internal = serializers.BooleanField(help_text="TradingView's only.")
    created_at = serializers.DateTimeField()


class CommentInputSerializer(StrictFields, serializers.Serializer):
    body = serializers.CharField(
        allow_blank=True, trim_whitespace=False, help_text="Plain text, at most 4000 characters."
    )
    internal = serializers.BooleanField(default=False, help_text="TradingView's only: never shown to the partner.")


# --- history, Jira, outbox --------------------------------------------------------------------


class HistoryRowSerializer(serializers.Serializer):
    """A row of the history; a partner's user reads only the notes the partner reads (the rule of
    ``integrations.models.history``), others come as ''."""

    kind = serializers.ChoiceField([("step_change", "Step change"), ("integration_event", "Integration event")])
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    by = serializers.CharField(help_text="Who: a username, a Jira/Slack name, or the source.")
    source = serializers.CharField()
    note = serializers.CharField()
    step = StepRefSerializer(allow_null=True)
    from_status = serializers.CharField(allow_null=True)
    to_status = serializers.CharField(allow_null=True)
    from_due = serializers.DateField(allow_null=True)
    to_due = serializers.DateField(allow_null=True)
    event = serializers.CharField(allow_null=True, help_text="kicked_off, replanned, paused, resumed, ...")
    from_value = serializers.CharField(allow_null=True)
    to_value = serializers.CharField(allow_null=True)


class AutotestRunSerializer(serializers.ModelSerializer):
    """A run (build) of a linked Jenkins job: as Jenkins last told of it. ``url`` only when an http(s) address."""

    job_name = serializers.CharField(source="job.job_name", read_only=True)
    # Plain strings: Jenkins' own words, and no enum named like the steps' "status" in the schema.
    phase = serializers.CharField(read_only=True, help_text="QUEUED, STARTED, COMPLETED or FINALIZED.")
    status = serializers.CharField(
        read_only=True, help_text="SUCCESS, FAILURE, UNSTABLE, ABORTED or NOT_BUILT; '' until it finishes."
    )
    url = serializers.CharField(source="link", read_only=True, help_text="The build's page in Jenkins, or ''.")
    passed = serializers.BooleanField(read_only=True)

    class Meta:
        model = JenkinsBuild
        fields = [
            "id",
            "integration",
            "part",
            "job_name",
            "number",
            "phase",
            "status",
            "passed",
            "url",
            "started_at",
            "finished_at",
            "updated_at",
        ]
        read_only_fields = fields


class JiraIssueSerializer(serializers.ModelSerializer):
    labels = TextListField(read_only=True)
    is_open = serializers.BooleanField(read_only=True)

    class Meta:
        model = JiraIssue
        fields = [
            "key",
            "summary",
            "issue_type",
            "labels",
            "status_name",
            "status_category",
            "is_bug",
            "is_open",
            "testing_round",
            "affects_ux",
            "updated_at",
        ]
        read_only_fields = fields


class StepJiraSerializer(serializers.Serializer):
    issues = JiraIssueSerializer(many=True)
    bugs = JiraIssueSerializer(many=True)


class OutboxMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    state = serializers.CharField()
    integration = serializers.IntegerField(source="integration_id", allow_null=True)
    step = serializers.IntegerField(source="step_id", allow_null=True)
    channel = serializers.CharField()
    emails = TextListField()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()
    not_before = serializers.DateTimeField()
    attempts = serializers.IntegerField()
    last_error = serializers.CharField()
    sent_at = serializers.DateTimeField(allow_null=True)


# --- hand-overs -------------------------------------------------------------------------------


class UrlCheckSerializer(serializers.ModelSerializer):
    """One check of a handed-over URL: ``outcome`` "checking" until the worker has run it."""

    passed = serializers.BooleanField(read_only=True)
    checked_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    checked_at = serializers.DateTimeField(read_only=True, help_text="When the URL was handed over for this check.")
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Null while checking.")
    link = serializers.SerializerMethodField(help_text="Where to read this check (GET), e.g. until it is done.")

    class Meta:
        model = UrlCheck
        fields = [
            "id",
            "part",
            "environment",
            "url",
            "outcome",
            "passed",
            "detail",
            "status_code",
            "elapsed_ms",
            "checked_at",
            "finished_at",
            "checked_by",
            "link",
        ]
        read_only_fields = fields

    def get_link(self, check) -> str:
        return reverse("api-integration-handover-check", args=[check.integration_id, check.pk])


class UrlCheckRequestSerializer(StrictFields, serializers.Serializer):
    part = serializers.ChoiceField(Part.choices)
    environment = serializers.ChoiceField(Environment.choices)
    url = serializers.URLField(max_length=500)


class BetaTestersSerializer(StrictFields, serializers.Serializer):
    usernames = serializers.ListField(
        child=StrictText(max_length=64, validators=[RegexValidator(USERNAME_RE, USERNAME_MESSAGE)]),
        max_length=50,
        help_text="TradingView usernames: letters, digits, '_', '.', '-'.",
    )


class AuthorisationSheetSerializer(StrictFields, serializers.ModelSerializer):
    """The non-secret half of a part's authorisation sheet; a secret's field says where secrets go."""

    def unknown_field_message(self, name: str) -> str:
        return records.SECRETS_NEVER_TYPED if records.SECRET_KEY_RE.search(name) else "Unknown field."

    class Meta:
        model = AuthorisationSheet
        fields = ["part", "client_id", "authorization_uri", "token_uri", "ip_addresses", "updated_at"]
        read_only_fields = ["part", "updated_at"]
        extra_kwargs = {"ip_addresses": {"max_length": 4000}}


class PartHandoversSerializer(serializers.Serializer):
    part = serializers.ChoiceField(Part.choices)
    label = serializers.CharField()
    auth_label = serializers.CharField()
    staging_url = serializers.CharField()
    production_url = serializers.CharField()
    staging_check = UrlCheckSerializer(allow_null=True)
    production_check = UrlCheckSerializer(allow_null=True)
    production_url_passed = serializers.BooleanField()
    needs_sheet = serializers.BooleanField()
    sheet_fields = serializers.ListField(child=serializers.CharField(), help_text="What the sheet needs.")
    sheet = AuthorisationSheetSerializer(allow_null=True)
    sheet_missing = serializers.ListField(child=serializers.CharField(), help_text="Needed fields still empty.")


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
        "description": "Step code -> what it still misses ([] when handed over).",
    }
)
class MissingField(serializers.JSONField):
    pass


class HandoverSummarySerializer(serializers.Serializer):
    parts = PartHandoversSerializer(many=True)
    beta_testers = serializers.ListField(child=serializers.CharField())
    missing = MissingField()
    complete = serializers.BooleanField()
