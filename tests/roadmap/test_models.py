"""Roadmap templates: frozen versions, new versions, step validation, template problems, labels, the
choice-list field."""

from datetime import UTC, date, datetime
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from roadmap.fields import ChoiceListField
from roadmap.lineup import lineup_gaps
from roadmap.models import RoadmapTemplate, TemplateStep, step_label, template_problems
from roadmap.refusals import InvalidTemplate

KEY = "tradingview-rest-api"
STEP_FIELDS = [
    "position",
    "code",
    "number",
    "side",
    "title",
    "description",
    "checklist",
    "due_week",
    "due_week_last",
    "turnaround_days",
    "prepared_ahead",
    "keeps_days",
    "depends_on",
    "tells_via",
    "condition",
    "jira_bug_labels",
    "held_by_ux_bugs",
    "handovers",
]
FROZEN_MESSAGE = (
    "TradingView REST API integration v1 is in use by integrations and can no longer change; "
    "make a new version of the template and edit that."
)


def step_fields(step):
    return {name: getattr(step, name) for name in STEP_FIELDS}


@pytest.fixture
def default_template():
    return RoadmapTemplate.objects.get(key=KEY, version=1)


@pytest.fixture
def scratch_template():
    return RoadmapTemplate.objects.create(key="scratch-process", name="Scratch process")


def make_step(template, **overrides):
    values = {
        "template": template,
        "position": 1,
        "code": "build",
        "side": "partner",
        "title": "Build it",
        "due_week": 4,
        "tells_via": ["slack"],
        **overrides,
    }
    return TemplateStep(**values)


def test_the_model_knows_every_concrete_step_field():
    names = [f.name for f in TemplateStep._meta.concrete_fields if f.name not in ("id", "template")]
    assert sorted(names) == sorted(STEP_FIELDS)


# --- frozen versions -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_steps_of_an_unfrozen_template_can_be_edited(default_template):
    step = TemplateStep.objects.get(template=default_template, code="smoke-testing")
    step.title = "Smoke testing, round 1"
    step.full_clean()


@pytest.mark.django_db
def test_freeze_sets_frozen_at_once(default_template):
    assert default_template.frozen_at is None
    default_template.freeze()
    assert default_template.is_frozen is True
    first = default_template.frozen_at
    assert RoadmapTemplate.objects.get(pk=default_template.pk).frozen_at == first
    default_template.freeze()
    assert default_template.frozen_at == first


@pytest.mark.django_db
def test_a_frozen_template_refuses_step_edits(default_template):
    default_template.freeze()
    step = TemplateStep.objects.get(template=default_template, code="smoke-testing")
    step.title = "Smoke testing, round 1"
    with pytest.raises(ValidationError) as excinfo:
        step.clean()
    assert excinfo.value.messages == [FROZEN_MESSAGE]
    assert "make a new version" in excinfo.value.messages[0]
    with pytest.raises(ValidationError) as excinfo:
        step.full_clean()
    assert excinfo.value.messages == [FROZEN_MESSAGE]


@pytest.mark.django_db
def test_a_step_already_loaded_sees_the_freeze(default_template):
    step = default_template.steps.get(code="beta-testing")
    default_template.freeze()
    with pytest.raises(ValidationError) as excinfo:
        step.clean()
    assert excinfo.value.messages == [FROZEN_MESSAGE]


@pytest.mark.django_db
def test_a_frozen_template_refuses_new_steps(default_template):
    default_template.freeze()
    step = make_step(default_template, position=16, code="celebrate")
    with pytest.raises(ValidationError) as excinfo:
        step.clean()
    assert excinfo.value.messages == [FROZEN_MESSAGE]


# --- step validation ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_days_kept_after_a_hand_over_belong_to_a_step_with_a_due_week(scratch_template):
    make_step(scratch_template, due_week=8, keeps_days=2).full_clean()
    make_step(scratch_template, due_week=1, keeps_days=5).full_clean()
    cases = [
        ({"side": "tradingview", "due_week": None, "keeps_days": 2}, "Only a step with a due week keeps days"),
        ({"due_week": 1, "keeps_days": 6}, "Keep between 1 and 5 working days (the step's 1 weeks)"),
        ({"due_week": 8, "keeps_days": 0}, "Keep between 1 and 40 working days"),
    ]
    for fields, message in cases:
        with pytest.raises(ValidationError) as excinfo:
            make_step(scratch_template, **fields).full_clean()
        assert list(excinfo.value.message_dict) == ["keeps_days"], fields
        assert excinfo.value.message_dict["keeps_days"][0].startswith(message), fields


