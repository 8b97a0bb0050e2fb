"""One port served by several forked processes (delivery/prefork.py): each real, each answering
with its own process id, stopped by a signal, replaced when one ends, and a server that cannot
start stopping them all. Each test runs the server in a new process: only a process without
other threads may fork."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from notifier.delivery import prefork
from notifier.delivery.events_server import EventsServer, Limits
from notifier.errors import ServeError

PROJECT = Path(__file__).resolve().parents[1]
SERVER = """
import os, sys
from notifier.delivery import prefork
from notifier.delivery.events_server import EventsServer, Limits

def pid_app(environ, start_response):
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]

def build(listening):
    if os.environ.get("FAIL_TO_START"):
        raise RuntimeError("the database is unreachable")
    return EventsServer(listening, pid_app, Limits())

prefork.serve(("127.0.0.1", 0), build, 2, lambda url: print(url, flush=True))
"""


@contextmanager
def _server(**env: str) -> Iterator[tuple[subprocess.Popen[str], str]]:
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(SERVER)],
        cwd=PROJECT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    try:
        yield process, process.stdout.readline().strip()
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=60)


def _children(pid: int) -> set[int]:
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as children:
        return {int(child) for child in children.read().split()}


def _serving(pid: int) -> bool:
    """Whether the process has built its server: its worker threads run (a moment later it
    tells the parent, so this waits that moment too)."""
    if len(os.listdir(f"/proc/{pid}/task")) <= Limits().threads:
        return False
    time.sleep(0.5)
    return True


def _answered_by(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return int(answer.read())


def _wait_for(check: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_two_processes_answer_on_one_port_and_stop_on_sigterm() -> None:
    """When the server runs two processes, then every answer comes from one of the two children
    of the command, and SIGTERM ends the children and then the command, exit 0."""
    with _server() as (process, url):
        _wait_for(lambda: len(_children(process.pid)) == 2)
        children = _children(process.pid)
        assert {_answered_by(url) for _ in range(20)} <= children
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    for child in children:
        assert not Path(f"/proc/{child}").exists()


def test_a_process_that_ends_is_replaced() -> None:
    """When one serving process is killed, then the command forks another in its place, says
    so, and the port keeps answering from two processes."""
    with _server() as (process, url):
        _wait_for(lambda: len(_children(process.pid)) == 2)
        killed, kept = sorted(_children(process.pid))
        _wait_for(lambda: _serving(killed))  # killed sooner, it would mean it cannot start
        os.kill(killed, signal.SIGKILL)
        _wait_for(lambda: len(_children(process.pid) - {killed}) == 2)
        assert kept in _children(process.pid)
        assert _answered_by(url) in _children(process.pid)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert process.stderr is not None
        said = process.stderr.read()
    assert f"server process {killed} ended (exit -9); starting another" in said


def test_a_server_that_cannot_start_stops_them_all() -> None:
    """When a process cannot build its server, then the command does not fork it again and
    again: it stops the other, logs the child's error, and fails with one line saying so."""
    with _server(FAIL_TO_START="1") as (process, _url):
        assert process.wait(timeout=30) == 1
        assert process.stderr is not None
        said = process.stderr.read()
    assert "RuntimeError: the database is unreachable" in said
    assert "ServeError: a server process ended before it could serve (exit 1)" in said


def test_a_process_with_other_threads_does_not_fork() -> None:
    """When other threads run in the process (their locks would be inherited held), then it
    refuses to fork servers, before binding anything, and says to serve from one process."""
    idle = threading.Event()
    other = threading.Thread(target=idle.wait)
    other.start()
    said: list[str] = []
    try:
        with pytest.raises(ServeError, match="other threads are running") as refused:
            prefork.serve(("127.0.0.1", 0), _never_built, 2, said.append)
    finally:
        idle.set()
        other.join()
    assert refused.value.hint == "serve from one process with --processes 1"
    assert said == []


def _never_built(listening: socket.socket) -> EventsServer:
    raise AssertionError("no server is built")
