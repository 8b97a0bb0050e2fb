"""The files of a new notices repository, rendered from the package's templates.

One template per file; the starter statement has one per language (Chinese, English), with the
same headings and ids in both, so every locale's file passes the rule that translations keep
the source's sections. A locale whose language has no template gets the English one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version as installed_version
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from notifier.locales import ZH_CN, format_date, ui_locale
from notifier.publishing.templates import markdown_text
from notifier.settings import SETTINGS_FILE, is_url
from notifier.settings.schema import LOCALE_CODE, validated
from notifier.settings.source import Source
from notifier.statement.notice import STABLE_ID
from notifier.statement.sanitize import scan

DEFAULT_NOTICE = "privacy"
DEFAULT_LOCALE = ZH_CN.code
DEFAULT_SITE_URL = "https://privacy.example.com/"
TIMEZONE = "Asia/Shanghai"
NOTICE_PERIOD_DAYS = 30
SERVICE = "online-services"


@dataclass(frozen=True, slots=True)
class _Words:
    """What the starter files say in one language, besides its statement template."""

    template: str
    title: str
    summary: str
    sender: str
    service: str


_WORDS = {
    "zh": _Words("notice.zh.md", "隐私声明", "本声明的第一个版本。", "隐私声明通知", "在线服务"),
    "en": _Words(
        "notice.en.md",
        "Privacy Statement",
        "The first version of this statement.",
        "Privacy notices",
        "Online services",
    ),
}


def _words(locale: str) -> _Words:
    return _WORDS["zh" if ui_locale(locale) is ZH_CN else "en"]


@dataclass(frozen=True, slots=True)
class Starter:
    """What a new repository is asked to hold; refuses, with ValueError, what could not pass
    `notices check` (a name that is no plain id, a locale no file can be named after)."""

    today: date
    notice: str = DEFAULT_NOTICE
    locales: tuple[str, ...] = (DEFAULT_LOCALE,)
    site_url: str = DEFAULT_SITE_URL
    title: str | None = None

    def __post_init__(self) -> None:
        if not STABLE_ID.match(self.notice):
            raise ValueError(
                f"notice name {self.notice!r} is not lower-case ASCII words joined by dashes "
                "(e.g. privacy)"
            )
        if not self.locales:
            raise ValueError("give at least one locale, e.g. --locale zh-CN")
        for locale in self.locales:
            if not LOCALE_CODE.match(locale):
                raise ValueError(f"{locale!r} is not a locale code such as zh-CN or en")
        if len(set(self.locales)) != len(self.locales):
            raise ValueError(f"a locale is given twice: {', '.join(self.locales)}")
        if not is_url(self.site_url, ("http", "https")):
            raise ValueError(f"{self.site_url!r} is not an absolute http(s) URL")
        if self.title is not None and (
            not self.title.strip() or "\n" in self.title or scan(self.title)
        ):
            raise ValueError("the title must be one line of plain text")

    @property
    def default_locale(self) -> str:
        return self.locales[0]

    def title_in(self, locale: str) -> str:
        """The given title in the default locale, the language's usual title elsewhere."""
        given = self.title if locale == self.default_locale else None
        return given or _words(locale).title


def notice_path(notice: str, locale: str) -> str:
    """Where a notice's text in one locale lives in the repository."""
    return f"notices/{notice}/{locale}.md"


def _quoted(value: Any) -> Markup:
    """A value as JSON: a valid TOML and YAML literal too (strings, lists of strings)."""
    return Markup(json.dumps(value, ensure_ascii=False))


_environment = Environment(
    loader=PackageLoader("notifier.scaffold", "templates"),
    autoescape=select_autoescape(enabled_extensions=("md",), default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    # `{#id}` is Markdown's heading id in the statements, so Jinja comments are written `<# … #>`
    comment_start_string="<#",
    comment_end_string="#>",
)
_environment.filters.update(quoted=_quoted, md=markdown_text)


def _render(template: str, **fields: Any) -> str:
    return _environment.get_template(template).render(**fields)


def starter_files(starter: Starter) -> dict[str, str]:
    """Every file of the new repository, by its path relative to the repository's root."""
    requirement = f"notices=={installed_version('notices')}"
    locales = starter.locales
    settings = _render(
        "notices.toml",
        default_locale=starter.default_locale,
        required_locales=list(locales[1:]),
        timezone=TIMEZONE,
        notice_period_days=NOTICE_PERIOD_DAYS,
        locales=locales,
        sender_names={locale: _words(locale).sender for locale in locales},
        site_url=starter.site_url,
        site_titles={locale: starter.title_in(locale) for locale in locales},
        services={SERVICE: {locale: _words(locale).service for locale in locales}},
    )
    validated(Source(SETTINGS_FILE, settings))  # never write settings the tool would refuse
    files = {
        SETTINGS_FILE: settings,
        ".gitignore": _render("gitignore"),
        ".pre-commit-config.yaml": _render("pre-commit-config.yaml", requirement=requirement),
        ".github/workflows/notices.yml": _render(
            "notices.yml", requirement=requirement, notice=starter.notice, locales=locales
        ),
    }
    for locale in locales:
        files[notice_path(starter.notice, locale)] = _render(
            _words(locale).template,
            title=starter.title_in(locale),
            version=starter.today.isoformat(),
            today=starter.today.isoformat(),
            date_line=format_date(starter.today, locale),
            services=[SERVICE],
            summary=_words(locale).summary,
            notice_period_days=NOTICE_PERIOD_DAYS,
        )
    return files
