"""The database: one place that builds the SQLAlchemy engine and defines every table.

SQLite (a 0600 file under var/) by default, PostgreSQL through NOTICES_DATABASE_URL. Our tables
are the source of truth for who was told what and when; the scheduler's job store lives beside
them in the same database. Their schema is versioned by Alembic (`notifier.storage.schema`); this
metadata is its latest revision.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, overload

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from notifier.errors import DatabaseError
from notifier.files import make_folders
from notifier.logs import mask_url
from notifier.settings import Settings, sqlite_file
from notifier.storage import schema
from notifier.storage.prepared import Prepared

log = logging.getLogger(__name__)
metadata = MetaData()
BUSY_SECONDS = 30.0  # SQLite: how long a write waits for another's lock (URL `?timeout=`)

customers = Table(
    "customers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False, default=""),
    Column("locale", String(16), nullable=False),
    # ';azure;powerbi;' so that one service matches with LIKE '%;azure;%'
    Column("services", String(1000), nullable=False),
    Column("suppressed_reason", String(500), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("release_id", String(200), nullable=False),
    Column("customer_id", Integer, ForeignKey("customers.id"), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),  # planned | sending | sent | failed | bounced
    Column("batch_id", String(64), nullable=True),
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("message_id", String(200), nullable=True),
    Column("error", Text, nullable=True),
    # what SendGrid's Event Webhook said: processed | deferred | delivered | bounce | dropped
    Column("delivery_state", String(16), nullable=True),
    Column("state_at", DateTime(timezone=True), nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    # host:pid of the worker holding the batch, so a dead worker on the same host is seen at once
    Column("claimed_by", String(200), nullable=True),
    UniqueConstraint("release_id", "customer_id", name="one_delivery_per_release_customer"),
    # claims pick the lowest ids of one release, status and locale: this index serves them as is
    Index("deliveries_by_release_status", "release_id", "status", "locale", "id"),
)

delivery_events = Table(
    "delivery_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("delivery_id", Integer, ForeignKey("deliveries.id"), nullable=False),
    Column("event", String(32), nullable=False),
    Column("sg_event_id", String(200), nullable=False, unique=True),
    Column("timestamp", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Index("delivery_events_by_delivery", "delivery_id"),
)

# sha256 of each accepted webhook post's signed timestamp + body, so a replay is refused
webhook_posts = Table(
    "webhook_posts",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

schedule_runs = Table(
    "schedule_runs",
    metadata,
    Column("job_id", String(300), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("release", String(200), nullable=False),
    Column("release_commit", String(64), nullable=False, default=""),
    Column("state", String(32), nullable=False),
    Column("run_at", DateTime(timezone=True), nullable=True),
    Column("runs", Integer, nullable=False, default=0),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("detail", Text, nullable=False, default=""),
)

# the active `notices schedule run` of this database, for the others and for operators to see
scheduler_leader = Table(
    "scheduler_leader",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(200), nullable=False),
    Column("since", DateTime(timezone=True), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

# append-only: a change of mind or a withdrawal is a new row (see `notifier.consent.records`)
consent_decisions = Table(
    "consent_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("release_id", String(200), nullable=False),
    Column("seq", Integer, nullable=False),  # the decision's place in its release's chain
    Column("delivery_id", Integer, ForeignKey("deliveries.id"), nullable=False),
    Column("article", String(32), nullable=False),
    Column("text_sha256", String(64), nullable=False),
    Column("locale", String(16), nullable=False),
    Column("decision", String(8), nullable=False),  # agree | decline | withdraw
    Column("withdraws", Integer, ForeignKey("consent_decisions.id"), nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("client", String(200), nullable=True),  # truncated, and only when configured
    Column("chain", String(64), nullable=False),
    UniqueConstraint("release_id", "seq", name="one_place_in_the_chain"),
    CheckConstraint("decision IN ('agree', 'decline', 'withdraw')", name="known_decision"),
    Index("consent_decisions_by_delivery", "delivery_id", "article", "id"),
)

# the one consent reminder a recipient gets, so that a rerun never sends it twice
consent_reminders = Table(
    "consent_reminders",
    metadata,
    Column("delivery_id", Integer, ForeignKey("deliveries.id"), primary_key=True),
    Column("sent_at", DateTime(timezone=True), nullable=False),
)

# each fresh consent link mailed on request, so that requests can be limited per question
consent_reissues = Table(
    "consent_reissues",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("delivery_id", Integer, ForeignKey("deliveries.id"), nullable=False),
    Column("article", String(32), nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Index("consent_reissues_by_question", "delivery_id", "article", "sent_at"),
)

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _sqlite_file(url: str) -> Path | None:
    """The database file itself, symlinks and `..` resolved: locks named from it exclude each
    other whichever path the URL took to the file."""
    file = sqlite_file(url)
    return None if file is None else file.resolve()


def _writable(path: Path) -> bool:
    """Writable by us and not marked read-only: root passes every access check, so a file or
    folder without any write bit counts as read-only for it too."""
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)


def _refuse_read_only(path: Path) -> None:
    """SQLite writes the file and, in WAL mode, its -wal and -shm files beside it."""
    folder = path.parent
    if path.exists() and not _writable(path):
        problem = "the database file is read-only"
    elif folder.exists() and not _writable(folder):
        problem = f"the database's folder {folder} is read-only (SQLite writes beside the file)"
    else:
        return
    raise DatabaseError(
        problem,
        path=path,
        hint="give the user running notices write access to it, "
        "or point NOTICES_DATABASE_URL at a writable copy",
    )


def _prepare_sqlite_file(path: Path) -> None:
    """Create the database file readable by its owner only: it holds customer addresses.

    An existing file is never opened here: closing any descriptor of a file drops every POSIX
    lock this process holds on it, SQLite's included, and another connection could then take
    the WAL for unused and delete it under a writer of ours."""
    _refuse_read_only(path)
    make_folders(path.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)


def _busy_seconds(url: str) -> float:
    """How long a statement waits for another process's SQLite write lock before it fails:
    the URL's `?timeout=` (sqlite3's own parameter, in seconds), else BUSY_SECONDS."""
    given = make_url(url).query.get("timeout")
    if given is None:
        return BUSY_SECONDS
    try:
        seconds = float(given if isinstance(given, str) else given[-1])
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise DatabaseError(
            f"the SQLite URL's timeout={given!r} is not a number of seconds",
            hint=f"give e.g. ?timeout=30 in NOTICES_DATABASE_URL, or leave it out "
            f"({BUSY_SECONDS:g} s)",
        )
    return seconds


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    """WAL and foreign keys on every connection (the busy timeout is sqlite3's `timeout`)."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _build(url: str) -> Engine:
    sqlite_file = _sqlite_file(url)
    # hide_parameters: an unexpected error must never print a batch of customer addresses
    if sqlite_file is None:
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    _prepare_sqlite_file(sqlite_file)
    built = create_engine(url, connect_args={"timeout": _busy_seconds(url)}, hide_parameters=True)
    event.listen(built, "connect", _sqlite_pragmas)
    return built


@contextmanager
def _file_lock(url: str, suffix: str) -> Iterator[None]:
    """An exclusive lock beside an SQLite file (PostgreSQL takes its own locks: a no-op)."""
    sqlite_file = _sqlite_file(url)
    if sqlite_file is None:
        yield
        return
    descriptor = os.open(f"{sqlite_file}.{suffix}", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def engine(settings: Settings) -> Engine:
    """The engine for the settings' database, once per process, its schema checked first: an
    empty database is created, one behind this version's schema is refused."""
    url = settings.database_url
    with _lock:
        if url in _engines:
            return _engines[url]
        built = _build(url)
        try:
            with _file_lock(url, "schema-lock"):
                schema.ensure_current(built, metadata.tables, mask_url(url))
        except OperationalError as error:
            built.dispose()
            raise _unreachable(url, error) from error
        except DatabaseError:
            built.dispose()
            raise
        _engines[url] = built
        return built


def existing(settings: Settings) -> Engine | None:
    """A read-only engine on the settings' database if it exists at this version's schema, else
    None: for readers that must never create one (a site build shows "unknown" instead)."""
    url = settings.database_url
    sqlite_file = _sqlite_file(url)
    if sqlite_file is not None:
        if not sqlite_file.is_file():
            return None
        url = f"sqlite:///file:{sqlite_file}?mode=ro&uri=true"  # opening never creates it
    elif make_url(url).get_backend_name() == "sqlite":
        return None  # in memory: nothing to read
    built = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    try:
        with built.connect() as connection:
            if schema.current(connection) == schema.head():
                return built
    except OperationalError as error:
        log.warning("%s", _unreachable(settings.database_url, error))
    built.dispose()
    return None


def upgrade(settings: Settings) -> schema.Upgrade:
    """`notices db upgrade`: migrate the database to this version's schema."""
    url = settings.database_url
    built = _build(url)
    try:
        with _file_lock(url, "schema-lock"):
            return schema.upgrade(built, metadata.tables, mask_url(url))
    except OperationalError as error:
        raise _unreachable(url, error) from error
    finally:
        built.dispose()


def _unreachable(url: str, error: OperationalError) -> DatabaseError:
    reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    return DatabaseError(
        f"cannot open the database {mask_url(url)}: {reason}",
        hint="check NOTICES_DATABASE_URL and that the server is running",
    )


def single_writer(settings: Settings) -> bool:
    """SQLite: one writer at a time, so one sender (several would only queue for the lock)."""
    return make_url(settings.database_url).get_backend_name() == "sqlite"


@contextmanager
def sender_lock(settings: Settings) -> Iterator[bool]:
    """One sender at a time on a SQLite file (its single writer): yields True while held.

    Holding it means any delivery still `sending` was left by a sender that died (the OS drops
    the lock with the process), so it can be reclaimed at once. Other databases take several
    workers: it yields False and leases decide what is stale.
    """
    sqlite_file = _sqlite_file(settings.database_url)
    if sqlite_file is None:
        yield False
        return
    _prepare_sqlite_file(sqlite_file)
    descriptor = os.open(f"{sqlite_file}.send-lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("another send is running on %s; waiting for it", sqlite_file.name)
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield True
    finally:
        os.close(descriptor)  # releases the lock


_BEGIN_IMMEDIATE = Prepared(text("BEGIN IMMEDIATE"))
_ADVISORY_LOCK = Prepared(text("SELECT pg_advisory_xact_lock(:key)"))


def exclusive(connection: Connection, names: Iterable[str]) -> None:
    """Hold each of `names` until the transaction ends, against every process: SQLite takes its
    one write lock at once (this must be the transaction's first statement), PostgreSQL an
    advisory lock on each name, in sorted order so that two holders never wait on each other."""
    if connection.dialect.name == "sqlite":
        _BEGIN_IMMEDIATE.rows(connection, {})
    elif connection.dialect.name == "postgresql":
        for name in sorted(set(names)):
            digest = hashlib.sha256(name.encode()).digest()[:8]
            _ADVISORY_LOCK.rows(connection, {"key": int.from_bytes(digest, "big", signed=True)})


class WriterTurns:
    """Turns at writing an SQLite file for writers in several processes, kept in the kernel's
    queue: one waiting for SQLite's own lock sleeps a millisecond or more between tries, and a
    server process's whole batch of answers waits with it. Other databases queue writers
    themselves: there, nothing is held."""

    def __init__(self, engine: Engine, name: str) -> None:
        file = _sqlite_file(engine.url.render_as_string(hide_password=False))
        self._descriptor = (
            None if file is None else os.open(f"{file}.{name}", os.O_CREAT | os.O_RDWR, 0o600)
        )

    def __enter__(self) -> None:
        if self._descriptor is not None:
            fcntl.flock(self._descriptor, fcntl.LOCK_EX)

    def __exit__(self, *_exception: object) -> None:
        if self._descriptor is not None:
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None


def dispose_all() -> None:
    """Close every pooled connection (tests, and before a process forks)."""
    with _lock:
        for built in _engines.values():
            built.dispose()
        _engines.clear()


@overload
def utc(value: datetime) -> datetime: ...
@overload
def utc(value: None) -> None: ...
def utc(value: datetime | None) -> datetime | None:
    """A moment as our rows hold it, in UTC: SQLite hands datetimes back without their zone,
    and a naive one read from our tables was written in UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
