"""Parsed texts, comparisons, verdicts and the texts as the site shows them, kept between site
builds and sends, addressed by what they were computed from.

A site is rebuilt on every release and every effective date from a history that only grows, and
each build parsed, compared, judged and made inert the same texts again; so did each `notify`
command (a send is restarted, resumed, run by several workers). An entry's address is the
SHA-256 of its texts, the rules in force, the package's version and the source of the code that
judges (`statement/` and the packaged rules), so it never answers for other texts, rules or code.

Entries live under the repository's `var/cache/` (var/ is not committed), each written
atomically with the SHA-256 of its content before it: an entry that fails that check or does
not load is computed again and rewritten, never trusted. They are pickles, as trusted as the
code beside them (anyone who can write var/ can write the repository).
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, is_dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TypeVar

from notifier.files import make_folders
from notifier.releases.history import Release
from notifier.settings import Settings
from notifier.statement.diff import Comparison, compare
from notifier.statement.materiality import RuleSet, Verdict
from notifier.statement.notice import Notice, parse_notice
from notifier.statement.sanitize import inert_body

log = logging.getLogger(__name__)

T = TypeVar("T")

FOLDER = "cache"
Parts = tuple[str, ...]  # what an entry is computed from, in words: its address
_CHECK = hashlib.sha256().digest_size


@cache
def code_digest() -> str:
    """The package's version and the source of everything a comparison or verdict depends on."""
    from importlib import metadata  # ~10 ms at import: only site builds read the cache

    digest = hashlib.sha256(metadata.version("notices").encode("utf-8"))
    for package in ("notifier.statement", "notifier.rules"):
        for entry in sorted(files(package).iterdir(), key=lambda e: e.name):
            if entry.name.endswith((".py", ".yaml")):
                digest.update(entry.name.encode("utf-8") + b"\0" + entry.read_bytes())
    return digest.hexdigest()


def rules_digest(rules: RuleSet) -> str:
    """The rules in force (the packaged catalogue and notices.toml's overrides), written out
    the same way in every run (sets sorted: their order changes from one process to the next)."""
    return hashlib.sha256(repr(_canonical(rules)).encode("utf-8")).hexdigest()


def _canonical(value: object) -> object:
    if is_dataclass(value) and not isinstance(value, type):
        return (type(value).__name__, [_canonical(getattr(value, f.name)) for f in fields(value)])
    if isinstance(value, Mapping):
        return sorted((repr(k), _canonical(v)) for k, v in value.items())
    if isinstance(value, (set, frozenset)):
        return sorted(repr(_canonical(item)) for item in value)
    if isinstance(value, (list, tuple)):
        return [_canonical(item) for item in value]
    if isinstance(value, re.Pattern):
        return ("pattern", value.pattern, value.flags)
    return value


@dataclass(frozen=True, slots=True)
class Judged:
    """A release's comparison with the one before it and the verdict on that comparison, kept
    together: the verdict names the comparison's very changes."""

    comparison: Comparison
    verdict: Verdict


