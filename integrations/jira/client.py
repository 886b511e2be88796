"""The one way the product talks to Jira: the ``jira`` client, a timeout on every request, and our error family.

Everything that calls Jira goes through ``connect``, ``search_updated``, ``fetch_issue`` and
``read_field_ids``: they build the client from the settings (``JIRA_URL``, ``JIRA_USER``,
``JIRA_API_TOKEN``, ``JIRA_TIMEOUT_SECONDS``) and translate whatever goes wrong into four errors a
caller can act on:

- ``JiraUnauthorized``: 401/403, a person must fix the credentials or the Jira user's permissions;
- ``JiraRateLimited``: 429, try again after ``retry_after`` seconds;
- ``JiraUnavailable``: 5xx, a timeout, no connection, an answer that is not JSON; try again later;
- ``JiraPermanent``: any other refusal (a 400 for a JQL naming an unknown project, a 404, a site
  that is not Jira Cloud); the same request would fail again.

The client's own retries are off (``max_retries=0``): it would sleep up to a minute inside a worker
(``10 * 2**n`` s, jira 3.10.5 ``ResilientSession``); the pull keeps its own back-off in
``JiraConnection`` instead. A ``JIRAError`` as a string is Jira's whole response (headers and
body): our messages keep only the status and Jira's own error messages.
"""

import math
from datetime import datetime
from email.utils import parsedate_to_datetime

import jira
import requests
from django.conf import settings
from django.utils import timezone

# Jira Cloud removed /rest/api/2/search in 2025 (410 Gone); /rest/api/2/search/jql pages with
# nextPageToken only. The client uses it when serverInfo says deploymentType "Cloud".
SEARCH_PATH = "search/jql"
SEARCH_FIELDS = ("summary", "status", "labels", "issuetype", "project", "updated")
PAGE_SIZE = 100
# Read a little before the watermark: Jira's search is eventually consistent and our clock may
# differ from Jira's by a little.
OVERLAP_MINUTES = 2


class JiraError(Exception):
    """Something went wrong talking to Jira; ``message`` says what, in words for a PM's screen."""

    retryable = True

    def __init__(self, message: str, *, status: int | None = None, retry_after: int | None = None, jira_said: str = ""):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.jira_said = jira_said  # Jira's own error messages, in full


class JiraUnauthorized(JiraError):
    """Jira refused the credentials (401) or the access (403)."""


class JiraRateLimited(JiraError):
    """Jira asked us to slow down (429); ``retry_after`` is how many seconds it asked to wait."""


class JiraUnavailable(JiraError):
    """Jira did not answer usefully: 5xx, a timeout, no connection, not JSON. Worth trying again."""


class JiraPermanent(JiraError):
    """Jira refused the request itself; sending it again changes nothing."""

    retryable = False


def connect() -> jira.JIRA:
    """A client for the configured Jira Cloud site (one ``GET serverInfo``)."""
    if not settings.JIRA_ENABLED:
        raise JiraPermanent("Jira is not configured: set JIRA_URL, JIRA_USER and JIRA_API_TOKEN.")
    with translated("reading serverInfo"):
        client = jira.JIRA(
            server=settings.JIRA_URL,
            basic_auth=(settings.JIRA_USER, settings.JIRA_API_TOKEN),
            max_retries=0,
            timeout=settings.JIRA_TIMEOUT_SECONDS,
            get_server_info=True,
        )
    if client.deploymentType != "Cloud":
        # Without "Cloud" the client searches the removed /search (and enhanced_search_issues
        # returns None); Jira Data Center is not supported.
        client.close()
        raise JiraPermanent(
            f"{settings.JIRA_URL} is not a Jira Cloud site (serverInfo says deploymentType "
            f"{client.deploymentType!r}); only Jira Cloud is supported."
        )
    return client


def updated_jql(projects, since_minutes: int | None) -> str:
    """``project in (A, B) AND updated >= "-12m" ORDER BY updated ASC`` (no time clause when None).

    Relative minutes are read in Jira's own clock, so the Jira user's time zone does not matter
    (an absolute ``updated >= "2026-03-20 10:00"`` would be read in that user's zone).
    """
    keys = ", ".join(f'"{key}"' for key in sorted(set(projects)))
    where = f"project in ({keys})"
    if since_minutes is not None:
        where += f' AND updated >= "-{int(since_minutes)}m"'
    return f"{where} ORDER BY updated ASC"


def minutes_since(watermark: datetime | None, now: datetime) -> int | None:
    """The search window for ``watermark``: whole minutes back to it plus the overlap (None: no window)."""
    if watermark is None:
        return None
    seconds = max(0.0, (now - watermark).total_seconds())
    return math.ceil(seconds / 60) + OVERLAP_MINUTES


