"""Judging ahead: the comparisons and verdicts a site build needs, computed in worker processes
before it asks, are exactly what the build would compute, and then it computes none itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from support.repos import NoticeRepo
from support.site import add_synthetic_releases, another_thread

from notifier.processes import usable_cores
from notifier.publishing.model import compared_pairs
from notifier.releases.ahead import PER_WORKER, judge_ahead
from notifier.releases.history import History, Release, read_history
from notifier.releases.judgement_cache import JudgementCache
from notifier.releases.verdicts import assessed_releases
from notifier.settings import load_settings
from notifier.statement.diff import compare
from notifier.statement.materiality import RuleSet, rules_for
from notifier.statement.sanitize import inert_body

RELEASES = 2 * PER_WORKER + 4  # enough for two workers
TODAY = date(2019, 6, 1)  # 2019-05-31 is in effect: archived versions before it, upcoming after

pytestmark = pytest.mark.skipif(
    usable_cores() < 2, reason="judging ahead needs two cores"
)


@pytest.fixture(scope="module")
def long_repo(tmp_path_factory: pytest.TempPathFactory) -> NoticeRepo:
    repo = NoticeRepo(tmp_path_factory.mktemp("long") / "repo")
    repo.path.mkdir()
    repo.git("init", "-q", "-b", "main")
    add_synthetic_releases(repo, RELEASES)
    return repo


def _read(repo: NoticeRepo) -> tuple[History, RuleSet]:
    """The history as a new run reads it: no text parsed yet."""
    settings = load_settings(repo.path, {})
    return read_history(repo.path, settings), rules_for(settings)


def _pairs(history: History) -> list[tuple[Release, Release]]:
    return compared_pairs(history.releases, TODAY)


def test_entries_judged_ahead_are_the_ones_the_build_computes(
    long_repo: NoticeRepo, tmp_path: Path
) -> None:
    """When a long history is judged ahead into an empty cache, then assessing it finds every
    comparison and verdict there, and they equal those computed without any cache."""
    history, rules = _read(long_repo)
    stored = JudgementCache(tmp_path / "cache")
    pairs = _pairs(history)
    assert len(pairs) > PER_WORKER, "comparison pages are judged ahead too"
    releases = len(history.releases)  # each judged against the one before it, and made inert
    assert judge_ahead(history, rules, stored, pairs) == releases - 1 + releases + len(pairs)

    history, rules = _read(long_repo)
    warm = JudgementCache(tmp_path / "cache")
    kept = assessed_releases(history, rules, stored=warm)
    compared = [warm.compared(old, new) for old, new in _pairs(history)]
    inert = [warm.inert_body(release) for release in history.releases]
    assert warm.misses == 0 and warm.hits > 0

    history, rules = _read(long_repo)
    computed = assessed_releases(history, rules)
    assert [a.verdict for a in kept] == [a.verdict for a in computed]
    assert [a.comparison for a in kept] == [a.comparison for a in computed]
    assert any(a.verdict is not None and a.verdict.changes for a in kept)
    assert compared == [compare(old.notice_doc, new.notice_doc) for old, new in _pairs(history)]
    assert inert == [inert_body(release.notice_doc) for release in history.releases]


def test_nothing_is_judged_again(long_repo: NoticeRepo, tmp_path: Path) -> None:
    """When every entry is stored already, then judging ahead starts no worker."""
    history, rules = _read(long_repo)
    stored = JudgementCache(tmp_path / "cache")
    assessed_releases(history, rules, stored=stored)
    for release in history.releases:
        stored.inert_body(release)
    assert judge_ahead(history, rules, stored) == 0


@pytest.fixture
def other_thread() -> Iterator[None]:
    with another_thread():
        yield


@pytest.mark.usefixtures("other_thread")
def test_a_process_with_threads_is_not_forked(long_repo: NoticeRepo, tmp_path: Path) -> None:
    """When another thread runs (the scheduler, the preview server), then nothing is forked:
    the build judges on its own, as it always can."""
    history, rules = _read(long_repo)
    stored = JudgementCache(tmp_path / "cache")
    assert judge_ahead(history, rules, stored) == 0
    assert not (tmp_path / "cache").exists()


def test_a_cache_that_cannot_be_written_leaves_the_work_to_the_build(
    long_repo: NoticeRepo, tmp_path: Path
) -> None:
    """When the cache's folder cannot be made, then the workers' answers are lost, not wrong:
    the build computes every one itself and gets what it gets without a cache."""
    history, rules = _read(long_repo)
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache's folder would be")
    stored = JudgementCache(blocked)
    assert judge_ahead(history, rules, stored) > 0  # the workers ran, and stored nothing
    kept = assessed_releases(history, rules, stored=stored)
    assert stored.hits == 0
    history, rules = _read(long_repo)
    assert [a.verdict for a in kept] == [a.verdict for a in assessed_releases(history, rules)]
