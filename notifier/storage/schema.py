"""The database schema's version: Alembic migrations, applied by `notices db upgrade`.

Every command checks the version when it first opens the database. A new, empty database is
created at the latest revision at once (the embedded default needs no setup step); one that is
behind stops the command with a clear error, because several workers and schedulers may share
it and upgrading it is the operator's decision. Migrations run one process at a time: under a
PostgreSQL advisory lock, or the caller's file lock on SQLite.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from notifier.errors import DatabaseError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
FIRST = "0001"  # the schema databases had before migrations existed
_LOCK_KEY = 0x6E6F7469636573  # "notices": one migration at a time per PostgreSQL database


@dataclass(frozen=True, slots=True)
class Upgrade:
    before: str | None
    after: str


def config(connection: Connection | None = None) -> Config:
    """Alembic's configuration for migrating over `connection`, without an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@cache
def head() -> str:
    """The revision this version of notices expects."""
    found = ScriptDirectory.from_config(config()).get_current_head()
    assert found is not None, "the migrations folder has no revision"
    return found


@cache
def _known() -> frozenset[str]:
    return frozenset(s.revision for s in ScriptDirectory.from_config(config()).walk_revisions())


def current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _serialise(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def _ours(connection: Connection, tables: Collection[str]) -> set[str]:
    return set(tables) & set(inspect(connection).get_table_names())


def ensure_current(engine: Engine, tables: Collection[str], where: str) -> None:
    """Create an empty database at the head revision; refuse one that is not at it."""
    with engine.begin() as connection:
        _serialise(connection)
        found = current(connection)
        if found == head():
            return
        if found is None and not _ours(connection, tables):
            command.upgrade(config(connection), "head")
            log.info("created the database schema at revision %s in %s", head(), where)
            return
    raise _not_current(found, where)


def _not_current(found: str | None, where: str) -> DatabaseError:
    if found is None or found in _known():
        state = "predates schema versions" if found is None else f"is at revision {found}"
        return DatabaseError(
            f"the database schema in {where} {state}; this version of notices needs {head()}",
            hint="back the database up, then run `notices db upgrade`",
        )
    return DatabaseError(
        f"the database schema in {where} is at revision {found}, which this version of notices "
        f"does not know (it expects {head()})",
        hint="a newer notices upgraded it: run that version",
    )


def upgrade(engine: Engine, tables: Collection[str], where: str) -> Upgrade:
    """Bring the schema to the head revision. A database made before migrations existed holds
    the first revision's tables: it is stamped as such, then upgraded."""
    with engine.begin() as connection:
        _serialise(connection)
        found = current(connection)
        if found is not None and found not in _known():
            raise _not_current(found, where)
        migrating = config(connection)
        if found is None and _ours(connection, tables):
            command.stamp(migrating, FIRST)
            found = FIRST
        if found != head():
            command.upgrade(migrating, "head")
    return Upgrade(found, head())
