"""Helpers for the scheduling tests: releases committed at chosen times, settings per timezone."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from notifier.settings import Settings, load_settings
from support.repos import NoticeRepo, release_text, seed_text

NOTICE = "notices/privacy/zh-CN.md"
# A real material change: customer data may now leave China (T3, cross-border transfer).
CROSS_BORDER = (
    "客户数据将仅存储在位于中国的数据中心。",
    "客户数据将存储在位于中国和新加坡的数据中心。",
)


def material_text(version: str, effective: str) -> str:
    """A release of the seed that moves customer data abroad: material by the rules."""
    old, new = CROSS_BORDER
    assert old in seed_text()
    return release_text(
        seed_text().replace(old, new), version, effective=effective, summary="跨境存储"
    )


def quiet_text(version: str, effective: str) -> str:
    """A release of the seed that only fixes a typo: not material."""
    text = seed_text()
    assert "故障排查" in text
    return release_text(
        text.replace("故障排查", "故障排察"), version, effective=effective, summary="更正错字"
    )


def release(repo: NoticeRepo, text: str, when: str) -> str:
    """Commit a release of the notice at `when` (its publish time); return the commit sha."""
    return repo.commit(f"Release at {when}", when, {NOTICE: text})


# minutes (1.2 s): a scheduler started before a release is committed reads it soon
QUICK_RESYNC = "0.02"


def due_release(repo: NoticeRepo, lead: float) -> tuple[str, datetime]:
    """A material release published now whose notice falls due `lead` seconds from now (less
    than 30 days before it takes effect, so due on publication): its notify job id and time."""
    due = datetime.now(ZoneInfo("Asia/Shanghai")).replace(microsecond=0) + timedelta(seconds=lead)
    version = due.date().isoformat()
    effective = (due + timedelta(days=10)).date().isoformat()
    release(repo, material_text(version, effective), due.isoformat())
    return f"privacy/zh-CN/{version}:notify", due


def settings_for(
    repo: Path, *, timezone: str | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """The repo's settings, optionally with another [notices] timezone written to notices.toml."""
    if timezone is not None:
        path = repo / "notices.toml"
        text = path.read_text(encoding="utf-8")
        text = text.replace('timezone = "Asia/Shanghai"', f'timezone = "{timezone}"')
        path.write_text(text, encoding="utf-8")
    return load_settings(repo, environ or {})


def database(repo: NoticeRepo) -> dict[str, str]:
    """The environment that puts the job store and our tables in an SQLite file next to the
    repo (var/ is ignored by git, as in a real checkout)."""
    repo.write(".gitignore", "var/\n")
    path = repo.path.parent / "notices.db"
    return {"NOTICES_DATABASE_URL": f"sqlite:///{path.as_posix()}"}


def job_rows(environ: dict[str, str]) -> list[tuple[str, float, bytes]]:
    """The APScheduler job store table, exactly as stored."""
    path = environ["NOTICES_DATABASE_URL"].removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as connection:
        query = "SELECT id, next_run_time, job_state FROM apscheduler_jobs ORDER BY id"
        return list(connection.execute(query))


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database on 127.0.0.1 for one test, dropped afterwards; its URL."""
    import psycopg

    name = f"notices_schedule_{uuid.uuid4().hex[:12]}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=test"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as error:
        # CI always has the server: there, its absence is a failure, never a skip
        if os.environ.get("NOTICES_REQUIRE_POSTGRES"):
            raise
        pytest.skip(f"no PostgreSQL answers at 127.0.0.1:5432 ({error})")
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
