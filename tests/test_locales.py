"""locales.py: one locale table and one way to write a date in each locale."""

from __future__ import annotations

from datetime import date

import pytest

from notifier.locales import (
    LOCALES,
    display_name,
    format_date,
    matching_locale,
    month_number,
    ui_locale,
)


def test_supported_locales() -> None:
    """When the supported locales are listed, then they are Chinese (the default) and English."""
    assert LOCALES == ("zh-CN", "en")


@pytest.mark.parametrize(
    ("value", "locale", "expected"),
    [
        (date(2018, 11, 1), "zh-CN", "2018 年 11 月 1 日"),
        (date(2018, 11, 1), "en", "November 1, 2018"),
        (date(2030, 1, 31), "zh-CN", "2030 年 1 月 31 日"),
        (date(2030, 1, 31), "en", "January 31, 2030"),
        (date(2024, 5, 9), "zh-TW", "2024 年 5 月 9 日"),
        (date(2024, 5, 9), "fr", "May 9, 2024"),
    ],
)
def test_format_date(value: date, locale: str, expected: str) -> None:
    """When a date is written for a locale, then days have no leading zero and months are words."""
    assert format_date(value, locale) == expected


def test_english_dates_read_back() -> None:
    """When an English date is written, then its month name reads back as the same month."""
    for month in range(1, 13):
        name = format_date(date(2024, month, 1), "en").split()[0]
        assert month_number(name) == month
        assert month_number(name.upper()) == month
    assert month_number("Brumaire") is None


def test_ui_locale_and_names() -> None:
    """When a page's locale is not supported as such, then it falls back to Chinese or English."""
    assert [ui_locale(code).code for code in ("zh-CN", "zh-TW", "en", "en-GB", "de")] == [
        "zh-CN", "zh-CN", "en", "en", "en",
    ]
    names = [display_name(code) for code in ("zh-CN", "en", "de")]
    assert names == ["中文（简体）", "English", "de"]


def test_matching_locale_follows_bcp47_lookup() -> None:
    """When a language tag is matched, then the language decides (region and script narrow it
    down), Traditional Chinese is not our Simplified text, and an unknown language has none."""
    cases = {
        "en": "en", "en-US": "en", "EN_gb": "en", "zh": "zh-CN", "zh-Hans": "zh-CN",
        "zh-Hans-CN": "zh-CN", "zh-SG": "zh-CN", "ZH-cn": "zh-CN", "zh-Hant": None,
        "zh-TW": None, "zh-Hant-HK": None, "fr": None, "de-DE": None,
    }
    assert {tag: matching_locale(tag) for tag in cases} == cases
