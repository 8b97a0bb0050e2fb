"""Faults (issue #16, items 7 and 9): the SQLite database as operators reach it, and the Event
Webhook's server under slow clients.

SQLite: two paths to one database file still make one sender wait for the other; a relative
`sqlite:///` URL names the repository's file wherever the command runs; a send against a database
with no customers fails naming it; a read-only file or folder is one error line naming it.
Webhook: connections that send half a request and stall hold no worker, so a signed post is
answered at once, and the server closes them after its read timeout.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.events import Signer, event, post, sent_release
from support.reliability import VERSION, error_line, ledger_rows, record_fault, sending_repo
from support.repos import NoticeRepo, run_notices

from notifier.delivery import events_server
from notifier.settings import load_settings
from notifier.storage import db

SEND = ("notify", "send", VERSION, "--early")
CUSTOMERS = 30
GROUP = "SQLite"
Prop = Callable[[str, object], None]


@pytest.fixture
def repo(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> NoticeRepo:
    """30 customers imported into var/notices.db, their notice not yet sent."""
    return sending_repo(tmp_path, tmp_path_factory.getbasetemp(), CUSTOMERS)


def _database(repo: NoticeRepo) -> Path:
    return repo.path / "var" / "notices.db"


def _statuses(repo: NoticeRepo) -> set[str]:
    return {status for _, status, _, _ in ledger_rows(f"sqlite:///{_database(repo)}")}


@pytest.fixture
def symlinked(repo: NoticeRepo) -> Iterator[Path]:
    """A second path to var/notices.db: a symlink with another name in another folder."""
    alias = repo.path / "elsewhere" / "customers.sqlite"
    alias.parent.mkdir()
    alias.symlink_to(_database(repo))
    yield alias


def _wait_for(path: Path, text: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in path.read_text(encoding="utf-8", errors="replace"):
            return True
        time.sleep(0.05)
    return False


def test_two_paths_to_one_database_take_one_sender_lock(
    repo: NoticeRepo, symlinked: Path, tmp_path: Path, record_property: Prop
) -> None:
    """When a send runs through a symlink while another holds the database's sender lock by its
    real path, then it waits for it and sends nothing meanwhile, then sends everything."""
    settings = load_settings(repo.path, {})
    log = tmp_path / "send.log"
    with db.sender_lock(settings), log.open("w", encoding="utf-8") as stderr:
        waiting = subprocess.Popen(
            [sys.executable, "-m", "notifier", *SEND],
            cwd=repo.path,
            env={**os.environ, "NOTICES_DATABASE_URL": f"sqlite:///{symlinked}"},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        waited = _wait_for(log, "another send is running", 60)
        time.sleep(0.5)  # had it not waited, it would be sending by now
        during = _statuses(repo)
    code = waiting.wait(timeout=120)
    after = _statuses(repo)
    record_fault(
        record_property,
        GROUP,
        "send through a symlink while the real path holds the sender lock",
        f"waited: {'yes' if waited else 'NO'}; ledger while held: {sorted(during) or 'empty'}; "
        f"after: exit {code}, {sorted(after)}",
    )
    assert waited, log.read_text(encoding="utf-8")
    assert "sent" not in during
    assert code == 0 and after == {"sent"}


def test_relative_sqlite_url_is_the_repositorys(
    repo: NoticeRepo, tmp_path: Path, record_property: Prop
) -> None:
    """When NOTICES_DATABASE_URL is a relative sqlite:/// URL and the command runs in another
    folder, then it reads the repository's var/ database and creates nothing where it runs."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"NOTICES_DATABASE_URL": "sqlite:///var/notices.db"}
    result = run_notices("--repo", str(repo.path), "customers", "count", cwd=elsewhere, env=env)
    created = sorted(path.name for path in elsewhere.iterdir())
    record_fault(
        record_property,
        GROUP,
        "relative sqlite:///var/notices.db, command run in another folder",
        f"exit {result.code}: {result.out.strip()}; files created there: {created or 'none'}",
    )
    assert result.code == 0
    assert result.out == f"total {CUSTOMERS}  active {CUSTOMERS}  suppressed 0\n"
    assert created == []


