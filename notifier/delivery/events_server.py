"""The HTTP face of the Event Webhook: a small stdlib server that hands each post to `events`.

Kept apart from verification and ingestion so the transport can change (a WSGI app behind a
proxy) without touching what decides whether a post counts.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from notifier.delivery.events import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Receiver,
    Rejected,
    receiver_for,
)
from notifier.settings import Settings
from notifier.storage import db

log = logging.getLogger(__name__)
MAX_BODY = 32 * 1024 * 1024


class EventsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], receiver: Receiver) -> None:
        super().__init__(address, _Handler)
        self.receiver = receiver

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    server: EventsServer
    protocol_version = "HTTP/1.1"

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self.close_connection = True
            self._answer(411, {"error": "Content-Length is required"})
            return
        if length < 0 or length > MAX_BODY:
            self.close_connection = True
            self._answer(413, {"error": "body too large"})
            return
        body = self.rfile.read(length)
        try:
            report = self.server.receiver.receive(
                self.headers.get(SIGNATURE_HEADER), self.headers.get(TIMESTAMP_HEADER), body
            )
        except Rejected as rejected:
            log.warning("webhook post refused (%d): %s", rejected.status, rejected.reason)
            self._answer(rejected.status, {"error": rejected.reason})
            return
        self._answer(200, report.to_json())

    def do_GET(self) -> None:  # noqa: N802
        self._answer(405, {"error": "POST SendGrid events here"})

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("%s " + format, self.address_string(), *args)


def start(settings: Settings, host: str = "127.0.0.1", port: int = 8025) -> EventsServer:
    """Bind the server (port 0 picks a free one); a ConfigError when no public key is set."""
    receiver = receiver_for(db.engine(settings), settings.webhook_public_key)
    return EventsServer((host, port), receiver)


def serve_in_thread(server: EventsServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="events-server", daemon=True)
    thread.start()
    return thread
