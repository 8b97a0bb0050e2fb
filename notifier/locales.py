"""The locales we write for, and how each writes a date: one table for mails, site and checks.

Dates are spelt out here rather than with `strftime`, whose month names follow the process's
C locale and whose `%-d` exists only with glibc.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Locale:
    """A locale with mail templates and site texts: its code and its name in its own language."""

    code: str
    name: str


ZH_CN = Locale("zh-CN", "中文（简体）")
EN = Locale("en", "English")
SUPPORTED = (ZH_CN, EN)
LOCALES = tuple(locale.code for locale in SUPPORTED)
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
_MONTH_NUMBERS = {name.lower(): number for number, name in enumerate(MONTHS, start=1)}


# A language tag as CRMs export them: `en`, `en-US`, `zh_Hans_CN` (BCP 47, `_` tolerated).
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")
_TRADITIONAL = {"hant", "tw", "hk", "mo"}  # Chinese we have no text for (traditional script)
_BY_LOWER_CASE = {code.lower(): code for code in LOCALES}


def matching_locale(tag: str) -> str | None:
    """The supported locale a language tag asks for (BCP 47 lookup: `en-GB` → `en`; `zh`,
    `zh-Hans`, `zh-Hans-CN` → `zh-CN`), or None when we have no text in its language."""
    normal = tag.replace("_", "-").lower()
    if normal in _BY_LOWER_CASE:
        return _BY_LOWER_CASE[normal]
    parts = normal.split("-")
    if parts[0] == "zh":
        return None if _TRADITIONAL & set(parts[1:]) else ZH_CN.code
    return _BY_LOWER_CASE.get(parts[0])


def ui_locale(code: str) -> Locale:
    """The supported locale whose texts a page in `code` shows: Chinese for `zh-*`, else English."""
    return ZH_CN if code.lower().startswith("zh") else EN


def display_name(code: str) -> str:
    """The language switcher's name for `code`: ours for Chinese and English, else the code."""
    return ui_locale(code).name if code.lower().startswith(("zh", "en")) else code


def format_date(value: date, code: str) -> str:
    """`2018 年 11 月 1 日` in Chinese, `November 1, 2018` in English (and anything else)."""
    if ui_locale(code) is ZH_CN:
        return f"{value.year} 年 {value.month} 月 {value.day} 日"
    return f"{MONTHS[value.month - 1]} {value.day}, {value.year}"


def month_number(name: str) -> int | None:
    """1 to 12 for an English month name in any case (`November`, `november`), else None."""
    return _MONTH_NUMBERS.get(name.lower())
