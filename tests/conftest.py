"""Fixtures every test may use: a clean environment and real git repositories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from support.repos import NoticeRepo, add_seed, empty_repo


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never inherit the developer's NOTICES_* or SENDGRID_* settings."""
    for name in list(os.environ):
        if name.startswith(("NOTICES_", "SENDGRID_")):
            monkeypatch.delenv(name)


@pytest.fixture
def notice_repo(tmp_path: Path) -> NoticeRepo:
    """An empty git repo on branch main with the project's notices.toml (nothing committed)."""
    return empty_repo(tmp_path / "repo")


@pytest.fixture
def seeded_repo(notice_repo: NoticeRepo) -> NoticeRepo:
    """A repo whose first commit holds the seed statement, as the first release."""
    return add_seed(notice_repo)
