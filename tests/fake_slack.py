"""A fake Slack Web API on 127.0.0.1 for tests: the real ``slack_sdk.WebClient`` talks HTTP to it.

It answers like Slack:

- ``POST /api/chat.postMessage`` (JSON): ``{"ok": true, "channel", "ts", "message"}``, each ``ts``
  greater than the last; the message (with ``thread_ts`` and ``metadata``) is kept in its channel;
- ``POST /api/chat.update``: replaces the text and blocks of the message ``ts`` (``message_not_found``
  when there is none);
- ``GET|POST /api/conversations.history`` and ``conversations.replies``: the channel's top-level
  messages (or one thread's) newer than ``oldest``, newest first, with their metadata when
  ``include_all_metadata`` is set; ``history_error`` makes them answer ``ok: false`` (e.g. ``missing_scope``);
- ``POST /actions/<team>/<id>/<token>``: a ``response_url``, as Slack puts in an interaction's payload
  (``response_url()`` makes one; ``host`` is its host, for ``SLACK_RESPONSE_URL_HOSTS``). It needs no
  token, answers ``{"ok": true}`` and keeps the JSON posted to it in ``replies``.

Requests without ``Authorization: Bearer <token>`` get ``invalid_auth``. Every request is recorded
(``requests``: method, JSON or form body, headers). ``fail_next(n, ...)`` scripts the next ``n`` calls:
``error="channel_not_found"`` (HTTP 200, ``ok: false``), ``status=429, retry_after=30``, ``status=500``,
``status=404, error="expired_url"``,
``stall=seconds`` (answers late, after the client gave up; the message still posts), or ``drop=True``
(reads the request, posts the message as Slack would, then closes the connection without an answer).
``methods=("response_url",)`` scripts the response_url posts only.
"""

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class _Server(ThreadingHTTPServer):
    # Slack takes many connections at once; the standard library's backlog of 5 would drop the
    # connects of a delivery posting to many channels in parallel, and the client would time out.
    request_queue_size = 128


@dataclass
class Failure:
    error: str = ""
    status: int = 200
    retry_after: int | None = None
    stall: float = 0.0
    drop: bool = False
    methods: tuple = ()  # only calls of these methods (all when empty)


@dataclass
class Call:
    method: str
    body: dict
    headers: dict = field(default_factory=dict)


