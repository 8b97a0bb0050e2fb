"""Every version of every notice on `main`, read from git: releases, publish dates, content hashes.

This is the only module that imports gitpython. One `git log --first-parent --raw` lists each
commit that touched a notice and the blob each file had after it; the blobs then stream through
gitpython's one persistent `git cat-file --batch`, never a process per version.

How history becomes releases (DESIGN.md "Releases"):
- history is the first-parent line of `main` (of HEAD when there is no `main`), so a merged pull
  request counts at its merge commit, never at the dates of its side-branch commits;
- a release is the oldest commit carrying a front-matter `version`; later commits with the same
  version are editorial revisions, and the newest of them is the text in force;
- `published` is that oldest commit's committer date, or the front matter's `published:` date at
  00:00 in the configured timezone (for versions published before the notice was kept in git);
- a version that comes back after another version, or a recorded release whose first-published
  text changed or vanished, is a rewrite of published history: reported, and
  `ensure_not_rewritten` refuses to let anyone publish or notify;
- a version that cannot be read (not UTF-8, broken front matter, no `version`) is skipped with a
  warning and listed in `History.unreadable`, unless it is the file's newest state on main (the
  text in force): then reading fails, naming the file, the commit and the line. A skipped
  commit can only make a later version's publish date later, never earlier;
- a shallow clone is refused (publish dates would be wrong); a detached HEAD does not matter when
  `main` exists, and HEAD is read with a warning when it does not.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, tzinfo
from pathlib import Path, PurePosixPath
from typing import Any

import git

from notifier.errors import HistoryError, NoticeFileError, VersionNotFound
from notifier.files import atomic_writer
from notifier.settings import Settings
from notifier.statement.materiality import Override
from notifier.statement.notice import FrontMatter, Notice, decode, parse_notice, parse_text

log = logging.getLogger(__name__)

MAIN = "main"
RECORD_FILE = "releases.lock.json"
APPEND_ONLY_HINT = "restore the published text; published history is append-only"
_RECORD_FORMAT = 1
_LOCALE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_HEX = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
_LOG_FORMAT = "--format=%x1e%H%x1f%cI%x1f%s"


@dataclass(frozen=True, slots=True)
class Revision:
    """A later commit carrying a release's version: an editorial revision of the published text."""

    commit: str
    committed: datetime
    sha256: str
    message: str
    text: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Release:
    """One version of one notice in one locale, as published on main.

    `sha256`, `data`, `text` and `notice_doc` are the text in force (the newest revision);
    `first_sha256` and `first_text` are the text as first published at `commit`. `notice_doc`
    is parsed on first use: most operations need the sections of a few releases, not of all.
    """

    notice: str
    locale: str
    path: str
    version: str
    published: datetime
    effective: date
    last_updated: date
    commit: str
    committed: datetime
    message: str
    sha256: str
    first_sha256: str
    title: str
    summary: str
    services: tuple[str, ...]
    override: Override | None  # the editor's `material:` decision, with the commit that made it
    revisions: tuple[Revision, ...]
    text: str = field(repr=False)
    first_text: str = field(repr=False)
    data: bytes = field(repr=False, compare=False)
    _doc: list[Notice] = field(default_factory=list, repr=False, compare=False)

    @property
    def notice_doc(self) -> Notice:
        """The text in force, parsed (front matter and sections)."""
        if not self._doc:
            self._doc.append(parse_notice(self.data, self.path))
        return self._doc[0]

    def parse_with(self, parse: Callable[[Release], Notice]) -> Notice:
        """`notice_doc`, parsed (on first use) by `parse` instead: a cache of parsed texts."""
        if not self._doc:
            self._doc.append(parse(self))
        return self._doc[0]

    @property
    def id(self) -> str:
        """`privacy/zh-CN/2018-11-01`: stable across runs, used in URLs, jobs and the ledger."""
        return f"{self.notice}/{self.locale}/{self.version}"

    @property
    def in_force_commit(self) -> str:
        """The commit whose text is in force: the newest revision, else the publishing commit."""
        return self.revisions[-1].commit if self.revisions else self.commit

    def effective_at(self, tz: tzinfo) -> datetime:
        """00:00 of the effective date in `tz` (the moment the release takes effect)."""
        return datetime.combine(self.effective, time(0), tzinfo=tz)


