"""What a published release promises for good: its heading ids and the path of its file.

Links in mails already sent point at `page#id`, and history is read by exact path, so:
- every id a release on `main` carried (as an id or a declared old id, `data-was="…"`) is kept by
  every later text of that notice and locale, or declared as an old id by the heading that took
  its place. The working tree is checked against all releases; each release on main against the
  releases before it, reported once, at the release that dropped it (as a warning when that
  release is superseded and already in effect, so it cannot be fixed any more);
- a notice file with releases on main keeps exactly its path: a file whose path differs from a
  released one (or from another file) only in case (`zh-cn.md` beside or instead of `zh-CN.md`)
  is refused, since case-insensitive file systems take them for one file; so is a released
  file that is gone while another file carries its text or title (a rename). A released file
  that is simply gone is a warning: a branch made before the file reached main lacks it too.

The ids of each release are a set, computed once; the sections of a release are parsed once
and shared with the release rules.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime

from notifier.errors import Problem
from notifier.releases.history import History, Release
from notifier.settings import Settings
from notifier.statement.notice import (
    OLD_IDS_KEY,
    STABLE_ID,
    Notice,
    Section,
    id_candidates,
    parse_text,
)

RULE_IDS = "published-id"
RULE_PATH = "notice-path"
_SUPERSEDED = "already superseded and in effect, so it cannot be fixed; recorded as history"


def promise_problems(
    history: History,
    notices: Sequence[Notice],
    paths: Sequence[str],
    settings: Settings,
    *,
    now: datetime | None = None,
) -> list[Problem]:
    """Ids and paths that releases on main published and the working tree (or a later release)
    no longer has. `paths` are every notice file in the working tree, readable or not."""
    now = now or datetime.now(settings.timezone)
    in_tree = {(notice.name, notice.locale): notice for notice in notices}
    problems = list(_path_problems(history, notices, paths))
    for name, locale in history.notices():
        releases = history.releases_of(name, locale)
        published = [_published_ids(release) for release in releases]
        doc = in_tree.get((name, locale))
        problems += _dropped_on_main(releases, published, doc, settings, now)
        if doc is not None:
            problems += _dropped_in_tree(doc, releases, published)
    return problems


def _published_ids(release: Release) -> frozenset[str]:
    """Every anchor a text of `release` carried on main: as first published and each revision.
    Only a text that could hold an id not yet known is parsed (most revisions fix wording)."""
    ids = release.notice_doc.anchor_ids
    if not release.revisions:
        return ids  # its first text is the text in force
    for text in (release.first_text, *(revision.text for revision in release.revisions[:-1])):
        candidates = id_candidates(text)
        if candidates is None or not candidates <= ids:
            ids |= parse_text(text, release.path).anchor_ids
    return ids


def _declare(word: str, heading: Section | None = None) -> str:
    """How to declare `word` on `heading` (keeping the old ids it already declares)."""
    if heading is not None and not STABLE_ID.match(heading.id):
        return f"keep the id: {{#{word}}}"  # the new id is no id either: suggest none like it
    heading_id, words = (heading.id, (*heading.aliases, word)) if heading else ("new-id", (word,))
    attribute = f'{OLD_IDS_KEY}="{" ".join(words)}"'
    return f"declare it on the heading that took its place: {{#{heading_id} {attribute}}}"


def _dropped_on_main(
    releases: Sequence[Release],
    published: Sequence[frozenset[str]],
    doc: Notice | None,
    settings: Settings,
    now: datetime,
) -> Iterator[Problem]:
    """Each id a release on main dropped, at the first release that dropped it. The newest
    release's findings are the working tree's when it has the file: reported there, with a line
    of the file the editor changes."""
    first_seen: dict[str, str] = {}
    reported: set[str] = set()
    kept = doc.anchor_ids if doc is not None else frozenset()
    for index, (release, ids) in enumerate(zip(releases, published, strict=True)):
        for word in ids:
            first_seen.setdefault(word, release.version)
        newest = index == len(releases) - 1
        # as in the release rules: a release can be fixed while it is the newest or not in effect
        final = newest or release.effective_at(settings.timezone) > now
        dropped = sorted(first_seen.keys() - release.notice_doc.anchor_ids - reported)
        reported.update(dropped)
        front = release.notice_doc.front
        line = front.line_of("version") if front is not None else None
        for word in dropped:
            if newest and doc is not None and word not in kept:
                continue  # the working tree's finding
            severity, hint = "error", _declare(word)
            if not final:
                severity, hint = "warning", _SUPERSEDED
            elif newest and word in kept:
                severity, hint = "warning", "the working tree carries it again"
            yield Problem(
                severity,
                RULE_IDS,
                f"release {release.version} drops heading id '{word}', published in "
                f"release {first_seen[word]}",
                release.path,
                line,
                hint,
            )


def _dropped_in_tree(
    doc: Notice, releases: Sequence[Release], published: Sequence[frozenset[str]]
) -> Iterator[Problem]:
    """Each id any release published that the working tree's file neither has nor declares."""
    missing = frozenset().union(*published) - doc.anchor_ids
    found = []
    for word in missing:
        first = next(r for r, ids in zip(releases, published, strict=True) if word in ids)
        old = _last_heading(word, releases)
        heading = _successor(doc, old) if old is not None else None
        line = heading.line if heading is not None else doc.body_start_line
        title = f" ('{old[1].title}')" if old is not None else ""
        renamed = heading is not None and old is not None and heading.title == old[1].title
        hint = _declare(word, heading) if renamed else f"keep the id, or {_declare(word)}"
        message = f"heading id '{word}'{title}, published in release {first.version}, is gone"
        found.append(Problem("error", RULE_IDS, message, doc.path, line, hint))
    yield from sorted(found, key=lambda problem: (problem.line or 0, problem.message))


