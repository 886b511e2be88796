"""The roadmap templates admin: readable steps, drafts that stay editable, versions in use kept."""

import re
from html import unescape

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils.html import strip_tags

from integrations import plan
from roadmap.models import RoadmapTemplate
from tests.factories import IntegrationFactory, latest_default_template
from tests.integrations.helpers import KICKOFF, at, ctx

CHANGELIST = reverse("admin:roadmap_roadmaptemplate_changelist")


@pytest.fixture
def admin_client(client, pm):
    pm.is_superuser = True
    pm.save()
    client.force_login(pm)
    return client


@pytest.fixture
def frozen(integration, pm):
    """The default template, frozen by a kick-off."""
    plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))
    return RoadmapTemplate.objects.get(pk=integration.template_id)


@pytest.fixture
def draft(frozen):
    """Version 2 of the default template: a copy of its steps, editable, used by no integration."""
    return frozen.new_version()


def change_url(template):
    return reverse("admin:roadmap_roadmaptemplate_change", args=[template.pk])


def text(response) -> str:
    return re.sub(r"\s+", " ", strip_tags(response.content.decode()))


def messages_of(response):
    return [(m.level_tag, str(m)) for m in get_messages(response.wsgi_request)]


def summary_rows(response) -> list[list[str]]:
    """The readable steps table, each row's cells as text."""
    html = response.content.decode()
    table = html[html.index('<table class="template-steps stacks">') :]
    table = table[table.index("<tbody>") : table.index("</table>")]
    return [
        [re.sub(r"\s+", " ", strip_tags(cell.replace("<br>", " ").replace("<li>", " [").replace("</li>", "]"))).strip() for cell in cells]
        for cells in (re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S) for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S))
    ]  # fmt: skip


def form_data(response) -> dict:
    """What the change form would post as it stands: its fields and its inline formsets."""
    data = {}

    def add(form):
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            data[bound.html_name] = "on" if value is True else value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


# --- the readable steps table ---------------------------------------------------------------------


@pytest.mark.django_db
def test_frozen_template_shows_its_steps_in_words_only(admin_client, frozen):
    response = admin_client.get(change_url(frozen))
    assert response.status_code == 200

    rows = summary_rows(response)
    assert len(rows) == 17
    assert rows[0] == [
        "1",
        "1 · TradingView",
        "Slack/Jira onboarding slack-jira-onboarding",
        "3 working days after it becomes actionable",
        "TradingView: 3 working days",
        "-",
        "[Dedicated Slack channel created] [Partner team invited to the Slack channel] [Partner onboarded to Jira]",
        "Always Tells via Slack",
    ]
    assert rows[3] == [
        "4",
        "2 · Partner",
        "Passing REST API autotests passing-autotests",
        "week 4",
        "Partner: 17 working days",
        "[2 · TradingView · REST API autotests configuration] [1 · Partner · Data / trading endpoints implementation]",
        "[Trading endpoints autotests pass in Jenkins (only if: Integration has a trading part)] "
        "[Data endpoints autotests pass in Jenkins (only if: Data part with crypto, forex or CFD data)]",
        "Trading part, or data autotests apply Tells via Slack",
    ]
    assert rows[16][:6] == [
        "17",
        "TradingView",
        "Open to all users open-to-all-users",
        "weeks 11-12",
        "TradingView: 10 working days",
        "[7 · Partner · Beta testing]",
    ]
    # Each side's days for each step, as the plan gives them: the partner keeps its week before sandbox
    # development, production, the smoke fixes and beta testing; TradingView prepares during it and
    # hands over on the partner's due date before.
    days = {row[2].split()[-1]: row[4] for row in rows}
    due = {row[2].split()[-1]: row[3] for row in rows}
    for code in ("sandbox-development", "production-deployment", "smoke-test-fixes", "beta-testing"):
        assert days[code] == "Partner: 5 working days", code
    for code in ("sandbox-access", "request-production-urls", "smoke-testing", "closed-release"):
        assert days[code] == "TradingView: 0 working days", code
        assert unescape(due[code]) == "with the partner's step before it (prepared during the partner's week)", code
    # Final testing's two rounds share weeks 8-9: TradingView's 3 working days of testing after the
    # fixes it tests, then the 2 left in the week for the partner's fixes, twice.
    for code in ("final-testing-1", "final-testing-2"):
        assert days[code] == "TradingView: 3 working days", code
        assert unescape(due[code]) == (
            "3 working days after it becomes actionable (not prepared ahead: it works on what the partner hands over)"
        ), code
    for code, week in (("final-testing-fixes-1", 8), ("final-testing-fixes", 9)):
        assert days[code] == "Partner: 2 working days", code
        assert due[code] == f"week {week}, at least 2 working days after the hand-over", code
    # Each step's own label says what the table says: one rule (``schedule.due_words``).
    labels = {step.code: step.due_label for step in frozen.steps.all()}
    assert {code: unescape(words) for code, words in due.items()} == labels
    html = response.content.decode()
    # No raw JSON, no editable steps: the readable table only.
    assert '{"text"' not in html and "&quot;text&quot;" not in html
    assert "steps-TOTAL_FORMS" not in html
    assert (
        f"In use since {frozen.frozen_at:%-d %b %Y} (1 integration): this version and its steps can no longer "
        "change, and it cannot be deleted." in text(response)
    )