@dataclass(frozen=True, slots=True)
class RewrittenRelease:
    """A published release whose text (or publish date) history no longer shows as published."""

    release_id: str
    recorded_sha256: str
    current_sha256: str | None
    detail: str

    def __str__(self) -> str:
        return f"{self.release_id}: {self.detail}"


@dataclass(frozen=True, slots=True)
class UnreadableVersion:
    """A commit whose notice file could not be read; skipped because it is not the text in force."""

    path: str
    commit: str
    line: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class History:
    """The releases of every notice on main's first-parent history, ordered by publish time."""

    repo: Path
    ref: str
    head: str
    releases: tuple[Release, ...]
    rewrites: tuple[RewrittenRelease, ...] = ()
    unreadable: tuple[UnreadableVersion, ...] = ()
    default_locale: str = "zh-CN"
    git_root: Path | None = None
    prefix: str = ""
    known: Mapping[tuple[str, str], bytes] = field(default_factory=dict, repr=False, compare=False)

    def notices(self) -> tuple[tuple[str, str], ...]:
        """(notice, locale) pairs with releases: by notice, the default locale first."""
        pairs = {(r.notice, r.locale) for r in self.releases}
        return tuple(sorted(pairs, key=lambda p: (p[0], p[1] != self.default_locale, p[1])))

    def releases_of(self, notice: str, locale: str) -> tuple[Release, ...]:
        return tuple(r for r in self.releases if r.notice == notice and r.locale == locale)

    def releases_of_version(self, notice: str, version: str) -> tuple[Release, ...]:
        """One version of a notice in every locale that has it (its translations)."""
        return tuple(r for r in self.releases if r.notice == notice and r.version == version)

    def latest(self, notice: str, locale: str) -> Release | None:
        """The most recently published release (it may not be in effect yet)."""
        found = self.releases_of(notice, locale)
        return found[-1] if found else None

    def previous(self, release: Release) -> Release | None:
        """The release of the same notice and locale published just before `release`."""
        found = self.releases_of(release.notice, release.locale)
        ids = [r.id for r in found]
        if release.id not in ids:
            raise VersionNotFound(
                f"release {release.id} is not in the history of {self.ref}",
                hint="read the history again; the release may have been rewritten",
            )
        index = ids.index(release.id)
        return found[index - 1] if index > 0 else None

    def find(self, version: str, notice: str | None = None, locale: str | None = None) -> Release:
        """The release named by `version` (or a release id `notice/locale/version`)."""
        by_id = {r.id: r for r in self.releases}
        if notice is None and locale is None and version in by_id:
            return by_id[version]
        scoped = [
            r
            for r in self.releases
            if (notice is None or r.notice == notice) and (locale is None or r.locale == locale)
        ]
        found = [r for r in scoped if r.version == version]
        if len(found) > 1 and locale is None:
            found = [r for r in found if r.locale == self.default_locale] or found
        if len(found) == 1:
            return found[0]
        if found:
            names = ", ".join(f"{r.notice}/{r.locale}" for r in found)
            raise VersionNotFound(
                f"version {version!r} exists in several notices: {names}",
                hint="name one with --notice and --locale",
            )
        where = "/".join(part for part in (notice, locale) if part)
        known = list(dict.fromkeys(r.version for r in reversed(scoped)))
        listed = ", ".join(known[:12]) + (f" and {len(known) - 12} more" if len(known) > 12 else "")
        raise VersionNotFound(
            f"no release {version!r}" + (f" of {where}" if where else "") + f" on {self.ref}",
            hint=f"known versions: {listed}" if known else "no release has been published yet",
        )

    def text_at(self, revision: str, path: str) -> bytes:
        """The bytes of `path` (relative to the project) at a git revision, exactly as stored."""
        if not revision or revision.startswith("-") or any(c.isspace() for c in revision):
            raise VersionNotFound(
                f"not a git revision: {revision!r}", hint="give a commit, a tag or a branch"
            )
        relative = _relative_path(self.repo, path)
        if (revision, relative) in self.known:  # a release's text, read with the history
            return self.known[revision, relative]
        git_path = self.prefix + relative
        with _opened(self.git_root or self.repo) as repo:
            return _blob_at(repo, revision, git_path, path)


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Commit:
    sha: str
    committed: datetime
    message: str
    index: int  # position on the first-parent line, oldest = 0


