"""Generated pages converted by forked workers while MkDocs converts the others: the site is
the same, byte for byte, as when MkDocs converts every page itself, and what a worker logs
reaches the build as if MkDocs had logged it."""

from __future__ import annotations

import re

import pytest
from support.repos import NoticeRepo, Run, run_notices, seed_text
from support.site import add_synthetic_releases, another_thread, install_site, tree_digest

from notifier.processes import usable_cores

RELEASES = 20  # some sixty pages: enough for a worker
TODAY = "2019-06-01"
SHARED = re.compile(r"(\d+) of (\d+) pages converted by (\d+) worker")
STRICT = re.compile(r"Aborted with (\d+) warnings in strict mode")

pytestmark = pytest.mark.skipif(
    usable_cores() < 2, reason="sharing pages needs two cores"
)


def _long_repo(repo: NoticeRepo, text: str | None = None) -> NoticeRepo:
    repo.path.mkdir()
    repo.git("init", "-q", "-b", "main")
    install_site(repo)
    repo.commit("Site", "2018-12-01T10:00:00+08:00")
    add_synthetic_releases(repo, RELEASES, text)
    return repo


def _build(repo: NoticeRepo, *, shared: bool) -> tuple[Run, dict[str, str]]:
    if shared:
        result = run_notices("-vv", "site", "build", "--today", TODAY, cwd=repo.path)
    else:
        with another_thread():
            result = run_notices("-vv", "site", "build", "--today", TODAY, cwd=repo.path)
    site = repo.path / "build" / "site"
    return result, tree_digest(site) if site.is_dir() else {}


def test_pages_converted_by_a_worker_are_the_pages_mkdocs_converts(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """When a long history's site is built with its pages shared with a worker, and again with
    MkDocs converting every page, then both sites are the same, file for file."""
    repo = _long_repo(NoticeRepo(tmp_path_factory.mktemp("shared") / "repo"))
    shared, with_worker = _build(repo, shared=True)
    assert shared.code == 0, shared.err
    found = SHARED.search(shared.err)
    assert found is not None, "a worker converted pages"
    assert 0 < int(found.group(1)) < int(found.group(2))
    serial, alone = _build(repo, shared=False)
    assert serial.code == 0, serial.err
    assert SHARED.search(serial.err) is None
    assert with_worker == alone
    assert any(name.endswith("/changes/index.html") for name in alone)


def _warnings(err: str) -> list[str]:
    """The warnings about the missing page, without their time."""
    return sorted(line.partition(" WARNING ")[2] for line in err.splitlines() if "missing" in line)


def test_what_a_worker_logs_reaches_the_build(tmp_path_factory: pytest.TempPathFactory) -> None:
    """When every statement links to a page that does not exist (MkDocs warns while it converts
    each one), then the build logs the same warnings with a worker as without, and in strict
    mode both builds fail and leave no site."""
    text = seed_text().replace("本声明", "本声明（[另见](missing.md)）", 1)
    repo = _long_repo(NoticeRepo(tmp_path_factory.mktemp("warned") / "repo"), text)
    shared, _ = _build(repo, shared=True)
    serial, built = _build(repo, shared=False)
    assert shared.code == serial.code == 0
    assert SHARED.search(shared.err) is not None
    assert len(_warnings(shared.err)) > RELEASES  # the pages a worker converted are among them
    assert _warnings(shared.err) == _warnings(serial.err)

    (repo.path / "mkdocs.yml").write_text(
        (repo.path / "mkdocs.yml").read_text(encoding="utf-8") + "strict: true\n",
        encoding="utf-8",
    )
    aborted = []  # MkDocs counts in strict mode what the workers' pages warned too
    for shared_pages in (True, False):
        result, site = _build(repo, shared=shared_pages)
        counted = STRICT.search(result.err)
        assert result.code != 0 and counted is not None, result.err
        aborted.append(counted.group(1))
        assert site == built  # the failed build left the previous site as it was
    assert aborted[0] == aborted[1]
