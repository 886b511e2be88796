"""The portfolio, my queue, the CSV export and the log-in pages (integrations.dashboard.portfolio)."""

import csv
import io
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from benchmarks.portfolio import copy_portfolio
from integrations import plan
from integrations.jira.models import JiraIssue
from integrations.models import Integration, IntegrationEvent, IntegrationStep, StepChange
from integrations.read_models.portfolio import Filters, filter_portfolio
from notifications.models import OutboxMessage
from roadmap.models import StepStatus
from tests.factories import IntegrationFactory, PartnerFactory, UserFactory
from tests.integrations.helpers import KICKOFF, at, ctx, on, step

pytestmark = pytest.mark.django_db

# A day after the first two TradingView deadlines (Thu 2026-03-05): 1 day late on Friday.
FRIDAY = date(2026, 3, 6)


def kicked_off(pm, name, **fields):
    integration = IntegrationFactory(partner=PartnerFactory(name=name), tv_pm=pm, **fields)
    with on(KICKOFF, 9):
        return plan.start_integration(integration, KICKOFF, ctx(pm, at(KICKOFF, 9)))


@pytest.fixture
def staff_client(client, pm):
    client.force_login(pm)
    return client


def portfolio_of(size, pm):
    """``size`` running integrations of ``pm``: one kicked off, the rest bulk copies of it."""
    original = kicked_off(pm, "Original Broker")
    JiraIssue.objects.create(integration=original, key="ORG-1", is_bug=True, status_category="new")
    copy_portfolio(size, Integration.objects.filter(pk=original.pk).prefetch_related("steps"))
    assert Integration.objects.count() == size
    return original


