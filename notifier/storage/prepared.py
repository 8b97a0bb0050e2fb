"""Statements compiled once per dialect and run on the driver's own cursor.

For the few paths run per request (recording a consent decision), SQLAlchemy's work around each
execution costs several times what SQLite takes to run the statement. The SQL is still
SQLAlchemy's, compiled from the tables for each dialect with its bind processors; a driver error
is raised as SQLAlchemy's, parameters hidden, and a lost connection is invalidated as
SQLAlchemy's own executions do.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    positions: tuple[str, ...] | None  # parameter names in order; None: passed by name
    fixed: dict[str, Any]  # values the statement carries itself (a LIMIT)
    processors: Mapping[str, Callable[[Any], Any]]


class Prepared:
    """One statement with plain (not list) parameters, compiled once for each dialect that
    runs it."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[tuple[type, str], _Compiled] = {}  # by dialect and paramstyle
        self._lock = threading.Lock()

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[Any]:
        """Execute with `values` on the connection's own driver cursor, in its transaction;
        the rows it returns (as the driver makes them: tuples)."""
        compiled = self._for(connection)
        merged = {**compiled.fixed, **values}
        for name, process in compiled.processors.items():
            merged[name] = process(merged[name])
        parameters: Sequence[Any] | Mapping[str, Any] = (
            merged if compiled.positions is None else [merged[n] for n in compiled.positions]
        )
        raw = connection.connection.dbapi_connection
        assert raw is not None, "an open connection has a driver connection"
        cursor = raw.cursor()
        try:
            cursor.execute(compiled.sql, parameters)
            return list(cursor.fetchall()) if cursor.description is not None else []
        except Exception as error:
            raise _wrapped(connection, compiled.sql, error, raw, cursor) from error
        finally:
            cursor.close()

    def _for(self, connection: Connection) -> _Compiled:
        dialect = connection.dialect
        key = (type(dialect), dialect.paramstyle)
        found = self._compiled.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._compiled.get(key)  # compiled by another thread meanwhile
            if found is not None:
                return found
            compiled = self.statement.compile(dialect=dialect)
            assert isinstance(compiled, SQLCompiler), "a statement, not DDL"
            binds = compiled.binds.items()
            assert not any(bind.expanding for _, bind in binds), "no list parameters"
            processors = {
                name: process
                for name, bind in binds
                if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
            }
            found = self._compiled[key] = _Compiled(
                sql=compiled.string,
                positions=tuple(compiled.positiontup or ()) if compiled.positional else None,
                fixed={name: bind.effective_value for name, bind in binds if not bind.required},
                processors=processors,
            )
        return found


def _wrapped(
    connection: Connection, sql: str, error: Exception, raw: Any, cursor: Any
) -> BaseException:
    """The driver's error as SQLAlchemy raises it; a lost connection is invalidated, so that its
    holder opens another."""
    dialect = connection.dialect
    base = dialect.loaded_dbapi.Error
    if not isinstance(error, base):
        return error
    lost = dialect.is_disconnect(error, raw, cursor)
    if lost:
        connection.invalidate(error)
    return DBAPIError.instance(
        sql, None, error, base, hide_parameters=True, connection_invalidated=lost, dialect=dialect
    )
