"""The customer directory: who uses which service, in which language, and who must not be mailed.

A CSV import validates every row before anything is written: one bad row reported with its row
number is better than a million customers half-imported.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from notifier import db
from notifier.config import Settings
from notifier.errors import CustomerImportError, NoticeError
from notifier.logs import mask_email

COLUMNS = ("email", "name", "locale", "services")
LOCALES = ("zh-CN", "en")
CHUNK = 5000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Customer:
    email: str
    name: str
    locale: str
    services: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ImportResult:
    imported: int
    skipped: tuple[NoticeError, ...]


def _row_error(path: Path, row: int, message: str, hint: str | None = None) -> NoticeError:
    return NoticeError(message, path=path, row=row, hint=hint)


def _validated(
    record: dict[str, str], row: int, path: Path, settings: Settings
) -> Customer | NoticeError:
    raw_email = (record.get("email") or "").strip()
    try:
        email = validate_email(raw_email, check_deliverability=False).normalized
    except EmailNotValidError as error:
        shown = mask_email(raw_email) if raw_email else "(empty)"
        return _row_error(path, row, f"invalid email {shown}: {error}")
    name = (record.get("name") or "").strip()
    if name.startswith(_FORMULA_START) or "\n" in name or "\r" in name:
        return _row_error(
            path,
            row,
            "the name starts like a spreadsheet formula or holds a line break",
            "remove the leading =, +, -, @ or the line break",
        )
    locale = (record.get("locale") or "").strip() or settings.default_locale
    if locale not in LOCALES:
        return _row_error(
            path, row, f"unknown locale '{locale}'", f"use one of: {', '.join(LOCALES)}"
        )
    services = tuple(s.strip() for s in (record.get("services") or "").split(";") if s.strip())
    if not services:
        return _row_error(path, row, "no services", "list services separated by ';'")
    unknown = [s for s in services if s not in settings.services]
    if unknown:
        return _row_error(
            path,
            row,
            f"unknown service(s): {', '.join(unknown)}",
            f"known services: {', '.join(settings.services)}",
        )
    return Customer(email, name, locale, tuple(sorted(set(services))))


def _rows(path: Path, settings: Settings) -> Iterator[tuple[int, Customer | NoticeError]]:
    seen: set[bytes] = set()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            problem = _row_error(
                path,
                1,
                f"missing column(s): {', '.join(missing)}",
                f"the header must be {','.join(COLUMNS)}",
            )
            raise CustomerImportError(path, [problem])
        for row, record in enumerate(reader, start=2):
            found = _validated(record, row, path, settings)
            if isinstance(found, Customer):
                key = hashlib.blake2b(found.email.lower().encode(), digest_size=8).digest()
                if key in seen:
                    found = _row_error(path, row, f"duplicate email {mask_email(found.email)}")
                seen.add(key)
            yield row, found


def read_csv(path: Path, settings: Settings) -> Iterator[Customer | NoticeError]:
    """Stream validated rows (row 1 is the header); duplicates within the file are errors."""
    row = 1
    try:
        for row, found in _rows(path, settings):  # noqa: B007 (row names a decode error)
            yield found
    except UnicodeDecodeError as error:
        problem = _row_error(path, row + 1, "not UTF-8 text", "save the CSV as UTF-8")
        raise CustomerImportError(path, [problem]) from error
    except FileNotFoundError as error:
        raise NoticeError("file not found", path=path) from error


def _upsert(connection: object, engine: Engine, rows: Sequence[Customer]) -> None:
    now = datetime.now(UTC)
    values = [
        {
            "email": c.email,
            "name": c.name,
            "locale": c.locale,
            "services": ";" + ";".join(c.services) + ";",
            "updated_at": now,
        }
        for c in rows
    ]
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(db.customers)
    statement = statement.on_conflict_do_update(
        index_elements=[db.customers.c.email],
        set_={key: statement.excluded[key] for key in ("name", "locale", "services", "updated_at")},
    )
    connection.execute(statement, values)  # type: ignore[attr-defined]


def import_csv(path: Path, settings: Settings, *, skip_invalid: bool = False) -> ImportResult:
    """Validate every row, then upsert by email in one transaction; nothing on any bad row."""
    problems = [found for found in read_csv(path, settings) if isinstance(found, NoticeError)]
    if problems and not skip_invalid:
        raise CustomerImportError(path, problems)
    bad_rows = {problem.row for problem in problems}
    engine = db.engine(settings)
    imported = 0
    with engine.begin() as connection:
        chunk: list[Customer] = []
        for row, found in enumerate(read_csv(path, settings), start=2):
            if row in bad_rows or not isinstance(found, Customer):
                continue
            chunk.append(found)
            if len(chunk) >= CHUNK:
                _upsert(connection, engine, chunk)
                imported, chunk = imported + len(chunk), []
        if chunk:
            _upsert(connection, engine, chunk)
            imported += len(chunk)
    return ImportResult(imported, tuple(problems))


def suppress(settings: Settings, email: str, reason: str) -> bool:
    """Mark a customer as not to be mailed (bounced, closed account); False if unknown."""
    with db.engine(settings).begin() as connection:
        result = connection.execute(
            update(db.customers)
            .where(func.lower(db.customers.c.email) == email.strip().lower())
            .values(suppressed_reason=reason, updated_at=datetime.now(UTC))
        )
    return bool(result.rowcount)


def counts(settings: Settings) -> dict[str, int]:
    """How many customers there are, active and suppressed: never who they are."""
    table = db.customers
    with db.engine(settings).begin() as connection:
        total = connection.execute(select(func.count()).select_from(table)).scalar_one()
        suppressed = connection.execute(
            select(func.count()).select_from(table).where(table.c.suppressed_reason.is_not(None))
        ).scalar_one()
    return {"total": total, "active": total - suppressed, "suppressed": suppressed}
