"""The Jira client: what the real ``jira`` client sends to a (fake) Jira Cloud site, and how failures are named."""

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import jira
import pytest
import time_machine

from integrations.jira import client as jira_api
from integrations.jira.client import (
    JiraPermanent,
    JiraRateLimited,
    JiraUnauthorized,
    JiraUnavailable,
    minutes_since,
    retry_after_seconds,
    search_updated,
    updated_jql,
)
from integrations.jira.issues import IssueFacts
from tests.fake_jira import SEARCH, configured_fake_jira, jira_issue

NOW = datetime(2026, 3, 20, 10, tzinfo=UTC)


@pytest.fixture
def fake_jira(settings):
    """The fake Jira Cloud site, the JIRA_* settings pointing at it."""
    with configured_fake_jira(settings) as fake:
        yield fake


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def acme_issues(fake_jira, frozen):
    fake_jira.issues = [
        jira_issue("ACME-1", NOW - timedelta(minutes=30), status="Done", category="done", labels=["roadmap-x"]),
        jira_issue("ACME-2", NOW - timedelta(minutes=8), status="In Progress", category="indeterminate"),
        jira_issue("ACME-3", NOW - timedelta(minutes=4), kind="Bug", labels=["smoke-test"]),
        jira_issue("BRK-7", NOW - timedelta(minutes=1)),
        jira_issue("OTHER-1", NOW - timedelta(minutes=1)),
    ]
    return fake_jira


def test_connecting_reads_server_info_once_with_basic_auth_and_knows_it_is_cloud(fake_jira):
    jira_client = jira_api.connect()

    assert jira_client.deploymentType == "Cloud"
    assert [(r.method, r.path) for r in fake_jira.requests] == [("GET", "/rest/api/2/serverInfo")]
    assert fake_jira.requests[0].headers["Authorization"].startswith("Basic ")
    jira_client.close()


def test_a_search_posts_the_jql_and_fields_and_returns_raw_issues_the_facts_read(acme_issues):
    issues, token = search_updated(["BRK", "ACME"], 10, None)

    assert [i["key"] for i in issues] == ["ACME-2", "ACME-3", "BRK-7"]
    assert token is None
    facts = IssueFacts.from_json(issues[0])
    assert (facts.key, facts.project_key, facts.status_name, facts.status_category) == (
        "ACME-2",
        "ACME",
        "In Progress",
        "indeterminate",
    )
    assert facts.updated == NOW - timedelta(minutes=8)
    (search,) = [r for r in acme_issues.requests if r.path == SEARCH]
    assert search.method == "POST"
    assert search.body["jql"] == 'project in ("ACME", "BRK") AND updated >= "-10m" ORDER BY updated ASC'
    assert search.body["fields"] == ["summary", "status", "labels", "issuetype", "project", "updated"]
    assert search.body["maxResults"] == 100
    assert "nextPageToken" not in search.body
    # The removed /rest/api/2/search is never asked; /field once, to map field names.
    assert [r.path for r in acme_issues.requests] == ["/rest/api/2/serverInfo", "/rest/api/2/field", SEARCH]


def test_pages_follow_the_next_page_token_on_one_client(acme_issues):
    acme_issues.page_size = 2
    jira_client = jira_api.connect()

    first, token = search_updated(["ACME", "BRK"], None, None, client=jira_client)
    second, last = search_updated(["ACME", "BRK"], None, token, client=jira_client)

    assert [i["key"] for i in first] == ["ACME-1", "ACME-2"]
    assert token == "page-2"
    assert [i["key"] for i in second] == ["ACME-3", "BRK-7"]
    assert last is None
    assert acme_issues.searches()[1]["nextPageToken"] == "page-2"
    assert acme_issues.searches()[0]["jql"] == 'project in ("ACME", "BRK") ORDER BY updated ASC'
    assert acme_issues.count("/rest/api/2/serverInfo") == acme_issues.count("/rest/api/2/field") == 1
    jira_client.close()


def test_without_server_info_the_client_would_ask_the_removed_search_which_answers_410(fake_jira):
    # Why connect() insists on serverInfo: a client that does not know it talks to Cloud uses /search.
    plain = jira.JIRA(
        server=fake_jira.url, basic_auth=(fake_jira.user, fake_jira.token), max_retries=0, get_server_info=False
    )
    with pytest.raises(JiraPermanent, match=r"\(410, searching\).*removed"), jira_api.translated("searching"):
        plain.search_issues('project = "ACME"', maxResults=10)
    assert fake_jira.count("/rest/api/2/search") == 1


