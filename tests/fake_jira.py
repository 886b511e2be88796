"""A fake Jira Cloud site on 127.0.0.1 for tests and benchmarks: the real ``jira`` client talks HTTP to it.

It answers what ``jira`` 3.10.5 asks of a Cloud site (see the module docstring of
``integrations.jira.client``):

- ``GET /rest/api/2/serverInfo``: ``deploymentType`` "Cloud" (``deployment_type`` to change it);
- ``GET /rest/api/2/field``: the fields with their ``id`` and ``clauseNames``;
- ``GET|POST /rest/api/2/search/jql``: ``issues`` (the test sets them) matching the JQL the pull
  sends (``project in (...) [AND updated >= "-Nm"] ORDER BY updated ASC``), ``page_size`` at a time,
  paginated by ``nextPageToken``; an unknown project is refused with 400 as Jira does;
- ``GET /rest/api/2/issue/<key>``;
- ``/rest/api/2/search``: 410 Gone, as on Jira Cloud since 2025.

Every request is recorded (``requests``, ``count()``); requests without the right basic auth get
401. ``fail_next`` answers the next requests with a status (500, 429 with ``Retry-After``, 401...),
``stall_next`` holds them longer than the client's timeout. The fake's "now" is ``datetime.now``,
so ``time_machine`` moves it with the test.

Use ``configured_fake_jira(settings)`` in a fixture (it points the JIRA_* settings at the server),
the ``fake_jira`` fixture from a conftest, or ``FakeJira()`` as a context manager.
"""

import base64
import json
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

API = "/rest/api/2"
SEARCH = f"{API}/search/jql"
JQL = re.compile(
    r'^project in \((?P<projects>[^)]*)\)(?: AND updated >= "-(?P<minutes>\d+)m")? ORDER BY updated ASC$', re.I
)
FIELDS = [
    {"id": "summary", "name": "Summary", "custom": False, "clauseNames": ["summary"]},
    {"id": "status", "name": "Status", "custom": False, "clauseNames": ["status"]},
    {"id": "labels", "name": "Labels", "custom": False, "clauseNames": ["labels"]},
    {"id": "issuetype", "name": "Issue Type", "custom": False, "clauseNames": ["issuetype", "type"]},
    {"id": "project", "name": "Project", "custom": False, "clauseNames": ["project"]},
    {"id": "updated", "name": "Updated", "custom": False, "clauseNames": ["updated", "updatedDate"]},
    {"id": "customfield_10020", "name": "Sprint", "custom": True, "clauseNames": ["Sprint", "cf[10020]"]},
]


