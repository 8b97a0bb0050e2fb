"""Render the change notice (Jinja2, autoescaped): HTML and plain text, zh-CN and en.

A dedicated notice, no marketing: what changed and why it matters, the effective date, links to
the new version and its redline, the sha256 of the new text, what happens if the customer does
nothing, and how to reach us.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from notifier.delivery.mail import NAME_HTML, NAME_TEXT, Message
from notifier.locales import LOCALES, format_date
from notifier.settings import Settings

_environment = Environment(
    loader=PackageLoader("notifier.delivery.mail", "templates"),
    autoescape=select_autoescape(["html"], default_for_string=False, default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True, slots=True)
class ChangeNote:
    """One material change as the mail states it: the section, and why each rule found it so."""

    section: str
    explanations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NoticeContent:
    """Everything a notice mail says, independent of the recipient."""

    title: str
    version: str
    summary: str
    effective: date
    sha256: str
    version_url: str
    redline_url: str
    changes: tuple[ChangeNote, ...]
    services: tuple[str, ...]


def mail_locale(locale: str, default: str) -> str:
    """The customer's locale if we have templates for it, else the notice's default locale."""
    return locale if locale in LOCALES else (default if default in LOCALES else "zh-CN")


def _services(content: NoticeContent, locale: str, settings: Settings) -> str:
    names = [
        settings.services[s].name(locale) if s in settings.services else s for s in content.services
    ]
    return ("、" if locale == "zh-CN" else ", ").join(names)


def render(content: NoticeContent, locale: str, settings: Settings) -> Message:
    """Subject, text and HTML in `locale`, with the name placeholders left for each recipient."""
    context = {
        "content": content,
        "services": _services(content, locale, settings),
        "effective": format_date(content.effective, locale),
        "settings": settings,
        "name_text": NAME_TEXT,
        "name_html": NAME_HTML,
    }
    subject = _environment.get_template(f"subject.{locale}.txt").render(context).strip()
    return Message(
        locale=locale,
        subject=" ".join(subject.split()),
        text=_environment.get_template(f"notice.{locale}.txt").render(context),
        html=_environment.get_template(f"notice.{locale}.html").render(context),
    )
