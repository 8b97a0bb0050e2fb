"""One listening socket served by several forked processes, as a pre-forking server does.

A Python process runs one thread at a time, so one waitress process is bound to one core however
many threads it has; forked processes accepting on one socket use the others. Each child builds
its own server (its own threads, database connections and consent writer), so nothing but the
socket is shared: the parent forks before it opens anything, and only waits. A child that ends
after it started serving is replaced; one that ends before (an unreachable database, say) means
no child can start, so the parent stops the others and says so rather than fork in a loop.
SIGTERM or SIGINT (Ctrl+C reaches every process of the terminal's group) stops the children
after the requests they are serving, then the parent.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import NoReturn

from notifier.delivery.events_server import EventsServer, bind, url_of
from notifier.errors import ServeError
from notifier.processes import may_fork

log = logging.getLogger(__name__)
_STOPPING = (signal.SIGTERM, signal.SIGINT)

Build = Callable[[socket.socket], EventsServer]


def serve(
    address: tuple[str, int], build: Build, processes: int, ready: Callable[[str], None]
) -> None:
    """Serve on `address` until SIGTERM or SIGINT: in this process when `processes` is 1, else
    from that many forked children, each running `build(listening)`; `ready` hears the URL once
    the socket is bound. ServeError when a child ends before it serves."""
    if processes > 1 and not may_fork():
        raise ServeError(
            "cannot fork server processes here: other threads are running",
            hint="serve from one process with --processes 1",
        )
    listening = bind(address)
    ready(url_of(listening.getsockname()[:2]))
    if processes == 1:
        _serve(listening, build)
        return
    try:
        _supervise(listening, build, processes)
    finally:
        listening.close()


@dataclass(frozen=True, slots=True)
class _Child:
    pid: int
    serving: int  # the read end of a pipe the child writes to once its server is built

    def started(self) -> bool:
        """Whether the child built its server (it cannot have written after it ended)."""
        os.set_blocking(self.serving, False)
        try:
            return os.read(self.serving, 1) == b"+"
        except BlockingIOError:
            return False
        finally:
            os.close(self.serving)


def _supervise(listening: socket.socket, build: Build, processes: int) -> None:
    """Fork the children, replace one that ends after it started, stop them all on a signal."""
    children: dict[int, _Child] = {}
    stopping = False

    def stop(_signal: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            _signal_child(pid)

    def fork() -> None:
        child = _fork(listening, build)
        children[child.pid] = child
        if stopping:  # a signal came while forking
            _signal_child(child.pid)

    previous = {number: signal.signal(number, stop) for number in _STOPPING}
    failed: ServeError | None = None
    try:
        for _ in range(processes):
            fork()
        while children:
            pid, status = os.wait()
            child = children.pop(pid, None)
            if child is None:
                continue
            started, code = child.started(), os.waitstatus_to_exitcode(status)
            if stopping:
                continue
            if not started:
                failed = ServeError(
                    f"a server process ended before it could serve (exit {code})",
                    hint="see the error it logged above",
                )
                stop(signal.SIGTERM, None)
                continue
            log.warning("server process %d ended (exit %d); starting another", pid, code)
            fork()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    if failed is not None:
        raise failed


def _serve(listening: socket.socket, build: Build, serving: int | None = None) -> None:
    """Serve in this process until SIGTERM or SIGINT, finishing the requests being served;
    once the server is built, say so on `serving` (a pipe to the parent), if given."""
    server = build(listening)
    previous = {n: signal.signal(n, lambda _n, _f: server.stop_soon()) for n in _STOPPING}
    try:
        if serving is not None:
            os.write(serving, b"+")
            os.close(serving)
        with server:
            server.serve_forever()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _signal_child(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:  # it has ended; wait() will reap it
        pass


def _fork(listening: socket.socket, build: Build) -> _Child:
    """A child serving `listening`. A stop signal is held back while forking: the child would
    otherwise run the parent's handler until it sets its own, and not stop."""
    sys.stdout.flush()
    sys.stderr.flush()
    serving, said = os.pipe()
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
    try:
        pid = os.fork()
        if pid == 0:
            os.close(serving)
            _child(listening, build, said)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)
    os.close(said)
    return _Child(pid, serving)


def _child(listening: socket.socket, build: Build, serving: int) -> NoReturn:
    """Serve until told to stop, then leave without running the parent's exit handlers."""
    code = 1
    try:
        for number in _STOPPING:  # until the server exists, a stop ends the child at once
            signal.signal(number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)
        _serve(listening, build, serving)
        code = 0
    except BaseException:
        log.exception("server process %d failed", os.getpid())
    finally:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