@dataclass(frozen=True, slots=True)
class _Change:
    path: str  # relative to the git root
    blob: str | None  # None: the file is gone (deleted, or no longer a regular file)


@dataclass(frozen=True, slots=True)
class _State:
    """A readable version of a notice file at one commit."""

    commit: _Commit
    data: bytes
    text: str
    front: FrontMatter
    version: str
    sha256: str


@contextmanager
def _opened(path: Path) -> Iterator[git.Repo]:
    """Open the git repository around `path`; always stop its cat-file processes afterwards."""
    if not path.exists():
        raise HistoryError("folder does not exist", path=path, hint="pass --repo PATH")
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError) as error:
        raise HistoryError(
            "not a git repository",
            path=path,
            hint="run this inside a clone of the notices repository, or pass --repo PATH",
        ) from error
    try:
        yield repo
    finally:
        repo.close()


def _relative_path(project: Path, path: str) -> str:
    """A path inside the project as a POSIX path relative to it; absolute paths are accepted."""
    candidate = Path(path)
    if candidate.is_absolute():
        try:
            candidate = candidate.resolve().relative_to(project.resolve())
        except ValueError as error:
            raise VersionNotFound(
                "path is outside the repository", path=path, hint=f"give a path inside {project}"
            ) from error
    posix = PurePosixPath(candidate.as_posix())
    if ".." in posix.parts or not posix.parts:
        raise VersionNotFound("not a path inside the repository", path=path)
    return str(posix)


def _blob_at(repo: git.Repo, revision: str, git_path: str, shown: str) -> bytes:
    try:
        _, kind, _, data = repo.git.get_object_data(f"{revision}:{git_path}")
    except ValueError:
        try:
            repo.git.get_object_header(f"{revision}^{{commit}}")
        except ValueError as error:
            raise VersionNotFound(
                f"unknown git revision {revision!r}",
                hint="give a release version, a commit, a tag or a branch (see `notices log`)",
            ) from error
        raise VersionNotFound(
            f"file does not exist at {revision}",
            path=shown,
            hint="check the path; notice files are never renamed",
        ) from None
    kind = kind.decode("ascii") if isinstance(kind, bytes) else str(kind)
    if kind != "blob":
        raise VersionNotFound(f"not a file at {revision} but a {kind}", path=shown)
    return bytes(data)


def _tip(repo: git.Repo, ref: str | None) -> tuple[str, str]:
    """The ref to read (`main`, else HEAD) and its commit sha."""
    if ref is not None:
        try:
            return ref, str(repo.commit(ref).hexsha)
        except (git.BadName, ValueError) as error:
            raise HistoryError(
                f"unknown git revision {ref!r}", path=str(repo.working_dir)
            ) from error
    heads = {head.name: head for head in repo.heads}
    if MAIN in heads:
        return MAIN, str(heads[MAIN].commit.hexsha)
    if not repo.head.is_valid():
        raise HistoryError(
            "the repository has no commits yet",
            path=str(repo.working_dir),
            hint="commit the notices to main first",
        )
    where = "a detached HEAD" if repo.head.is_detached else f"branch {repo.head.ref.name!r}"
    log.warning("no branch %r in %s: reading the history of %s", MAIN, repo.working_dir, where)
    return "HEAD", str(repo.head.commit.hexsha)


