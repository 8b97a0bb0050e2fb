"""Fixtures every test may use: a clean environment and real git repositories."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.repos import SETTINGS, NoticeRepo, seed_text


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never inherit the developer's NOTICES_* or SENDGRID_* settings."""
    for name in list(os.environ):
        if name.startswith(("NOTICES_", "SENDGRID_")):
            monkeypatch.delenv(name)


@pytest.fixture
def notice_repo(tmp_path: Path) -> Iterator[NoticeRepo]:
    """An empty git repo on branch main with the project's notices.toml (nothing committed)."""
    path = tmp_path / "repo"
    path.mkdir()
    repo = NoticeRepo(path)
    repo.git("init", "-q", "-b", "main")
    repo.write("notices.toml", SETTINGS.read_text(encoding="utf-8"))
    yield repo


@pytest.fixture
def seeded_repo(notice_repo: NoticeRepo) -> NoticeRepo:
    """A repo whose first commit holds the seed statement, as the first release."""
    notice_repo.commit(
        "Add the 2018-11-01 privacy statement",
        when="2024-01-02T09:00:00+08:00",
        files={"notices/privacy/zh-CN.md": seed_text()},
    )
    return notice_repo