class JudgementCache:
    """Entries in one folder; each is read from there if it is sound, else computed and stored."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hits = self.misses = 0
        self.used: set[Path] = set()
        self._rules: dict[int, tuple[RuleSet, str]] = {}

    def parsed(self, release: Release) -> Notice:
        """The release's text in force, parsed: its `notice_doc`."""
        parts = ("notice", release.path, release.sha256)  # sha256 of the text in force
        return self._remember(parts, None, lambda: parse_notice(release.data, release.path), Notice)

    def compared(self, old: Release, new: Release) -> Comparison:
        """`compare` of two releases' texts in force."""

        def compute() -> Comparison:
            return compare(old.notice_doc, new.notice_doc)

        return self._remember(_compared_parts(old, new), (old, new), compute, Comparison)

    def inert_body(self, release: Release) -> str:
        """`inert_body` of the release's text in force."""

        def compute() -> str:
            return inert_body(release.parse_with(self.parsed))

        return self._remember(_inert_parts(release), None, compute, str)

    def judged(
        self, previous: Release, release: Release, rules: RuleSet, compute: Callable[[], Judged]
    ) -> Judged:
        """`compute()`: the comparison and verdict of `release` against `previous` under
        `rules`, with the editors' `material:` decisions on both."""
        parts = self._judged_parts(previous, release, rules)
        return self._remember(parts, (previous, release), compute, Judged)

    def has_judged(self, previous: Release, release: Release, rules: RuleSet) -> bool:
        """Whether `judged` would find its entry (sound or not: reading it is what checks)."""
        return self._path(self._judged_parts(previous, release, rules)).is_file()

    def has_inert_body(self, release: Release) -> bool:
        """Whether `inert_body` would find its entry."""
        return self._path(_inert_parts(release)).is_file()

    def has_compared(self, old: Release, new: Release) -> bool:
        """Whether `compared` would find its entry (sound or not: reading it is what checks)."""
        return self._path(_compared_parts(old, new)).is_file()

    def _judged_parts(self, previous: Release, release: Release, rules: RuleSet) -> Parts:
        return (
            "judged",
            previous.sha256,
            release.sha256,
            self._rules_digest(rules),
            repr(previous.override),
            repr(release.override),
        )

    def prune(self) -> int:
        """Remove the entries this run did not use: a new current version makes the comparisons
        with the old one useless, and without this the folder would grow with the square of
        the number of versions. Returns how many were removed."""
        removed = 0
        for path in self.folder.glob("??/*"):
            if path not in self.used:
                try:
                    path.unlink(missing_ok=True)
                except OSError as error:  # left for the next build to remove
                    log.debug("cache entry %s not removed: %s", path.name, error)
                    continue
                removed += 1
        return removed

    def _rules_digest(self, rules: RuleSet) -> str:
        known = self._rules.get(id(rules))
        if known is None or known[0] is not rules:
            known = self._rules[id(rules)] = (rules, rules_digest(rules))
        return known[1]

    def _path(self, parts: Parts) -> Path:
        key = hashlib.sha256("\0".join((code_digest(), *parts)).encode("utf-8")).hexdigest()
        return self.folder / key[:2] / key

    def _remember(
        self,
        parts: Parts,
        texts: tuple[Release, Release] | None,
        compute: Callable[[], T],
        kind: type[T],
    ) -> T:
        """The entry for `parts` if it is sound and a `kind`, else `compute()` stored as one.

        The two texts an entry is computed from (if any) are not stored in it: it names them,
        and their sections, by position, and gets the ones parsed in this run back (see
        `_Inputs`); they are themselves parsed through the cache."""
        path = self._path(parts)
        self.used.add(path)
        inputs = _Inputs(*(release.parse_with(self.parsed) for release in texts or ()))
        found = self._read(path, inputs)
        if isinstance(found, kind):
            self.hits += 1
            return found
        self.misses += 1
        value = compute()
        self._write(path, value, inputs)
        return value

    def _read(self, path: Path, inputs: _Inputs) -> object | None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        check, payload = data[:_CHECK], data[_CHECK:]
        if hashlib.sha256(payload).digest() != check:
            log.debug("cache entry %s is damaged: computing it again", path.name)
            return None
        try:
            found: object = _Loader(io.BytesIO(payload), inputs).load()
            return found
        except Exception:  # names a text's part that is not there: compute it again
            log.debug("cache entry %s does not load: computing it again", path.name)
            return None

    def _write(self, path: Path, value: object, inputs: _Inputs) -> None:
        """Write the entry whole or not at all; a cache that cannot be written is only slower."""
        buffer = io.BytesIO()
        _Dumper(buffer, inputs).dump(value)
        payload = buffer.getvalue()
        temporary = None
        try:
            make_folders(path.parent)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".entry-")
            with os.fdopen(handle, "wb") as stream:
                stream.write(hashlib.sha256(payload).digest() + payload)
            os.replace(temporary, path)
        except OSError as error:
            log.debug("cache entry %s not written: %s", path.name, error)
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)


def of_repository(settings: Settings) -> JudgementCache:
    """The repository's cache (under var/, never committed), shared by its site builds,
    previews and sends."""
    return JudgementCache(settings.var_dir / FOLDER)


def _inert_parts(release: Release) -> Parts:
    return ("inert", release.path, release.sha256)


def _compared_parts(old: Release, new: Release) -> Parts:
    return ("comparison", old.sha256, new.sha256)


class _Inputs:
    """The two parsed texts an entry is computed from, their front matter and sections, each
    named by its place: ("old",), ("new", "front"), ("old", 3) (the fourth section)."""

    def __init__(self, *notices: Notice) -> None:
        self.notices = dict(zip(("old", "new"), notices, strict=False))
        self.names: dict[int, tuple[str | int, ...]] = {}
        for side, notice in self.notices.items():
            self.names[id(notice)] = (side,)
            if notice.front is not None:
                self.names[id(notice.front)] = (side, "front")
            for index, section in enumerate(notice.sections):
                self.names[id(section)] = (side, index)

    def find(self, name: tuple[str | int, ...]) -> object:
        notice = self.notices[str(name[0])]
        if len(name) == 1:
            return notice
        if name[1] == "front":
            return notice.front
        return notice.sections[int(name[1])]


class _Dumper(pickle.Pickler):
    def __init__(self, file: io.BytesIO, inputs: _Inputs) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.inputs = inputs

    def persistent_id(self, obj: object) -> tuple[str | int, ...] | None:
        return self.inputs.names.get(id(obj))


class _Loader(pickle.Unpickler):
    def __init__(self, file: io.BytesIO, inputs: _Inputs) -> None:
        super().__init__(file)  # noqa: S301 (an entry written by `_Dumper`, its check passed)
        self.inputs = inputs

    def persistent_load(self, pid: object) -> object:
        if not isinstance(pid, tuple):
            raise pickle.UnpicklingError("not a name of an input")
        return self.inputs.find(pid)