def _parse_log(raw: bytes) -> list[tuple[_Commit, list[_Change]]]:
    """Parse `git log -z --raw` output (newest first) into commits with their file changes."""
    records = raw.split(b"\x1e")[1:]
    parsed: list[tuple[_Commit, list[_Change]]] = []
    for position, record in enumerate(records):
        header, _, rest = record.partition(b"\x00")
        fields = header.decode("utf-8", "replace").split("\x1f", 2)
        if len(fields) != 3 or not _HEX.match(fields[0]):
            raise HistoryError(f"unexpected output from git log: {header[:80]!r}")
        sha, committed, message = fields
        commit = _Commit(
            sha, datetime.fromisoformat(committed), message, len(records) - 1 - position
        )
        tokens = rest.lstrip(b"\n").split(b"\x00")
        changes: list[_Change] = []
        index = 0
        while index < len(tokens) and tokens[index].startswith(b":"):
            meta = tokens[index].decode("ascii").split()
            paths = 2 if meta[4][:1] in ("R", "C") else 1
            path = tokens[index + paths].decode("utf-8", "surrogateescape")
            regular = meta[1].startswith("100") and meta[4] != "D"
            changes.append(_Change(path, meta[3] if regular else None))
            index += 1 + paths
        parsed.append((commit, changes))
    return parsed


def _front_block(text: str) -> str | None:
    """The front matter lines (fences included), the whole text if unclosed, None if absent."""
    end = text.find("\n")
    if (text if end < 0 else text[:end]).strip() != "---":
        return None
    while end >= 0:
        start = end + 1
        end = text.find("\n", start)
        if text[start : len(text) if end < 0 else end].strip() in ("---", "..."):
            return text[: len(text) if end < 0 else end]
    return text


