"""Where the SQLite database is: URLs resolved in the repository, locks tied to the file."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import OperationalError
from support.repos import NoticeRepo
from support.schedule import postgres_database

from notifier.errors import DatabaseError
from notifier.settings import load_settings, sqlite_file
from notifier.storage import db


def _url(repo: NoticeRepo, value: str) -> str:
    return load_settings(repo.path, {"NOTICES_DATABASE_URL": value}).database_url


def test_relative_sqlite_urls_name_files_in_the_repository(seeded_repo: NoticeRepo) -> None:
    """When NOTICES_DATABASE_URL is a relative SQLite URL, then it names a file under the
    repository (query kept); absolute, in-memory and file: URI forms are left as given."""
    root = seeded_repo.path.absolute().as_posix()
    assert _url(seeded_repo, "sqlite:///var/x.db") == f"sqlite:///{root}/var/x.db"
    assert _url(seeded_repo, "sqlite+pysqlite:///x.db?timeout=5") == (
        f"sqlite+pysqlite:///{root}/x.db?timeout=5"
    )
    for kept in ("sqlite:////srv/notices.db", "sqlite://", "sqlite:///:memory:",
                 "sqlite:///file:x.db?mode=ro&uri=true"):
        assert _url(seeded_repo, kept) == kept


def test_a_path_with_dots_and_a_symlink_share_the_sender_lock(
    seeded_repo: NoticeRepo, tmp_path: Path
) -> None:
    """When one sender holds the lock through `var/../var/notices.db`, then a sender through a
    symlink to that file waits until it is released."""
    real = seeded_repo.path / "var" / "notices.db"
    dotted = load_settings(
        seeded_repo.path, {"NOTICES_DATABASE_URL": "sqlite:///var/../var/notices.db"}
    )
    alias = tmp_path / "alias.db"
    real.parent.mkdir(exist_ok=True)
    real.touch()
    alias.symlink_to(real)
    linked = load_settings(seeded_repo.path, {"NOTICES_DATABASE_URL": f"sqlite:///{alias}"})
    taken = threading.Event()

    def second() -> None:
        with db.sender_lock(linked):
            taken.set()

    with db.sender_lock(dotted):
        waiter = threading.Thread(target=second)
        waiter.start()
        held_out = not taken.wait(0.5)
    waiter.join(timeout=10)
    assert held_out and taken.is_set()


def test_read_only_database_file_is_named(seeded_repo: NoticeRepo) -> None:
    """When the database file has no write bit, then opening it is a DatabaseError naming it,
    even for root (who passes every access check)."""
    settings = load_settings(seeded_repo.path, {})
    db.engine(settings)
    db.dispose_all()
    real = seeded_repo.path / "var" / "notices.db"
    real.chmod(0o400)
    try:
        with pytest.raises(DatabaseError) as raised:
            db.engine(settings)
    finally:
        real.chmod(0o600)
    assert raised.value.where == str(real.resolve())
    assert raised.value.message == "the database file is read-only"


def test_existing_never_creates_a_database(seeded_repo: NoticeRepo) -> None:
    """When a reader asks for an existing database, then a missing SQLite file or an empty
    PostgreSQL database gives None and stays as it was; one at the schema's head is opened."""
    settings = load_settings(seeded_repo.path, {})
    assert db.existing(settings) is None
    assert not (seeded_repo.path / "var").exists()
    with postgres_database() as url:
        on_postgres = load_settings(seeded_repo.path, {"NOTICES_DATABASE_URL": url})
        assert db.existing(on_postgres) is None
        empty = create_engine(url)
        try:
            assert inspect(empty).get_table_names() == []
        finally:
            empty.dispose()
        db.engine(on_postgres)  # what a command that writes does: the schema at its head
        opened = db.existing(on_postgres)
        assert opened is not None
        opened.dispose()
        db.dispose_all()


def test_the_url_sets_how_long_a_write_waits_for_a_lock(seeded_repo: NoticeRepo) -> None:
    """When the SQLite URL gives ?timeout=0.5, then a write blocked by another connection's
    lock fails after about that long, not after the default 30 s; without it, 30 s hold."""
    url = "sqlite:///v.db?timeout=0.5"
    settings = load_settings(seeded_repo.path, {"NOTICES_DATABASE_URL": url})
    engine = db.engine(settings)
    try:
        with engine.connect() as holder, engine.connect() as writer:
            assert writer.exec_driver_sql("PRAGMA busy_timeout").scalar() == 500
            holder.exec_driver_sql("BEGIN IMMEDIATE")
            began = time.monotonic()
            with pytest.raises(OperationalError, match="database is locked"):
                writer.exec_driver_sql("BEGIN IMMEDIATE")
            assert 0.4 < time.monotonic() - began < 10
            holder.rollback()
        default = db.engine(load_settings(seeded_repo.path, {}))
        with default.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        db.dispose_all()


@pytest.mark.parametrize("timeout", ["soon", "-1", "inf", "nan"])
def test_a_timeout_that_is_no_number_of_seconds_is_refused(
    seeded_repo: NoticeRepo, timeout: str
) -> None:
    """When ?timeout= is not a number of seconds, then opening the database says so, with the
    default to fall back on."""
    url = f"sqlite:///v.db?timeout={timeout}"
    with pytest.raises(DatabaseError) as raised:
        db.engine(load_settings(seeded_repo.path, {"NOTICES_DATABASE_URL": url}))
    said = f"the SQLite URL's timeout='{timeout}' is not a number of seconds"
    assert raised.value.message == said
    assert "?timeout=30" in (raised.value.hint or "")


def test_opening_an_engine_keeps_the_locks_of_open_connections(seeded_repo: NoticeRepo) -> None:
    """When an engine on the SQLite file is opened while a connection of this process is open,
    and another process then opens and closes the file, then what that connection writes
    afterwards is still read by everyone: the new engine must not drop the connection's locks
    (closing any descriptor of the file would), or the other process, seeing no other user,
    deletes the WAL that the connection goes on writing into."""
    settings = load_settings(seeded_repo.path, {})
    file = sqlite_file(settings.database_url)
    assert file is not None
    kept = db.engine(settings).connect()
    try:
        kept.exec_driver_sql("CREATE TABLE notes (said TEXT)")
        kept.exec_driver_sql("INSERT INTO notes VALUES ('before')")
        kept.commit()
        db.dispose_all()  # `kept` stays open: the next engine is built beside it
        db.engine(settings)
        other = f"c = sqlite3.connect({str(file)!r}); c.execute('SELECT * FROM notes'); c.close()"
        subprocess.run([sys.executable, "-c", "import sqlite3; " + other], check=True)
        kept.exec_driver_sql("INSERT INTO notes VALUES ('after')")
        kept.commit()
        reader = sqlite3.connect(file)
        assert reader.execute("SELECT said FROM notes").fetchall() == [("before",), ("after",)]
        reader.close()
    finally:
        kept.close()
        db.dispose_all()