class FakeSlack:
    def __init__(self, token: str = "xoxb-test-token"):
        self.token = token
        self.requests: list[Call] = []
        self.messages: dict[str, list[dict]] = {}  # channel -> messages, oldest first
        self.history_error = ""
        self.users: dict[str, str] = {}  # e-mail -> Slack user id, for users.lookupByEmail
        self.replies: list[Call] = []  # what was posted to response_urls
        self._response_urls = 0
        self._failures: list[Failure] = []
        self._ts = 0.0
        self._lock = threading.Lock()
        self._server = None
        self._thread = None
        self._release = threading.Event()

    # --- control ---

    def fail_next(self, n: int = 1, **failure):
        with self._lock:
            self._failures.extend(Failure(**failure) for _ in range(n))

    def say(self, channel: str, text: str) -> str:
        """Someone else posts in ``channel``; returns the message's ts."""
        return self._api("chat.postMessage", {"channel": channel, "text": text})["ts"]

    def calls(self, method: str) -> list[Call]:
        return [call for call in self.requests if call.method == method]

    def posts(self, channel: str | None = None) -> list[dict]:
        return [c.body for c in self.calls("chat.postMessage") if channel is None or c.body.get("channel") == channel]

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/api/"

    @property
    def host(self) -> str:
        return self._server.server_address[0]

    def response_url(self) -> str:
        """A fresh response_url on this server, as Slack sends with each interaction."""
        host, port = self._server.server_address[:2]
        with self._lock:
            self._response_urls += 1
            n = self._response_urls
        return f"http://{host}:{port}/actions/T1/{n}/r3sp0ns3t0k3n{n}"

    def start(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._handle(self)

            def do_POST(self):
                fake._handle(self)

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        # A short poll: stopping waits for the loop's next poll, at the end of every test using it.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-slack", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- the API ---

    def _next_ts(self) -> str:
        """Slack's ts: the posting moment (``time_machine`` moves it), each greater than the last."""
        self._ts = max(time.time(), self._ts + 0.0001)
        return f"{self._ts:.6f}"

    def _handle(self, request):
        parts = urlsplit(request.path)
        method = "response_url" if parts.path.startswith("/actions/") else parts.path.rsplit("/", 1)[-1]
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        content_type = request.headers.get("Content-Type", "")
        if "json" in content_type and raw:
            body = json.loads(raw)
        else:
            body = {k: v[-1] for k, v in parse_qs(raw.decode() or parts.query).items()}
            if parts.query and raw:
                body.update({k: v[-1] for k, v in parse_qs(parts.query).items()})
        with self._lock:
            call = Call(method, body, dict(request.headers))
            (self.replies if method == "response_url" else self.requests).append(call)
            failure = None
            for i, candidate in enumerate(self._failures):
                if not candidate.methods or method in candidate.methods:
                    failure = self._failures.pop(i)
                    break
        if method != "response_url" and request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._answer(request, {"ok": False, "error": "invalid_auth"})
        if failure is not None:
            if failure.status == 429:
                headers = {"Retry-After": str(failure.retry_after or 1)}
                return self._answer(request, {"ok": False, "error": "ratelimited"}, 429, headers)
            if failure.status >= 500:
                return self._answer(request, {"ok": False, "error": "internal_error"}, failure.status)
            if failure.status >= 400:
                return self._answer(request, {"ok": False, "error": failure.error or "invalid_request"}, failure.status)
            if failure.error:
                return self._answer(request, {"ok": False, "error": failure.error})
        answer = self._api(method, body)
        if failure is not None and failure.drop:
            request.close_connection = True
            request.connection.shutdown(2)  # Slack did the work; the answer is lost
            return None
        if failure is not None and failure.stall:
            self._release.wait(failure.stall)
        return self._answer(request, answer)

    def _api(self, method: str, body: dict) -> dict:
        with self._lock:
            if method == "response_url":
                return {"ok": True}
            if method == "chat.postMessage":
                channel = body.get("channel", "")
                message = {
                    "type": "message",
                    "ts": self._next_ts(),
                    "text": body.get("text", ""),
                    "blocks": body.get("blocks", []),
                    "bot_id": "B1",
                }
                if body.get("thread_ts"):
                    message["thread_ts"] = body["thread_ts"]
                if body.get("metadata"):
                    message["metadata"] = body["metadata"]
                self.messages.setdefault(channel, []).append(message)
                return {"ok": True, "channel": channel, "ts": message["ts"], "message": message}
            if method == "chat.update":
                channel, ts = body.get("channel", ""), body.get("ts", "")
                for message in self.messages.get(channel, []):
                    if message["ts"] == ts:
                        message.update(text=body.get("text", ""), blocks=body.get("blocks", []))
                        return {"ok": True, "channel": channel, "ts": ts, "text": message["text"]}
                return {"ok": False, "error": "message_not_found"}
            if method in ("conversations.history", "conversations.replies"):
                if self.history_error:
                    return {"ok": False, "error": self.history_error}
                channel = body.get("channel", "")
                oldest = float(body.get("oldest") or 0)
                found = []
                for message in self.messages.get(channel, []):
                    if float(message["ts"]) < oldest:
                        continue
                    if method == "conversations.history" and message.get("thread_ts"):
                        continue
                    if method == "conversations.replies" and body.get("ts") not in (
                        message["ts"],
                        message.get("thread_ts"),
                    ):
                        continue
                    shown = dict(message)
                    if str(body.get("include_all_metadata")).lower() not in ("true", "1"):
                        shown.pop("metadata", None)
                    found.append(shown)
                found.reverse()  # newest first
                start = int(body.get("cursor") or 0)
                limit = int(body.get("limit") or 100)
                page = found[start : start + limit]
                more = start + limit < len(found)
                answer = {"ok": True, "messages": page, "has_more": more}
                if more:
                    answer["response_metadata"] = {"next_cursor": str(start + limit)}
                return answer
            if method == "auth.test":
                return {"ok": True, "user_id": "U0BOT", "team_id": "T1"}
            if method == "users.lookupByEmail":
                user_id = self.users.get(body.get("email", ""))
                if user_id is None:
                    return {"ok": False, "error": "users_not_found"}
                return {"ok": True, "user": {"id": user_id, "profile": {"email": body["email"]}}}
        return {"ok": False, "error": "unknown_method"}

    @staticmethod
    def _answer(request, payload: dict, status: int = 200, headers: dict | None = None):
        data = json.dumps(payload).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json; charset=utf-8")
            request.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                request.send_header(name, value)
            request.end_headers()
            request.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting
