"""Benchmark: consent decisions recorded per second on SQLite, over real HTTP.

Mails N customers a release that asks two consent questions (another company, abroad), then
posts every customer's answer to each (agree or decline, as the page's form sends it, with a
same-origin Origin) to `notices consent serve` on 127.0.0.1, run as an operator runs it (its
default processes: one per usable core), from concurrent clients, each in its own process on a
kept-alive connection (writing requests whole and reading answers by their length, as a load
generator does). Prints decisions/s recorded (token check, text hash check, one chained
row each), its ratio to the 2,000/s target, and to a peer measured in the same run: a bare WSGI
app answering "hello" on the same server, processes and clients.
Usage: bench/consent.py [CUSTOMERS] [CLIENTS] [PROCESSES]
(default 5000 customers → 10,000 decisions, 8 clients, the usable cores).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from wsgiref.types import StartResponse, WSGIEnvironment

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "tests"))

from sqlalchemy import func, select  # noqa: E402
from support.consent import KEYS, free_port, grant_for  # noqa: E402
from support.notify import NOTICE, VERSION, amended, write_customers  # noqa: E402
from support.repos import NoticeRepo, seed_text  # noqa: E402

from notifier.consent.tokens import sign  # noqa: E402
from notifier.delivery import customers, events_server, notify, prefork, serving  # noqa: E402
from notifier.processes import usable_cores  # noqa: E402
from notifier.settings import load_settings  # noqa: E402
from notifier.storage import db  # noqa: E402

TARGET = 2000.0
ARTICLES = ("PIPL 23", "PIPL 39")


def _repo(folder: Path, port: int) -> NoticeRepo:
    repo = NoticeRepo(folder)
    folder.mkdir(parents=True)
    repo.git("init", "-q", "-b", "main")
    toml = (PROJECT / "notices.toml").read_text(encoding="utf-8")
    repo.write("notices.toml", toml + f'\n[consent]\nurl = "http://127.0.0.1:{port}"\n')
    repo.commit("seed", "2029-01-01T10:00:00+08:00", {NOTICE: seed_text()})
    repo.commit("amend", "2029-11-01T10:00:00+08:00", {NOTICE: amended()})
    return repo


def _client(origin: str, requests: list[tuple[str, bytes]]) -> int:
    """POST each (path, form) on one kept-alive connection, as a load generator does: each
    request written whole, each answer read to its end by its Content-Length, nothing else
    parsed (http.client parses every header, and on two cores its CPU is the server's loss).
    How many were answered 303 or 200."""
    parts = urllib.parse.urlsplit(origin)
    host, port = parts.hostname or "", parts.port or 80
    fixed = f"Host: {host}:{port}\r\nOrigin: {origin}\r\n"
    fixed += "Content-Type: application/x-www-form-urlencoded\r\n"
    done, pending = 0, b""
    with socket.create_connection((host, port), timeout=60) as connection:
        for path, body in requests:
            head = f"POST {path} HTTP/1.1\r\n{fixed}Content-Length: {len(body)}\r\n\r\n"
            connection.sendall(head.encode("ascii") + body)
            while b"\r\n\r\n" not in pending:
                pending += _received(connection)
            header, _, pending = pending.partition(b"\r\n\r\n")
            length = _LENGTH.search(header)
            assert length is not None, header
            while len(pending) < int(length.group(1)):
                pending += _received(connection)
            pending = pending[int(length.group(1)) :]
            done += header[9:12] in (b"200", b"303")
    return done


_LENGTH = re.compile(rb"\r\ncontent-length: *(\d+)", re.IGNORECASE)


def _received(connection: socket.socket) -> bytes:
    data = connection.recv(65536)
    assert data, "the server closed the connection"
    return data


def _cpu(server: subprocess.Popen[str]) -> float:
    """CPU seconds the server's processes (the command and the children it forked) have used."""
    pids = [server.pid]
    with open(f"/proc/{server.pid}/task/{server.pid}/children", encoding="ascii") as children:
        pids += [int(pid) for pid in children.read().split()]
    seconds = 0.0
    for pid in pids:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rpartition(")")[2].split()
        seconds += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def _drive(
    server: subprocess.Popen[str], origin: str, requests: list[tuple[str, bytes]], clients: int
) -> tuple[int, float, float]:
    """Requests answered, seconds taken, and CPU seconds the server spent meanwhile."""
    shares = [requests[n::clients] for n in range(clients)]
    with ProcessPoolExecutor(clients) as pool:
        list(pool.map(_client, [origin] * clients, [[] for _ in range(clients)]))  # warm up
        started, cpu = time.perf_counter(), _cpu(server)
        answered = sum(pool.map(_client, [origin] * clients, shares))
        return answered, time.perf_counter() - started, _cpu(server) - cpu


def _started(
    command: list[str], cwd: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[str], str]:
    """A server process, once it says where it listens; and that origin."""
    server = subprocess.Popen(
        command, cwd=cwd, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    line = server.stdout.readline()
    origin = line.partition(" on ")[2].partition("/consent/")[0].split()[0]
    assert origin.startswith("http://"), line
    return server, origin


def _stopped(server: subprocess.Popen[str]) -> None:
    server.terminate()
    assert server.wait(timeout=60) == 0
    if server.stdout is not None:
        server.stdout.close()


def _hello(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


def _serve_peer(processes: int) -> None:
    """The peer: the hello app on the same server and processes (run as this script's child)."""
    limits = serving.LIMITS  # as `notices consent serve` runs, threads included

    def ready(url: str) -> None:
        print(f"serving hello on {url}", flush=True)

    prefork.serve(
        ("127.0.0.1", 0),
        lambda listening: events_server.EventsServer(listening, _hello, limits),
        processes,
        ready,
    )


def main(count: int, clients: int, processes: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        repo = _repo(Path(folder) / "repo", port)
        settings = load_settings(repo.path, {"NOTICES_CONSENT_KEYS": KEYS})
        customers.import_csv(write_customers(repo.path / "c.csv", count), settings)
        notify.send(settings, VERSION, early=True)
        with db.engine(settings).connect() as connection:
            rows = connection.execute(select(db.deliveries.c.id, db.deliveries.c.locale)).all()
        grants = {
            (article, locale): grant_for(settings, 1, locale=locale, article=article)
            for article in ARTICLES
            for locale in {locale for _, locale in rows}
        }
        requests = []
        for number, (delivery_id, locale) in enumerate(rows):
            for article in ARTICLES:
                grant = replace(grants[article, locale], delivery_id=delivery_id)
                token = sign(grant, settings.consent_keys)
                answer = "agree" if number % 3 else "decline"
                shown = {"shown": grant.text_sha256, "locale": locale, "decision": answer}
                form = urllib.parse.urlencode(shown)
                requests.append((f"/consent/{token}", form.encode("ascii")))
        db.dispose_all()
        command = [sys.executable, "-m", "notifier", "consent", "serve", "--port", str(port)]
        command += ["--processes", str(processes)]
        server, origin = _started(command, repo.path, {"NOTICES_CONSENT_KEYS": KEYS})
        try:
            answered, elapsed, cpu = _drive(server, origin, requests, clients)
        finally:
            _stopped(server)
        with db.engine(settings).connect() as connection:
            recorded = connection.execute(
                select(func.count()).select_from(db.consent_decisions)
            ).scalar_one()
        assert answered == recorded == len(requests), (answered, recorded, len(requests))
        peer, peer_origin = _started(
            [sys.executable, __file__, "--peer", str(processes)], PROJECT, {}
        )
        try:
            peer_answered, peer_elapsed, peer_cpu = _drive(peer, peer_origin, requests, clients)
        finally:
            _stopped(peer)
        assert peer_answered == len(requests)
        rate, peer_rate = recorded / elapsed, peer_answered / peer_elapsed
        print(
            f"customers: {count}, decisions: {recorded}, clients: {clients}, "
            f"server processes: {processes}, threads each: {serving.LIMITS.threads}"
        )
        print(f"recorded: {rate:,.0f} decisions/s ({elapsed:.2f} s) on SQLite over HTTP")
        print(f"target 2,000 decisions/s: ratio {rate / TARGET:.2f}x")
        print(f"peer (bare hello app, same server and clients): {peer_rate:,.0f} requests/s")
        print(f"ratio against the peer: {rate / peer_rate:.2f}x")
        ours_ms, peer_ms = cpu / recorded * 1000, peer_cpu / peer_answered * 1000
        print(f"server CPU per request: {ours_ms:.3f} ms (peer {peer_ms:.3f} ms)")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--peer"]:
        _serve_peer(int(sys.argv[2]))
    else:
        arguments = [int(value) for value in sys.argv[1:4]]
        main(*(arguments + [5000, 8, usable_cores()][len(arguments) :]))
