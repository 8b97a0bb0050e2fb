"""Create a notices repository on disk: the starter files, `git init` and the first release.

Every target is checked before anything is written, and whatever was made is removed again if
a later step fails (a write, `git init`, the commit), so a failed init leaves the folder as it
was. The first commit uses the user's own git identity; without one it stops before writing.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from notifier.errors import NoticeError
from notifier.files import atomic_writer
from notifier.scaffold.starter import Starter, starter_files

BRANCH = "main"


@dataclass(frozen=True, slots=True)
class Initialised:
    """What `initialise` made: the files (relative to `root`), and the git steps it took."""

    root: Path
    files: tuple[str, ...]
    created_git: bool
    commit: str | None  # the first release's commit, when init made it


def initialise(directory: Path, starter: Starter, *, commit: bool = True) -> Initialised:
    """Write the starter files into `directory` (made if missing); when it is not yet a git
    repository, `git init -b main` it and, unless `commit` is false, commit the files as the
    first release."""
    files = starter_files(starter)
    _refuse_existing(directory, files)
    created_git = not (directory / ".git").exists()
    committing = commit and created_git
    if committing:
        _require_identity(directory)
    with _undone_on_failure(directory, files, created_git):
        for relative, text in files.items():
            with atomic_writer(directory / relative, mode=0o644) as stream:
                stream.write(text.encode("utf-8"))
        if created_git:
            _git(directory, "init", "-q", "-b", BRANCH)
        sha = _first_release(directory, starter, list(files)) if committing else None
    return Initialised(directory, tuple(files), created_git, sha)


def _refuse_existing(directory: Path, files: dict[str, str]) -> None:
    if directory.exists() and not directory.is_dir():
        raise NoticeError(
            "exists and is not a folder", path=directory, hint="choose another folder"
        )
    for relative in files:
        target = directory / relative
        if target.exists() or target.is_symlink():
            raise NoticeError(
                "already exists; notices init never overwrites a file",
                path=target,
                hint="move it away, or run notices init in another folder",
            )
        blocking = next((p for p in target.parents if p.is_file()), None)
        if blocking is not None:
            raise NoticeError(
                f"is a file where init needs a folder for {relative}",
                path=blocking,
                hint="move it away, or run notices init in another folder",
            )


def _require_identity(directory: Path) -> None:
    """Stop before writing when git would refuse the first commit for want of a name."""
    where = next(p for p in (directory, *directory.parents) if p.exists())
    for ident in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        found = subprocess.run(["git", "var", ident], cwd=where, capture_output=True, text=True)
        if found.returncode != 0:
            raise NoticeError(
                "git has no name and email to commit the first release with",
                path=directory,
                hint='set them with git config --global user.name "…" and '
                'git config --global user.email "…", or pass --no-commit',
            )


def _first_release(directory: Path, starter: Starter, files: list[str]) -> str:
    notice = f"{starter.notice} ({', '.join(starter.locales)})"
    _git(directory, "add", "--", *files)
    _git(directory, "commit", "-q", "-m", f"First release of the {notice} notice")
    return _git(directory, "rev-parse", "HEAD")


def _git(directory: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=directory, capture_output=True, text=True)
    if result.returncode != 0:
        said = (result.stderr.strip().splitlines() or ["no message"])[-1]
        raise NoticeError(f"git {args[0]} failed: {said}", path=directory)
    return result.stdout.strip()


@contextmanager
def _undone_on_failure(directory: Path, files: dict[str, str], created_git: bool) -> Iterator[None]:
    """On failure, remove every file and folder the block made (none of them existed before)."""
    made = {found for relative in files if (found := _highest_missing(directory / relative))}
    try:
        yield
    except BaseException:
        for path in made:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        if created_git:
            shutil.rmtree(directory / ".git", ignore_errors=True)
        raise


def _highest_missing(target: Path) -> Path | None:
    """The outermost folder (or the file itself) on the way to `target` that does not exist."""
    missing = [p for p in (target, *target.parents) if not p.exists()]
    return missing[-1] if missing else None
