"""The Event Webhook's server (waitress): JSON answers, its limits, and a prompt shutdown."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import replace
from typing import Any

import pytest
from support.consent import consent_release, serving_consent
from support.events import Signer, event, post, sent_release, serving, snapshot
from support.repos import NoticeRepo
from waitress import wasyncore

from notifier.delivery import events_server
from notifier.settings import Settings


@pytest.fixture
def sent(seeded_repo: NoticeRepo) -> tuple[Settings, list[int], Signer]:
    """A release mailed to two customers, and the key pair its events are signed with."""
    signer = Signer.new()
    settings, ids = sent_release(seeded_repo, 2, signer)
    return settings, ids, signer


def _address(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def _exchange(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are; the status, headers (names in lower case) and body of the
    answer."""
    with socket.create_connection(_address(url), timeout=10) as connection:
        connection.sendall(request)
        response = http.client.HTTPResponse(connection)
        response.begin()
        body = response.read()
        return response.status, {name.lower(): value for name, value in response.getheaders()}, body


def _raw(url: str, request: bytes) -> tuple[int, dict[str, Any]]:
    """The status and JSON body of the answer to `request`."""
    status, _, body = _exchange(url, request)
    return status, json.loads(body)


@contextmanager
def _started(app: Any) -> Iterator[str]:
    """`app` served on a free port, its URL; shut down and closed on leaving."""
    server = events_server.EventsServer(("127.0.0.1", 0), app, events_server.Limits())
    thread = events_server.serve_in_thread(server)
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_get_and_malformed_requests_are_answered_in_json(
    sent: tuple[Settings, list[int], Signer],
) -> None:
    """When a GET or a request with a broken Content-Length arrives, then the answer is 405 or
    400 in JSON, like every other answer of the webhook."""
    settings, _, _ = sent
    with serving(settings, events_server.Limits()) as url:
        got = _raw(url, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        broken = _raw(url, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n")
    assert got == (405, {"error": "POST SendGrid events here"})
    assert broken[0] == 400 and broken[1]["error"].startswith("Bad Request: ")


def test_body_over_the_limit_is_refused_and_changes_nothing(
    sent: tuple[Settings, list[int], Signer],
) -> None:
    """When a signed post is longer than the body limit, then it is refused with 413 in JSON
    and the ledger is unchanged; one within the limit is applied."""
    settings, ids, signer = sent
    stamp = int(time.time())
    small = json.dumps([event(ids[0], "delivered", stamp, "lim-1")]).encode()
    large = json.dumps([event(ids[1], "bounce", stamp, f"lim-{n}") for n in range(2, 40)]).encode()
    limits = events_server.Limits(max_body=len(small) + 10)
    assert len(large) > limits.max_body
    before = snapshot(settings)
    with serving(settings, limits) as url:
        refused = post(url, large, signer.headers(large))
        unchanged = snapshot(settings) == before
        taken = post(url, small, signer.headers(small))
    assert refused[0] == 413 and refused[1]["error"].startswith("Request Entity Too Large: ")
    assert unchanged
    assert taken[0] == 200 and taken[1]["applied"] == 1


SECURITY = (
    "content-security-policy",
    "referrer-policy",
    "x-content-type-options",
    "x-frame-options",
    "cache-control",
)


def test_the_servers_own_refusals_carry_the_pages_security_headers(
    seeded_repo: NoticeRepo,
) -> None:
    """When the consent server refuses a malformed request (400) or a body over its limit (413)
    itself, before any page sees it, then the answer carries the same security headers as the
    pages' own answers; the webhook alone adds none."""
    settings, _ = consent_release(seeded_repo, 1)
    limits = events_server.Limits(max_body=100)
    with serving_consent(settings, limits) as origin:
        page = _exchange(origin, b"GET /consent/ HTTP/1.1\r\nHost: x\r\n\r\n")
        broken = _exchange(
            origin, b"POST /consent/x HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n"
        )
        large = _exchange(
            origin, b"POST /consent/x HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n"
        )
    assert page[0] == 404 and all(name in page[1] for name in SECURITY)
    for status, (code, headers, _) in ((400, broken), (413, large)):
        assert code == status
        assert {name: headers.get(name) for name in SECURITY} == {
            name: page[1][name] for name in SECURITY
        }
        assert headers["content-type"] == "application/json"
    webhook = replace(settings, webhook_public_key=Signer.new().public)
    with serving(webhook, events_server.Limits()) as url:
        alone = _exchange(url, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n")
    assert alone[0] == 400 and not any(name in alone[1] for name in SECURITY)


def test_connections_are_bounded_and_stalled_ones_time_out(
    sent: tuple[Settings, list[int], Signer],
) -> None:
    """When stalled connections fill the connection limit, then a new post waits in the
    backlog until the read timeout closes them, and is answered then."""
    settings, ids, signer = sent
    limits = events_server.Limits(read_timeout=1, connections=3)
    body = json.dumps([event(ids[0], "delivered", int(time.time()), "bound-1")]).encode()
    with serving(settings, limits) as url:
        host, port = url.removeprefix("http://").split(":")
        stalled = [socket.create_connection((host, int(port))) for _ in range(limits.connections)]
        for connection in stalled:
            connection.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
        time.sleep(0.3)  # the server has taken them
        started = time.monotonic()
        status, answer = post(url, body, signer.headers(body))
        waited = time.monotonic() - started
        for connection in stalled:
            connection.close()
    assert status == 200 and answer["applied"] == 1
    assert 0.3 < waited < 10


def test_shutdown_is_prompt_and_frees_the_port(sent: tuple[Settings, list[int], Signer]) -> None:
    """When the server is shut down, then it stops within a second and its port refuses."""
    settings, _, _ = sent
    server = events_server.start(settings, "127.0.0.1", 0)
    thread = events_server.serve_in_thread(server)
    started = time.monotonic()
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    stopped = time.monotonic() - started
    host, port = server.url.removeprefix("http://").split(":")
    assert not thread.is_alive() and stopped < 1.0
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, int(port)), timeout=5).close()


def test_the_event_loop_waits_while_workers_send(monkeypatch: pytest.MonkeyPatch) -> None:
    """When eight clients post at once on kept-alive connections, then the event loop turns
    about once per request: it does not spin on a connection whose answer a worker is sending
    (waitress would, holding the interpreter lock the worker needs to finish)."""
    turns = 0
    poll = wasyncore.poll2

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal turns
        turns += 1
        return poll(*args, **kwargs)

    monkeypatch.setattr(wasyncore, "poll2", counted)

    def hello(environ: Any, start_response: Any) -> list[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
        return [b"hello"]

    clients, each = 8, 150

    def client(url: str) -> int:
        connection = http.client.HTTPConnection(*_address(url), timeout=30)
        answered = 0
        for _ in range(each):
            connection.request("POST", "/", body=b"a=b")
            response = connection.getresponse()
            answered += response.read() == b"hello"
        connection.close()
        return answered

    with _started(hello) as url, ThreadPoolExecutor(clients) as pool:
        answered = sum(pool.map(client, [url] * clients))
    assert answered == clients * each
    assert turns < 3 * answered, f"{turns} turns of the event loop for {answered} requests"


def test_a_long_answer_reaches_a_slow_reader_whole() -> None:
    """When an answer is longer than the server buffers and the client reads slowly, then the
    event loop sends what the worker could not and the whole answer arrives; a server shut down
    with that connection still open leaves no buffer file open."""
    chunk, chunks = b"x" * 65536, 272  # 17.8 MB: past waitress's 16 MB high watermark

    def long(environ: Any, start_response: Any) -> Any:
        start_response("200 OK", [("Content-Length", str(len(chunk) * chunks))])
        return (chunk for _ in range(chunks))

    # the server is left (shut down) with the connection still open
    with closing(socket.socket()) as connection, _started(long) as url:
        connection.settimeout(30)
        connection.connect(_address(url))
        connection.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.5)  # the worker fills the socket and the buffer meanwhile
        response = http.client.HTTPResponse(connection)
        response.begin()
        received = 0
        while received < len(chunk) * chunks and (piece := response.read(1 << 20)):
            received += len(piece)
    assert received == len(chunk) * chunks
