"""Files written whole or not at all: a temporary file beside the target, then a rename.

What we write under var/ holds customer data or evidence, so files are private by default and
the folders made for them are as private as the files.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def make_folders(path: Path, mode: int = 0o700) -> None:
    """Create `path` and each missing parent with `mode` (`mkdir(parents=True)` would give
    the parents the default mode, e.g. a var/ readable by everyone). Existing folders stay."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=mode, exist_ok=True)


def folder_mode(file_mode: int) -> int:
    """The mode of a folder made for files of `file_mode`: 0o600 → 0o700, 0o644 → 0o755."""
    return file_mode | 0o700 | ((file_mode & 0o044) >> 2)


@contextmanager
def atomic_writer(path: Path, *, mode: int = 0o600) -> Iterator[IO[bytes]]:
    """Yield a binary stream; on success it replaces `path` (with `mode`), on error it vanishes.

    Owner-only unless a caller passes a wider `mode` for a file meant to be shared.
    """
    make_folders(path.parent, folder_mode(mode))
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