@pytest.mark.django_db
def test_draft_template_shows_the_table_and_stays_editable(admin_client, draft):
    response = admin_client.get(change_url(draft))
    assert len(summary_rows(response)) == 17
    html = response.content.decode()
    # The readable table, then the editor of the draft's steps.
    assert html.index('id="section-steps"') < html.index('id="steps-group"')
    data = form_data(response)
    assert data["steps-TOTAL_FORMS"] == 17
    title = next(k for k, v in data.items() if v == "Sandbox access configuration")
    data[title] = "Sandbox access and test plan"

    saved = admin_client.post(change_url(draft), data, follow=True)

    assert saved.status_code == 200
    assert messages_of(saved)[-1][0] == "success"
    assert draft.steps.get(code="sandbox-access").title == "Sandbox access and test plan"
    assert not [m for m in messages_of(saved) if m[0] == "warning"]
    assert "3 · TradingView Sandbox access and test plan" in text(admin_client.get(change_url(draft)))


@pytest.mark.django_db
def test_saving_a_draft_that_cannot_be_planned_is_refused_with_each_problem(admin_client, draft):
    data = form_data(admin_client.get(change_url(draft)))
    prefix = next(k for k, v in data.items() if v == "endpoints-implementation").removesuffix("-code")
    data[f"{prefix}-due_week"] = ""
    launch = next(k for k, v in data.items() if v == "open-to-all-users").removesuffix("-code")
    data[f"{launch}-due_week_last"] = ""

    refused = admin_client.post(change_url(draft), data)

    assert refused.status_code == 200  # the form again, with the errors
    assert draft.steps.get(code="endpoints-implementation").due_week == 4  # nothing saved
    assert list(refused.context["inline_admin_formsets"][0].formset.non_form_errors()) == [
        "These steps cannot be planned, so nothing was saved:",
        "Partner step 'endpoints-implementation' has no due week.",
        "The last step, 'open-to-all-users', is the launch and needs its window (a due week and a last week).",
    ]