class _Reader:
    """Turns the states of notice files on the first-parent line into releases."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.fronts: dict[str, FrontMatter | None] = {}
        self.rewrites: list[RewrittenRelease] = []
        self.unreadable: list[UnreadableVersion] = []
        self.known: dict[tuple[str, str], bytes] = {}

    def front(self, text: str, path: str) -> FrontMatter | None:
        """Only the front matter is parsed for every version; identical blocks once."""
        block = _front_block(text)
        if block is None:
            return None
        if block not in self.fronts:
            self.fronts[block] = parse_text(block, path, strict=True).front
        return self.fronts[block]

    def state(self, path: str, commit: _Commit, data: bytes) -> _State:
        text, _, _ = decode(data, path)
        front = self.front(text, path)
        if front is None or not front.version:
            raise NoticeFileError(
                "no `version` in the front matter",
                path=path,
                line=1,
                hint="every version of a notice on main needs front matter with `version:`",
            )
        digest = hashlib.sha256(data).hexdigest()
        return _State(commit, data, text, front, front.version, digest)

    def file_releases(
        self, path: str, changes: list[tuple[_Commit, str | None]], blobs: dict[str, bytes]
    ) -> list[Release]:
        groups: dict[str, list[_State]] = {}
        current: str | None = None
        rewriting = False
        last = len(changes) - 1
        for position, (commit, blob) in enumerate(changes):
            if blob is None:
                continue
            try:
                state = self.state(path, commit, blobs[blob])
            except NoticeFileError as error:
                if position == last:
                    raise HistoryError(
                        f"the text in force cannot be read at commit {commit.sha[:12]}: "
                        f"{error.message}",
                        path=path,
                        line=error.line,
                        hint=error.hint or "fix the file in a new commit on main",
                    ) from error
                log.warning("skipping %s at commit %s: %s", path, commit.sha[:12], error)
                self.unreadable.append(UnreadableVersion(path, commit.sha, error.line, str(error)))
                continue
            if state.version == current:
                if not rewriting and groups[current][-1].sha256 != state.sha256:
                    groups[current].append(state)
                continue
            if state.version in groups:
                self.rewrites.append(self._comeback(path, groups[state.version], state, current))
                current, rewriting = state.version, True
                continue
            groups[state.version] = [state]
            current, rewriting = state.version, False
        return [self.release(path, group) for group in groups.values()]

    def _comeback(
        self, path: str, group: list[_State], state: _State, after: str | None
    ) -> RewrittenRelease:
        release_id = _release_id(path, state.version)
        same = group[-1].sha256 == state.sha256
        detail = (
            f"version {state.version} comes back at commit {state.commit.sha[:12]} "
            f"({state.commit.committed.isoformat()}) after version {after}"
            + (
                " (a revert: publish the old text as a new version)"
                if same
                else " with a different text"
            )
        )
        log.warning("published history rewritten: %s: %s", release_id, detail)
        return RewrittenRelease(release_id, group[-1].sha256, state.sha256, detail)

    def release(self, path: str, group: list[_State]) -> Release:
        first, last = group[0], group[-1]
        self.known[first.commit.sha, path] = first.data
        self.known[last.commit.sha, path] = last.data
        front = last.front
        tz = self.settings.timezone
        published = (
            datetime.combine(first.front.published, time(0), tzinfo=tz)
            if first.front.published
            else first.commit.committed
        )
        effective = front.effective or published.astimezone(tz).date()
        parts = PurePosixPath(path).parts
        release = Release(
            notice=parts[-2],
            locale=PurePosixPath(path).stem,
            path=path,
            version=first.version,
            published=published,
            effective=effective,
            last_updated=front.last_updated or effective,
            commit=first.commit.sha,
            committed=first.commit.committed,
            message=first.commit.message,
            sha256=last.sha256,
            first_sha256=first.sha256,
            title=front.title or "",
            summary=front.summary or "",
            services=front.services,
            override=_override(group),
            revisions=tuple(
                Revision(s.commit.sha, s.commit.committed, s.sha256, s.commit.message, s.text)
                for s in group[1:]
            ),
            text=last.text,
            first_text=first.text,
            data=last.data,
        )
        if not front.title:  # the title is the document's top heading: needs the sections
            release = replace(release, title=release.notice_doc.title)
        return release


def _override(group: list[_State]) -> Override | None:
    """The override in force, with the oldest commit of this version from which it stands."""
    override = Override.of(group[-1].front)
    if override is None:
        return None
    made = group[-1]
    for state in reversed(group[:-1]):
        if not override.same_decision(Override.of(state.front)):
            break
        made = state
    return replace(override, commit=made.commit.sha)


def _release_id(path: str, version: str) -> str:
    parts = PurePosixPath(path).parts
    return f"{parts[-2]}/{PurePosixPath(path).stem}/{version}"


def _notice_path(git_path: str, prefix: str, notices: str) -> str | None:
    """`notices/privacy/zh-CN.md` (relative to the project) if `git_path` is a notice file."""
    if not git_path.startswith(prefix):
        return None
    path = PurePosixPath(git_path[len(prefix) :])
    try:
        inside = path.relative_to(notices)
    except ValueError:
        return None
    if len(inside.parts) != 2 or inside.suffix != ".md" or not _LOCALE.match(inside.stem):
        return None
    return str(path)


def _locations(repo: git.Repo, project: Path, settings: Settings) -> tuple[Path, str, str]:
    """(git root, project prefix inside the git root, notices folder inside the project)."""
    root = Path(repo.working_tree_dir or repo.git_dir).resolve()
    try:
        inside = project.resolve().relative_to(root).as_posix()
        notices = settings.notices_dir.resolve().relative_to(settings.repo.resolve()).as_posix()
    except ValueError as error:
        raise HistoryError(
            "the notices folder is not inside the repository",
            path=settings.notices_dir,
            hint="set [notices] directory in notices.toml to a folder of the repository",
        ) from error
    prefix = "" if inside == "." else inside + "/"
    return root, prefix, notices


def read_history(repo: Path, settings: Settings, *, ref: str | None = None) -> History:
    """Read every release of every notice from main's first-parent history (or from `ref`)."""
    with _opened(repo) as git_repo:
        root, prefix, notices = _locations(git_repo, repo, settings)
        if Path(git_repo.common_dir, "shallow").exists():
            raise HistoryError(
                "the repository is a shallow clone: the commits that first published older "
                "versions are missing, so their publish dates would be wrong",
                path=root,
                hint="fetch the whole history: git fetch --unshallow "
                "(in CI: actions/checkout with fetch-depth: 0)",
            )
        name, head = _tip(git_repo, ref)
        spec = (prefix + notices) if notices != "." else (prefix or ".")
        try:
            raw = git_repo.git.log(
                "-z",
                "--first-parent",
                "--diff-merges=first-parent",
                "--no-renames",
                "--raw",
                "--no-abbrev",
                "--no-color",
                "--no-show-signature",
                _LOG_FORMAT,
                head,
                "--",
                f":(literal){spec}",
                stdout_as_string=False,
            )
        except git.GitCommandError as error:
            raise HistoryError(
                f"git log failed: {str(error.stderr).strip() or error}", path=root
            ) from error
        per_file: dict[str, list[tuple[_Commit, str | None]]] = {}
        for commit, changes in reversed(_parse_log(bytes(raw))):
            for change in changes:
                path = _notice_path(change.path, prefix, notices)
                if path is not None:
                    per_file.setdefault(path, []).append((commit, change.blob))
        blobs: dict[str, bytes] = {}
        for states in per_file.values():
            for _, blob in states:
                if blob is not None and blob not in blobs:
                    blobs[blob] = git_repo.odb.stream(bytes.fromhex(blob)).read()
    reader = _Reader(settings)
    releases: list[tuple[int, Release]] = []
    for path in sorted(per_file):
        indexes = {}
        for commit, _ in per_file[path]:
            indexes[commit.sha] = commit.index
        for release in reader.file_releases(path, per_file[path], blobs):
            releases.append((indexes[release.commit], release))
    releases.sort(key=lambda item: (item[1].published, item[0], item[1].notice, item[1].locale))
    log.info("read %d release(s) from %s at %s", len(releases), name, head[:12])
    return History(
        repo=repo,
        ref=name,
        head=head,
        releases=tuple(release for _, release in releases),
        rewrites=tuple(reader.rewrites),
        unreadable=tuple(reader.unreadable),
        default_locale=settings.default_locale,
        git_root=root,
        prefix=prefix,
        known=reader.known,
    )


