"""A SendGrid v3 Mail Send stand-in: a real HTTP server on 127.0.0.1 that validates requests.

It checks what the API documents (tsg_mail_v3.json plus SendGrid's documented limits): a bearer
key, 1-1000 personalizations and at most 1000 recipients, a from address, a subject, content
with text/plain before text/html, custom_args as an object; it answers 202 with X-Message-Id.
Faults can be queued: 429 with X-RateLimit-Reset, 5xx, 401 and 403, a dropped connection, a slow
answer ("slow", or `delay` for every request), and a 400 whose message quotes a recipient's
address, as real API errors may. "hang" keeps the request `slow_seconds` and closes without
answering or taking it (a server that never answers); "reset" resets the connection before the
body is read.
What is not an acceptance: "302"/"307" redirect to `redirect_to` (by default a login page here),
"200" is a proxy's login page, "202-no-id" a 202 without X-Message-Id, and "trickle" answers a
valid 202 one byte every `trickle_seconds`. GET answers a login page, as a proxy would.
Every request's arrival time and fault are kept in `requests`, every Authorization header
received (POST or GET) in `authorizations`. With `hold_after` set, the posts after that many
wait, read but not answered, until `release` is set: a sender held mid-send for as long as a
test needs, whatever the machine's load.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class StandIn:
    api_key: str
    server: ThreadingHTTPServer | None = None
    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    faults: deque[str] = field(default_factory=deque)
    delay: float = 0.0
    slow_seconds: float = 3.0  # how long a queued "slow" fault keeps its request waiting
    reset_at: int | None = None  # X-RateLimit-Reset of a 429 (default: one second from now)
    record: bool = True  # keep accepted bodies (tests); benchmarks only count recipients
    recipient_count: int = 0
    requests: list[tuple[float, str]] = field(default_factory=list)  # (time.time(), fault)
    redirect_to: str = ""  # where "302" and "307" send the client (default: /login here)
    trickle_seconds: float = 1.0  # the pause between two bytes of a "trickle" answer
    authorizations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    hold_after: int | None = None  # posts after this many wait for `release` (see above)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def recipients(self) -> list[str]:
        with self.lock:
            return [
                to["email"]
                for body in self.accepted
                for p in body["personalizations"]
                for to in p["to"]
            ]


def validate(body: Any) -> str | None:
    """The first problem SendGrid would report for this request body, or None."""
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    personalizations = body.get("personalizations")
    if not isinstance(personalizations, list) or not 1 <= len(personalizations) <= 1000:
        return "personalizations must hold 1 to 1000 items"
    total = 0
    for item in personalizations:
        to = item.get("to")
        if not isinstance(to, list) or not to:
            return "each personalization needs at least one 'to' address"
        total += len(to) + len(item.get("cc", [])) + len(item.get("bcc", []))
        if any("@" not in str(r.get("email", "")) for r in to):
            return "invalid recipient email"
        if "custom_args" in item and not isinstance(item["custom_args"], dict):
            return "personalization custom_args must be an object"
        subs = item.get("substitutions", {})
        if not isinstance(subs, dict) or not all(isinstance(v, str) for v in subs.values()):
            return "substitutions must map strings to strings"
    if total > 1000:
        return "at most 1000 recipients per request"
    sender = body.get("from")
    if not isinstance(sender, dict) or "@" not in str(sender.get("email", "")):
        return "from.email is required"
    if not body.get("subject") and not all(p.get("subject") for p in personalizations):
        return "subject is required"
    content = body.get("content")
    if not isinstance(content, list) or not content:
        return "content is required"
    types = [c.get("type") for c in content]
    if (
        "text/plain" in types
        and "text/html" in types
        and types.index("text/plain") > types.index("text/html")
    ):
        return "text/plain must come before text/html"
    if any(not isinstance(c.get("value"), str) or not c["value"] for c in content):
        return "content values must be non-empty strings"
    if "custom_args" in body and not isinstance(body["custom_args"], dict):
        return "custom_args must be an object"  # the spec says string; the API takes an object
    reply_to = body.get("reply_to")
    if reply_to is not None and (
        not isinstance(reply_to, dict) or "@" not in str(reply_to.get("email", ""))
    ):
        return "reply_to.email is required"
    if reply_to is not None and "reply_to_list" in body:
        return "use either reply_to or reply_to_list, not both"
    for where in (body, *personalizations):
        problem = _headers_problem(where.get("headers"))
        if problem:
            return problem
        custom = {**body.get("custom_args", {}), **where.get("custom_args", {})}
        if len(json.dumps(custom).encode()) > 10_000:
            return "custom_args may not exceed 10,000 bytes"
    categories = body.get("categories", [])
    if len(categories) > 10 or any(len(str(c)) > 255 for c in categories):
        return "at most 10 categories of at most 255 characters"
    if body.get("mail_settings", {}).get("bypass_list_management"):
        return "bypass_list_management is not allowed here"
    return None


RESERVED_HEADERS = {
    "x-sg-id",
    "x-sg-eid",
    "received",
    "dkim-signature",
    "content-type",
    "content-transfer-encoding",
    "to",
    "from",
    "subject",
    "reply-to",
    "cc",
    "bcc",
}


def _headers_problem(headers: Any) -> str | None:
    if headers is None:
        return None
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        return "headers must map header names to strings"
    reserved = sorted(name for name in headers if name.lower() in RESERVED_HEADERS)
    return f"headers may not override {', '.join(reserved)}" if reserved else None


def start(api_key: str = "SG.not.a.real.key") -> StandIn:
    stand_in = StandIn(api_key)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def _answer(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _login_page(self, status: int = 200, headers: dict[str, str] | None = None) -> None:
            page = b"<html><body><form action='/login'>Sign in</form></body></html>"
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def _trickle(self) -> None:
            answer = (
                f"HTTP/1.1 202 Accepted\r\nX-Message-Id: {uuid.uuid4().hex[:22]}\r\n"
                "Content-Length: 0\r\n\r\n"
            ).encode()
            self.close_connection = True
            for byte in answer:
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:  # the client gave up
                    return
                time.sleep(stand_in.trickle_seconds)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            with stand_in.lock:
                stand_in.requests.append((time.time(), "GET"))
                stand_in.authorizations.append(self.headers.get("Authorization", ""))
            self._login_page()

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            with stand_in.lock:
                fault = stand_in.faults.popleft() if stand_in.faults else ""
                stand_in.requests.append((time.time(), fault))
                stand_in.authorizations.append(self.headers.get("Authorization", ""))
                held = stand_in.hold_after is not None and len(stand_in.requests) > (
                    stand_in.hold_after
                )
            if fault == "reset":  # RST mid-request: SO_LINGER 0, then close
                linger = struct.pack("ii", 1, 0)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                self.close_connection = True
                self.connection.close()
                return
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            if held:
                stand_in.release.wait(120)
            if stand_in.delay or fault == "slow":
                time.sleep(stand_in.slow_seconds if fault == "slow" else stand_in.delay)
            if fault == "hang":
                time.sleep(stand_in.slow_seconds)
            if fault in ("drop", "hang"):
                self.close_connection = True
                self.connection.close()
                return
            if fault in ("302", "307"):
                target = stand_in.redirect_to or f"{stand_in.url}/login"
                self._login_page(int(fault), {"Location": target})
                return
            if fault == "200":
                self._login_page()
                return
            if fault == "trickle":
                self._trickle()
                return
            if fault == "429":
                reset = str(stand_in.reset_at or int(time.time()) + 1)
                self._answer(
                    429,
                    {"errors": [{"message": "too many requests"}]},
                    {"X-RateLimit-Reset": reset, "X-RateLimit-Remaining": "0"},
                )
                return
            if fault in ("500", "502", "503"):
                self._answer(int(fault), {"errors": [{"message": "server error"}]}, {})
                return
            if fault in ("401", "403"):  # the key refused, or not allowed to send
                self._answer(int(fault), {"errors": [{"message": "access forbidden"}]}, {})
                return
            if self.path != "/v3/mail/send":
                self._answer(404, {"errors": [{"message": "not found"}]}, {})
                return
            if self.headers.get("Authorization") != f"Bearer {stand_in.api_key}":
                self._answer(401, {"errors": [{"message": "authorization required"}]}, {})
                return
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            problem = validate(body)
            if fault == "400" and not problem:
                first = body["personalizations"][0]["to"][0]["email"]
                problem = f"The to email {first} is on a list this account may not mail"
            if problem:
                with stand_in.lock:
                    stand_in.rejected.append((400, problem))
                self._answer(400, {"errors": [{"message": problem}]}, {})
                return
            with stand_in.lock:
                stand_in.recipient_count += sum(len(p["to"]) for p in body["personalizations"])
                if stand_in.record:
                    stand_in.accepted.append(body)
            self.send_response(202)
            if fault != "202-no-id":
                self.send_header("X-Message-Id", uuid.uuid4().hex[:22])
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = _Server(("127.0.0.1", 0), Handler)
    stand_in.server = server
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return stand_in


class _Server(ThreadingHTTPServer):
    """Like the real API, it takes every connection: http.server's backlog of 5 refuses some
    when several senders connect at once on a busy machine, which the real API never does."""

    daemon_threads = True
    request_queue_size = 128


def stop(stand_in: StandIn) -> None:
    if stand_in.server is not None:
        stand_in.server.shutdown()
        stand_in.server.server_close()