# --- access ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["portfolio", "my-queue", "portfolio-csv"])
def test_anonymous_is_sent_to_log_in(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("name", ["portfolio", "my-queue", "portfolio-csv"])
def test_non_staff_gets_403(client, partner_dev, name):
    client.force_login(partner_dev)
    response = client.get(reverse(name))
    assert response.status_code == 403
    assert b"You are not allowed to see this page." in response.content


def test_non_staff_cannot_mark_done(client, partner_dev, started_integration):
    client.force_login(partner_dev)
    target = step(started_integration, "slack-jira-onboarding")
    assert client.post(reverse("queue-complete", args=[target.pk])).status_code == 403
    assert step(started_integration, "slack-jira-onboarding").status == StepStatus.NOT_STARTED


def test_login_page_is_styled_and_has_no_nav(client):
    response = client.get(reverse("login"))
    body = response.content.decode()
    assert response.status_code == 200
    assert "css/app.css" in body and 'class="card login"' in body
    assert 'aria-label="Main"' not in body
    assert 'for="id_username"' in body and 'for="id_password"' in body


def test_login_then_lands_on_the_portfolio(client, pm):
    response = client.post(reverse("login"), {"username": "alice", "password": "correct-horse-battery"}, follow=True)
    assert response.redirect_chain[-1] == (reverse("portfolio"), 302)
    assert response.status_code == 200
    bad = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert "didn&#x27;t match" in bad.content.decode() or "didn't match" in bad.content.decode()


def test_logout_and_password_pages_render(staff_client):
    assert b"Change your password" in staff_client.get(reverse("password_change")).content
    assert b"Reset your password" in staff_client.get(reverse("password_reset")).content
    response = staff_client.post(reverse("logout"), follow=True)
    assert response.redirect_chain == [(reverse("login"), 302)]
    assert b"Log in" in response.content


# --- the portfolio ------------------------------------------------------------------------------


def test_row_shows_step_ball_deadline_lateness_and_forecast(staff_client, pm):
    integration = kicked_off(pm, "Acme Broker")
    with on(FRIDAY):
        body = staff_client.get(reverse("portfolio")).content.decode()
    assert "Acme Broker" in body
    assert str(integration.current_step) in body  # "1 · TradingView · ..."
    print(body[body.find("<tbody>") : body.find("</tbody>")])
    assert 'class="badge both">Both<' in body  # TradingView's onboarding and the partner's endpoints
    assert "Thu 5 Mar 2026" in body
    assert "1 working day late" in body
    assert "25 May 2026" in body  # forecast launch
    assert "in the 11–12 week window" in body
    assert "Download CSV" in body


def test_counts_link_to_filtered_lists(staff_client, pm):
    kicked_off(pm, "Late Broker")
    blocked = kicked_off(pm, "Blocked Broker")
    with on(date(2026, 3, 4)):
        plan_step = step(blocked, "slack-jira-onboarding")
        from integrations.steps import block_step

        block_step(plan_step, ctx(pm, at(date(2026, 3, 4)), note="waiting for Slack admin"))
    with on(FRIDAY):
        response = staff_client.get(reverse("portfolio"))
        counts = {k: n for k, _label, n, _q, _t in response.context["count_links"]}
        links = {k: q for k, _label, _n, q, _t in response.context["count_links"]}
        assert counts["late"] == 2
        assert counts["blocked"] == 1
        assert "blocked=1" in links["blocked"]
        only_blocked = staff_client.get(reverse("portfolio") + "?" + links["blocked"]).content.decode()
        assert "Blocked Broker" in only_blocked and "Late Broker" not in only_blocked
        late = staff_client.get(reverse("portfolio") + "?" + links["late"]).content.decode()
        assert "Blocked Broker" in late and "Late Broker" in late
        # "Late" is the health mark, which also counts a launch forecast after its window; the count
        # and the filter list only the integrations owing a deadline passed, so they say "Overdue".
        labels = {k: label for k, label, _n, _q, _t in response.context["count_links"]}
        assert labels["late"] == "Overdue"
        assert "> Overdue</label>" in response.content.decode()


def test_filters_by_pm_side_parts_data_type_state_and_text(staff_client, pm):
    bob = UserFactory(username="bob", staff=True)
    kicked_off(pm, "Alpha Crypto")
    kicked_off(bob, "Beta Stocks", stocks_data_only=True)
    IntegrationFactory(partner=PartnerFactory(name="Gamma Draft"), tv_pm=pm)  # not kicked off: active, no plan
    Integration.objects.filter(partner__name="Gamma Draft").update(state=Integration.State.CANCELLED)

    def names(query):
        response = staff_client.get(reverse("portfolio") + "?" + query)
        return sorted(row.integration.partner.name for row in response.context["rows"])

    assert names("") == ["Alpha Crypto", "Beta Stocks"]
    assert names("pm=me") == ["Alpha Crypto"]
    assert names(f"pm={bob.pk}") == ["Beta Stocks"]
    assert names("parts=data") == ["Beta Stocks"]
    assert names("data_type=stocks") == ["Beta Stocks"]
    assert names("q=alpha") == ["Alpha Crypto"]
    assert names("side=partner") == []
    assert names("side=tradingview") == []
    assert names("side=both") == ["Alpha Crypto", "Beta Stocks"]  # onboarding and the partner's endpoints

    assert names("state=cancelled") == ["Gamma Draft"]
    assert names("state=all") == ["Alpha Crypto", "Beta Stocks", "Gamma Draft"]
    # Filters stay in the URL of the sort links and the CSV link.
    body = staff_client.get(reverse("portfolio") + "?pm=me&q=alpha").content.decode()
    assert "portfolio.csv?pm=me&amp;q=alpha" in body
    assert "?pm=me&amp;q=alpha&amp;sort=partner" in body


def test_sorting_and_pagination(staff_client, pm):
    portfolio_of(60, pm)
    first = staff_client.get(reverse("portfolio") + "?sort=partner")
    assert first.context["page"].paginator.num_pages == 2
    assert len(first.context["rows"]) == 50
    second = staff_client.get(reverse("portfolio") + "?sort=partner&page=2")
    assert len(second.context["rows"]) == 10
    names = [r.integration.partner.name for r in first.context["rows"] + second.context["rows"]]
    assert names == sorted(names)
    backwards = staff_client.get(reverse("portfolio") + "?sort=-partner")
    assert backwards.context["rows"][0].integration.partner.name == names[-1]
    assert 'aria-sort="descending"' in backwards.content.decode()
    assert "sort=partner&amp;page=2" in first.content.decode()


def test_open_jira_bugs_count(staff_client, pm):
    integration = kicked_off(pm, "Buggy Broker")
    JiraIssue.objects.create(integration=integration, key="BUG-1", is_bug=True, status_category="new")
    JiraIssue.objects.create(integration=integration, key="BUG-2", is_bug=True, status_category="indeterminate")
    JiraIssue.objects.create(integration=integration, key="BUG-3", is_bug=True, status_category="done")
    JiraIssue.objects.create(integration=integration, key="BUG-4", is_bug=True, status_category="new", deleted=True)
    JiraIssue.objects.create(integration=integration, key="TASK-1", is_bug=False, status_category="new")
    response = staff_client.get(reverse("portfolio"))
    assert response.context["rows"][0].integration.open_bugs == 2
    assert "2 open" in response.content.decode()


def test_query_count_does_not_grow_with_the_portfolio(staff_client, pm, settings):
    settings.JIRA_ENABLED = True
    settings.SLACK_ENABLED = True
    portfolio_of(5, pm)
    with CaptureQueriesContext(connection) as five:
        assert staff_client.get(reverse("portfolio")).status_code == 200
    copy_portfolio(50, Integration.objects.filter(partner__name="Original Broker").prefetch_related("steps"))
    with CaptureQueriesContext(connection) as fifty:
        response = staff_client.get(reverse("portfolio"))
    assert len(response.context["rows"]) == 50
    assert len(five) == len(fifty) == 8, [q["sql"] for q in fifty.captured_queries]


def row_query(captured) -> str:
    """The SQL of the query that read the rows (the one counting open bugs)."""
    [sql] = [q["sql"] for q in captured if "integrations_jiraissue" in q["sql"]]
    return sql


def ids_query(captured, limit: int = 50) -> str:
    """The SQL of the query that cut the page: the integrations' ids, sorted and limited."""
    [sql] = [
        q["sql"]
        for q in captured
        if q["sql"].startswith('SELECT "integrations_integration"."id" AS "pk" FROM') and f" LIMIT {limit}" in q["sql"]
    ]
    return sql


@pytest.mark.parametrize("sort", ["due", "-forecast", "partner", "slip"])
def test_the_rows_bugs_messages_and_activity_are_read_for_the_page_only(staff_client, pm, sort):
    # At 10,000 integrations the database read every row's bugs, messages and last activity before
    # cutting out 50: the page is cut on the integration table first, in a query of its own.
    portfolio_of(60, pm)
    with CaptureQueriesContext(connection) as captured:
        response = staff_client.get(reverse("portfolio"), {"sort": sort})
    rows = response.context["rows"]
    assert "integrations_jiraissue" not in ids_query(captured)  # not read to cut the page
    # The page's rows read by their ids, last in the SQL: no ORDER BY nor LIMIT of its own (put in order afterwards).
    sql = row_query(captured).replace('"', "")
    assert sql.rstrip(")").endswith(".id IN (" + ", ".join(str(row.integration.pk) for row in rows))
    assert len(rows) == 50


def test_the_counts_read_the_blocked_steps_once_not_per_integration(staff_client, pm):
    # At 10,000 integrations the blocked count probed every integration's steps: 374 ms on SQLite.
    portfolio_of(5, pm)
    with CaptureQueriesContext(connection) as captured:
        staff_client.get(reverse("portfolio"))
    [counts] = [q["sql"] for q in captured if '"launch_month"' in q["sql"]]
    assert "EXISTS" not in counts


def test_every_page_lists_the_next_rows_in_order(staff_client, pm):
    portfolio_of(120, pm)
    Integration.objects.filter(pk__in=Integration.objects.order_by("pk").values("pk")[:70]).update(delay_partner_days=3)
    expected = [i.pk for i in filter_portfolio(Filters(sort="-slip"), pm)]
    seen = []
    for number in (1, 2, 3):
        response = staff_client.get(reverse("portfolio"), {"sort": "-slip", "page": number})
        seen += [row.integration.pk for row in response.context["rows"]]
    assert seen == expected and len(seen) == 120
    assert response.context["page"].paginator.count == 120


def test_empty_states(staff_client):
    body = staff_client.get(reverse("portfolio")).content.decode()
    assert "No integrations yet." in body
    body = staff_client.get(reverse("portfolio") + "?q=nothing").content.decode()
    assert "No integration matches these filters." in body and "Clear the filters" in body


def test_health_line(staff_client, settings):
    settings.JIRA_ENABLED = False
    settings.JIRA_WEBHOOK_SECRET = ""
    settings.SLACK_ENABLED = False
    OutboxMessage.objects.create(reason_key="x1", kind="overdue", text="t", state="failed")
    body = staff_client.get(reverse("portfolio")).content.decode()
    assert "Jira sync is off" in body and "Slack is not configured" in body
    assert "1 Slack/e-mail message failed." in body


def test_health_line_says_the_webhook_still_moves_steps_when_only_the_pull_is_off(staff_client, settings):
    settings.JIRA_ENABLED = False
    settings.JIRA_WEBHOOK_SECRET = "a-secret"
    body = staff_client.get(reverse("portfolio")).content.decode()
    assert "Jira&#x27;s pull is off: steps move only with Jira&#x27;s webhook deliveries." in body
    assert "Jira sync is off" not in body


def test_health_line_counts_only_the_failed_messages(staff_client, settings):
    settings.SLACK_ENABLED = True
    for n, state in enumerate(["failed", "waiting", "failed", "sent", "failed"]):
        OutboxMessage.objects.create(reason_key=f"x{n}", kind="overdue", text="t", state=state)
    assert "3 Slack/e-mail messages failed." in staff_client.get(reverse("portfolio")).content.decode()
    OutboxMessage.objects.filter(state="failed").update(state="sent")
    assert "failed." not in staff_client.get(reverse("portfolio")).content.decode()


def test_health_line_jira_failing(staff_client, settings):
    from integrations.jira.models import JiraConnection

    settings.JIRA_ENABLED = True
    settings.SLACK_ENABLED = True
    JiraConnection.objects.create(pk=1, failing_since=at(date(2026, 3, 4), 8), failure_reason="401 Unauthorized")
    body = staff_client.get(reverse("portfolio")).content.decode()
    assert "Jira sync failing since 4 Mar 2026, 08:00" in body and "401 Unauthorized" in body
    assert "Jira sync is off" not in body


# --- CSV ------------------------------------------------------------------------------------


def test_csv_has_the_filtered_rows(staff_client, pm):
    bob = UserFactory(username="bob", staff=True)
    kicked_off(pm, "Alpha Crypto")
    kicked_off(bob, "Beta Stocks", stocks_data_only=True)
    with on(FRIDAY):
        response = staff_client.get(reverse("portfolio-csv") + "?pm=me")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [r["partner"] for r in rows] == ["Alpha Crypto"]
    assert rows[0]["working_days_late"] == "1" and rows[0]["ball"] == "both"
    assert rows[0]["next_due"] == "2026-03-05"
    everything = list(csv.DictReader(io.StringIO(staff_client.get(reverse("portfolio-csv")).content.decode())))
    assert sorted(r["partner"] for r in everything) == ["Alpha Crypto", "Beta Stocks"]


@pytest.mark.parametrize(
    "name, cell",
    [
        ('=HYPERLINK("http://evil","x")', '\'=HYPERLINK("http://evil","x")'),
        ("+1", "'+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTab Broker", "'\tTab Broker"),
        ("\rCR Broker", "'\rCR Broker"),
        ("Plain Broker", "Plain Broker"),
    ],
)
def test_csv_cells_a_spreadsheet_would_run_are_neutralised(staff_client, pm, name, cell):
    integration = kicked_off(pm, name)
    integration.name = name  # the integration's own name, a cell of its own
    integration.save(update_fields=["name"])

    with on(KICKOFF):
        response = staff_client.get(reverse("portfolio-csv"))
    rows = list(csv.DictReader(io.StringIO(response.content.decode(), newline="")))

    assert (rows[0]["partner"], rows[0]["integration"]) == (cell, cell)
    assert rows[0]["working_days_late"] == "0"  # numbers stay numbers


def test_csv_and_page_share_one_filter(pm):
    kicked_off(pm, "Alpha Crypto")
    filters = Filters.from_request({"q": "zzz", "sort": "bogus", "side": "nobody"})
    assert filters.sort == "due" and filters.side == ""
    assert list(filter_portfolio(filters, pm)) == []


# --- my queue -------------------------------------------------------------------------------


def test_queue_lists_my_actionable_tradingview_steps_most_urgent_first(staff_client, pm):
    mine = kicked_off(pm, "Mine Broker")
    kicked_off(UserFactory(username="bob", staff=True), "Not Mine Broker")
    with on(FRIDAY):
        response = staff_client.get(reverse("my-queue"))
    items = response.context["items"]
    assert [(i.integration.pk, i.step.code) for i in items] == [
        (mine.pk, "slack-jira-onboarding"),
        (mine.pk, "autotests-configuration"),
    ]
    body = response.content.decode()
    assert "Not Mine Broker" not in body and "1 working day late" in body
    assert body.count(">Mark done</button>") == 2
    assert "/calendar/" in body and "change your password" in body


def test_queue_empty_state(staff_client):
    assert "Nothing is waiting on you." in staff_client.get(reverse("my-queue")).content.decode()


def test_queue_query_count_does_not_grow(staff_client, pm):
    portfolio_of(5, pm)
    with CaptureQueriesContext(connection) as five:
        staff_client.get(reverse("my-queue"))
    copy_portfolio(50, Integration.objects.filter(partner__name="Original Broker").prefetch_related("steps"))
    with CaptureQueriesContext(connection) as fifty:
        response = staff_client.get(reverse("my-queue"))
    assert len(response.context["items"]) == 100
    # Session, user, integrations, their steps, their events (pauses do not count as overdue days);
    # the partner steps to chase: integrations, steps, events, their last reminders.
    assert len(five) == len(fifty) == 9, [q["sql"] for q in fifty.captured_queries]


def test_mark_done_redirects_with_a_message(staff_client, pm):
    integration = kicked_off(pm, "Acme Broker")
    target = step(integration, "slack-jira-onboarding")
    response = staff_client.post(reverse("queue-complete", args=[target.pk]), follow=True)
    assert response.redirect_chain == [(reverse("my-queue"), 302)]
    assert step(integration, "slack-jira-onboarding").status == StepStatus.DONE
    change = StepChange.objects.filter(step=target).latest("id")
    assert change.source == "web" and change.by == pm
    assert "is done." in response.content.decode()
    assert [i.step.code for i in response.context["items"]] == ["autotests-configuration"]


def test_mark_done_refused_shows_the_reason(staff_client, pm):
    integration = kicked_off(pm, "Paused Broker")
    plan.pause(integration, ctx(pm, note="partner on holiday"))
    target = step(integration, "slack-jira-onboarding")
    response = staff_client.post(reverse("queue-complete", args=[target.pk]), follow=True)
    assert response.status_code == 200
    assert "was not marked done" in response.content.decode() and "resume it first" in response.content.decode()
    assert step(integration, "slack-jira-onboarding").status == StepStatus.NOT_STARTED


def test_mark_done_with_htmx_returns_the_row(staff_client, pm):
    integration = kicked_off(pm, "Acme Broker")
    target = step(integration, "slack-jira-onboarding")
    response = staff_client.post(reverse("queue-complete", args=[target.pk]), headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200
    assert body.strip().startswith(f'<tr id="queue-step-{target.pk}"')
    assert "Marked done." in body and "<html" not in body
    again = staff_client.post(reverse("queue-complete", args=[target.pk]), headers={"HX-Request": "true"})
    assert 'role="alert"' in again.content.decode() and "does not apply" in again.content.decode()


def test_mark_done_needs_post(staff_client, pm):
    target = IntegrationStep.objects.filter(integration=kicked_off(pm, "Acme Broker")).first()
    assert staff_client.get(reverse("queue-complete", args=[target.pk])).status_code == 405


def test_a_row_says_when_its_slack_messages_are_stuck(client, pm, started_integration):
    from notifications.models import OutboxMessage

    for n, state in enumerate(["failed", "waiting", "sent"]):
        OutboxMessage.objects.create(
            reason_key=f"test:{n}",
            kind="reminder",
            integration=started_integration,
            channel="C1",
            text="x",
            state=state,
        )
    client.force_login(pm)

    page = client.get("/?state=all").content.decode()

    assert "Slack: 2 stuck" in page


def test_hostile_names_titles_and_notes_are_escaped_in_a_row(staff_client, pm):
    # A row is written in Python (``portfolio_row``), not by the template engine: every text a partner, a PM
    # or the plan gave comes out escaped, as the template wrote it.
    pm.first_name, pm.last_name = "<b>Pat</b>", "&co"
    pm.save()
    hostile = kicked_off(pm, '<script>alert("x")</script> FX')
    Integration.objects.filter(pk=hostile.pk).update(name="<i>Data</i> & 'trading'")
    IntegrationStep.objects.filter(pk=hostile.current_step_id).update(title='<img src=x onerror="alert(1)">')
    gone = kicked_off(pm, "Gone <Broker>")
    Integration.objects.filter(pk=gone.pk).update(state=Integration.State.CANCELLED, cancelled_on=FRIDAY)
    IntegrationEvent.objects.create(
        integration=gone, kind=IntegrationEvent.Kind.CANCELLED, source="web", note='<a href="x">why</a>', at=at(FRIDAY)
    )

    body = staff_client.get(reverse("portfolio") + "?state=all").content.decode()

    assert "<script>" not in body and "<img src=x" not in body and '<a href="x">' not in body
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; FX</a>" in body
    assert "&lt;i&gt;Data&lt;/i&gt; &amp; &#x27;trading&#x27;" in body
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in body
    assert "&lt;b&gt;Pat&lt;/b&gt; &amp;co" in body
    assert "Gone &lt;Broker&gt;" in body and "&lt;a href=&quot;x&quot;&gt;why&lt;/a&gt;" in body
