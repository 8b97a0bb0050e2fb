"""Bad input (issue #10), git histories: clones, branches and rewrites a real team produces.

A history the tools cannot trust (shallow, rewritten after publication, not a repository) stops
publishing and sending with one line and writes nothing. Histories that are merely unusual
(a detached HEAD, a merge, a notice deleted and restored, a broken commit later fixed) are read
as the design says, and the test checks they are read right.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from support.notify import NOTICE
from support.reliability import (
    TODAY,
    VERSION,
    Prop,
    error_line,
    prior_state,
    record,
    refused,
    snapshot,
)
from support.repos import NoticeRepo, release_text, run_notices, seed_text

GROUP = "git"
NEXT = "2029-12-01"
RECORD_ERROR_LINE = 6  # where the JSON of a record cut after five lines breaks


def _next() -> str:
    return release_text(seed_text(), NEXT, effective="2030-02-01", summary="下一版本")


def _rewrite_published(repo: NoticeRepo) -> None:
    """Amend the commit that published VERSION (already on the site and in the record)."""
    path = repo.path / NOTICE
    path.write_text(path.read_text(encoding="utf-8").replace("15 个工作日", "10 个工作日"))
    repo.git("add", "-A")
    repo.git("commit", "-q", "--amend", "--no-edit", when="2029-11-01T10:00:00+08:00")


def _shallow(repo: NoticeRepo) -> None:
    """Replace the repo by a depth-1 clone of it, with the same var/ and site."""
    clone = repo.path.parent / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True
    )
    for state in ("var", "build"):
        shutil.copytree(repo.path / state, clone / state)
    shutil.rmtree(repo.path)
    clone.rename(repo.path)


def _not_a_repository(repo: NoticeRepo) -> None:
    shutil.rmtree(repo.path / ".git")


def _corrupt_record(repo: NoticeRepo) -> None:
    """Cut the record after its first five lines, as a full disk or a bad merge would."""
    record_file = repo.path / "var" / "releases.lock.json"
    lines = record_file.read_text(encoding="utf-8").splitlines()[:5]
    record_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(json.JSONDecodeError) as broken:
        json.loads(record_file.read_text(encoding="utf-8"))
    assert broken.value.lineno == RECORD_ERROR_LINE


# case → (how to spoil the repo, command, what the one error line must hold)
REFUSED: dict[str, tuple[Any, tuple[str, ...], str]] = {
    "shallow clone (site build)": (
        _shallow,
        ("site", "build", "--today", TODAY),
        ": the repository is a shallow clone",
    ),
    "published version rewritten (site build)": (
        _rewrite_published,
        ("site", "build", "--today", TODAY),
        f"var/releases.lock.json: published history was rewritten: privacy/zh-CN/{VERSION}",
    ),
    "published version rewritten (notify send)": (
        _rewrite_published,
        ("notify", "send", VERSION, "--early"),
        f"var/releases.lock.json: published history was rewritten: privacy/zh-CN/{VERSION}",
    ),
    "not a git repository": (
        _not_a_repository,
        ("site", "build", "--today", TODAY),
        ": not inside a git repository",
    ),
    "record of published releases cut short": (
        _corrupt_record,
        ("site", "build", "--today", TODAY),
        f"var/releases.lock.json:{RECORD_ERROR_LINE}: record of published releases is not valid",
    ),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_untrustworthy_history_stops_publishing_and_sending(
    case: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, record_property: Prop
) -> None:
    """When history cannot be trusted, then one line says why and where, exit 1, and the site,
    record, database and outbox are unchanged."""
    spoil, command, expected = REFUSED[case]
    repo = prior_state(tmp_path_factory, tmp_path)
    spoil(repo)
    error = error_line(refused(*command, repo=repo.path))
    assert error.startswith(f"error: {repo.path}") and expected in error, error
    record(record_property, GROUP, case, error)


def test_rewritten_version_is_not_scheduled(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, record_property: Prop
) -> None:
    """When a published version is rewritten, then `schedule sync` refuses its jobs: the notify
    job leaves the job store, and nothing is sent, recorded or published."""
    repo = prior_state(tmp_path_factory, tmp_path)
    before = snapshot(repo.path, {})
    assert any(
        f"privacy/zh-CN/{VERSION}:notify" in row[0]
        for row in before["database"]["apscheduler_jobs"]
    )
    _rewrite_published(repo)
    result = run_notices("schedule", "sync", cwd=repo.path)
    after = snapshot(repo.path, {})
    refusals = [line for line in result.out.splitlines() if line.startswith("refused")]
    assert any(f"privacy/zh-CN/{VERSION}:notify" in line for line in refusals), result.out
    assert "was rewritten" in refusals[0] and "Traceback" not in result.err
    assert after["database"]["apscheduler_jobs"] == []
    assert after["var"] == before["var"] and after["site"] == before["site"]
    for table in ("customers", "deliveries"):
        assert after["database"][table] == before["database"][table]
    record(
        record_property,
        GROUP,
        "published version rewritten (schedule sync)",
        f"exit {result.code}; jobs dropped and reported: {refusals[0]}",
    )


def _log(repo: NoticeRepo) -> list[dict[str, Any]]:
    before = snapshot(repo.path, {})
    result = run_notices("log", "--json", cwd=repo.path)
    assert result.code == 0, result.err
    assert snapshot(repo.path, {}) == before
    releases: list[dict[str, Any]] = json.loads(result.out)["releases"]
    return releases


def test_detached_head_reads_main(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, record_property: Prop
) -> None:
    """When HEAD is detached at an older commit (CI checkouts), then main is read: the
    releases are those of main, not of HEAD."""
    repo = prior_state(tmp_path_factory, tmp_path)
    repo.git("checkout", "-q", "--detach", "HEAD~1")
    versions = [release["version"] for release in _log(repo)]
    assert versions == ["2018-11-01", VERSION]
    record(
        record_property,
        GROUP,
        "detached HEAD at an older commit (accepted)",
        f"main read: releases {', '.join(versions)}",
    )


def test_detached_head_without_main_reads_head_with_a_warning(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, record_property: Prop
) -> None:
    """When there is no main branch and HEAD is detached, then HEAD is read and a warning says
    so."""
    repo = prior_state(tmp_path_factory, tmp_path)
    repo.git("checkout", "-q", "--detach", "HEAD")
    repo.git("branch", "-q", "-D", "main")
    result = run_notices("log", "--json", cwd=repo.path)
    assert result.code == 0
    assert [r["version"] for r in json.loads(result.out)["releases"]] == ["2018-11-01", VERSION]
    warning = result.err.strip()
    assert warning.endswith(
        "no branch 'main' in " + str(repo.path) + ": reading the history of a detached HEAD"
    )
    record(
        record_property, GROUP, "detached HEAD, no main branch (accepted)", warning.split(" ", 2)[2]
    )


def test_notice_missing_in_some_commits(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, record_property: Prop
) -> None:
    """When the notice is deleted in one commit and restored with a new version later, then the
    earlier releases keep their dates and the new one is published at the restoring commit."""
    repo = prior_state(tmp_path_factory, tmp_path)
    repo.git("rm", "-q", NOTICE)
    repo.commit("Remove the notice by mistake", "2029-11-10T10:00:00+08:00")
    repo.commit("Restore it as a new version", "2029-11-12T10:00:00+08:00", {NOTICE: _next()})
    releases = _log(repo)
    published = {r["version"]: r["published"] for r in releases}
    assert published == {
        "2018-11-01": "2018-11-01T00:00:00+08:00",
        VERSION: "2029-11-01T10:00:00+08:00",
        NEXT: "2029-11-12T10:00:00+08:00",
    }
    record(
        record_property,
        GROUP,
        "notice deleted in one commit, restored later (accepted)",
        f"3 releases; {NEXT} published at the restoring commit ({published[NEXT]})",
    )


def test_merged_branch_counts_at_the_merge(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, record_property: Prop
) -> None:
    """When a release is made on a branch and merged later, then it is published at the merge
    commit, not at the branch commit's earlier date."""
    repo = prior_state(tmp_path_factory, tmp_path)
    repo.git("checkout", "-q", "-b", "legal-edit")
    repo.commit("Draft the next version", "2029-11-15T10:00:00+08:00", {NOTICE: _next()})
    repo.git("checkout", "-q", "main")
    repo.commit("Unrelated change", "2029-11-16T10:00:00+08:00", {"README.md": "说明\n"})
    repo.git(
        "merge",
        "-q",
        "--no-ff",
        "-m",
        "Merge legal-edit",
        "legal-edit",
        when="2029-11-20T10:00:00+08:00",
    )
    merged = next(r for r in _log(repo) if r["version"] == NEXT)
    assert merged["published"] == "2029-11-20T10:00:00+08:00"
    assert merged["commit"] == repo.git("rev-parse", "HEAD")
    record(
        record_property,
        GROUP,
        "release merged from a branch (accepted)",
        f"{NEXT} published {merged['published']} at the merge commit",
    )


def test_broken_commit_later_fixed_is_skipped(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, record_property: Prop
) -> None:
    """When one commit on main broke the front matter and the next fixed it, then the broken
    state is skipped with a warning naming file, commit and line, and the fix is the release."""
    repo = prior_state(tmp_path_factory, tmp_path)
    broken = repo.commit(
        "Broken YAML",
        "2029-11-18T10:00:00+08:00",
        {NOTICE: _next().replace("summary: 下一版本", "summary: [下一版本", 1)},
    )
    repo.commit("Fix the YAML", "2029-11-19T10:00:00+08:00", {NOTICE: _next()})
    result = run_notices("log", "--json", cwd=repo.path)
    assert result.code == 0
    fixed = next(r for r in json.loads(result.out)["releases"] if r["version"] == NEXT)
    assert fixed["published"] == "2029-11-19T10:00:00+08:00"
    warning = result.err.strip()
    assert f"skipping {NOTICE} at commit {broken[:12]}: {NOTICE}:" in warning
    assert "front matter is not valid YAML" in warning and len(result.err.splitlines()) == 1
    record(
        record_property,
        GROUP,
        "broken commit on main, fixed by the next (accepted)",
        warning.split(" ", 2)[2],
    )
