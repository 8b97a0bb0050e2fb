"""The hash chain of a proof-of-notice CSV: every row's hash covers the row before it.

Editing, dropping or reordering any row breaks every hash from there on, so a proof handed to a
regulator can be checked later; keep the chain head (printed when the proof is written) apart
from the file, since whoever can rewrite the whole file can also recompute the whole chain.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from notifier.consent import records
from notifier.errors import NotifyError

# Before consent decisions were part of the proof: still verified as they were written.
LEGACY_COLUMNS = (
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
# A delivery row leaves the decision columns empty; a decision row the delivery's status and
# events. A decision row repeats what its record's own chain covers, so `decision_chain` is
# checked too: it must follow from the decision rows before it, in order, none missing.
DECISION_COLUMNS = (
    "delivery_id",
    "article",
    "text_sha256",
    "decision",
    "decided_at",
    "decision_seq",
    "withdraws_seq",
    "client",
    "decision_chain",
)
COLUMNS = (*LEGACY_COLUMNS[:-2], *DECISION_COLUMNS, "release", "row_hash")
_HASHED = COLUMNS[:-1]


@dataclass(frozen=True, slots=True)
class Verified:
    rows: int
    head: str


def seed(release_id: str, release_sha256: str) -> str:
    """The "previous hash" of the first row: binds the chain to one release's text."""
    return hashlib.sha256(f"{release_id}\n{release_sha256}".encode()).hexdigest()


def fields(common: Mapping[str, str], **values: str) -> list[str]:
    """A row's fields in column order, row_hash aside, from its values by column name (those
    `common` to every row, then its own): a delivery row leaves the decision columns empty, a
    decision row the delivery's."""
    given = {**common, **values}
    unknown = given.keys() - set(_HASHED)
    if unknown:
        raise ValueError(f"not a proof column: {', '.join(sorted(unknown))}")
    return [given.get(column, "") for column in _HASHED]


def row_hash(previous: str, fields: Sequence[str]) -> str:
    """sha256(previous hash + the row's fields as a compact JSON array, row_hash excluded)."""
    canonical = json.dumps(list(fields), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((previous + canonical).encode("utf-8")).hexdigest()


def verify(path: Path) -> Verified:
    """Recompute the chain, and the decisions' own chain; a NotifyError names the first row
    that does not match."""
    hint = "this proof was edited after it was written; export it again from the ledger"
    try:
        with path.open(newline="", encoding="utf-8") as stream:
            rows = list(csv.reader(stream))
    except (OSError, UnicodeDecodeError) as error:
        raise NotifyError(f"cannot read the proof: {error}", path=path) from error
    if not rows or tuple(rows[0]) not in (COLUMNS, LEGACY_COLUMNS):
        raise NotifyError(
            "not a proof-of-notice CSV with a hash chain (header differs)",
            path=path,
            row=1,
            hint="write it with `notices notify proof VERSION --out FILE`",
        )
    columns = tuple(rows[0])
    release = rows[1][columns.index("release")] if len(rows) > 1 else ""
    sha = rows[1][columns.index("sha256")] if len(rows) > 1 else ""
    previous = seed(release, sha)
    decisions = _Decisions(release)
    for number, fields in enumerate(rows[1:], start=2):
        if len(fields) != len(columns):
            raise NotifyError(
                f"{len(fields)} fields, expected {len(columns)}", path=path, row=number
            )
        if fields[columns.index("release")] != release or fields[columns.index("sha256")] != sha:
            raise NotifyError("row belongs to another release", path=path, row=number, hint=hint)
        expected = row_hash(previous, fields[:-1])
        if fields[-1] != expected:
            raise NotifyError("row hash does not match", path=path, row=number, hint=hint)
        previous = expected
        if columns == COLUMNS and fields[COLUMNS.index("decision")]:
            problem = decisions.follow(dict(zip(COLUMNS, fields, strict=True)))
            if problem:
                raise NotifyError(problem, path=path, row=number, hint=hint)
    return Verified(len(rows) - 1, previous)


class _Decisions:
    """The decision rows met so far: their chain, and the agreements a withdrawal may name."""

    def __init__(self, release: str) -> None:
        self.release, self.seq, self.chain = release, 0, records.seed(release)
        self.agreements: dict[int, tuple[str, str]] = {}  # seq → (delivery id, article)

    def follow(self, row: dict[str, str]) -> str | None:
        """What is wrong with the next decision row (None: it follows)."""
        if row["decision"] not in records.DECISIONS:
            return f"unknown consent decision {row['decision']!r}"
        try:
            seq, delivery_id = int(row["decision_seq"]), int(row["delivery_id"])
            withdraws = int(row["withdraws_seq"]) if row["withdraws_seq"] else None
            decided = datetime.fromisoformat(row["decided_at"].replace("Z", "+00:00"))
        except ValueError:
            return "consent decision fields are not numbers and a time"
        if seq != self.seq + 1:
            return f"consent decision {seq} follows decision {self.seq}: one is missing or moved"
        who = (row["delivery_id"], row["article"])
        if row["decision"] == "withdraw" and self.agreements.get(withdraws or 0) != who:
            return "a withdrawal that names no earlier agreement of the same recipient"
        expected = records.chained(
            self.chain,
            seq=seq,
            delivery_id=delivery_id,
            release_id=self.release,
            article=row["article"],
            text_sha256=row["text_sha256"],
            locale=row["locale"],
            decision=row["decision"],
            withdraws_seq=withdraws,
            recorded_at=decided,
            client=row["client"] or None,
        )
        if row["decision_chain"] != expected:
            return "consent decision hash does not match"
        self.seq, self.chain = seq, expected
        if row["decision"] == "agree":
            self.agreements[seq] = who
        return None