@pytest.mark.django_db
def test_the_editor_refuses_days_kept_or_not_prepared_ahead_where_they_mean_nothing(admin_client, draft):
    data = form_data(admin_client.get(change_url(draft)))
    task = next(k for k, v in data.items() if v == "sandbox-access").removesuffix("-code")
    data[f"{task}-keeps_days"] = "2"
    partner = next(k for k, v in data.items() if v == "sandbox-development").removesuffix("-code")
    del data[f"{partner}-prepared_ahead"]  # unticked
    fixes = next(k for k, v in data.items() if v == "final-testing-fixes-1").removesuffix("-code")
    data[f"{fixes}-keeps_days"] = "41"  # more than its 8 weeks

    refused = admin_client.post(change_url(draft), data)

    assert refused.status_code == 200  # the form again, with the errors
    forms = {form["code"].value(): form for form in refused.context["inline_admin_formsets"][0].formset.forms}
    assert forms["sandbox-access"].errors["keeps_days"] == [
        "Only a step with a due week keeps days after a hand-over; a task without one is due its turnaround after it."
    ]
    assert forms["sandbox-development"].errors["prepared_ahead"] == [
        "Only a task without a due week can be prepared during the other side's week; leave it ticked."
    ]
    assert forms["final-testing-fixes-1"].errors["keeps_days"] == [
        "Keep between 1 and 40 working days (the step's 8 weeks); empty keeps the roadmap's week."
    ]
    assert draft.steps.get(code="final-testing-fixes-1").keeps_days == 2  # nothing saved


# --- versions in use are kept ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_frozen_template_cannot_be_deleted_and_says_why(admin_client, frozen):
    page = admin_client.get(change_url(frozen))
    assert "it cannot be deleted" in text(page)
    assert "deletelink" not in page.content.decode()
    assert admin_client.get(reverse("admin:roadmap_roadmaptemplate_delete", args=[frozen.pk])).status_code == 403

    refused = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [frozen.pk], "post": "yes"}, follow=True
    )

    assert refused.status_code == 200
    assert messages_of(refused) == [
        ("error", f"{frozen} is in use (frozen since {frozen.frozen_at:%-d %b %Y}; 1 integration follows it): "
                  "it cannot be deleted."),
        ("warning", "Nothing was deleted; select only versions no integration uses."),
    ]  # fmt: skip
    assert RoadmapTemplate.objects.filter(pk=frozen.pk).exists()


@pytest.mark.django_db
def test_a_draft_that_an_integration_follows_cannot_be_deleted(admin_client, draft, pm):
    IntegrationFactory(template=draft, tv_pm=pm)  # not kicked off: the draft is not frozen
    assert not draft.is_frozen
    page = admin_client.get(change_url(draft))
    assert f"{draft} cannot be deleted: 1 integration follows it." in text(page)
    assert admin_client.get(reverse("admin:roadmap_roadmaptemplate_delete", args=[draft.pk])).status_code == 403

    refused = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [draft.pk], "post": "yes"}, follow=True
    )
    assert ("error", f"{draft} cannot be deleted: 1 integration follows it.") in messages_of(refused)
    assert RoadmapTemplate.objects.filter(pk=draft.pk).exists()


@pytest.mark.django_db
def test_a_template_nobody_uses_can_be_deleted(admin_client, draft):
    page = admin_client.get(change_url(draft))
    assert "deletelink" in page.content.decode()

    done = admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [draft.pk], "post": "yes"}, follow=True
    )
    assert messages_of(done) == [("success", "Successfully deleted 1 roadmap template.")]
    assert not RoadmapTemplate.objects.filter(pk=draft.pk).exists()


@pytest.mark.django_db
def test_templates_list_counts_steps_and_integrations(admin_client, frozen, draft, pm):
    IntegrationFactory(template=frozen, tv_pm=pm)
    response = admin_client.get(CHANGELIST)
    rows = {t.version: (t.step_count, t.integration_count) for t in response.context["cl"].result_list}
    # Version 1 (fifteen steps) stays for the integrations on it; 2 has final testing's two rounds.
    assert rows == {1: (15, 0), 2: (17, 2), 3: (17, 0)}
    assert [t.version for t in response.context["cl"].result_list] == [3, 2, 1]


@pytest.mark.django_db
def test_add_page_answers(admin_client, db):
    latest_default_template()
    assert admin_client.get(reverse("admin:roadmap_roadmaptemplate_add")).status_code == 200
