"""Fixtures every test may use: a clean environment and real git repositories."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.repos import NoticeRepo, add_seed, empty_repo
from support.schedule import postgres_database


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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_env(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """The environment naming the database: the embedded SQLite default, or a fresh PostgreSQL
    database of the test's own."""
    if request.param == "sqlite":
        yield {}
        return
    with postgres_database() as url:
        yield {"NOTICES_DATABASE_URL": url}
