"""Fake Intercom and Zendesk APIs on loopback for the `auditor pull` tests (no internet).

A small threaded HTTP server (http.server) so that faults can be exact: a 429 with Retry-After,
a 500, a connection reset halfway through a body, a response slower than the client's timeout,
a page that repeats a cursor, a conversation whose parts are cut. The response shapes follow the
vendors' OpenAPI examples (tests/fixtures/intercom-openapi: the search page's envelope) and
API references (Zendesk's incremental cursor export, comments with cursor pagination,
users/show_many); the data is a generated month (sample_data/).
"""

from __future__ import annotations

import base64
import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.conftest import SAMPLES

Answer = tuple[int, dict[str, str], Any]


@dataclass
class Fault:
    """Answer the `nth` request whose path contains `path` (and method) with `kind`."""

    kind: str  # 429 | 429-reset | 500 | reset | slow | repeat-cursor
    path: str
    method: str = "GET"
    nth: int = 1
    seen: int = 0
    fired: bool = False


@dataclass
class FakeApi:
    """Routes and faults shared by both vendors; `answer` is the vendor's router."""

    auth: str  # the exact Authorization header expected
    faults: list[Fault] = field(default_factory=list)
    delay: float = 0.0  # seconds added to every conversation/comments GET (kill-and-resume)
    slow_seconds: float = 2.0
    log: list[tuple[str, str]] = field(default_factory=list)  # (method, path with query)
    versions: set[str | None] = field(default_factory=set)  # Intercom-Version headers seen
    forbidden: set[str] = field(default_factory=set)  # paths answered 403
    broken: set[str] = field(default_factory=set)  # paths always answered 500
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fault_for(self, method: str, path: str, raw: str) -> str | None:
        with self.lock:
            self.log.append((method, raw))
            if path in self.forbidden:
                return "403"
            if path in self.broken:
                return "500"
            for fault in self.faults:
                if fault.fired or fault.method != method or fault.path not in path:
                    continue
                fault.seen += 1
                if fault.seen == fault.nth:
                    fault.fired = True
                    return fault.kind
        return None

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: Any,
               fault: str | None) -> Answer:
        raise NotImplementedError


@contextmanager
def running(api: FakeApi) -> Iterator[FakeApi]:
    """`api` served on loopback for the block, its base URL in `api.url`."""
    http, url = serve(api)
    api.url = url  # type: ignore[attr-defined]
    try:
        yield api
    finally:
        http.shutdown()


def serve(api: FakeApi) -> tuple[ThreadingHTTPServer, str]:
    """Start `api` on 127.0.0.1 (an ephemeral port); returns the server and its base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802
            self._handle("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._handle("POST")

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            url = urlsplit(self.path)
            fault = api.fault_for(method, url.path, self.path)
            api.versions.add(self.headers.get("Intercom-Version"))
            if self.headers.get("Authorization") != api.auth:
                return self._send(401, {}, {"type": "error.list", "errors": [
                    {"code": "unauthorized", "message": "Access Token Invalid"}]})
            if fault == "429":
                return self._send(429, {"Retry-After": "1"}, {"errors": [{"message": "slow"}]})
            if fault == "429-reset":
                return self._send(429, {"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0",
                                        "X-RateLimit-Reset": str(int(time.time()) + 1)},
                                  {"errors": [{"message": "rate limit"}]})
            if fault == "403":
                return self._send(403, {}, {"errors": [{"code": "forbidden"}]})
            if fault == "500":
                return self._send(500, {}, {"errors": [{"message": "server error"}]})
            if fault == "slow":
                time.sleep(api.slow_seconds)
            if api.delay and method == "GET" and ("/conversations/" in url.path
                                                  or "/comments" in url.path):
                time.sleep(api.delay)
            body = json.loads(raw) if raw else None
            status, headers, value = api.answer(method, url.path, parse_qs(url.query), body,
                                                fault)
            if fault == "reset":
                return self._reset(status, value)
            return self._send(status, headers, value)

        def _send(self, status: int, headers: dict[str, str], value: Any) -> None:
            data = json.dumps(value).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-RateLimit-Limit", headers.pop("X-RateLimit-Limit", "1000"))
                self.send_header("X-RateLimit-Remaining",
                                 headers.pop("X-RateLimit-Remaining", "900"))
                for name, value_ in headers.items():
                    self.send_header(name, value_)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                self.close_connection = True

        def _reset(self, status: int, value: Any) -> None:
            """Headers and half the body, then a TCP reset."""
            data = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client that gave up (a timeout, a reset on purpose) is expected here

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    return int(base64.urlsafe_b64decode(cursor.encode()).decode().split(":")[1]) if cursor else 0


# --- Intercom -------------------------------------------------------------------------------

SEARCH_EXAMPLE = SAMPLES / "intercom-openapi" / "examples-2.16" / \
    "post_conversations_search_successful.json"
CONVERSATION_EXAMPLE = SAMPLES / "intercom-openapi" / "examples-2.16" / \
    "get_conversations_conversation_id_conversation_found.json"


def search_matches(conversation: dict, query: dict) -> bool:
    """Intercom's search query over created_at/updated_at with >, <, AND (what the pull sends)."""
    if "value" in query and isinstance(query["value"], list):
        results = [search_matches(conversation, q) for q in query["value"]]
        return all(results) if query.get("operator", "AND") == "AND" else any(results)
    have, want = conversation.get(query["field"]), query["value"]
    return {">": have > want, "<": have < want, "=": have == want}[query["operator"]]


