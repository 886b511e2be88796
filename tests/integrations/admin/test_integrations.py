"""The integrations admin: what each page shows, at a query count that does not grow with the data,
and operations that refuse with the service's reason."""

import html
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from integrations import plan
from integrations.agreed_launch import agree_launch
from integrations.models import Integration, IntegrationEvent, StepChange
from integrations.standing import refresh_running, standing
from integrations.steps import block_step, complete_step, start_step
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory
from tests.integrations.helpers import KICKOFF, at, ctx, step

CHANGELIST = "/admin/integrations/integration/"
STEP_LABELS = {
    "slack-jira-onboarding": "1 · TradingView · Slack/Jira onboarding",
    "autotests-configuration": "2 · TradingView · REST API autotests configuration",
    "endpoints-implementation": "1 · Partner · Data / trading endpoints implementation",
    "passing-autotests": "2 · Partner · Passing REST API autotests",
    "sandbox-access": "3 · TradingView · Sandbox access configuration",
    "open-to-all-users": "TradingView · Open to all users",
}


@pytest.fixture
def admin_client(client, pm):
    pm.is_superuser = True
    pm.save()
    client.force_login(pm)
    return client


def kicked_off(n, pm, **factory_kwargs):
    integrations = []
    for _ in range(n):
        integration = IntegrationFactory(tv_pm=pm, **factory_kwargs)
        integrations.append(plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9))))
    return integrations


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def change_url(integration):
    return reverse("admin:integrations_integration_change", args=[integration.pk])


def step_url(s):
    return reverse("admin:integrations_integrationstep_change", args=[s.pk])


def operation_url(obj, name):
    model = "integrationstep" if hasattr(obj, "integration_id") else "integration"
    return reverse(f"admin:integrations_{model}_operation", args=[obj.pk, name])


def queries_for(client, url) -> int:
    """The queries a page costs once process-wide caches (content types, sessions) are warm."""
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def text(response) -> str:
    """The page's text with tags stripped and whitespace collapsed."""
    return re.sub(r"\s+", " ", strip_tags(response.content.decode()))


def result_rows(response) -> dict[str, list[str]]:
    """The changelist's rows, by integration: each cell's text, lines joined by " | "."""
    html = response.content.decode()
    body = html[html.index('id="result_list"') :]
    rows = re.findall(r"<tr>(.*?)</tr>", body[body.index("<tbody>") :], flags=re.S)
    by_name = {}
    for row in rows:
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, flags=re.S)
        texts = [re.sub(r"\s+", " ", strip_tags(cell.replace("<br>", " | "))).strip() for cell in cells[1:]]
        by_name[texts[0]] = texts
    return by_name


def operation_labels(response) -> list[str]:
    return [label for label, _url in response.context["operation_links"]]


# --- the integrations list ------------------------------------------------------------------------


@pytest.mark.django_db
def test_changelist_query_count_does_not_grow_with_rows(admin_client, pm):
    first = kicked_off(2, pm)
    block_step(step(first[0], "slack-jira-onboarding"), ctx(pm, "2026-03-03", note="No Slack workspace yet."))
    few = queries_for(admin_client, CHANGELIST)

    more = kicked_off(8, pm)
    for integration in more[:4]:
        block_step(step(integration, "endpoints-implementation"), ctx(pm, "2026-03-03", note="Waiting on specs."))
    response = admin_client.get(CHANGELIST)

    assert response.context["cl"].result_count == 10
    assert queries_for(admin_client, CHANGELIST) == few == 7


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", 3),
        ("ball_side=both", 2),
        ("ball_side=partner", 0),
        ("overdue=yes", 2),
        ("overdue=no", 1),
        ("blocked=yes", 1),
        ("blocked=no", 2),
        ("data_type=crypto", 2),
        ("data_type=stocks", 1),
        ("state=paused", 1),
    ],
)
def test_changelist_filters(admin_client, pm, query, expected):
    crypto, _ = kicked_off(2, pm)  # kicked off 2026-03-02: everything is overdue by now
    block_step(step(crypto, "slack-jira-onboarding"), ctx(pm, "2026-03-03", note="No Slack workspace yet."))
    kicked_off(1, pm, stocks_data_only=True)
    stocks = Integration.objects.get(data_types__contains="stocks")
    plan.pause(stocks, ctx(pm, "2026-03-10"))
    response = admin_client.get(f"{CHANGELIST}?{query}")
    assert response.status_code == 200
    assert response.context["cl"].result_count == expected


@pytest.mark.django_db
def test_changelist_shows_step_labels_blocked_marker_forecast_and_slip_split(admin_client, pm):
    [late] = kicked_off(1, pm, partner=PartnerFactory(name="Late Broker"))
    [blocked] = kicked_off(1, pm, partner=PartnerFactory(name="Blocked Broker"))
    # Late Broker: TradingView finishes both onboarding tasks on Tuesday 2026-03-10, due Thursday
    # 2026-03-05: 3 working days late, so every later step and the launch move 3 working days,
    # from Monday 2026-05-25 to Thursday 2026-05-28, all of it lost by TradingView.
    for code in ("slack-jira-onboarding", "autotests-configuration"):
        complete_step(step(late, code), ctx(pm, at("2026-03-10", 11)))
    # Blocked Broker: the partner's first step is blocked on day two.
    block_step(step(blocked, "endpoints-implementation"), ctx(pm, "2026-03-03", note="Waiting on the API spec."))
    refresh_running(at("2026-03-10", 12))  # the daily refresh of the stored standing

    with time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=UTC), tick=False):
        response = admin_client.get(CHANGELIST)

    rows = result_rows(response)
    assert rows["Late Broker"] == [
        "Late Broker",
        STEP_LABELS["endpoints-implementation"],
        "Partner",
        "30 Mar 2026",
        "28 May 2026 | plan 25 May 2026 (+3 wd)",
        "TradingView 3 wd",
        "alice",
    ]
    assert rows["Blocked Broker"] == [
        "Blocked Broker",
        STEP_LABELS["slack-jira-onboarding"],
        f"Both | Blocked: {STEP_LABELS['endpoints-implementation']}",
        "5 Mar 2026 | 3 working days overdue",
        "28 May 2026 | plan 25 May 2026 (+3 wd)",
        "TradingView 3 wd",
        "alice",
    ]
    html = response.content.decode()
    assert f'<a href="{step_url(step(blocked, "endpoints-implementation"))}">' in html


@pytest.mark.django_db
def test_changelist_shows_forecast_against_a_moved_baseline(admin_client, pm):
    [integration] = kicked_off(1, pm)
    plan.replan(integration, "2026-03-09", ctx(pm, at("2026-03-03", 10), note="Partner's team changed."))
    refresh_running(at("2026-03-04", 6))

    with time_machine.travel(datetime(2026, 3, 4, 12, tzinfo=UTC), tick=False):
        rows = result_rows(admin_client.get(CHANGELIST))

    [row] = rows.values()
    assert row[4:6] == ["1 Jun 2026 | plan 1 Jun 2026 (on time) | baseline 25 May 2026 (+5 wd)", "-"]


# --- the integration's page -----------------------------------------------------------------------


@pytest.mark.django_db
def test_step_inline_and_standing_show_number_side_deadlines_and_overdue(admin_client, pm, started_integration):
    # Nothing done by Tuesday 10 Mar 2026: TradingView's two tasks, due 5 Mar 2026, are 3 working
    # days (5 calendar days) overdue; the launch moves 3 working days, to 28 May 2026, charged to TradingView.
    with time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=UTC), tick=False):
        response = admin_client.get(change_url(started_integration))

    page = text(response)
    for code, label in STEP_LABELS.items():
        assert f'<a href="{step_url(step(started_integration, code))}">{label}</a>' in response.content.decode()
    standing = page[page.index("Ball in court") : page.index("Team line-up")]
    assert (
        "TradingView 1 · TradingView · Slack/Jira onboarding — deadline 5 Mar 2026, 3 working days overdue "
        "2 · TradingView · REST API autotests configuration — deadline 5 Mar 2026, 3 working days overdue "
        "Partner 1 · Partner · Data / trading endpoints implementation — deadline 30 Mar 2026 "
    ) in standing
    assert "Forecast launch 28 May 2026. Planned 25 May 2026: 3 working days late." in standing
    assert "Baseline (the first plan) 25 May 2026: 3 working days late." in standing
    assert "3 working days behind the plan: TradingView 3, partner 0, both at once 0." in standing


