"""The starter statement of `notices init`, changed as a legal editor would for its next release."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

from notifier.locales import format_date

# a git identity of the test's own, and none of the machine's configuration
IDENTITY = {
    "GIT_AUTHOR_NAME": "法务编辑",
    "GIT_AUTHOR_EMAIL": "legal@example.com",
    "GIT_COMMITTER_NAME": "法务编辑",
    "GIT_COMMITTER_EMAIL": "legal@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}

# the next release as a legal editor writes it: retention after closure from 30 to 90 days
NEXT_RELEASE = {
    "zh-CN": (
        ("30 天内删除", "90 天内删除"),
        ("本声明的第一个版本。", "延长注销账户后的保存期限。"),
        "注销账户后，我们保存您的个人信息的时间由 30 天延长为 90 天。",
    ),
    "en": (
        ("within 30 days", "within 90 days"),
        ("The first version of this statement.", "A longer retention after account closure."),
        "After you close your account, we keep your personal information for 90 days, not 30.",
    ),
}


def next_release(repo: Path, today: date) -> str:
    """Write the next release (tomorrow's version, effective in 45 days) into the working
    tree, in both locales; return its version."""
    new, effective = today + timedelta(days=1), today + timedelta(days=45)
    for locale, (retention, summary, for_you) in NEXT_RELEASE.items():
        path = repo / f"notices/privacy/{locale}.md"
        text = path.read_text(encoding="utf-8")
        for old, changed in (
            retention,
            summary,
            (f"version: {today}", f"version: {new}"),
            (f"last_updated: {today}", f"last_updated: {new}"),
            (f"effective: {today}", f"effective: {effective}\nwhat_changes_for_you:"),
            (format_date(today, locale), format_date(new, locale)),
        ):
            assert old in text, old
            text = text.replace(old, changed, 1)
        text = text.replace(
            "what_changes_for_you:", f"what_changes_for_you:\n  retention: {for_you}"
        )
        path.write_text(text, encoding="utf-8")
    return new.isoformat()
