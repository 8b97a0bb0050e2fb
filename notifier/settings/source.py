"""notices.toml as read: its text, parsed, and the line that sets a given key.

Errors name `notices.toml:LINE`, so the schema's locations (('lint', 'rules', 'L03', 'severity'))
are mapped back to the lines of the file here.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from notifier.errors import ConfigError

_KEY_PART = re.compile(r"""[\w-]+|"[^"]*"|'[^']*'""")
_TABLE_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?$")
_KEY_LINE = re.compile(rf"^\s*((?:{_KEY_PART.pattern})(?:\s*\.\s*(?:{_KEY_PART.pattern}))*)\s*=")


@dataclass(frozen=True, slots=True)
class Source:
    """notices.toml's path and text ('' when there is no file or the table came as a mapping)."""

    path: Path | str
    text: str = ""

    @classmethod
    def read(cls, path: Path) -> Source:
        if not path.exists():
            return cls(path)
        try:
            return cls(path, path.read_text(encoding="utf-8"))
        except UnicodeDecodeError as error:
            line = error.object[: error.start].count(b"\n") + 1
            raise ConfigError(
                "not UTF-8 text", path=path, line=line, hint="save it as UTF-8"
            ) from error

    def parsed(self) -> dict[str, Any]:
        try:
            return tomllib.loads(self.text)
        except tomllib.TOMLDecodeError as error:
            found = re.search(r"at line (\d+)", str(error))
            line = int(found.group(1)) if found else None
            raise ConfigError(f"invalid TOML: {error}", path=self.path, line=line) from error

    def line_of(self, location: Sequence[str]) -> int | None:
        """The line that sets `location` (a table header or a key, dotted keys too), else the
        first line below it, else that of the nearest table or key above it (a value written
        inline is found at the key that holds it)."""
        entries = self._entries()
        wanted = tuple(location)
        while wanted:
            found = next((line for path, line in entries if path == wanted), None) or next(
                (line for path, line in entries if path[: len(wanted)] == wanted), None
            )
            if found is not None:
                return found
            wanted = wanted[:-1]
        return None

    def _entries(self) -> list[tuple[tuple[str, ...], int]]:
        """Each table header and key of the file as a dotted path, with its line."""
        entries: list[tuple[tuple[str, ...], int]] = []
        table: tuple[str, ...] = ()
        for number, text in enumerate(self.text.split("\n"), start=1):
            if header := _TABLE_HEADER.match(text):
                table = _parts(header.group(1))
                entries.append((table, number))
            elif key := _KEY_LINE.match(text):
                entries.append(((*table, *_parts(key.group(1))), number))
        return entries


def _parts(dotted: str) -> tuple[str, ...]:
    return tuple(part.strip("\"'") for part in _KEY_PART.findall(dotted))
