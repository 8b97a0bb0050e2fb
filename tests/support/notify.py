"""Shared pieces for notification tests: a repo with a material release, customers, a stand-in."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from notifier.demo.sandbox import AMENDMENT, WHAT_CHANGES_FOR_YOU
from notifier.locales import format_date
from support import sendgrid_standin
from support.repos import PROJECT, NoticeRepo, for_you, release_text, seed_text

NOTICE = "notices/privacy/zh-CN.md"
ENGLISH = "notices/privacy/en.md"

VERSION = "2029-11-01"
API_KEY = "SG.not.a.real.key.standin-0123456789"


def amended(version: str = VERSION, effective: str = "2030-01-01") -> str:
    text = release_text(
        seed_text(),
        version,
        effective=effective,
        summary="新增向境外关联方共享，并缩短答复期限。",
        what_changes_for_you=for_you(WHAT_CHANGES_FOR_YOU),
    )
    for old, new in AMENDMENT:
        text = text.replace(old, new, 1)
    return text


def material_repo(
    repo: NoticeRepo, published: str = "2029-11-01T10:00:00+08:00", effective: str = "2030-01-01"
) -> NoticeRepo:
    repo.commit("Amend the statement", published, {NOTICE: amended(effective=effective)})
    return repo


def english_text(version: str, effective: str) -> str:
    """The project's English translation, as release `version` taking effect on `effective`."""
    text = (PROJECT / ENGLISH).read_text(encoding="utf-8")
    text = re.sub(r"^published: .*\n", "", text, flags=re.M)
    dated = f"Last updated: {format_date(date.fromisoformat(version), 'en')}"
    text = text.replace("Last updated: November 1, 2018", dated)
    for key, value in (("version", version), ("last_updated", version), ("effective", effective)):
        text = re.sub(rf"^{key}: .*$", f"{key}: {value}", text, count=1, flags=re.M)
    return text


def add_english(repo: NoticeRepo, version: str = VERSION, effective: str = "2030-01-01") -> None:
    """The English translation as a first release, then as the edition of `version`."""
    first = (PROJECT / ENGLISH).read_text(encoding="utf-8")
    repo.commit("English translation", "2024-01-03T09:00:00+08:00", {ENGLISH: first})
    repo.commit(f"English {version}", f"{version}T11:00:00+08:00",
                {ENGLISH: english_text(version, effective)})


def write_customers(path: Path, count: int, *, names: dict[int, str] | None = None) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "locale", "services"])
        for number in range(1, count + 1):
            name = (names or {}).get(number, f"客户{number}")
            locale = "en" if number % 5 == 0 else "zh-CN"
            writer.writerow([f"user{number:06d}@example.com", name, locale, "azure;powerbi"])
    return path


@pytest.fixture
def standin() -> Iterator[sendgrid_standin.StandIn]:
    server = sendgrid_standin.start(API_KEY)
    yield server
    sendgrid_standin.stop(server)


def sendgrid_env(server: sendgrid_standin.StandIn, repo: NoticeRepo) -> dict[str, str]:
    return {
        "SENDGRID_API_KEY": API_KEY,
        "SENDGRID_API_HOST": server.url,
        "NOTICES_DATABASE_URL": f"sqlite:///{repo.path / 'var' / 'notices.db'}",
    }