def jira_time(moment: datetime) -> str:
    """``2026-03-20T10:00:00.000+0000``: a datetime as Jira writes ``updated``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}" + moment.strftime("%z")


def jira_issue(
    key: str, updated, *, status="To Do", category="new", labels=(), kind="Task", summary=None, issue_id=None
) -> dict:
    """An issue as Jira's search returns it; ``updated`` a datetime or Jira's own text."""
    project, number = key.rsplit("-", 1)
    return {
        "id": str(issue_id or 10000 + int(number)),
        "key": key,
        "fields": {
            "summary": summary or f"Work item {key}",
            "status": {"name": status, "statusCategory": {"key": category}},
            "labels": list(labels),
            "issuetype": {"name": kind},
            "project": {"key": project},
            "updated": updated if isinstance(updated, str) else jira_time(updated),
        },
    }


@dataclass
class Fault:
    """Answer ``times`` requests (to ``path``, when set) with ``status``, after letting ``after`` through."""

    status: int | None = None
    times: int = 1
    path: str | None = None
    after: int = 0
    retry_after: str | None = None
    stall: float = 0.0
    body: dict = field(default_factory=dict)
    raw: bytes | None = None  # a body that is not JSON (a proxy's HTML page)

    def matches(self, path: str) -> bool:
        return self.path is None or path == self.path or path.endswith(self.path)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict
    body: object
    headers: dict


class FakeJira:
    def __init__(self, user: str = "jira-bot@tradingview.example", token: str = "jira-api-token"):
        self.user = user
        self.token = token
        self.issues: list[dict] = []
        self.page_size = 100
        self.known_projects: set[str] | None = None  # None: every project exists
        self.deployment_type = "Cloud"
        self.requests: list[Request] = []
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = None
        self._thread = None

    # The test's side.

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FakeJira":
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-jira", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._release.set()  # let stalled requests end
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def count(self, path: str | None = None, method: str | None = None) -> int:
        """Requests received (to ``path``, e.g. ``"/search/jql"``, and with ``method``, when given)."""
        with self._lock:
            return sum(
                1
                for r in self.requests
                if (path is None or r.path == path or r.path.endswith(path)) and (method is None or r.method == method)
            )

    def searches(self) -> list[dict]:
        """The parameters of every search received (JQL, fields, maxResults, nextPageToken)."""
        with self._lock:
            return [r.body if r.method == "POST" else r.query for r in self.requests if r.path == SEARCH]

    def forget_requests(self):
        with self._lock:
            self.requests.clear()

    def fail_next(self, status: int, times: int = 1, *, path=None, after=0, retry_after=None, body=None, raw=None):
        """Answer the next ``times`` requests (to ``path``) with ``status``, after ``after`` good ones.

        ``body``: the JSON answered (Jira's ``errorMessages`` by default); ``raw``: bytes answered as HTML.
        """
        with self._lock:
            self._faults.append(Fault(status, times, path, after, retry_after, body=body or {}, raw=raw))

    def stall_next(self, seconds: float, times: int = 1, *, path=None, after=0):
        """Hold the next ``times`` requests (to ``path``) ``seconds`` before answering (the client gives up first)."""
        with self._lock:
            self._faults.append(Fault(None, times, path, after, stall=seconds))

    # The server's side.

    def _fault_for(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if not fault.matches(path):
                    continue
                if fault.after:
                    fault.after -= 1
                    return None
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _authorized(self, header: str | None) -> bool:
        expected = base64.b64encode(f"{self.user}:{self.token}".encode()).decode()
        return header == f"Basic {expected}"

    def answer(self, method: str, path: str, query: dict, body) -> tuple[int, object]:
        if path == f"{API}/serverInfo":
            return 200, {
                "baseUrl": self.url,
                "version": "1001.0.0-SNAPSHOT",
                "versionNumbers": [1001, 0, 0],
                "deploymentType": self.deployment_type,
                "buildNumber": 100289,
                "serverTitle": "Jira",
            }
        if path == f"{API}/field":
            return 200, FIELDS
        if path == f"{API}/search":
            return 410, {
                "errorMessages": [
                    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."
                ]
            }
        if path == SEARCH and method in ("GET", "POST"):
            params = body if method == "POST" else _query_params(query)
            return self._search(params if isinstance(params, dict) else {})
        if path.startswith(f"{API}/issue/") and method == "GET":
            key = unquote(path.rsplit("/", 1)[1])
            issue = next((i for i in self.issues if i["key"] == key or i["id"] == key), None)
            if issue is None:
                return 404, {"errorMessages": ["Issue does not exist or you do not have permission to see it."]}
            fields = query.get("fields", [""])[0].split(",") if query.get("fields") else None
            return 200, self._shown(issue, fields)
        return 404, {"errorMessages": [f"No resource at {path}."]}

    def _search(self, params: dict) -> tuple[int, object]:
        match = JQL.match(str(params.get("jql", "")).strip())
        if not match:
            return 400, {"errorMessages": [f"Error in the JQL Query: the fake does not read {params.get('jql')!r}."]}
        projects = [p.strip().strip('"').strip("'") for p in match["projects"].split(",") if p.strip()]
        unknown = [p for p in projects if self.known_projects is not None and p not in self.known_projects]
        if unknown:
            return 400, {"errorMessages": [f"The value '{p}' does not exist for the field 'project'." for p in unknown]}
        matching = [i for i in self.issues if i["fields"]["project"]["key"] in projects]
        if match["minutes"] is not None:
            since = datetime.now(UTC) - timedelta(minutes=int(match["minutes"]))
            matching = [i for i in matching if _updated(i) >= since]
        matching.sort(key=lambda i: (_updated(i), i["key"]))
        token = params.get("nextPageToken")
        start = 0
        if token:
            if not str(token).startswith("page-") or not str(token)[5:].isdigit():
                return 400, {"errorMessages": ["The provided next page token is invalid or expired."]}
            start = int(str(token)[5:])
        size = min(int(params.get("maxResults") or 50), self.page_size)
        page = matching[start : start + size]
        fields = params.get("fields")
        answer = {"issues": [self._shown(i, fields) for i in page], "isLast": start + size >= len(matching)}
        if not answer["isLast"]:
            answer["nextPageToken"] = f"page-{start + size}"
        return 200, answer

    def _shown(self, issue: dict, fields) -> dict:
        if isinstance(fields, str):
            fields = fields.split(",")
        shown = dict(issue["fields"]) if not fields or "*all" in fields else {}
        for name in fields or ():
            if name in issue["fields"]:
                shown[name] = issue["fields"][name]
        return {
            "expand": "",
            "id": issue["id"],
            "self": f"{self.url}{API}/issue/{issue['id']}",
            "key": issue["key"],
            "fields": shown,
        }


def _query_params(query: dict) -> dict:
    params = {name: values[-1] for name, values in query.items()}
    if "fields" in params:
        params["fields"] = params["fields"].split(",")
    return params


def _updated(issue: dict) -> datetime:
    return datetime.strptime(issue["fields"]["updated"], "%Y-%m-%dT%H:%M:%S.%f%z")


def _handler(fake: FakeJira):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep the test output clean
            pass

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

        def _serve(self, method):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            query = parse_qs(parts.query)
            with fake._lock:
                fake.requests.append(Request(method, parts.path, query, body, dict(self.headers)))
            fault = fake._fault_for(parts.path)
            headers = {}
            if fault and fault.stall:
                fake._release.wait(fault.stall)
                fault = None
            if fault:
                status, answer = fault.status, fault.body or {"errorMessages": [f"Fake Jira answers {fault.status}."]}
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(fault.retry_after)
                if fault.raw is not None:
                    answer = fault.raw
            elif not fake._authorized(self.headers.get("Authorization")):
                status, answer = 401, {"errorMessages": ["Client must be authenticated to access this resource."]}
            else:
                status, answer = fake.answer(method, parts.path, query, body)
            self._send(status, answer, headers)

        def _send(self, status, answer, headers):
            raw = isinstance(answer, bytes)
            data = answer if raw else json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "text/html" if raw else "application/json;charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (a stalled request)
                pass

    return Handler


@contextmanager
def configured_fake_jira(settings):
    """A running fake Jira Cloud site, with the JIRA_* ``settings`` (pytest-django's) pointing at it (timeout 1 s)."""
    with FakeJira() as fake:
        settings.JIRA_URL = fake.url
        settings.JIRA_USER = fake.user
        settings.JIRA_API_TOKEN = fake.token
        settings.JIRA_ENABLED = True
        settings.JIRA_TIMEOUT_SECONDS = 1
        yield fake


@pytest.fixture
def fake_jira(settings):
    """``configured_fake_jira`` as a fixture, for a conftest to import (a test module defines its own)."""
    with configured_fake_jira(settings) as fake:
        yield fake