@pytest.mark.django_db
def test_standing_of_a_late_hand_over_shows_the_moved_deadline(admin_client, pm, started_integration):
    for code in ("slack-jira-onboarding", "autotests-configuration"):
        complete_step(step(started_integration, code), ctx(pm, "2026-03-05"))
    # The partner finishes its endpoints on Thursday 2 Apr 2026, three days after its deadline:
    # the autotests it owes next keep their time and move from 30 Mar 2026 too.
    complete_step(step(started_integration, "endpoints-implementation"), ctx(pm, "2026-04-02"))

    with time_machine.travel(datetime(2026, 4, 2, 13, tzinfo=UTC), tick=False):
        page = text(admin_client.get(change_url(started_integration)))

    standing = page[page.index("Ball in court") : page.index("Team line-up")]
    assert (
        "Partner 2 · Partner · Passing REST API autotests — deadline 2 Apr 2026 "
        "(planned 30 Mar 2026; moved by a late hand-over)"
    ) in standing
    assert "Forecast launch 28 May 2026. Planned 25 May 2026: 3 working days late." in standing
    assert "3 working days behind the plan: TradingView 0, partner 3, both at once 0." in standing


@pytest.mark.django_db
def test_standing_of_a_paused_integration_is_shown_as_if_resumed_today(admin_client, pm, started_integration):
    plan.pause(started_integration, ctx(pm, "2026-03-04"))

    # Paused from Wednesday 4 Mar 2026 to Monday 9 Mar 2026: 3 working days (Wed, Thu, Fri) that no
    # longer count, so the deadlines of Thursday 5 Mar 2026 would move to Tuesday 10 Mar 2026 and the
    # launch from 25 May 2026 to 28 May 2026.
    with time_machine.travel(datetime(2026, 3, 9, 12, tzinfo=UTC), tick=False):
        page = text(admin_client.get(change_url(started_integration)))

    standing = page[page.index("Standing") : page.index("Team line-up")]
    assert "Paused since 4 Mar 2026 (5 calendar days): the clock is stopped for both sides." in standing
    assert "Shown as if resumed today: the paused working days do not count" in standing
    assert "Nobody while paused. If resumed today: TradingView 1 · TradingView · Slack/Jira onboarding" in standing
    assert "Slack/Jira onboarding — deadline 10 Mar 2026 " in standing
    assert "Forecast launch 28 May 2026 (if resumed today)." in standing
    assert (
        "Baseline (the first plan) 25 May 2026: 3 working days late; re-planning and pauses moved the plan 3 working days."
        in standing
    )
    assert "overdue" not in standing


@pytest.mark.django_db
def test_standing_of_a_paused_integration_keeps_its_slip(admin_client, pm, started_integration):
    # Paused on Tuesday 10 Mar 2026 with TradingView's two tasks 5 days overdue: forecast launch
    # 28 May 2026, 3 days behind the plan. A week later, as if resumed, the plan and the
    # forecast have both moved the 5 working days paused: planned 1 Jun 2026, forecast 4 Jun 2026.
    plan.pause(started_integration, ctx(pm, at("2026-03-10", 13)))

    with time_machine.travel(datetime(2026, 3, 17, 14, tzinfo=UTC), tick=False):
        page = text(admin_client.get(change_url(started_integration)))

    standing = page[page.index("Standing") : page.index("Team line-up")]
    assert "would be 3 working days overdue" in standing  # 5 calendar days
    assert "Forecast launch 4 Jun 2026 (if resumed today). Planned 1 Jun 2026: 3 working days late." in standing
    assert "3 working days behind the plan: TradingView 3, partner 0, both at once 0." in standing


