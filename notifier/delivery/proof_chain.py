"""The hash chain of a proof-of-notice CSV: every row's hash covers the row before it.

Editing, dropping or reordering any row breaks every hash from there on, so a proof handed to a
regulator can be checked later; keep the chain head (printed when the proof is written) apart
from the file, since whoever can rewrite the whole file can also recompute the whole chain.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from notifier.errors import NotifyError

COLUMNS = (
    "version",
    "sha256",
    "customer_id",
    "email",
    "locale",
    "status",
    "sent_at",
    "message_id",
    "delivery_state",
    "event_at",
    "release",
    "row_hash",
)


@dataclass(frozen=True, slots=True)
class Verified:
    rows: int
    head: str


def seed(release_id: str, release_sha256: str) -> str:
    """The "previous hash" of the first row: binds the chain to one release's text."""
    return hashlib.sha256(f"{release_id}\n{release_sha256}".encode()).hexdigest()


def row_hash(previous: str, fields: Sequence[str]) -> str:
    """sha256(previous hash + the row's fields as a compact JSON array, row_hash excluded)."""
    canonical = json.dumps(list(fields), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((previous + canonical).encode("utf-8")).hexdigest()


def verify(path: Path) -> Verified:
    """Recompute the chain; a NotifyError names the first row that does not match."""
    hint = "this proof was edited after it was written; export it again from the ledger"
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            rows = list(csv.reader(stream))
    except (OSError, UnicodeDecodeError) as error:
        raise NotifyError(f"cannot read the proof: {error}", path=path) from error
    if not rows or tuple(rows[0]) != COLUMNS:
        raise NotifyError(
            "not a proof-of-notice CSV with a hash chain (header differs)",
            path=path,
            row=1,
            hint="write it with `notices notify proof VERSION --out FILE`",
        )
    release = rows[1][COLUMNS.index("release")] if len(rows) > 1 else ""
    sha = rows[1][COLUMNS.index("sha256")] if len(rows) > 1 else ""
    previous = seed(release, sha)
    for number, fields in enumerate(rows[1:], start=2):
        if len(fields) != len(COLUMNS):
            raise NotifyError(
                f"{len(fields)} fields, expected {len(COLUMNS)}", path=path, row=number
            )
        if fields[COLUMNS.index("release")] != release or fields[1] != sha:
            raise NotifyError("row belongs to another release", path=path, row=number, hint=hint)
        expected = row_hash(previous, fields[:-1])
        if fields[-1] != expected:
            raise NotifyError("row hash does not match", path=path, row=number, hint=hint)
        previous = expected
    return Verified(len(rows) - 1, previous)