def tip(repo: Path) -> str:
    """The commit `read_history` would read up to (main, else HEAD): cheap, so that what is
    derived from the history can be kept until main moves."""
    with _opened(repo) as git_repo:
        return _tip(git_repo, None)[1]


_ref_files: dict[Path, tuple[str, str]] = {}  # repository path as given -> main's ref, packed-refs


def main_tip(repo: Path) -> str | None:
    """The commit `main` points at, read from git's own files the way git reads them (the loose
    ref, else its line in packed-refs): cheap enough to ask on every request (one system call
    while the loose ref is unchanged), and exact, so that a commit on main is seen by the next
    one. None when only git can tell (no branch main, a symbolic ref, another ref store): then
    ask `tip`."""
    files = _ref_files.get(repo)
    if files is None:
        with _opened(repo) as git_repo:
            common = Path(git_repo.common_dir)
        files = _ref_files[repo] = (
            str(common / "refs" / "heads" / MAIN),
            str(common / "packed-refs"),
        )
    loose, packed = files
    try:
        found = _read(loose).strip()
        return found if _HEX.match(found) else None
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        lines = _read(packed).splitlines()
    except OSError:
        return None
    for line in lines:
        found, _, name = line.partition(" ")
        if name == f"refs/heads/{MAIN}":
            return found if _HEX.match(found) else None
    return None


def _read(path: str) -> str:
    """A ref file's text, read again only when the file changed: every consent answer asks for
    main's ref, and one stat costs a third of opening, reading and closing it. git never edits
    a ref file in place: it renames a new one over it, so each update brings a new inode (and
    new times); the text is kept with all of them."""
    found = os.stat(path)
    seen = (found.st_ino, found.st_size, found.st_mtime_ns, found.st_ctime_ns)
    kept = _texts_read.get(path)
    if kept is not None and kept[0] == seen:
        return kept[1]
    descriptor = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        chunks = [os.read(descriptor, _CHUNK)]
        while len(chunks[-1]) == _CHUNK:  # a shorter read of a regular file is its end
            chunks.append(os.read(descriptor, _CHUNK))
    finally:
        os.close(descriptor)
    text = b"".join(chunks).decode("ascii", "replace")
    _texts_read[path] = (seen, text)  # replaced meanwhile? its new stat reads it again
    return text


