"""One active `notices schedule run` per database (APScheduler 3 cannot share a job store).

On PostgreSQL any number of schedulers may run, on as many hosts: the one holding a session
advisory lock is active, the others stand by and try again every few seconds. The server drops
the lock the moment the holder's connection ends (process killed, host gone: TCP keepalives
find out within seconds), so a standby takes over well within 30 s. The active one checks its
lock connection every few seconds and stops at once if it breaks: by then another may lead.

On SQLite, which lives on one host, an exclusive lock on `var/scheduler.lock` does it; the
kernel releases it when the process dies, even by SIGKILL, and a second scheduler refuses to
start rather than wait.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import Connection, create_engine, delete, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from notifier.delivery import ledger
from notifier.errors import ScheduleError
from notifier.files import make_folders
from notifier.settings import Settings
from notifier.storage import db

log = logging.getLogger(__name__)
LOCK_FILE = "scheduler.lock"
STANDBY_SECONDS = 5.0  # how often a standby tries the lock
HEARTBEAT_SECONDS = 5.0  # how often the active one checks it still holds it
_KEY = 0x6E6F74696365735F  # the advisory lock's key: one scheduler per database
_NAME = "scheduler"
# libpq: notice a dead server within ~15 s (the SETs below: the server notices a dead client)
_LOCK_CONNECTION = {
    "keepalives": 1, "keepalives_idle": 5, "keepalives_interval": 2, "keepalives_count": 3,
    "tcp_user_timeout": 15000, "connect_timeout": 10, "application_name": "notices scheduler",
}


@contextmanager
def elected(settings: Settings, stop: threading.Event) -> Iterator[bool]:
    """Be the active scheduler for the body: yields True once elected, or False when `stop`
    was set while standing by. Raises ScheduleError after the body if leadership was lost."""
    if db.single_writer(settings):
        with _lock_file(settings):
            yield True
        return
    with _advisory_lock(settings, stop) as leading:
        yield leading


@contextmanager
def _lock_file(settings: Settings) -> Iterator[None]:
    path = settings.var_dir / LOCK_FILE
    make_folders(path.parent)
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 32, 0).decode("ascii", "replace").strip() or "?"
            raise ScheduleError(
                f"another scheduler is running on this job store (pid {holder})",
                path=path,
                hint="stop it first: only one `notices schedule run` may run at a time",
            ) from None
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(handle)


@contextmanager
def _advisory_lock(settings: Settings, stop: threading.Event) -> Iterator[bool]:
    db.engine(settings)  # the schema check, before anything waits on this database
    engine = create_engine(
        settings.database_url, poolclass=NullPool, connect_args=_LOCK_CONNECTION,
        isolation_level="AUTOCOMMIT", hide_parameters=True,
    )
    connection = engine.connect()
    beating = threading.Event()
    lost = threading.Event()
    heart: threading.Thread | None = None
    try:
        connection.execute(text(
            "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; "
            "SET tcp_keepalives_count = 3"
        ))
        if not _stand_by(connection, stop):
            yield False
            return
        me = ledger.worker_id()
        _announce(connection, me)
        log.info("this process (%s) is now the active scheduler", me)
        heart = threading.Thread(
            target=_heartbeat, args=(connection, me, beating, lost, stop), daemon=True
        )
        heart.start()
        yield True
    finally:
        beating.set()
        if heart is not None:
            heart.join()
        _resign(connection, lost.is_set())
        engine.dispose()
    if lost.is_set():
        raise ScheduleError(
            "lost the scheduler lock (its database connection broke); stopped so that another "
            "scheduler can take over",
            hint="check the database; restart this scheduler to stand by again",
        )


def _stand_by(connection: Connection, stop: threading.Event) -> bool:
    """Wait for the lock: True once held, False if asked to stop first."""
    announced = False
    while not connection.execute(select(text("pg_try_advisory_lock(:key)")), {"key": _KEY}
                                 ).scalar_one():
        if not announced:
            log.info("standing by: the active scheduler is %s", _holder(connection))
            announced = True
        if stop.wait(STANDBY_SECONDS):
            return False
    return True


def _holder(connection: Connection) -> str:
    table = db.scheduler_leader
    row = connection.execute(select(table).where(table.c.name == _NAME)).first()
    return f"{row.holder} (since {row.since.isoformat()})" if row else "unknown"


def _announce(connection: Connection, me: str) -> None:
    table, now = db.scheduler_leader, datetime.now(UTC)
    connection.execute(delete(table).where(table.c.name == _NAME))
    connection.execute(insert(table).values(name=_NAME, holder=me, since=now, seen_at=now))


def _heartbeat(
    connection: Connection,
    me: str,
    beating: threading.Event,
    lost: threading.Event,
    stop: threading.Event,
) -> None:
    """Every few seconds, prove the lock connection alive; if it is not, stop the scheduler."""
    table = db.scheduler_leader
    while not beating.wait(HEARTBEAT_SECONDS):
        try:
            connection.execute(
                update(table).where(table.c.name == _NAME, table.c.holder == me)
                .values(seen_at=datetime.now(UTC))
            )
        except SQLAlchemyError as error:
            log.error("lost the scheduler lock: %s; stopping", error.__class__.__name__)
            lost.set()
            stop.set()
            return


def _resign(connection: Connection, lost: bool) -> None:
    if not lost:
        try:
            connection.execute(select(text("pg_advisory_unlock(:key)")), {"key": _KEY})
        except SQLAlchemyError:
            log.warning("could not release the scheduler lock; it ends with the connection")
    connection.close()