@pytest.mark.django_db
def test_only_a_task_without_a_due_week_can_be_not_prepared_ahead(scratch_template):
    make_step(scratch_template, side="tradingview", due_week=None, prepared_ahead=False).full_clean()
    with pytest.raises(ValidationError) as excinfo:
        make_step(scratch_template, due_week=8, prepared_ahead=False).full_clean()
    assert excinfo.value.message_dict == {
        "prepared_ahead": [
            "Only a task without a due week can be prepared during the other side's week; leave it ticked."
        ]
    }


@pytest.mark.django_db
def test_a_valid_step_passes(scratch_template):
    make_step(scratch_template, due_week=11, due_week_last=12).full_clean()
    make_step(scratch_template, due_week=11, due_week_last=11).full_clean()


@pytest.mark.django_db
def test_due_window_without_first_week_is_refused(scratch_template):
    with pytest.raises(ValidationError) as excinfo:
        make_step(scratch_template, due_week=None, due_week_last=12).clean()
    assert excinfo.value.message_dict == {"due_week_last": ["A due window needs its first week in 'due week'."]}


@pytest.mark.django_db
def test_due_window_ending_before_it_starts_is_refused(scratch_template):
    with pytest.raises(ValidationError) as excinfo:
        make_step(scratch_template, due_week=12, due_week_last=11).clean()
    assert excinfo.value.message_dict == {"due_week_last": ["The window cannot end before it starts."]}


@pytest.mark.django_db
def test_a_step_cannot_depend_on_itself(scratch_template):
    with pytest.raises(ValidationError) as excinfo:
        make_step(scratch_template, depends_on=["design", "build"]).clean()
    assert excinfo.value.message_dict == {"depends_on": ["A step cannot depend on itself."]}


@pytest.mark.django_db
@pytest.mark.parametrize("depends_on", ["sandbox-access", [1, 2], {"code": "x"}])
def test_depends_on_must_be_a_list_of_codes(scratch_template, depends_on):
    with pytest.raises(ValidationError) as excinfo:
        make_step(scratch_template, depends_on=depends_on).clean()
    assert excinfo.value.message_dict == {
        "depends_on": ['List the codes of the steps this one depends on, e.g. ["sandbox-access"].']
    }


@pytest.mark.django_db
def test_bad_checklist_condition_is_refused(scratch_template):
    checklist = [{"text": "Built"}, {"text": "Tested on weekends", "condition": "weekends_only"}]
    with pytest.raises(ValidationError) as excinfo:
        make_step(scratch_template, checklist=checklist).clean()
    assert excinfo.value.message_dict == {
        "checklist": [
            "Unknown checklist condition 'weekends_only'; choose from always, trading_part, data_part, "
            "data_autotests, own_data_feed, autotests."
        ]
    }


@pytest.mark.django_db
@pytest.mark.parametrize("checklist", [[{"condition": "always"}], [{"text": "  "}], ["Built"], [{"text": 3}]])
def test_checklist_items_need_text(scratch_template, checklist):
    with pytest.raises(ValidationError) as excinfo:
        make_step(scratch_template, checklist=checklist).clean()
    assert excinfo.value.message_dict == {"checklist": ['Each checklist item needs a "text".']}


@pytest.mark.django_db
def test_checklist_must_be_a_list(scratch_template):
    with pytest.raises(ValidationError) as excinfo:
        make_step(scratch_template, checklist={"text": "Built"}).clean()
    assert excinfo.value.message_dict == {
        "checklist": ['The checklist is a list of {"text": ..., "condition": ...} items.']
    }


@pytest.mark.django_db
def test_several_errors_are_reported_together(scratch_template):
    step = make_step(scratch_template, due_week=None, due_week_last=3, depends_on=["build"], checklist=[{}])
    with pytest.raises(ValidationError) as excinfo:
        step.clean()
    assert sorted(excinfo.value.message_dict) == ["checklist", "depends_on", "due_week_last"]