def test_send_to_a_database_without_customers_names_it(
    repo: NoticeRepo, record_property: Prop
) -> None:
    """When `notify send` runs against a database with no customers (another file), then it
    exits 1 naming that database instead of reporting "sent 0"."""
    empty = repo.path / "var" / "other.db"
    result = run_notices(*SEND, cwd=repo.path, env={"NOTICES_DATABASE_URL": f"sqlite:///{empty}"})
    line = error_line(result)
    shown = line.replace(str(repo.path), "repo")
    record_fault(record_property, GROUP, "send against a database with no customers", shown)
    assert result.code == 1 and "sent 0" not in result.out
    assert line.startswith(f"error: the database sqlite:///{empty} holds no customers (hint: ")


@pytest.mark.parametrize("which", ["file (mode 0400)", "folder (mode 0500)"])
def test_read_only_database_is_one_line_naming_it(
    repo: NoticeRepo, which: str, record_property: Prop
) -> None:
    """When the database file or its folder is read-only, then the command fails with one
    error line naming the file, and the file's mode is left as it was."""
    database = _database(repo)
    target, mode = (database, 0o400) if which.startswith("file") else (database.parent, 0o500)
    target.chmod(mode)
    try:
        result = run_notices(*SEND, cwd=repo.path)
        kept = target.stat().st_mode & 0o777
    finally:
        target.chmod(0o700 if target.is_dir() else 0o600)
    line = error_line(result)
    shown = line.replace(str(repo.path), "repo")
    record_fault(record_property, GROUP, f"read-only database {which}", shown)
    assert result.code == 1 and kept == mode
    assert line.startswith(f"error: {database}: the database")
    assert "read-only" in line
    assert _statuses(repo) == set()


# --- the Event Webhook's server ---------------------------------------------------------------

STALLED = 12  # more than the server's worker threads
READ_TIMEOUT = 2


def _stall(url: str, half: bytes) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=30)
    connection.sendall(half)
    return connection


def _closed_within(connection: socket.socket, since: float, seconds: float) -> float | None:
    """Seconds from `since` until the server closes the connection, or None if it stays open
    `seconds` longer."""
    connection.settimeout(seconds)
    try:
        while connection.recv(4096):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - since


def test_half_sent_requests_hold_no_worker(
    seeded_repo: NoticeRepo, record_property: Prop
) -> None:
    """When many connections send half a request and stall, then a signed post is still
    answered at once, and the server closes the stalled ones after its read timeout."""
    signer = Signer.new()
    settings, ids = sent_release(seeded_repo, 1, signer)
    limits = events_server.Limits(read_timeout=READ_TIMEOUT)
    server = events_server.start(settings, "127.0.0.1", 0, limits)
    events_server.serve_in_thread(server)
    halves = [
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n[{\"event\":",  # half a body
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Ty",  # half the headers
    ]
    try:
        stalled_at = time.monotonic()
        stalled = [_stall(server.url, halves[n % 2]) for n in range(STALLED)]
        body = json.dumps([event(ids[0], "delivered", int(time.time()), "slow-1")]).encode()
        started = time.monotonic()
        status, answer = post(server.url, body, signer.headers(body))
        answered = time.monotonic() - started
        closed = [_closed_within(each, stalled_at, READ_TIMEOUT * 4) for each in stalled]
        for connection in stalled:
            connection.close()
    finally:
        server.shutdown()
        server.server_close()
        db.dispose_all()
    slowest = max((seconds for seconds in closed if seconds is not None), default=None)
    record_property("figure", f"signed post answered with {STALLED} stalled connections="
                    f"{answered:.3f} s")
    record_property("figure", f"stalled connections closed after (read timeout "
                    f"{READ_TIMEOUT} s)={'never' if slowest is None else f'{slowest:.1f} s'}")
    record_fault(
        record_property,
        "webhook server",
        f"{STALLED} connections send half a request and stall, then a signed post",
        f"HTTP {status} {json.dumps(answer)} in {answered:.2f} s; "
        f"{sum(s is not None for s in closed)} of {STALLED} stalled connections closed by the "
        f"server after {READ_TIMEOUT} s without a byte (read timeout)",
    )
    assert status == 200 and answer["applied"] == 1
    assert answered < 1.0
    assert all(seconds is not None for seconds in closed)

