"""The customer directory: who uses which service, in which language, and who must not be mailed.

A CSV import validates every row and writes in one transaction: one bad row reported with its row
number is better than a million customers half-imported. Rows stream through in chunks, so a
million-row file imports with flat memory.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, NamedTuple

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from notifier.delivery import csv_encoding
from notifier.errors import CustomerImportError, NoticeError
from notifier.locales import LANGUAGE_TAG, LOCALES, matching_locale
from notifier.logs import mask_email
from notifier.mailbox import mailbox
from notifier.settings import Settings
from notifier.storage import db

COLUMNS = ("email", "name", "locale", "services")
CHUNK = 5000
MAX_NAME = 200
# A cell starting with one of these is run as a formula by spreadsheets (CSV injection), and the
# name comes back in exports: such rows are refused, not silently rewritten.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Control characters (NUL, ESC, NEL, …) and Unicode line/paragraph separators: a name is mailed
# as written, and PostgreSQL refuses NUL with an error quoting the whole batch of addresses.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")  # Unicode's Cc, Zl and Zp
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class Customer:
    """A row of the directory as imported; `email` is its `mailbox` (one customer, one row)."""

    email: str
    name: str
    locale: str
    services: tuple[str, ...]
    unmatched: str | None = None  # the language tag we have no text for (`locale` is the default)


@dataclass(frozen=True, slots=True)
class ImportResult:
    """How many rows were written, the rows left out (only with --skip-invalid), and how many
    asked for a language we have no text for (they read the default locale)."""

    imported: int
    skipped: tuple[NoticeError, ...]
    fallbacks: Mapping[str, int] = field(default_factory=dict)  # tag we have no text for → rows


def _row_error(path: Path, row: int, message: str, hint: str | None = None) -> NoticeError:
    return NoticeError(message, path=path, row=row, hint=hint)


class _Record(NamedTuple):
    """A row's cells under the header's columns (empty where the row is short)."""

    email: str
    name: str
    locale: str
    services: str


def _validated(record: _Record, row: int, path: Path, settings: Settings) -> Customer | NoticeError:
    raw_email = record.email.strip()
    if raw_email.startswith(_FORMULA_START):
        return _row_error(
            path,
            row,
            "the email starts like a spreadsheet formula",
            "addresses come back in proof-of-notice exports: fix the address",
        )
    try:
        email = mailbox(raw_email)
    except ValueError as error:  # email-validator's EmailNotValidError
        shown = mask_email(raw_email) if raw_email else "(empty)"
        return _row_error(path, row, f"invalid email {shown}: {error}")
    name = record.name.strip()
    if name.startswith(_FORMULA_START) or "\n" in name or "\r" in name:
        return _row_error(
            path,
            row,
            "the name starts like a spreadsheet formula or holds a line break",
            "remove the leading =, +, -, @ or the line break",
        )
    unsafe = _UNSAFE.search(name)
    if unsafe is not None:
        return _row_error(
            path,
            row,
            f"the name holds a control character or line separator (U+{ord(unsafe.group()):04X})",
            "remove it: names go into every mail as written",
        )
    if len(name) > MAX_NAME:
        return _row_error(path, row, f"the name is longer than {MAX_NAME} characters")
    tag = record.locale.strip() or settings.default_locale
    if not LANGUAGE_TAG.match(tag):
        return _row_error(
            path,
            row,
            f"'{tag[:40]}' is not a language tag",
            f"write a tag such as {', '.join(LOCALES)} or en-US",
        )
    locale = matching_locale(tag)
    services = tuple(s.strip() for s in record.services.split(";") if s.strip())
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
    services = tuple(sorted(set(services)))
    if locale is None:
        return Customer(email, name, settings.default_locale, services, unmatched=tag)
    return Customer(email, name, locale, services)


def _lines(handle: BinaryIO, encoding: str) -> Iterator[str]:
    """Decode line by line in the encoding `csv_encoding.choose` found for the whole file."""
    for number, raw in enumerate(handle, start=1):
        if number == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        yield raw.decode(encoding)


def _columns(header: list[str], path: Path) -> tuple[int, ...]:
    """Where the header puts each of COLUMNS (in any order; other columns are ignored)."""
    missing = [c for c in COLUMNS if c not in header]
    twice = sorted({c for c in header if c in COLUMNS and header.count(c) > 1})
    if missing or twice:
        problem = _row_error(
            path,
            1,
            f"missing column(s): {', '.join(missing)}"
            if missing
            else f"column(s) named twice: {', '.join(twice)}",
            f"the header must be {','.join(COLUMNS)}",
        )
        raise CustomerImportError(path, [problem])
    return tuple(header.index(c) for c in COLUMNS)


def _record(fields: list[str], columns: tuple[int, ...]) -> _Record:
    return _Record(*(fields[i] if i < len(fields) else "" for i in columns))


def read_csv(
    path: Path,
    settings: Settings,
    progress: Progress | None = None,
    *,
    encoding: str | None = None,
) -> Iterator[Customer | NoticeError]:
    """Stream validated rows (row 1 is the header); duplicates within the file are errors.
    Rows are numbered as a spreadsheet shows them: an empty row is skipped but counted.

    The file is read in `encoding`, or as UTF-8 if all of it is (see `csv_encoding.choose`).
    Memory stays flat but for an 8-byte digest per address, which finds duplicates.
    `progress(bytes read, file size)` is called every CHUNK rows.
    """
    seen: set[int] = set()
    row = 1
    try:
        chosen = csv_encoding.choose(path, encoding)
        size = path.stat().st_size
        with path.open("rb") as handle:
            # strict: an unclosed quote is an error, not the rest of the file in one field
            reader = csv.reader(_lines(handle, chosen), strict=True)
            header = next(reader, [])
            columns = _columns(header, path)
            for row, fields in enumerate(reader, start=2):
                if progress and row % CHUNK == 0:
                    progress(handle.tell(), size)
                if not fields:
                    continue
                if len(fields) > len(header):
                    yield _row_error(
                        path,
                        row,
                        "more fields than the header has",
                        'quote a field that holds a comma, e.g. "王伟, 李娜"',
                    )
                    continue
                found = _validated(_record(fields, columns), row, path, settings)
                if isinstance(found, Customer):
                    digest = hashlib.blake2b(found.email.encode(), digest_size=8).digest()
                    key = int.from_bytes(digest, "big")
                    if key in seen:
                        found = _row_error(
                            path,
                            row,
                            f"duplicate email {mask_email(found.email)}",
                            "keep one row per customer",
                        )
                    seen.add(key)
                yield found
    except FileNotFoundError as error:
        raise NoticeError("file not found", path=path, hint="check the path") from error
    except UnicodeDecodeError as error:  # the whole file decoded a moment ago
        raise NoticeError(
            "the file changed while it was read", path=path, hint="import it again"
        ) from error
    except csv.Error as error:
        problem = _row_error(
            path,
            row + 1,
            f"not valid CSV: {error}",
            'check the quotes: a field that starts with " must end with "',
        )
        raise CustomerImportError(path, [problem]) from error


def _upsert(connection: Connection, rows: Sequence[Customer]) -> None:
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
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(db.customers)
    statement = statement.on_conflict_do_update(
        index_elements=[db.customers.c.email],
        set_={key: statement.excluded[key] for key in ("name", "locale", "services", "updated_at")},
    )
    connection.execute(statement, values)


def import_csv(
    path: Path,
    settings: Settings,
    *,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    encoding: str | None = None,
) -> ImportResult:
    """Validate every row and upsert by email, in one pass and one transaction.

    A file not in `encoding` (by default: UTF-8 throughout) is refused before a row is read.

    On the first bad row writing stops (unless `skip_invalid`) but validation goes on, so that
    every bad row is reported; the transaction is then rolled back: nothing is imported.
    """
    problems: list[NoticeError] = []
    imported = 0
    chunk: list[Customer] = []
    fallbacks: Counter[str] = Counter()
    with db.engine(settings).begin() as connection:
        for found in read_csv(path, settings, progress, encoding=encoding):
            if isinstance(found, NoticeError):
                problems.append(found)
            elif skip_invalid or not problems:
                if found.unmatched is not None:
                    fallbacks[found.unmatched] += 1
                chunk.append(found)
                if len(chunk) >= CHUNK:
                    _upsert(connection, chunk)
                    imported, chunk = imported + len(chunk), []
        if problems and not skip_invalid:
            raise CustomerImportError(path, problems)  # rolls the transaction back
        if chunk:
            _upsert(connection, chunk)
            imported += len(chunk)
    return ImportResult(imported, tuple(problems), dict(fallbacks.most_common()))


def suppress(settings: Settings, email: str, reason: str) -> bool:
    """Mark a customer as not to be mailed (bounced, closed account); False if unknown.
    The address matches however it is written (case, Unicode or punycode domain)."""
    try:
        address = mailbox(email.strip())
    except ValueError:  # not an address: no customer has it
        return False
    with db.engine(settings).begin() as connection:
        result = connection.execute(
            update(db.customers)
            .where(db.customers.c.email == address)
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
