"""`notices log` and the history rules of `notices check`, through the real command."""

from __future__ import annotations

import hashlib
import json

from support.repos import NoticeRepo, release_text, run_notices, seed_text

from notifier.releases.history import read_history, record_path, record_releases
from notifier.settings import load_settings

NOTICE = "notices/privacy/zh-CN.md"


def _amended() -> str:
    text = release_text(
        seed_text(), "2024-03-01", effective="2024-04-15", summary="缩短答复期限并新增境外共享。"
    )
    return text.replace(
        "我们将在验证您身份后 30 天内予以回复。", "我们将在验证您身份后 15 个工作日内予以回复。"
    )


def test_log_json_lists_releases_with_verdicts(seeded_repo: NoticeRepo) -> None:
    """When a second release shortens a reply period, then log lists both with the verdict."""
    first = seeded_repo.git("rev-parse", "HEAD")
    second = seeded_repo.commit(
        "Release 2024-03-01", "2024-03-01T10:00:00+08:00", {NOTICE: _amended()}
    )
    result = run_notices("log", "--json", cwd=seeded_repo.path)
    assert result.code == 0, result.err
    releases = json.loads(result.out)["releases"]
    assert [
        (r["version"], r["published"], r["effective"], r["commit"], r["material"], r["previous"])
        for r in releases
    ] == [
        ("2018-11-01", "2018-11-01T00:00:00+08:00", "2018-11-01", first, False, None),
        ("2024-03-01", "2024-03-01T10:00:00+08:00", "2024-04-15", second, True, "2018-11-01"),
    ]
    assert releases[1]["sha256"] == hashlib.sha256(_amended().encode()).hexdigest()
    assert releases[1]["summary"] == "缩短答复期限并新增境外共享。"
    assert releases[1]["revisions"] == []
    assert {"notice", "locale", "last_updated", "tier"} <= set(releases[1])


def test_log_text(seeded_repo: NoticeRepo) -> None:
    """When log prints for a terminal, then each release is one line with its summary below."""
    result = run_notices("log", cwd=seeded_repo.path)
    digest = hashlib.sha256(seed_text().encode()).hexdigest()[:12]
    assert result.out.splitlines() == [
        f"privacy/zh-CN/2018-11-01  published 2018-11-01  effective 2018-11-01  first release  "
        f"sha256 {digest}",
        "    世纪互联运营的在线服务隐私声明的首个存档版本（2018 年 11 月 1 日发布）。",
    ]


def test_check_refuses_a_version_going_backwards(seeded_repo: NoticeRepo) -> None:
    """When the working tree's version is older than a released one, then check refuses it."""
    seeded_repo.commit("Release 2024-03-01", "2024-03-01T10:00:00+08:00", {NOTICE: _amended()})
    seeded_repo.write(NOTICE, release_text(seed_text(), "2023-01-01", effective="2023-01-01"))
    result = run_notices("check", cwd=seeded_repo.path)
    assert result.code == 1
    assert (
        f"{NOTICE}:3: error: version 2023-01-01 is older than the released 2024-03-01 "
        "[version-order] (hint: versions only go up: give this release a newer version)"
    ) in result.out


def test_check_reports_a_rewritten_published_version(seeded_repo: NoticeRepo) -> None:
    """When a published text is changed by rewriting history, then check says so loudly."""
    seeded_repo.commit("Release 2024-03-01", "2024-03-01T10:00:00+08:00", {NOTICE: _amended()})
    settings = load_settings(seeded_repo.path, {})
    record_releases(read_history(seeded_repo.path, settings), record_path(settings))
    seeded_repo.write(NOTICE, _amended().replace("15 个工作日内", "60 天内"))
    seeded_repo.git("commit", "-qa", "--amend", "--no-edit", when="2024-03-01T10:00:00+08:00")
    result = run_notices("check", cwd=seeded_repo.path)
    assert result.code == 1
    assert "[rewritten]" in result.out and "privacy/zh-CN/2024-03-01" in result.out