@pytest.mark.parametrize(
    ("status", "retry_after", "error", "message", "seconds"),
    [
        (401, None, JiraUnauthorized, r"refused the credentials \(401\)", None),
        (403, None, JiraUnauthorized, r"refused access \(403\): Fake Jira answers 403", None),
        (429, "17", JiraRateLimited, r"rate limiting \(429\); it asked to wait 17 s", 17),
        (429, None, JiraRateLimited, r"rate limiting \(429\)\.", None),
        (500, None, JiraUnavailable, r"answered 500 \(searching issues\)", None),
        (503, "45", JiraUnavailable, r"answered 503", 45),
        (400, None, JiraPermanent, r"refused the request \(400, searching issues\): Fake Jira answers 400", None),
        (404, None, JiraPermanent, r"\(404", None),
    ],
)
def test_statuses_become_our_errors_without_retrying(fake_jira, status, retry_after, error, message, seconds):
    jira_client = jira_api.connect()
    fake_jira.fail_next(status, path=SEARCH, retry_after=retry_after)

    with pytest.raises(error, match=message) as raised:
        search_updated(["ACME"], 5, None, client=jira_client)

    assert raised.value.status == status
    assert raised.value.retry_after == seconds
    assert fake_jira.count(SEARCH) == 1  # max_retries=0: the client never sleeps and retries itself
    jira_client.close()


def test_retry_after_may_be_an_http_date(fake_jira, frozen):
    jira_client = jira_api.connect()
    fake_jira.fail_next(429, path=SEARCH, retry_after=format_datetime(NOW + timedelta(seconds=90), usegmt=True))

    with pytest.raises(JiraRateLimited) as raised:
        search_updated(["ACME"], 5, None, client=jira_client)

    assert raised.value.retry_after == 90


def test_wrong_credentials_are_refused_when_connecting(fake_jira, settings):
    settings.JIRA_API_TOKEN = "revoked-token"

    with pytest.raises(JiraUnauthorized, match=r"\(401\): check JIRA_USER and JIRA_API_TOKEN"):
        jira_api.connect()


def test_a_stalled_answer_is_a_timeout(fake_jira, settings):
    settings.JIRA_TIMEOUT_SECONDS = 0.3
    jira_client = jira_api.connect()
    fake_jira.stall_next(5, path=SEARCH)

    with pytest.raises(JiraUnavailable, match=r"did not answer within 0.3 s \(searching issues\)"):
        search_updated(["ACME"], 5, None, client=jira_client)


def test_no_server_listening_is_unavailable(fake_jira, settings):
    fake_jira.stop()  # the port is closed now

    with pytest.raises(JiraUnavailable, match="Could not connect to Jira at http://127.0.0.1:"):
        jira_api.connect()
    fake_jira.start()  # the fixture stops it again


def test_an_answer_that_is_not_json_is_unavailable(fake_jira):
    jira_client = jira_api.connect()
    fake_jira.fail_next(200, path=SEARCH, raw=b"<html><body>Down for maintenance</body></html>")

    with pytest.raises(JiraUnavailable, match="not JSON"):
        search_updated(["ACME"], 5, None, client=jira_client)


def test_a_search_answer_without_issues_is_unavailable(fake_jira):
    jira_client = jira_api.connect()
    fake_jira.fail_next(200, path=SEARCH, body={"errorMessages": []})

    with pytest.raises(JiraUnavailable, match="without a list of issues"):
        search_updated(["ACME"], 5, None, client=jira_client)


def test_a_site_that_is_not_cloud_is_refused(fake_jira):
    fake_jira.deployment_type = "Server"

    with pytest.raises(JiraPermanent, match="is not a Jira Cloud site.*'Server'"):
        jira_api.connect()


def test_server_info_that_is_not_jiras_is_refused(fake_jira):
    fake_jira.fail_next(200, path="/serverInfo", body={"hello": "world"})

    with pytest.raises(JiraPermanent, match="does not answer serverInfo as Jira does"):
        jira_api.connect()


def test_nothing_is_sent_when_jira_is_not_configured(fake_jira, settings):
    settings.JIRA_ENABLED = False

    with pytest.raises(JiraPermanent, match="Jira is not configured"):
        search_updated(["ACME"], 5, None)
    assert fake_jira.count() == 0


def test_the_jql_names_the_projects_once_each_and_the_relative_window():
    assert updated_jql(["BRK", "ACME", "BRK"], 12) == (
        'project in ("ACME", "BRK") AND updated >= "-12m" ORDER BY updated ASC'
    )
    assert updated_jql(["ACME"], None) == 'project in ("ACME") ORDER BY updated ASC'


def test_the_window_is_the_minutes_since_the_watermark_rounded_up_plus_the_overlap():
    assert minutes_since(None, NOW) is None
    assert minutes_since(NOW - timedelta(minutes=10), NOW) == 12
    assert minutes_since(NOW - timedelta(minutes=16, seconds=30), NOW) == 19
    assert minutes_since(NOW - timedelta(seconds=1), NOW) == 3
    # Jira's clock ahead of ours: never a negative window.
    assert minutes_since(NOW + timedelta(minutes=5), NOW) == 2


def test_retry_after_is_read_as_seconds_or_a_date(frozen):
    assert retry_after_seconds("120") == 120
    assert retry_after_seconds(format_datetime(NOW + timedelta(minutes=2), usegmt=True)) == 120
    assert retry_after_seconds(format_datetime(NOW - timedelta(minutes=2), usegmt=True)) == 0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