_texts_read: dict[str, tuple[tuple[int, int, int, int], str]] = {}
_CHUNK = 65536


# --- the record of what was published --------------------------------------------------------


def record_path(settings: Settings) -> Path:
    """Where the record of published releases lives: `var/releases.lock.json`."""
    return settings.var_dir / RECORD_FILE


def _load_record(path: Path) -> dict[str, dict[str, str]]:
    if not path.exists():
        return {}
    hint = "restore it from a backup: it is the evidence of what was published"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise HistoryError(
            f"record of published releases is not valid JSON: {error.msg}",
            path=path,
            line=error.lineno,
            hint=hint,
        ) from error
    except UnicodeDecodeError as error:
        raise HistoryError("record of published releases is not UTF-8", path=path) from error
    releases: Any = raw.get("releases") if isinstance(raw, dict) else None
    valid = (
        isinstance(releases, dict)
        and raw.get("format") == _RECORD_FORMAT
        and all(
            isinstance(entry, dict)
            and all(isinstance(entry.get(key), str) for key in ("sha256", "commit", "published"))
            for entry in releases.values()
        )
    )
    if not valid:
        raise HistoryError(
            "record of published releases has an unknown shape", path=path, hint=hint
        )
    return {str(key): dict(entry) for key, entry in releases.items()}


def _write_atomically(path: Path, content: str) -> None:
    with atomic_writer(path) as stream:
        stream.write(content.encode("utf-8"))


def rewritten(history: History, record: Path) -> tuple[RewrittenRelease, ...]:
    """Every published release history no longer shows as it was first published."""
    found = list(history.rewrites)
    current = {release.id: release for release in history.releases}
    for release_id, entry in sorted(_load_record(record).items()):
        release = current.get(release_id)
        recorded, commit = entry["sha256"], entry["commit"][:12]
        if release is None:
            found.append(
                RewrittenRelease(
                    release_id,
                    recorded,
                    None,
                    f"published at commit {commit}, no longer in the history of {history.ref}",
                )
            )
        elif release.first_sha256 != recorded:
            found.append(
                RewrittenRelease(
                    release_id,
                    recorded,
                    release.first_sha256,
                    f"the text published at commit {commit} was rewritten "
                    f"(now commit {release.commit[:12]})",
                )
            )
        elif datetime.fromisoformat(entry["published"]) != release.published:
            found.append(
                RewrittenRelease(
                    release_id,
                    recorded,
                    release.first_sha256,
                    f"publish date moved from {entry['published']} to "
                    f"{release.published.isoformat()} (commit {commit} was rewritten)",
                )
            )
    return tuple(found)


def ensure_not_rewritten(history: History, record: Path) -> None:
    """Refuse (HistoryError) when published history was rewritten; call before publish/notify."""
    found = rewritten(history, record)
    if not found:
        return
    others = f" (and {len(found) - 1} more: {', '.join(r.release_id for r in found[1:])})"
    raise HistoryError(
        f"published history was rewritten: {found[0]}" + (others if len(found) > 1 else ""),
        path=record if record.exists() else None,
        hint=APPEND_ONLY_HINT,
    )


def record_releases(history: History, record: Path) -> tuple[str, ...]:
    """Add releases not yet in the record (append-only); return their ids.

    Refuses when history was rewritten, so the record never absorbs a rewrite.
    """
    ensure_not_rewritten(history, record)
    entries = _load_record(record)
    added = tuple(release.id for release in history.releases if release.id not in entries)
    if not added and record.exists():
        return ()
    for release in history.releases:
        entries.setdefault(
            release.id,
            {
                "sha256": release.first_sha256,
                "commit": release.commit,
                "published": release.published.isoformat(),
                "path": release.path,
            },
        )
    content = {"format": _RECORD_FORMAT, "releases": dict(sorted(entries.items()))}
    _write_atomically(record, json.dumps(content, ensure_ascii=False, indent=2) + "\n")
    log.info("recorded %d published release(s) in %s", len(added), record)
    return added