def _last_heading(word: str, releases: Sequence[Release]) -> tuple[Notice, Section] | None:
    """The newest published text whose heading carried `word`, and that heading."""
    for doc in _published_docs(releases):
        for section in doc.sections:
            if section.explicit_id and word in (section.id, *section.aliases):
                return doc, section
    return None


def _published_docs(releases: Sequence[Release]) -> Iterator[Notice]:
    """Every published text, newest first, parsed only when reached: the text in force of each
    release, then (rarely needed) its earlier revisions and its first text."""
    for release in reversed(releases):
        yield release.notice_doc
    for release in reversed(releases):
        if release.revisions:
            earlier = (release.first_text, *(r.text for r in release.revisions[:-1]))
            yield from (parse_text(text, release.path) for text in reversed(earlier))


def _successor(doc: Notice, old: tuple[Notice, Section]) -> Section | None:
    """Where the editor should look: the heading with the old title, else the nearest heading
    before the old one that is still there."""
    old_doc, section = old
    same_title = [s for s in doc.sections if s.level > 0 and s.title == section.title]
    if same_title:
        return same_title[0]
    before = old_doc.sections[: old_doc.sections.index(section)]
    for earlier in reversed(before):
        if earlier.explicit_id and earlier.id in doc.headings_by_id:
            return doc.headings_by_id[earlier.id]
    return None


def _path_problems(
    history: History, notices: Sequence[Notice], paths: Sequence[str]
) -> Iterator[Problem]:
    """A released file is never renamed or removed, and paths never differ only in case."""
    released = {release.path: release for release in history.releases}
    present = sorted(set(paths))
    by_fold: dict[str, list[str]] = defaultdict(list)
    for path in present:
        by_fold[path.casefold()].append(path)
    folds_reported = set()
    for path in sorted(released.keys() - set(present)):
        twins = by_fold.get(path.casefold(), [])
        folds_reported.add(path.casefold())
        for twin in twins:
            yield Problem(
                "error",
                RULE_PATH,
                f"renames the released {path}: only the case differs",
                twin,
                1,
                f"name it {path} again: history is read by exact path",
            )
        if not twins:
            yield _gone(path, released[path], notices, released)
    for fold, group in sorted(by_fold.items()):
        if len(group) < 2 or fold in folds_reported:
            continue
        keep = next((path for path in group if path in released), group[0])
        for path in group:
            if path != keep:
                yield Problem(
                    "error",
                    RULE_PATH,
                    f"differs only in case from {keep}",
                    path,
                    1,
                    "case-insensitive file systems (macOS, Windows) take them for one file: "
                    f"merge it into {keep}",
                )


def _gone(
    path: str, release: Release, notices: Sequence[Notice], released: dict[str, Release]
) -> Problem:
    """A released file not in the working tree: refused when another file carries its text or
    title (a rename); else a warning, since a branch made before the file reached main lacks it
    too (and merging it would not remove the file)."""
    renamed = [
        notice.path
        for notice in notices
        if notice.path not in released  # under another name, or another locale's name
        and (notice.text == release.text or notice.title == release.title)
    ]
    if renamed:
        return Problem(
            "error",
            RULE_PATH,
            f"is renamed {renamed[0]}: a released notice file keeps its path",
            path,
            None,
            f"move {renamed[0]} back to {path}: history is read by exact path",
        )
    return Problem(
        "warning",
        RULE_PATH,
        "has releases on main but is not in the working tree",
        path,
        None,
        f"a released notice file is never removed: restore it (git checkout main -- {path}), "
        "or merge main if this branch is older than the file",
    )