def search_updated(projects, since_minutes: int | None, next_page_token: str | None = None, *, client=None):
    """One page of the issues of ``projects`` updated in the last ``since_minutes``, oldest first.

    Returns ``(issues, next_page_token)``: raw issue dicts (``id``, ``key``, ``fields``) as
    ``IssueFacts.from_json`` reads them, and the token of the next page (None on the last one).
    One ``POST /rest/api/2/search/jql`` (plus ``GET serverInfo`` and, once per client,
    ``GET field`` when no ``client`` is passed): the JQL names every project, so the cost does not
    grow with the number of projects. POST, because a list of many project keys would make a GET
    URL too long.
    """
    own = client is None
    client = connect() if own else client
    try:
        with translated("searching issues"):
            # json_result: the raw page ({"issues": [...], "nextPageToken": ...}); the default
            # ResultList would fetch every page in one call and hide the token.
            page = client.enhanced_search_issues(
                updated_jql(projects, since_minutes),
                nextPageToken=next_page_token,
                maxResults=PAGE_SIZE,
                fields=list(SEARCH_FIELDS),
                use_post=True,
                json_result=True,
            )
    finally:
        if own:
            client.close()
    if not isinstance(page, dict) or not isinstance(page.get("issues"), list):
        raise JiraUnavailable("Jira answered a search without a list of issues.")
    token = page.get("nextPageToken") or None
    if token is not None and not isinstance(token, str):
        raise JiraUnavailable("Jira answered a search with a nextPageToken that is not a string.")
    return page["issues"], token


def fetch_issue(key: str, *, client=None) -> dict:
    """The issue ``key`` as Jira shows it now (``id``, ``key``, ``fields``), as ``IssueFacts.from_json`` reads it.

    One ``GET /rest/api/2/issue/<key>?fields=...`` (plus ``GET serverInfo`` when no ``client`` is passed).
    """
    own = client is None
    client = connect() if own else client
    try:
        with translated(f"reading {key}"):
            raw = client.issue(key, fields=",".join(SEARCH_FIELDS)).raw
    finally:
        if own:
            client.close()
    if not isinstance(raw, dict):
        raise JiraUnavailable(f"Jira answered {key} with something that is not an issue.")
    return raw


def read_field_ids(client) -> dict[str, str]:
    """Jira's field ids by JQL name (``GET /rest/api/2/field``), as the client translates a search's fields."""
    with translated("reading the field list"):
        fields = client.fields()
    if not isinstance(fields, list):
        raise JiraUnavailable("Jira answered the field list with something that is not a list.")
    ids = {}
    for field in fields:
        if isinstance(field, dict) and isinstance(field.get("id"), str):
            for name in field.get("clauseNames") or ():
                ids[str(name)] = field["id"]
    return ids


def use_field_ids(client, field_ids: dict[str, str]):
    """Give ``client`` field ids read earlier, so its next search does not ask for the field list again.

    jira 3.10.5 reads the list once per client (``_fields_cache``) when it is empty; a client lives
    for one pull cycle, so without this every cycle would cost one more request.
    """
    if field_ids:
        client._fields_cache_value = dict(field_ids)


class translated:
    """Turn the client's and ``requests``' exceptions raised inside into our error family."""

    def __init__(self, doing: str):
        self.doing = doing

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is None or isinstance(error, JiraError):
            return False
        ours = translate(error, self.doing)
        if ours is None:
            return False
        raise ours from error


def translate(error: BaseException, doing: str = "talking to Jira") -> JiraError | None:
    """Our error for ``error`` raised by the client (None for what is not a Jira problem)."""
    if isinstance(error, jira.JIRAError):
        return _from_status(error.status_code, _headers(error), (error.text or "").strip(), doing)
    if isinstance(error, requests.Timeout):
        return JiraUnavailable(f"Jira did not answer within {settings.JIRA_TIMEOUT_SECONDS} s ({doing}).")
    if isinstance(error, requests.ConnectionError):
        return JiraUnavailable(f"Could not connect to Jira at {settings.JIRA_URL} ({doing}).")
    if isinstance(error, ValueError):  # requests' JSONDecodeError: a proxy's or maintenance HTML page
        return JiraUnavailable(f"Jira answered with something that is not JSON ({doing}).")
    if isinstance(error, requests.RequestException):
        return JiraUnavailable(f"The request to Jira failed: {type(error).__name__} ({doing}).")
    if isinstance(error, (KeyError, TypeError)) and doing == "reading serverInfo":
        return JiraPermanent(f"{settings.JIRA_URL} does not answer serverInfo as Jira does.")
    return None


def _headers(error) -> dict:
    response = getattr(error, "response", None)
    return dict(response.headers) if response is not None and response.headers is not None else {}


def _from_status(status: int | None, headers: dict, text: str, doing: str) -> JiraError:
    said = f": {text[:300].rstrip('.')}" if text else ""
    if status is None:
        return JiraUnavailable(f"Jira gave no answer ({doing}).")
    if status == 401:
        return JiraUnauthorized(
            "Jira refused the credentials (401): check JIRA_USER and JIRA_API_TOKEN.", status=status
        )
    if status == 403:
        return JiraUnauthorized(f"Jira refused access (403){said}; the Jira user may lack permission.", status=status)
    retry_after = retry_after_seconds(headers.get("Retry-After") or headers.get("retry-after"))
    if status == 429:
        wait = f"; it asked to wait {retry_after} s" if retry_after is not None else ""
        return JiraRateLimited(f"Jira is rate limiting (429){wait}.", status=status, retry_after=retry_after)
    if status >= 500:
        return JiraUnavailable(f"Jira answered {status} ({doing}){said}.", status=status, retry_after=retry_after)
    return JiraPermanent(f"Jira refused the request ({status}, {doing}){said}.", status=status, jira_said=text)


def retry_after_seconds(value) -> int | None:
    """``Retry-After`` as whole seconds from now: delta-seconds or an HTTP date (None when absent or unreadable)."""
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    if value.isdigit():
        return int(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0, math.ceil((when - timezone.now()).total_seconds()))
