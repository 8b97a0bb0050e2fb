"""The `notices diff` operation: find the two versions asked for, compare them, judge the change.

A version is named by a release version, any git revision, or a path to a Markdown file; by
default the old side is the release before the new side and the new side is the working tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from notifier.errors import HistoryError, NoticeError, VersionNotFound
from notifier.releases.history import History, Release, read_history
from notifier.settings import Settings
from notifier.statement.diff import Comparison, compare
from notifier.statement.notice import FrontMatter, Notice, parse_notice

if TYPE_CHECKING:
    from notifier.statement.materiality import Override, Verdict

WORKING_TREE = "working tree"


@dataclass(frozen=True, slots=True)
class Side:
    """One of the two versions compared: what the user named and the notice it resolved to."""

    label: str  # "2018-11-01", "HEAD~1", "working tree", "old.md"
    kind: str  # "release" | "revision" | "file" | "working-tree"
    notice: Notice
    release: Release | None = None


@dataclass(frozen=True, slots=True)
class DiffResult:
    """Two versions, their comparison and its materiality verdict."""

    old: Side
    new: Side
    comparison: Comparison
    verdict: Verdict


class _Resolver:
    """Turns command-line names into notices, reading git history only when it is needed."""

    def __init__(
        self, settings: Settings, notice: str | None, locale: str | None, cwd: Path
    ) -> None:
        self.settings = settings
        self.notice_name = notice
        self.locale = locale or settings.default_locale
        self.cwd = cwd
        self._history: History | None = None

    def history(self) -> History:
        if self._history is None:
            self._history = read_history(self.settings.repo, self.settings)
        return self._history

    def notice(self) -> str:
        """The notice asked for with --notice, else the only one in the notices folder."""
        if self.notice_name is not None:
            return self.notice_name
        folder = self.settings.notices_dir
        found = (
            sorted(p.name for p in folder.glob("*") if p.is_dir() and any(p.glob("*.md")))
            if folder.is_dir()
            else []
        )
        if len(found) == 1:
            self.notice_name = found[0]
            return found[0]
        if not found:
            raise VersionNotFound(
                "no notices found",
                path=folder,
                hint="run inside a notices repository (or pass --repo), or compare two files",
            )
        raise VersionNotFound(
            f"several notices: {', '.join(found)}", path=folder, hint="pick one with --notice"
        )

    def path(self) -> str:
        """The notice file, relative to the repository: `notices/privacy/zh-CN.md`."""
        folder = self.settings.notices_dir.relative_to(self.settings.repo).as_posix()
        return f"{folder}/{self.notice()}/{self.locale}.md".removeprefix("./")

    def side(self, name: str) -> Side:
        file = self._file(name)
        if file is not None:
            return Side(name, "file", parse_notice(file.read_bytes(), name))
        if name.endswith(".md"):
            raise VersionNotFound("file does not exist", path=name, hint="check the path")
        history = self.history_or_explain(name)
        try:
            release = history.find(name, self.notice(), self.locale)
            return Side(name, "release", release.notice_doc, release)
        except VersionNotFound as missing:
            not_a_release = missing
        try:
            data = history.text_at(name, self.path())
        except VersionNotFound as error:
            if "unknown git revision" not in error.message:
                raise
            raise VersionNotFound(
                f"no release, git revision or file named {name!r}",
                hint=not_a_release.hint or "see `notices log` for the releases",
            ) from error
        return Side(name, "revision", parse_notice(data, f"{name}:{self.path()}"))

    def history_or_explain(self, name: str) -> History:
        try:
            return self.history()
        except HistoryError as error:
            raise VersionNotFound(
                f"{name!r} is not a file, and versions cannot be read: {error.message}",
                path=error.path,
                hint=error.hint or "compare two files instead",
            ) from error

    def _file(self, name: str) -> Path | None:
        candidate = Path(name)
        places = (
            [candidate]
            if candidate.is_absolute()
            else [
                self.cwd / candidate,
                self.settings.repo / candidate,
            ]
        )
        return next((p for p in places if p.is_file()), None)

    def working_tree(self) -> Side:
        relative = self.path()
        file = self.settings.repo / relative
        if not file.is_file():
            raise VersionNotFound(
                "file does not exist in the working tree",
                path=relative,
                hint="check --notice and --locale, or name the versions to compare",
            )
        return Side(WORKING_TREE, "working-tree", parse_notice(file.read_bytes(), relative))

    def previous(self, new: Side) -> Side:
        """The release before the new side's version; the latest release if that is new."""
        notice, locale = self.notice(), self.locale
        if new.release is not None:
            notice, locale = new.release.notice, new.release.locale
        history = self.history_or_explain("the previous release")
        releases = history.releases_of(notice, locale)
        version = new.notice.front.version if new.notice.front else None
        current = new.release or next((r for r in releases if r.version == version), None)
        if current is None:
            if not releases:
                raise VersionNotFound(
                    f"no release of {notice}/{locale} to compare with",
                    hint="name both versions to compare: notices diff A B",
                )
            return _release_side(releases[-1])
        previous = history.previous(current)
        if previous is None:
            raise VersionNotFound(
                f"{current.version} is the first release of {notice}/{locale}: there is no "
                "earlier release to compare it with",
                path=new.notice.path,
                line=new.notice.front.line_of("version") if new.notice.front else None,
                hint=f"compare it with a file or revision: notices diff {current.version} "
                "<path or revision>; `notices log` lists the releases",
            )
        return _release_side(previous)