@pytest.mark.django_db
def test_history_merges_step_changes_and_events_newest_first_in_words(admin_client, pm, started_integration):
    onboarding = step(started_integration, "slack-jira-onboarding")
    start_step(onboarding, ctx(pm, at("2026-03-03", 10)))
    block_step(onboarding, ctx(pm, at("2026-03-04", 10), note="No Slack workspace yet."))
    plan.pause(started_integration, ctx(pm, at("2026-03-05", 10), note="Partner's budget review."))

    response = admin_client.get(change_url(started_integration))

    history = response.context["history"]
    assert history.total == 1 + 17 + 2 + 1
    assert [(f"{r.at:%Y-%m-%d %H:%M}", r.subject, r.change, r.who, r.source, r.note) for r in history.rows[:5]] == [
        ("2026-03-05 10:00", "Integration", "Paused on 5 Mar 2026", "alice", "Web", "Partner's budget review."),
        ("2026-03-04 10:00", STEP_LABELS["slack-jira-onboarding"], "In progress → Blocked", "alice", "Web",
         "No Slack workspace yet."),
        ("2026-03-03 10:00", STEP_LABELS["slack-jira-onboarding"], "Not started → In progress", "alice", "Web", ""),
        ("2026-03-02 09:00", "Integration", "Kicked off on 2 Mar 2026", "alice", "Web", ""),
        ("2026-03-02 09:00", STEP_LABELS["slack-jira-onboarding"], "Planned: Not started; due 5 Mar 2026", "alice",
         "Web", "Planned from TradingView REST API integration v2 for a kick-off on 2 Mar 2026."),
    ]  # fmt: skip
    page = text(response)
    assert "History" in page
    assert "In progress → Blocked" in page
    assert "in_progress" not in page
    assert "21 changes." in page
    # The history replaces the separate events inline.
    assert "events-TOTAL_FORMS" not in response.content.decode()


@pytest.mark.django_db
def test_change_page_query_count_does_not_grow_with_history_rows(admin_client, pm, started_integration):
    url = change_url(started_integration)
    StepChange.objects.filter(step__integration=started_integration).delete()
    assert IntegrationEvent.objects.filter(integration=started_integration).count() == 1
    one_row = queries_for(admin_client, url)

    others = [UserFactory(username=f"jira.user{n}") for n in range(5)]
    steps = list(started_integration.steps.all())

    def add_rows(n):
        StepChange.objects.bulk_create(
            StepChange(
                step=steps[i % len(steps)],
                from_status="not_started",
                to_status="in_progress",
                at=at("2026-03-03", 10),
                by=others[i % len(others)],
                source="jira",
                note=f"Row {i}.",
            )
            for i in range(n)
        )

    add_rows(19)
    assert admin_client.get(url).context["history"].total == 20
    assert queries_for(admin_client, url) == one_row

    add_rows(80)  # 100 rows: two pages of 50
    response = admin_client.get(url)
    assert (response.context["history"].total, len(response.context["history"].rows)) == (100, 50)
    assert "100 changes, 50 a page; page 1 of 2: 1 2" in text(response)
    assert queries_for(admin_client, url) == one_row
    second = admin_client.get(f"{url}?history_page=2")
    assert [r.change for r in second.context["history"].rows][-1] == "Kicked off on 2 Mar 2026"
    assert queries_for(admin_client, f"{url}?history_page=2") == one_row