@dataclass
class FakeIntercom(FakeApi):
    conversations: list[dict] = field(default_factory=list)
    truncate: set[str] = field(default_factory=set)  # ids served with 2 parts of total_count
    page_size: int = 20

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: Any,
               fault: str | None) -> Answer:
        if path == "/me":
            return 200, {}, {"type": "admin", "id": "991267690", "name": "Ops",
                             "email": "ops@example.com", "app": {"type": "app", "id_code": "x"}}
        if path == "/conversations/search" and method == "POST":
            return 200, {}, self._search(body, fault)
        if path.startswith("/conversations/") and method == "GET":
            cid = path.rsplit("/", 1)[1]
            found = next((c for c in self.conversations if str(c["id"]) == cid), None)
            if found is None:
                return 404, {}, {"type": "error.list", "errors": [{"code": "not_found"}]}
            if cid in self.truncate:
                parts = found["conversation_parts"]
                found = {**found, "conversation_parts": {
                    **parts, "conversation_parts": parts["conversation_parts"][:2]}}
            return 200, {}, found
        return 404, {}, {"type": "error.list", "errors": [{"code": "not_found"}]}

    def _search(self, body: dict, fault: str | None) -> dict:
        template = json.loads(SEARCH_EXAMPLE.read_text())
        matches = [c for c in self.conversations if search_matches(c, body["query"])]
        size = min(int(body["pagination"].get("per_page", 20)), self.page_size)
        cursor = body["pagination"].get("starting_after")
        start = _offset(cursor)
        if fault == "repeat-cursor" and start:  # a stale page, pointing at the same cursor
            start = max(0, start - size)
        page = matches[start:start + size]
        nxt = cursor if fault == "repeat-cursor" and cursor else _cursor(start + size)
        listed = [{k: v for k, v in c.items() if k != "conversation_parts"} for c in page]
        pages = {"type": "pages", "page": start // size + 1, "per_page": size,
                 "total_pages": -(-len(matches) // size)}
        if start + size < len(matches):
            pages["next"] = {"per_page": size, "starting_after": nxt}
        return {**template, "conversations": listed, "total_count": len(matches),
                "pages": pages}


def openapi_conversation() -> dict:
    """The OpenAPI example conversation (2024: outside any test window)."""
    return json.loads(CONVERSATION_EXAMPLE.read_text())


# --- Zendesk --------------------------------------------------------------------------------

def _epoch(iso: str) -> int:
    from datetime import datetime

    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


@dataclass
class FakeZendesk(FakeApi):
    tickets: list[dict] = field(default_factory=list)
    comments: dict[str, list[dict]] = field(default_factory=dict)  # by ticket id, API shape
    users: list[dict] = field(default_factory=list)
    metrics: list[dict] = field(default_factory=list)
    page_size: int = 25
    comments_page_size: int = 3

    def answer(self, method: str, path: str, query: dict[str, list[str]], body: Any,
               fault: str | None) -> Answer:
        one = {k: v[0] for k, v in query.items()}
        if path == "/api/v2/users/me.json":
            return 200, {}, {"user": {"id": 9100000101, "role": "admin", "name": "Admin"}}
        if path == "/api/v2/incremental/tickets/cursor.json":
            return 200, {"X-Rate-Limit": "10", "X-Rate-Limit-Remaining": "9"}, \
                self._export(one, fault)
        if path.startswith("/api/v2/tickets/") and path.endswith("/comments.json"):
            tid = path.split("/")[4]
            if not any(str(t["id"]) == tid for t in self.tickets):
                return 404, {}, {"error": "RecordNotFound"}
            items = self.comments.get(tid, [])
            size = min(int(one.get("page[size]", 100)), self.comments_page_size)
            start = _offset(one.get("page[after]"))
            more = start + size < len(items)
            return 200, {}, {"comments": items[start:start + size],
                             "meta": {"has_more": more,
                                      "after_cursor": _cursor(start + size) if more else None},
                             "links": {}}
        if path == "/api/v2/users/show_many.json":
            ids = set(one["ids"].split(","))
            return 200, {}, {"users": [u for u in self.users if str(u["id"]) in ids]}
        return 404, {}, {"error": "InvalidEndpoint"}

    def _export(self, one: dict[str, str], fault: str | None) -> dict:
        if "cursor" in one:
            start_time, start = (int(x) for x in
                                 base64.urlsafe_b64decode(one["cursor"]).decode().split(":"))
        else:
            start_time, start = int(one["start_time"]), 0
        matches = sorted((t for t in self.tickets if _epoch(t["updated_at"]) >= start_time),
                         key=lambda t: (_epoch(t["updated_at"]), t["id"]))
        if fault == "repeat-cursor" and start:
            start = max(0, start - self.page_size)
        page = matches[start:start + self.page_size]
        end = start + self.page_size >= len(matches)
        cursor = base64.urlsafe_b64encode(
            f"{start_time}:{start + self.page_size}".encode()).decode()
        if fault == "repeat-cursor" and "cursor" in one:
            cursor = one["cursor"]
        ids = {t["id"] for t in page}
        value: dict[str, Any] = {"tickets": page, "after_cursor": cursor, "before_cursor": None,
                                 "after_url": None, "end_of_stream": end}
        if one.get("include") == "metric_sets":
            value["metric_sets"] = [m for m in self.metrics if m["ticket_id"] in ids]
        return value