# --- template problems ---------------------------------------------------------------------------------


def plain(position, code, side="partner", due_week=4, due_week_last=None, depends_on=()):
    return SimpleNamespace(
        position=position,
        code=code,
        side=side,
        due_week=due_week,
        due_week_last=due_week_last,
        depends_on=list(depends_on),
    )


def launch(position=9, depends_on=()):
    return plain(position, "launch", "tradingview", 11, 12, depends_on)


def test_a_plannable_template_has_no_problems():
    steps = [
        plain(1, "prepare", "tradingview", None),
        plain(2, "build", depends_on=["prepare"]),
        plain(3, "check", "tradingview", None, depends_on=["build"]),
        plain(4, "fix", due_week=4, depends_on=["check"]),  # the same week as before: not backwards
        launch(5, ["fix"]),
    ]
    assert template_problems(steps) == []
    assert template_problems([]) == []


@pytest.mark.parametrize(
    ("steps", "problems"),
    [
        pytest.param(
            [plain(1, "a", depends_on=["b"]), plain(2, "b", due_week=5, depends_on=["a"]), launch()],
            [
                "Step 'a' depends on 'b', which comes after it.",
                "Steps 'a' -> 'b' -> 'a' depend on each other in a cycle.",
            ],
            id="cycle",
        ),
        pytest.param(
            [
                plain(1, "a", depends_on=["c"]),
                plain(2, "b", due_week=5, depends_on=["a"]),
                plain(3, "c", due_week=6, depends_on=["b"]),
                launch(),
            ],
            [
                "Step 'a' depends on 'c', which comes after it.",
                "Steps 'a' -> 'c' -> 'b' -> 'a' depend on each other in a cycle.",
            ],
            id="cycle-of-three",
        ),
        pytest.param(
            [plain(1, "a", depends_on=["ghost"]), launch()],
            ["Step 'a' depends on 'ghost', which is no step of this template."],
            id="unknown-dependency",
        ),
        pytest.param(
            [plain(1, "a", depends_on=["b"]), plain(2, "b", due_week=5), launch()],
            ["Step 'a' depends on 'b', which comes after it."],
            id="forward-dependency",
        ),
        pytest.param(
            [plain(1, "a", depends_on=["a"]), launch()],
            ["Step 'a' depends on itself."],
            id="self-dependency",
        ),
        pytest.param(
            [plain(1, "a", due_week=None), launch()],
            ["Partner step 'a' has no due week."],
            id="partner-step-without-due-week",
        ),
        pytest.param(
            [plain(1, "a", due_week=5), plain(2, "b", due_week=4), launch()],
            ["Partner step 'b' is due in week 4, before 'a' (week 5): partner deadlines may not go backwards."],
            id="partner-weeks-backwards",
        ),
        pytest.param(
            [plain(1, "a"), plain(2, "launch", "tradingview", 11, None)],
            ["The last step, 'launch', is the launch and needs its window (a due week and a last week)."],
            id="launch-without-last-week",
        ),
        pytest.param(
            [plain(1, "a"), plain(2, "launch", "tradingview", None, None)],
            ["The last step, 'launch', is the launch and needs its window (a due week and a last week)."],
            id="launch-without-due-week",
        ),
        pytest.param(
            [plain(1, "a"), plain(2, "a", due_week=5), launch()],
            ["Two steps share the code 'a'."],
            id="duplicate-code",
        ),
    ],
)
def test_template_problems(steps, problems):
    assert template_problems(steps) == problems


def test_template_problems_read_steps_in_position_order():
    steps = [launch(3, ["b"]), plain(2, "b", due_week=5, depends_on=["a"]), plain(1, "a")]
    assert template_problems(steps) == []


def test_tradingview_steps_need_no_due_week_and_may_sit_between_partner_weeks():
    steps = [plain(1, "a", due_week=6), plain(2, "review", "tradingview", None, depends_on=["a"]), launch(3)]
    assert template_problems(steps) == []


@pytest.mark.django_db
def test_validate_steps_raises_invalid_template_naming_the_steps(scratch_template):
    make_step(
        scratch_template, position=1, code="prepare", side="tradingview", due_week=None, depends_on=["build"]
    ).save()
    make_step(scratch_template, position=2, code="build", depends_on=["prepare", "ghost"]).save()
    make_step(scratch_template, position=3, code="launch", side="tradingview", due_week=None).save()
    with pytest.raises(InvalidTemplate) as excinfo:
        scratch_template.validate_steps()
    assert excinfo.value.code == "invalid_template"
    assert str(excinfo.value) == (
        "Scratch process v1 cannot be planned: "
        "Step 'prepare' depends on 'build', which comes after it. "
        "Step 'build' depends on 'ghost', which is no step of this template. "
        "Steps 'prepare' -> 'build' -> 'prepare' depend on each other in a cycle. "
        "The last step, 'launch', is the launch and needs its window (a due week and a last week)."
    )
    assert isinstance(excinfo.value, ValidationError)


@pytest.mark.django_db
def test_validate_steps_checks_the_steps_given_instead_of_the_stored_ones(scratch_template):
    make_step(scratch_template, position=1, code="build").save()
    make_step(scratch_template, position=2, code="launch", side="tradingview", due_week=11, due_week_last=12).save()
    assert scratch_template.validate_steps() is None
    with pytest.raises(InvalidTemplate, match=r"^Scratch process v1 cannot be planned: Partner step 'a' has no due"):
        scratch_template.validate_steps([plain(1, "a", due_week=None), launch(2)])
    assert scratch_template.validate_steps([plain(1, "a"), launch(2, ["a"])]) is None


@pytest.mark.django_db
def test_the_default_template_has_no_problems(default_template):
    assert template_problems(list(default_template.steps.all())) == []
    assert default_template.validate_steps() is None


# --- labels ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "side", "title", "label"),
    [
        (3, "tradingview", "Sandbox access configuration", "3 · TradingView · Sandbox access configuration"),
        (
            1,
            "partner",
            "Data / trading endpoints implementation",
            "1 · Partner · Data / trading endpoints implementation",
        ),
        (None, "tradingview", "Open to all users", "TradingView · Open to all users"),
        (None, "robots", "Beep", "robots · Beep"),  # an unknown side is shown as stored
    ],
)
def test_step_label(number, side, title, label):
    assert step_label(SimpleNamespace(number=number, side=side, title=title)) == label


@pytest.mark.django_db
def test_a_template_step_is_shown_by_its_label(scratch_template):
    step = make_step(scratch_template, number=2, title="Build it")
    assert str(step) == "2 · Partner · Build it"


@pytest.mark.django_db
def test_turnaround_days_default_to_three_and_label_the_due_date(scratch_template):
    step = make_step(scratch_template, side="tradingview", due_week=None)
    assert step.turnaround_days == 3
    assert step.due_label == "3 working days after it becomes actionable"
    step.turnaround_days = 5
    assert step.due_label == "5 working days after it becomes actionable"
    assert make_step(scratch_template, due_week=4).due_label == "week 4"
    assert make_step(scratch_template, due_week=11, due_week_last=12).due_label == "weeks 11-12"


@pytest.mark.django_db
def test_a_task_prepared_during_the_partners_week_is_labelled_due_with_the_partners_step(scratch_template):
    make_step(scratch_template, position=1, code="build", due_week=4).save()
    task = make_step(
        scratch_template, position=2, code="prepare", side="tradingview", due_week=None, depends_on=["build"]
    )
    task.save()
    make_step(scratch_template, position=3, code="use", due_week=5, depends_on=["prepare"]).save()
    assert task.due_label == "with the partner's step before it (prepared during the partner's week)"
    # Two weeks for the partner after it: TradingView has its turnaround.
    scratch_template.steps.filter(code="use").update(due_week=6)
    assert task.due_label == "3 working days after it becomes actionable"


# --- versions -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_new_version_copies_every_step(default_template):
    default_template.freeze()
    v2 = default_template.new_version()
    assert (v2.key, v2.version, v2.name, v2.description) == (
        KEY,
        3,  # after the newest, version 2
        default_template.name,
        default_template.description,
    )
    assert v2.pk != default_template.pk
    assert v2.is_frozen is False
    assert RoadmapTemplate.objects.get(pk=v2.pk).frozen_at is None
    v1_steps = [step_fields(s) for s in default_template.steps.order_by("position")]
    v2_steps = [step_fields(s) for s in v2.steps.order_by("position")]
    assert len(v2_steps) == 15
    assert v2_steps == v1_steps
    assert v2.validate_steps() is None