@pytest.mark.django_db
def test_change_page_query_count_does_not_depend_on_partners_and_users(admin_client, pm, started_integration):
    def grow(n):
        for i in range(n):
            PartnerFactory(name=f"Other Partner {Integration.objects.count()}-{i}")
            UserFactory(username=f"other.user.{Integration.objects.count()}.{i}")
        IntegrationFactory(tv_pm=pm)  # another integration, so lists of them would grow too

    url = change_url(started_integration)
    add_url = reverse("admin:integrations_integration_add")
    grow(3)
    few, few_add = queries_for(admin_client, url), queries_for(admin_client, add_url)
    grow(30)
    response = admin_client.get(url)
    assert queries_for(admin_client, url) == few
    assert queries_for(admin_client, add_url) == few_add
    # The partner and people fields are search widgets holding only their current value.
    html = response.content.decode()
    assert "Other Partner" not in html
    assert "other.user" not in html
    for field in ("partner", "tv_pm", "business_manager", "tech_contact"):
        assert re.search(rf'<select name="{field}"[^>]*data-ajax--url="/admin/autocomplete/"', html), field
    assert re.search(r'<select name="template"[^>]*admin-autocomplete', admin_client.get(add_url).content.decode())


@pytest.mark.django_db
def test_http_production_url_is_refused_on_save(admin_client, integration):
    url = change_url(integration)
    form = admin_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and not isinstance(v, list)}
    data.update(
        partner=integration.partner.pk,
        template=integration.template.pk,
        data_types=["crypto"],
        trading_production_url="http://broker.example.com/api",
        **{f"{prefix}-TOTAL_FORMS": "0" for prefix in ("team", "steps")},
        **{f"{prefix}-INITIAL_FORMS": "0" for prefix in ("team", "steps")},
    )
    response = admin_client.post(url, data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "TradingView requires HTTPS" in " ".join(errors["trading_production_url"])
    integration.refresh_from_db()
    assert integration.trading_production_url == "https://broker.example.com/api"


# --- operations -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_kick_off_from_the_change_page(admin_client, pm, integration):
    url = operation_url(integration, "kick_off")
    bad = admin_client.post(url, {"kickoff_on": "2026-13-01"})
    assert bad.status_code == 200
    assert "Enter a valid date." in bad.content.decode()
    assert integration.steps.count() == 0

    far = admin_client.post(url, {"kickoff_on": "9999-12-31"}, follow=True)
    assert far.status_code == 200
    assert any("is more than 3 years from today" in m for m in messages_of(far))
    assert integration.steps.count() == 0

    response = admin_client.post(url, {"kickoff_on": "2026-11-02", "note": "Signed on Friday."})
    assert response.status_code == 302
    integration.refresh_from_db()
    assert str(integration.kickoff_on) == "2026-11-02"
    event = IntegrationEvent.objects.get(integration=integration)
    assert (event.kind, event.source, event.by, event.note) == ("kicked_off", "web", pm, "Signed on Friday.")

    again = admin_client.post(url, {"kickoff_on": "2026-11-09"}, follow=True)
    assert any("re-plan it with a new kick-off date instead" in m for m in messages_of(again))


@pytest.mark.django_db
def test_kick_off_of_a_template_that_cannot_be_planned_is_refused_with_why(admin_client, pm, integration):
    draft = integration.template.new_version()
    draft.steps.filter(code="endpoints-implementation").update(due_week=None)
    Integration.objects.filter(pk=integration.pk).update(template=draft)

    response = admin_client.post(operation_url(integration, "kick_off"), {"kickoff_on": "2026-11-02"}, follow=True)

    assert response.status_code == 200
    [message] = messages_of(response)
    assert message.startswith(f"{draft} cannot be planned: Partner step 'endpoints-implementation' has no due week.")
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["error"]
    integration.refresh_from_db()
    assert integration.kickoff_on is None
    draft.refresh_from_db()
    assert not draft.is_frozen


@pytest.mark.django_db
def test_replan_needs_a_reason(admin_client, pm, started_integration):
    url = operation_url(started_integration, "replan")
    form_page = admin_client.get(url)
    assert "Required: why the plan moves" in form_page.content.decode()
    assert form_page.context["form"].fields["note"].required

    refused = admin_client.post(url, {"kickoff_on": "2026-03-09", "note": "  "})
    assert refused.status_code == 200
    assert refused.context["form"].errors == {"note": ["This field is required."]}
    started_integration.refresh_from_db()
    assert str(started_integration.kickoff_on) == "2026-03-02"

    done = admin_client.post(url, {"kickoff_on": "2026-03-09", "note": "Partner's team changed."}, follow=True)
    assert messages_of(done) == [f"Re-planned: {started_integration}."]
    started_integration.refresh_from_db()
    assert (str(started_integration.kickoff_on), str(started_integration.baseline_launch_on)) == (
        "2026-03-09",
        "2026-05-25",
    )
    event = IntegrationEvent.objects.get(integration=started_integration, kind="replanned")
    assert event.note == "Partner's team changed."


@pytest.mark.django_db
def test_mark_done_is_not_offered_while_prerequisites_are_open_and_is_refused_with_why(
    admin_client, started_integration
):
    passing = step(started_integration, "passing-autotests")
    page = admin_client.get(step_url(passing))
    assert operation_labels(page) == ["Start", "Block", "Not applicable"]
    assert "cannot be done before the steps it depends on" in text(page)

    response = admin_client.post(operation_url(passing, "complete"), follow=True)
    assert response.status_code == 200
    [message] = messages_of(response)
    assert message == (
        f"{started_integration} — {STEP_LABELS['passing-autotests']} cannot be done before the steps it depends "
        f"on: {STEP_LABELS['autotests-configuration']} (not started); "
        f"{STEP_LABELS['endpoints-implementation']} (not started)."
    )
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["error"]
    passing.refresh_from_db()
    assert passing.status == "not_started"
    assert passing.history.count() == 1


@pytest.mark.django_db
def test_step_page_offers_the_actions_its_status_allows(admin_client, pm, started_integration):
    onboarding = step(started_integration, "slack-jira-onboarding")
    assert operation_labels(admin_client.get(step_url(onboarding))) == ["Start", "Mark done", "Block", "Not applicable"]

    block_step(onboarding, ctx(pm, "2026-03-03", note="No Slack workspace yet."))
    page = admin_client.get(step_url(onboarding))
    assert operation_labels(page) == ["Mark done", "Unblock", "Not applicable"]
    assert STEP_LABELS["slack-jira-onboarding"] in text(page)

    launch = step(started_integration, "open-to-all-users")
    assert "Not applicable" not in operation_labels(admin_client.get(step_url(launch)))

    complete_step(step(started_integration, "autotests-configuration"), ctx(pm, "2026-03-04"))
    done = admin_client.get(step_url(step(started_integration, "autotests-configuration")))
    assert operation_labels(done) == ["Reopen"]


@pytest.mark.django_db
def test_unblock_needs_a_reason_and_moves_back_to_work(admin_client, pm, started_integration):
    onboarding = step(started_integration, "slack-jira-onboarding")
    block_step(onboarding, ctx(pm, "2026-03-03", note="No Slack workspace yet."))
    url = operation_url(onboarding, "unblock")
    refused = admin_client.post(url, {"reason": ""})
    assert refused.status_code == 200
    assert "This field is required." in refused.content.decode()

    done = admin_client.post(url, {"reason": "Workspace invite accepted."}, follow=True)
    assert messages_of(done) == [f"Unblocked: {started_integration} — {STEP_LABELS['slack-jira-onboarding']}."]
    onboarding.refresh_from_db()
    assert (onboarding.status, onboarding.blocked_reason) == ("in_progress", "")


@pytest.mark.django_db
def test_block_needs_a_reason(admin_client, started_integration):
    onboarding = step(started_integration, "slack-jira-onboarding")
    url = operation_url(onboarding, "block")
    response = admin_client.post(url, {"reason": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    admin_client.post(url, {"reason": "Waiting for the partner's Slack workspace invite."})
    onboarding.refresh_from_db()
    assert (onboarding.status, onboarding.blocked_reason) == (
        "blocked",
        "Waiting for the partner's Slack workspace invite.",
    )


@pytest.mark.django_db
def test_step_changes_on_a_paused_integration_are_refused_with_the_reason(admin_client, pm, started_integration):
    plan.pause(started_integration, ctx(pm, "2026-03-04"))
    onboarding = step(started_integration, "slack-jira-onboarding")

    page = admin_client.get(step_url(onboarding))
    assert operation_labels(page) == []
    assert f"{started_integration} is paused; resume it first." in text(page)

    response = admin_client.post(operation_url(onboarding, "start"), follow=True)
    assert response.status_code == 200
    assert messages_of(response) == [f"{started_integration} is paused; resume it first."]
    onboarding.refresh_from_db()
    assert onboarding.status == "not_started"


@pytest.mark.django_db
def test_step_action_from_the_list_reports_each_refusal_and_applies_the_rest(admin_client, started_integration):
    onboarding = step(started_integration, "slack-jira-onboarding")
    passing = step(started_integration, "passing-autotests")
    response = admin_client.post(
        reverse("admin:integrations_integrationstep_changelist"),
        {"action": "complete", "_selected_action": [onboarding.pk, passing.pk]},
        follow=True,
    )
    assert response.status_code == 200
    messages = messages_of(response)
    assert len(messages) == 2
    assert "cannot be done before the steps it depends on" in messages[0]
    assert messages[1] == f"Marked done: {started_integration} — {STEP_LABELS['slack-jira-onboarding']}."
    onboarding.refresh_from_db()
    passing.refresh_from_db()
    assert (onboarding.status, passing.status) == ("done", "not_started")


@pytest.mark.django_db
def test_steps_list_shows_number_and_side(admin_client, started_integration):
    response = admin_client.get(reverse("admin:integrations_integrationstep_changelist") + "?q=sandbox")
    page = text(response)
    assert STEP_LABELS["sandbox-access"] in page
    assert "3 · Partner · Integration development in the Sandbox" in page


@pytest.mark.django_db
def test_step_page_history_in_words(admin_client, pm, started_integration):
    onboarding = step(started_integration, "slack-jira-onboarding")
    start_step(onboarding, ctx(pm, at("2026-03-03", 10)))
    response = admin_client.get(step_url(onboarding))
    rows = response.context["history"].rows
    assert [(r.change, r.who) for r in rows] == [
        ("Not started → In progress", "alice"),
        ("Planned: Not started; due 5 Mar 2026", "alice"),
    ]


@pytest.mark.django_db
def test_pages_answer_for_every_model(admin_client, pm, started_integration):
    pages = [
        "/admin/",
        CHANGELIST,
        change_url(started_integration),
        reverse("admin:integrations_integration_add"),
        reverse("admin:integrations_partner_changelist"),
        reverse("admin:integrations_partner_change", args=[started_integration.partner.pk]),
        reverse("admin:integrations_integrationstep_changelist"),
        step_url(step(started_integration, "sandbox-access")),
        reverse("admin:integrations_heartbeat_changelist"),
        reverse("admin:roadmap_roadmaptemplate_changelist"),
        reverse("admin:roadmap_roadmaptemplate_change", args=[started_integration.template.pk]),
        reverse("admin:autocomplete") + "?app_label=integrations&model_name=integration&field_name=partner&term=Ac",
        reverse("admin:autocomplete") + "?app_label=integrations&model_name=integration&field_name=tv_pm&term=al",
    ]
    for page in pages:
        assert admin_client.get(page).status_code == 200, page


@pytest.mark.django_db
def test_non_staff_cannot_use_the_admin(client):
    client.force_login(UserFactory(username="outsider"))
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert Integration.objects.count() == 0


# --- sharing a note with the partner ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_pm_shares_a_note_with_the_partner_from_the_admin(admin_client, started_integration):
    onboarding = step(started_integration, "slack-jira-onboarding")
    form_page = admin_client.get(operation_url(onboarding, "block"))
    assert "shared_with_partner" in form_page.context["form"].fields

    admin_client.post(
        operation_url(onboarding, "block"), {"reason": "Waiting for your Slack handle", "shared_with_partner": "on"}
    )
    admin_client.post(operation_url(step(started_integration, "autotests-configuration"), "block"), {"reason": "Ours"})
    admin_client.post(
        operation_url(started_integration, "pause"), {"note": "Holiday on both sides", "shared_with_partner": "on"}
    )

    shared = StepChange.objects.get(step=onboarding, to_status="blocked")
    assert (shared.note, shared.shared_with_partner) == ("Waiting for your Slack handle", True)
    assert not StepChange.objects.get(step__code="autotests-configuration", to_status="blocked").shared_with_partner
    assert IntegrationEvent.objects.get(integration=started_integration, kind="paused").shared_with_partner
    assert list(
        StepChange.objects.notes_seen_by_partner().filter(to_status="blocked").values_list("note", flat=True)
    ) == ["Waiting for your Slack handle"]


@pytest.mark.django_db
def test_standing_shows_the_slip_against_the_plan_the_agreed_launch_and_the_baseline(
    admin_client, pm, started_integration
):
    """Re-planned a week later (plan's launch 1 Jun 2026, baseline 25 May 2026), the launch agreed for Thursday
    4 Jun 2026; TradingView's first tasks, due 12 Mar 2026, are still open on 19 Mar 2026, 5 working days late:
    the forecast launch is the agreed 4 Jun 2026, on time against it, but 3 working days past the plan's launch
    and 8 past the baseline. The page said "Planned 1 Jun 2026: on time", reading the slip against the agreed
    date as the plan's."""
    plan.replan(started_integration, "2026-03-09", ctx(pm, at("2026-03-03", 10), note="Partner's team changed."))
    with time_machine.travel(at("2026-03-04", 10), tick=False):
        agree_launch(started_integration, "2026-06-04", "Mei", ctx(pm, at("2026-03-04", 10)))

    with time_machine.travel(datetime(2026, 3, 19, 12, tzinfo=UTC), tick=False):
        now = standing(started_integration)
        page = text(admin_client.get(change_url(started_integration)))

    launch = page[page.index("Forecast launch") : page.index("Slip, by who lost the days")]
    assert (now.forecast_launch.isoformat(), now.planned_launch.isoformat(), now.baseline_launch.isoformat()) == (
        "2026-06-04",
        "2026-06-01",
        "2026-05-25",
    )
    assert (now.slip_vs_plan_days, now.slip_vs_agreed_days, now.slip_vs_baseline_days) == (3, 0, 8)
    assert "Planned 1 Jun 2026: 3 working days late." in launch
    assert "Agreed 4 Jun 2026 (by Mei): on time." in launch
    assert "Baseline (the first plan) 25 May 2026: 8 working days late" in launch
    assert "3 working days behind the agreed launch" not in page  # the split adds up to the slip against it

    refresh_running(at("2026-03-19", 6))
    with time_machine.travel(datetime(2026, 3, 19, 12, tzinfo=UTC), tick=False):
        [row] = result_rows(admin_client.get(CHANGELIST)).values()
    assert row[4] == (
        "4 Jun 2026 | plan 1 Jun 2026 (+3 wd) | agreed 4 Jun 2026 (on time) | baseline 25 May 2026 (+8 wd)"
    )


def test_a_steps_page_says_when_it_is_due_as_the_template_page_does(admin_client, pm, started_integration):
    def due(code):
        page = html.unescape(text(admin_client.get(step_url(step(started_integration, code)))))
        return re.search(r"Due: (.+?) Window start:", page).group(1)

    assert due("sandbox-access") == "With the partner's step before it (prepared during the partner's week)"
    assert due("final-testing-2") == (
        "3 working days after it becomes actionable (not prepared ahead: it works on what the partner hands over)"
    )
    assert due("final-testing-fixes-1") == "Week 8, at least 2 working days after the hand-over"
    assert due("endpoints-implementation") == "Week 4"
    assert due("open-to-all-users") == "Weeks 11-12"