def _release_side(release: Release) -> Side:
    return Side(release.version, "release", release.notice_doc, release)


def diff_versions(
    settings: Settings,
    old: str | None = None,
    new: str | None = None,
    *,
    notice: str | None = None,
    locale: str | None = None,
    cwd: Path | None = None,
) -> DiffResult:
    """Compare `old` with `new` (defaults: the previous release, the working tree) and judge it."""
    resolver = _Resolver(settings, notice, locale, cwd or Path.cwd())
    new_side = resolver.side(new) if new is not None else resolver.working_tree()
    old_side = resolver.side(old) if old is not None else resolver.previous(new_side)
    _check_order(old_side, new_side)
    comparison = compare(old_side.notice, new_side.notice)
    overrides = [side.release.override if side.kind == "release" and side.release else None
                 for side in (old_side, new_side)]
    verdict = judge(comparison, settings, overrides[1], previous_override=overrides[0])
    return DiffResult(old_side, new_side, comparison, verdict)


def _check_order(old: Side, new: Side) -> None:
    """Refuse A newer than B: a reversed diff judges every change backwards (a removed duty
    reads as a new one), and that verdict would be wrong, not merely mirrored."""
    if old.release is None or new.release is None:
        return
    same = (old.release.notice, old.release.locale) == (new.release.notice, new.release.locale)
    if same and old.release.published > new.release.published:
        raise NoticeError(
            f"the range is reversed: {old.label} was published after {new.label}",
            hint=f"put the older version first: notices diff {new.label} {old.label}",
        )


def judge(
    comparison: Comparison,
    settings: Settings,
    override: Override | None = None,
    *,
    previous_override: Override | None = None,
) -> Verdict:
    """The materiality verdict of a comparison under the project's rules; the new version's
    override (from its front matter unless given with its commit) counts unless the old
    version already carried it."""
    from notifier.statement.materiality import assess, rules_for

    front: FrontMatter | None = comparison.new.front
    rules = rules_for(settings)
    return assess(
        comparison,
        rules,
        front,
        previous=comparison.old.front,
        override=override,
        previous_override=previous_override,
    )


FORMATS = ("text", "json", "html", "md")


def render(result: DiffResult, fmt: str, *, color: bool = False) -> str:
    """The result as text (for a terminal), html (a redline fragment) or md (a summary)."""
    from notifier.statement import redline

    comparison, verdict = result.comparison, result.verdict
    labels = {"old_label": result.old.label, "new_label": result.new.label}
    if fmt == "html":
        return redline.comparison_html(comparison, verdict)
    if fmt == "md":
        return redline.summary_markdown(comparison, verdict, **labels).rstrip("\n")
    if fmt == "text":
        return redline.comparison_text(comparison, verdict, color=color, **labels)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
