"""The HTTP face of the Event Webhook: a WSGI app on waitress that hands each post to `events`.

Kept apart from verification and ingestion so the transport can change without touching what
decides whether a post counts. waitress reads every request whole on its event loop before a
worker thread sees it, so a client that sends half a request and stalls holds a connection (closed
after the read timeout), never a worker; the body limit is enforced on the announced length,
before the body is read.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from types import TracebackType
from typing import Any, cast
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import ErrorTask

from notifier.delivery.events import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Receiver,
    Rejected,
    receiver_for,
)
from notifier.settings import Settings

log = logging.getLogger(__name__)
MAX_BODY = 32 * 1024 * 1024
_LOOP_SECONDS = 1.0  # the event loop's longest wait: how soon it sees a shutdown at worst


@dataclass(frozen=True, slots=True)
class Limits:
    """What any one client can take of the server: SendGrid posts at most a few MB, quickly."""

    read_timeout: int = 30  # seconds a connection may send nothing before it is closed
    max_body: int = MAX_BODY  # bytes; a longer announced body is refused with 413, unread
    threads: int = 4  # posts applied at once (each is one database transaction)
    connections: int = 100  # open connections; more wait in the listen backlog


def _header(environ: WSGIEnvironment, name: str) -> str | None:
    value = environ.get("HTTP_" + name.upper().replace("-", "_"))
    return value if isinstance(value, str) else None


def _answer(start_response: StartResponse, status: int, payload: dict[str, Any]) -> list[bytes]:
    data = json.dumps(payload).encode("utf-8")
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


class WebhookApp:
    """The WSGI app: a signed POST of events in, the counts (or why it was refused) as JSON."""

    def __init__(self, receiver: Receiver) -> None:
        self.receiver = receiver

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, 405, {"error": "POST SendGrid events here"})
        length = int(environ.get("CONTENT_LENGTH") or 0)  # waitress checked it and the limit
        body = environ["wsgi.input"].read(length)
        try:
            report = self.receiver.receive(
                _header(environ, SIGNATURE_HEADER), _header(environ, TIMESTAMP_HEADER), body
            )
        except Rejected as rejected:
            log.warning("webhook post refused (%d): %s", rejected.status, rejected.reason)
            return _answer(start_response, rejected.status, {"error": rejected.reason})
        return _answer(start_response, 200, report.to_json())


class _JsonErrorTask(ErrorTask):
    """waitress's own refusals (413 body too large, 400 malformed, 431 headers too large) in
    JSON like every other answer, with the server's `answer_headers`: the app never sees these
    requests, so it cannot add its own."""

    def execute(self) -> None:
        error = cast(HTTPRequestParser, self.request).error
        status, reason = (error.code, error.reason) if error else (500, "Internal Server Error")
        data = json.dumps({"error": f"{reason}: {error.body}" if error else reason}).encode()
        self.status = f"{status} {reason}"
        extra = cast(_Server, self.channel.server).answer_headers
        self.response_headers = [("Content-Type", "application/json"), *extra]
        self.set_close_on_finish()
        self.content_length = len(data)
        self.write(data)


class _Channel(HTTPChannel):
    error_task_class = _JsonErrorTask

    def writable(self) -> bool:
        """Not while a worker holds the output buffer. waitress asks to write whenever output is
        buffered, but a worker appends its answer and sends it under the buffer's lock (pulling
        the trigger when it cannot send it all); meanwhile the event loop could not take the
        lock, poll() would report the socket writable at once, every turn, and the loop would
        spin, taking the interpreter lock the sending worker needs to finish. Under concurrent
        clients that spin cost several times the requests' own work."""
        if self.requests and not (self.will_close or self.close_when_flushed):
            if not self.outbuf_lock.acquire(blocking=False):
                return False
            self.outbuf_lock.release()
        return bool(super().writable())


class _Server(TcpWSGIServer):
    channel_class = _Channel
    answer_headers: tuple[tuple[str, str], ...] = ()


def bind(address: tuple[str, int]) -> socket.socket:
    """A listening socket on `address` (port 0 picks a free one), to serve from one process or
    to share among several (see delivery/prefork.py)."""
    return socket.create_server(address)


def url_of(address: tuple[str, int]) -> str:
    host, port = address
    return f"http://{host!s}:{port}"


class EventsServer:
    """A WSGI app (the webhook, or the consent pages beside it) on waitress, on `listening` or
    bound at once to an address (port 0 picks a free one); `serve_forever` runs it until
    `shutdown` is called from another thread or the process is interrupted. `headers` go on
    the answers waitress gives itself (the pages' security headers, say), which the app never
    sees."""

    def __init__(
        self,
        listening: socket.socket | tuple[str, int],
        app: WSGIApplication,
        limits: Limits,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        if not isinstance(listening, socket.socket):
            listening = bind(listening)
        self._address: tuple[str, int] = listening.getsockname()[:2]
        self._map: dict[int, Any] = {}
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self._stopped.set()  # until serve_forever runs
        adjustments = Adjustments(
            threads=limits.threads,
            channel_timeout=limits.read_timeout,
            cleanup_interval=max(1, limits.read_timeout // 4),
            max_request_body_size=limits.max_body,
            connection_limit=limits.connections,
            ident="notices",
        )
        self._server = _Server(
            app,
            map=self._map,
            _sock=listening,
            adj=adjustments,
            bind_socket=False,
            sockinfo=(listening.family, listening.type, listening.proto, listening.getsockname()),
        )
        self._server.answer_headers = tuple(headers)
        # waitress warns of every request that waits for a free thread: under load, of each one
        logging.getLogger("waitress.queue").setLevel(logging.ERROR)

    @property
    def url(self) -> str:
        return url_of(self._address)

    def serve_forever(self) -> None:
        self._stopped.clear()
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=_LOOP_SECONDS, use_poll=True, map=self._map, count=1)
        finally:
            self._stopped.set()

    def stop_soon(self) -> None:
        """Have `serve_forever` return after its current turn, without waiting for it (as a
        signal handler in the serving thread must)."""
        self._stopping.set()
        self._server.pull_trigger()

    def shutdown(self) -> None:
        """Stop `serve_forever` (running in another thread) and wait until it has returned."""
        self.stop_soon()
        self._stopped.wait()

    def server_close(self) -> None:
        """Close the listening socket and every connection; let running posts finish."""
        self._server.task_dispatcher.shutdown()
        for channel in list(self._map.values()):
            if isinstance(channel, HTTPChannel):  # its buffers too: a long answer spills to a file
                channel.handle_close()
        wasyncore.close_all(self._map)

    def __enter__(self) -> EventsServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.server_close()


def start(
    settings: Settings, host: str = "127.0.0.1", port: int = 8025, limits: Limits | None = None
) -> EventsServer:
    """Bind the server (port 0 picks a free one); a ConfigError when no public key is set."""
    app = WebhookApp(receiver_for(settings))
    return EventsServer((host, port), app, limits or Limits())


def serve_in_thread(server: EventsServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="events-server", daemon=True)
    thread.start()
    return thread