@pytest.mark.django_db
def test_new_version_copies_turnaround_days(default_template):
    default_template.steps.filter(code="smoke-testing").update(turnaround_days=5)
    v2 = default_template.new_version()
    assert v2.steps.get(code="smoke-testing").turnaround_days == 5
    assert v2.steps.get(code="final-testing").turnaround_days == 3


@pytest.mark.django_db
def test_latest_returns_the_newest_version(default_template):
    assert RoadmapTemplate.latest(KEY) == RoadmapTemplate.objects.get(key=KEY, version=2)
    v3 = default_template.new_version()
    assert RoadmapTemplate.latest(KEY) == v3
    v4 = default_template.new_version()
    assert v4.version == 4
    assert RoadmapTemplate.latest(KEY) == v4


@pytest.mark.django_db
def test_latest_of_an_unknown_process_raises():
    with pytest.raises(RoadmapTemplate.DoesNotExist, match="No roadmap template with key 'nope'."):
        RoadmapTemplate.latest("nope")


@pytest.mark.django_db
def test_editing_the_new_version_leaves_the_old_one_untouched(default_template):
    default_template.freeze()
    before = [step_fields(s) for s in default_template.steps.order_by("position")]
    v2 = default_template.new_version()
    step = v2.steps.get(code="final-testing")
    step.title = "Final testing (three rounds)"
    step.checklist.append({"text": "Final testing, round 3"})
    step.depends_on.append("smoke-testing")
    step.tells_via = ["jira", "email"]
    step.full_clean()
    step.save()
    v2.steps.filter(code="beta-testing").delete()

    after = [step_fields(s) for s in RoadmapTemplate.objects.get(pk=default_template.pk).steps.order_by("position")]
    assert after == before
    v1_final = TemplateStep.objects.get(template=default_template, code="final-testing")
    assert v1_final.title == "Final testing"
    assert len(v1_final.checklist) == 3
    assert v1_final.depends_on == ["smoke-test-fixes"]
    assert v1_final.tells_via == ["jira"]
    v2_final = TemplateStep.objects.get(template=v2, code="final-testing")
    assert v2_final.title == "Final testing (three rounds)"
    assert len(v2_final.checklist) == 4
    assert v2_final.tells_via == ["jira", "email"]
    assert v2.steps.count() == 14


# --- line-up -----------------------------------------------------------------------------------------------


def test_lineup_gaps_of_an_empty_team():
    assert lineup_gaps({}) == ["1 more project manager", "2 more developers", "2 more QA specialists"]


def test_lineup_gaps_of_the_recommended_team():
    assert lineup_gaps({"pm": 1, "developer": 2, "qa": 2}) == []


def test_lineup_gaps_of_a_larger_team():
    assert lineup_gaps({"pm": 2, "developer": 5, "qa": 3}) == []


def test_lineup_gaps_singular():
    assert lineup_gaps({"pm": 1, "developer": 1, "qa": 1}) == ["1 more developer", "1 more QA specialist"]
    assert lineup_gaps({"developer": 2, "qa": 2}) == ["1 more project manager"]


# --- ChoiceListField ------------------------------------------------------------------------------------------


def stored_tells_via(step):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tells_via FROM {TemplateStep._meta.db_table} WHERE id = %s", [step.pk])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_tells_via_round_trip_in_choice_order(scratch_template):
    step = make_step(scratch_template, tells_via=["email", "slack", "email"])
    step.full_clean()
    step.save()
    assert stored_tells_via(step) == "slack,email"
    assert TemplateStep.objects.get(pk=step.pk).tells_via == ["slack", "email"]
    assert list(TemplateStep.objects.filter(pk=step.pk).values_list("tells_via", flat=True)) == [["slack", "email"]]


@pytest.mark.django_db
def test_tells_via_empty_round_trip(scratch_template):
    step = make_step(scratch_template, tells_via=[])
    step.full_clean()
    step.save()
    assert stored_tells_via(step) == ""
    assert TemplateStep.objects.get(pk=step.pk).tells_via == []


