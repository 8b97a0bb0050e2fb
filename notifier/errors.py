"""One exception tree for everything a user can get wrong, each error saying where and what to do.

NoticeError                 base: message, path, line, row, hint
 ├── ConfigError            notices.toml or the environment
 ├── NoticeFileError        a notice file cannot be read or parsed
 ├── CheckFailed            `notices check` found problems (carries them all)
 ├── HistoryError           git history is missing, shallow or rewritten
 ├── VersionNotFound        a release or revision that does not exist
 ├── CustomerImportError    a customers CSV has bad rows (carries them all)
 ├── NotifyError            a notice cannot be sent as asked (late, unknown release)
 ├── MailError              a transport failed for a whole batch
 ├── ScheduleError          the scheduler or its job store
 ├── DatabaseError          the database cannot be reached or its schema is not current
 ├── ConsentError           a consent question or decision that cannot be asked or recorded
 ├── ServeError             a server's processes cannot start
 └── SiteError              the site build failed; the previous site is kept
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class NoticeError(Exception):
    """Base of every error the `notices` command reports to its user."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        row: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.row = row
        self.hint = hint

    @property
    def where(self) -> str:
        """`path:line` or `path: row N`, or '' when the error has no location."""
        if self.path is None:
            return f"row {self.row}" if self.row is not None else ""
        if self.line is not None:
            return f"{self.path}:{self.line}"
        if self.row is not None:
            return f"{self.path}: row {self.row}"
        return self.path

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text} (hint: {self.hint})" if self.hint else text


class ConfigError(NoticeError):
    """Settings in notices.toml or the environment are missing, unknown or of the wrong type."""


class NoticeFileError(NoticeError):
    """A notice file cannot be decoded or parsed."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding of `notices check`: an error blocks, a warning is only reported."""

    severity: str  # "error" | "warning"
    rule: str
    message: str
    path: str
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        text = f"{where}: {self.severity}: {self.message} [{self.rule}]"
        return f"{text} (hint: {self.hint})" if self.hint else text


class CheckFailed(NoticeError):
    """`notices check` found at least one error; all problems found are attached."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        errors = [p for p in problems if p.severity == "error"]
        super().__init__(f"{len(errors)} error(s) found by notices check")
        self.problems = tuple(problems)


class HistoryError(NoticeError):
    """Git history cannot be read, or a published version was rewritten."""


class VersionNotFound(NoticeError):
    """A release version, revision or file named on the command line does not exist."""


class CustomerImportError(NoticeError):
    """A customers CSV has invalid rows; nothing was imported."""

    def __init__(self, path: Path | str, problems: Sequence[NoticeError]) -> None:
        super().__init__(
            f"{len(problems)} invalid row(s); nothing imported",
            path=path,
            hint="fix the rows listed, or pass --skip-invalid to import the valid rows only",
        )
        self.problems = tuple(problems)


class NotifyError(NoticeError):
    """A notification cannot be planned or sent as asked."""


class MailFailure(StrEnum):
    """How a transport failed a whole batch, so that the sender decides without reading text.

    UNREACHABLE (connection refused, name not resolved) and UNAUTHORIZED (401/403: the key is
    refused) fail every batch alike: a run stops after a few in a row, and UNAUTHORIZED spends
    no delivery attempt. OTHER is a failure of that batch alone.
    """

    UNREACHABLE = "unreachable"
    UNAUTHORIZED = "unauthorized"
    OTHER = "other"


class MailError(NoticeError):
    """A mail transport failed for a whole batch (or for batch after batch); `kind` says how."""

    def __init__(
        self, message: str, *, kind: MailFailure = MailFailure.OTHER, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.kind = kind


class ScheduleError(NoticeError):
    """The scheduler or its job store failed."""


class DatabaseError(NoticeError):
    """The database cannot be reached, or its schema is behind (or ahead of) this version."""


class ConsentError(NoticeError):
    """A consent question that does not exist, or a decision that cannot be recorded as asked
    (the text changed since it was shown, nothing to withdraw); nothing was recorded."""


class ServeError(NoticeError):
    """A server process ended as it started: starting another would only end the same way."""


class SiteError(NoticeError):
    """The site could not be built; the previously built site is left in place."""
