"""Shared helpers for the site tests: a repo with three releases (one upcoming) and site files."""

from __future__ import annotations

import hashlib
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

from support.repos import PROJECT, NoticeRepo, release_text, seed_text

NOTICE = "notices/privacy/zh-CN.md"
TODAY = "2024-12-01"  # v2 is in effect, v3 is published and takes effect on 2025-01-01
VERSIONS = ("2018-11-01", "2024-03-01", "2025-01-01")
SECTION_IDS = (
    "privacy-statement", "scope", "collection-and-use", "definitions", "customer-data",
    "administrator-data", "real-name-data", "payment-data", "support-data", "cookies",
    "local-software", "retention", "sharing", "security", "your-rights", "legal-compliance",
    "trials", "previews", "minors", "changes", "contact",
)

# v2: a material change (a promise turned around, a lower age for minors).
KEPT_PROMISE = "但我们不会在此期间使用或处理您的信息"
BROKEN_PROMISE = "并可能在此期间使用或处理您的信息"
OLD_AGE, NEW_AGE = "如您是 18 岁以下的未成年人", "如您是 14 岁以下的未成年人"
# v3: only the wording of a heading and the date line: not material.
OLD_HEADING, NEW_HEADING = "## 如何联系我们 {#contact}", "## 联系我们 {#contact}"


def second_text() -> str:
    text = release_text(
        seed_text(), "2024-03-01", summary="注销账号后的信息处理和未成年人的年龄有变"
    )
    assert KEPT_PROMISE in text and OLD_AGE in text
    return text.replace(KEPT_PROMISE, BROKEN_PROMISE).replace(OLD_AGE, NEW_AGE)


def third_text() -> str:
    text = release_text(second_text(), "2025-01-01", summary="“联系我们”一节的标题更简短")
    assert OLD_HEADING in text
    return text.replace(OLD_HEADING, NEW_HEADING)


def add_releases(repo: NoticeRepo) -> dict[str, str]:
    """Commit v2 (published 2024-02-01) and v3 (published 2024-11-01) on top of the seed.

    Returns the sha256 of each version's bytes as committed.
    """
    texts = {VERSIONS[0]: seed_text(), VERSIONS[1]: second_text(), VERSIONS[2]: third_text()}
    repo.commit("Release 2024-03-01", "2024-02-01T10:00:00+08:00", {NOTICE: texts[VERSIONS[1]]})
    repo.commit("Release 2025-01-01", "2024-11-01T10:00:00+08:00", {NOTICE: texts[VERSIONS[2]]})
    return {v: hashlib.sha256(t.encode("utf-8")).hexdigest() for v, t in texts.items()}


def install_site(repo: NoticeRepo) -> None:
    """Copy the project's mkdocs.yml and site/ into the repo (the renderer's configuration)."""
    shutil.copy2(PROJECT / "mkdocs.yml", repo.path / "mkdocs.yml")
    shutil.copytree(PROJECT / "site", repo.path / "site")


def tree_digest(folder: Path) -> dict[str, str]:
    """Relative path → sha256 of every file under `folder`."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


ENGLISH = "notices/privacy/en.md"


def add_english(repo: NoticeRepo) -> None:
    """Commit the project's English translation of the seed (version 2018-11-01)."""
    text = (PROJECT / ENGLISH).read_text(encoding="utf-8")
    repo.commit("English translation", "2024-01-03T09:00:00+08:00", {ENGLISH: text})


# Rotating synthetic edits for long histories: numbers, sentences added and removed.
SENTENCES = (
    "我们会定期审查数据的保存期限。",
    "如需了解更多信息，请联系客户支持。",
    "我们可能会使用自动化工具检测异常访问。",
    "您可以随时在门户中查看您的账户信息。",
    "我们不会将您的个人信息用于与服务无关的目的。",
)
FIRST_SYNTHETIC = date(2019, 1, 1)
SYNTHETIC_STEP = timedelta(days=10)


def synthetic_release(text: str, number: int) -> tuple[str, str]:
    """The `number`-th synthetic release of `text` and its version: new version and dates, a
    number changed in one section and a sentence added to (or taken from) another."""
    version = (FIRST_SYNTHETIC + SYNTHETIC_STEP * number).isoformat()
    text = release_text(text, version, summary=f"第 {number} 次修订")
    text = re.sub(r"身份后 \d+ 天内", f"身份后 {15 + number % 20} 天内", text)
    paragraphs = text.split("\n\n")
    body = [i for i, p in enumerate(paragraphs) if p and not p.startswith(("#", "---", "-"))]
    target = body[(number * 7) % len(body)]
    sentence = SENTENCES[number % len(SENTENCES)]
    if sentence in paragraphs[target]:
        paragraphs[target] = paragraphs[target].replace(sentence, "")
    else:
        paragraphs[target] += sentence
    return "\n\n".join(paragraphs), version


def add_synthetic_releases(repo: NoticeRepo, count: int, text: str | None = None) -> str:
    """Commit `count` synthetic releases on top of `text` (default: the seed), each published
    five days before it takes effect; returns the last version."""
    text = seed_text() if text is None else text
    version = ""
    for number in range(1, count + 1):
        text, version = synthetic_release(text, number)
        published = date.fromisoformat(version) - timedelta(days=5)
        repo.commit(f"Release {version}", f"{published.isoformat()}T10:00:00+08:00", {NOTICE: text})
    return version


@contextmanager
def another_thread() -> Iterator[None]:
    """A thread besides the main one, as the scheduler and the preview have: nothing is forked."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