@pytest.mark.django_db
def test_tells_via_filter_by_contains(default_template):
    codes = list(
        TemplateStep.objects.filter(template=default_template, tells_via__contains="jira").values_list(
            "code", flat=True
        )
    )
    assert codes == ["smoke-testing", "smoke-test-fixes", "final-testing", "final-testing-fixes"]


@pytest.mark.django_db
def test_the_launch_is_stored_in_choice_order(default_template):
    launch = default_template.steps.get(code="open-to-all-users")
    assert stored_tells_via(launch) == "slack,email"
    assert launch.tells_via == ["slack", "email"]


@pytest.mark.django_db
def test_unknown_tells_via_value_is_refused(scratch_template):
    step = make_step(scratch_template, tells_via=["slack", "fax"])
    with pytest.raises(ValidationError) as excinfo:
        step.full_clean()
    assert excinfo.value.message_dict == {"tells_via": ["Unknown value 'fax'; choose from slack, jira, email."]}


# --- a new version keeps every setting -------------------------------------------------------------

# What a new version does not copy, on purpose: its own id, number, creation time and freeze.
RESET_BY_A_NEW_VERSION = {"id", "version", "created_at", "frozen_at"}
RESET_FOR_A_COPIED_STEP = {"id", "template"}


def _unlike_default(field, model):
    """A value for ``field`` of ``model`` that differs from the field's default, whatever its type.

    Read from the model's fields, so a field added later is set too; a type not known here fails
    the test, to be added, rather than being skipped.
    """
    default = field.get_default()
    if isinstance(field, ChoiceListField):
        return field.codes[-1:]
    if field.choices:
        return next(code for code, _ in reversed(field.flatchoices) if code != default)
    kind = field.get_internal_type()
    if kind == "JSONField":
        return [f"custom {field.name}"] if isinstance(default, list) else {"custom": field.name}
    if kind in ("CharField", "TextField", "SlugField"):
        return f"custom-{field.name}"
    if kind in ("PositiveIntegerField", "PositiveSmallIntegerField", "IntegerField", "SmallIntegerField"):
        return (default or 0) + 9
    if kind == "BooleanField":
        return not default
    if kind == "DateField":
        return date(2031, 5, 6)
    if kind == "DateTimeField":
        return datetime(2031, 5, 6, 7, 8, tzinfo=UTC)
    pytest.fail(f"{model.__name__}.{field.name} is a {kind}: say here how to give it a value unlike its default.")


@pytest.mark.django_db
def test_a_new_version_keeps_every_field_of_the_template_and_of_its_steps():
    template_fields = [f for f in RoadmapTemplate._meta.concrete_fields if f.name not in RESET_BY_A_NEW_VERSION]
    template = RoadmapTemplate.objects.create(**{f.name: _unlike_default(f, RoadmapTemplate) for f in template_fields})
    step_fields_ = [f for f in TemplateStep._meta.concrete_fields if f.name not in RESET_FOR_A_COPIED_STEP]
    TemplateStep.objects.create(template=template, **{f.name: _unlike_default(f, TemplateStep) for f in step_fields_})
    template.refresh_from_db()
    template.freeze()

    copy = template.new_version()

    copy = RoadmapTemplate.objects.get(pk=copy.pk)
    lost = {
        f.name: getattr(copy, f.name) for f in template_fields if getattr(copy, f.name) != getattr(template, f.name)
    }
    assert lost == {}, "a new version lost the template's settings"
    assert (copy.version, copy.frozen_at) == (template.version + 1, None)
    original, copied = template.steps.get(), copy.steps.get()
    lost = {
        f.name: getattr(copied, f.name) for f in step_fields_ if getattr(copied, f.name) != getattr(original, f.name)
    }
    assert lost == {}, "a new version lost its step's settings"


@pytest.mark.django_db
def test_a_pms_reminder_policy_and_jira_status_map_survive_a_new_version(default_template):
    default_template.reminder_policy = {"before_days": [5, 1], "escalate_after_days": 3}
    default_template.jira_status_map = {"Ready for QA": "done"}
    default_template.save()
    default_template.freeze()

    v2 = default_template.new_version()

    v2.refresh_from_db()
    assert v2.reminder_policy == {"before_days": [5, 1], "escalate_after_days": 3}
    assert v2.jira_status_map == {"Ready for QA": "done"}
