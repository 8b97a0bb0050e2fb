"""Parsed texts, comparisons and verdicts kept under var/cache/: the same answers as computed,
never trusted when damaged, and only for the texts and rules they were computed from."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from support.notify import add_english
from support.repos import NoticeRepo, run_notices
from support.site import TODAY, add_releases, install_site, tree_digest

from notifier.consent.site import site_map
from notifier.delivery import notify
from notifier.releases.history import History, read_history
from notifier.releases.judgement_cache import FOLDER as CACHE
from notifier.releases.judgement_cache import JudgementCache
from notifier.releases.verdicts import AssessedRelease, assessed_releases
from notifier.settings import load_settings
from notifier.statement.materiality import RuleSet, rules_for


@pytest.fixture
def history_repo(seeded_repo: NoticeRepo) -> NoticeRepo:
    add_releases(seeded_repo)
    # a translation of v2: its verdict is the source's, its comparison its own
    add_english(seeded_repo, "2024-03-01", "2024-03-01")
    return seeded_repo


# five texts parsed (zh-CN v1 to v3, en v1 and v2), two releases judged, a translation compared
ENTRIES = 5 + 2 + 1


def _read(repo: NoticeRepo) -> tuple[History, RuleSet]:
    settings = load_settings(repo.path, {})
    return read_history(repo.path, settings), rules_for(settings)


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("??/*"))


def _same(kept: tuple[AssessedRelease, ...], computed: tuple[AssessedRelease, ...]) -> None:
    assert [a.verdict for a in kept] == [a.verdict for a in computed]
    assert [a.comparison for a in kept] == [a.comparison for a in computed]
    for item in kept:
        if item.verdict is None or item.comparison is None or item.source is not None:
            continue
        for change in item.comparison.changes:  # the verdict names the comparison's very changes
            judged = item.verdict.of(change)
            assert judged is not None and judged.change is change


def test_kept_answers_are_the_computed_ones(history_repo: NoticeRepo, tmp_path: Path) -> None:
    """When a history is assessed with an empty cache and again with what it kept, then both
    give exactly what assessing without a cache gives, and the second computes nothing."""
    history, rules = _read(history_repo)
    computed = assessed_releases(history, rules)
    assert any(a.source is not None for a in computed), "the fixture has a translation"
    history, rules = _read(history_repo)  # texts not parsed yet
    cold = JudgementCache(tmp_path / "cache")
    _same(assessed_releases(history, rules, stored=cold), computed)
    assert (cold.hits, cold.misses) == (0, ENTRIES)
    history, rules = _read(history_repo)  # a new run: texts parsed again
    warm = JudgementCache(tmp_path / "cache")
    _same(assessed_releases(history, rules, stored=warm), computed)
    assert (warm.hits, warm.misses) == (ENTRIES, 0)


def test_damaged_entries_are_computed_again(history_repo: NoticeRepo, tmp_path: Path) -> None:
    """When entries are cut short, altered or emptied, then they are computed again, the
    answers are unchanged, and the entries are rewritten sound."""
    history, rules = _read(history_repo)
    computed = assessed_releases(history, rules)
    folder = tmp_path / "cache"
    assessed_releases(*_read(history_repo), stored=JudgementCache(folder))
    entries = _entries(folder)
    assert len(entries) == ENTRIES
    sound = [path.read_bytes() for path in entries]
    for index, (path, data) in enumerate(zip(entries, sound, strict=True)):
        cut, altered = data[: len(data) // 2], data[:-1] + bytes([data[-1] ^ 1])
        path.write_bytes((cut, altered, b"")[index % 3])
    history, rules = _read(history_repo)
    damaged = JudgementCache(folder)
    _same(assessed_releases(history, rules, stored=damaged), computed)
    assert (damaged.hits, damaged.misses) == (0, ENTRIES)
    history, rules = _read(history_repo)
    again = JudgementCache(folder)
    assessed_releases(history, rules, stored=again)
    assert (again.hits, again.misses) == (ENTRIES, 0)
    assert [path.read_bytes() for path in _entries(folder)] == sound


def test_other_rules_are_not_answered_from_the_cache(
    history_repo: NoticeRepo, tmp_path: Path
) -> None:
    """When the rules in force change (a rule disabled in notices.toml), then verdicts are
    judged again under them; comparisons, which do not depend on rules, are kept."""
    folder = tmp_path / "cache"
    assessed_releases(*_read(history_repo), stored=JudgementCache(folder))
    history, rules = _read(history_repo)
    other = replace(rules, disabled=frozenset({next(iter(rules.rules))}))
    stored = JudgementCache(folder)
    kept = assessed_releases(history, other, stored=stored)
    assert (stored.hits, stored.misses) == (ENTRIES - 2, 2)
    assert [a.verdict for a in kept] == [a.verdict for a in assessed_releases(history, other)]


def test_prune_removes_what_a_run_did_not_use(history_repo: NoticeRepo, tmp_path: Path) -> None:
    """When a run is over, then entries it did not use are removed and its own stay."""
    folder = tmp_path / "cache"
    assessed_releases(*_read(history_repo), stored=JudgementCache(folder))
    stale = folder / "00" / ("0" * 64)
    stale.parent.mkdir(exist_ok=True)
    stale.write_bytes(b"an entry of a version no longer compared")
    stored = JudgementCache(folder)
    assessed_releases(*_read(history_repo), stored=stored)
    assert stored.prune() == 1
    assert not stale.exists() and len(_entries(folder)) == ENTRIES


def test_site_built_from_kept_or_damaged_entries_is_the_same(seeded_repo: NoticeRepo) -> None:
    """When the site is built cold, warm, and over damaged entries, then every byte is the same."""
    add_releases(seeded_repo)
    install_site(seeded_repo)
    site = seeded_repo.path / "build/site"

    def build() -> dict[str, str]:
        result = run_notices("site", "build", "--today", TODAY, cwd=seeded_repo.path)
        assert (result.code, result.err) == (0, "")
        return tree_digest(site)

    cold = build()
    entries = _entries(seeded_repo.path / "var/cache")
    assert entries, "the build keeps its comparisons and verdicts"
    kept = {path: path.stat().st_ino for path in entries}
    assert build() == cold
    # warm: every entry was read, none computed and written again (a write replaces the file)
    assert {path: path.stat().st_ino for path in _entries(seeded_repo.path / "var/cache")} == kept
    for path in entries:
        data = path.read_bytes()
        path.write_bytes(data[:40] + bytes([data[40] ^ 0xFF]) + data[41:])
    assert build() == cold


def test_a_plan_judges_its_release_once_for_every_later_command(
    history_repo: NoticeRepo,
) -> None:
    """When a send is planned, then the verdict it planned with is kept where site builds keep
    theirs; when it is planned again (a restarted send, another worker), then it reads that
    entry (the file is not rewritten) and plans the same."""
    settings = load_settings(history_repo.path, {})
    version, now = "2025-01-01", datetime(2024, 12, 1, tzinfo=settings.timezone)
    first = notify.plan(settings, version, now=now)
    history, rules = _read(history_repo)
    release = history.find(version)
    previous = history.previous(release)
    assert previous is not None
    folder = history_repo.path / "var" / CACHE
    assert JudgementCache(folder).has_judged(previous, release, rules)
    kept = {path: path.stat().st_mtime_ns for path in _entries(folder)}
    again = notify.plan(settings, version, now=now)
    assert {path: path.stat().st_mtime_ns for path in _entries(folder)} == kept
    assert (again.verdict, again.due_at, again.editions.keys()) == (
        first.verdict,
        first.due_at,
        first.editions.keys(),
    )


def test_a_sends_site_map_reads_the_builds_entries_and_removes_none(
    history_repo: NoticeRepo,
) -> None:
    """When the site was built and a send then reads the site's addresses, then it rewrites
    none of the build's entries and removes none, not even one it does not use itself (a
    build for another day, a preview): a send never costs the next build its cache."""
    install_site(history_repo)
    built = run_notices("site", "build", "--today", TODAY, cwd=history_repo.path)
    assert built.code == 0, built.err
    folder = history_repo.path / "var" / CACHE
    unused = folder / "00" / ("0" * 64)
    unused.parent.mkdir(exist_ok=True)
    unused.write_bytes(b"an entry only another day's build uses")
    kept = {path: path.stat().st_mtime_ns for path in _entries(folder)}
    settings = load_settings(history_repo.path, {})
    site_map(settings, read_history(history_repo.path, settings))
    after = {path: path.stat().st_mtime_ns for path in _entries(folder)}
    assert {path: after.get(path) for path in kept} == kept
