"""Render the change notice (Jinja2, autoescaped): HTML and plain text, zh-CN and en.

A dedicated notice, no marketing: what changes for the customer in the editor's words, the changed
sentences before and after, the effective date, links to the new version and its redline, the
sha256 of the new text, what happens if the customer does nothing, and how to reach us.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from notifier.delivery.mail import NAME_HTML, NAME_TEXT, Message
from notifier.locales import format_date
from notifier.settings import Settings, in_locale

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
    """One changed section as the customer reads it: its heading, the editor's plain words on
    what changes for them, and the sentences that changed, before and after, verbatim ("" when
    a sentence is new or gone). No rule codes: those are for editors."""

    section: str
    for_you: str
    sentences: tuple[tuple[str, str], ...] = ()
    more: int = 0  # changed sentences left out of the mail (the redline has them)


@dataclass(frozen=True, slots=True)
class ConsentNote:
    """One consent question the mail asks, on its own: what it is about in plain words, the
    sections concerned, whether the law asks for separate consent (PIPL art. 23, 25, 29, 39) or
    consent given again (art. 14), and the placeholder of the recipient's personal link ("" when
    no consent server is set up: then the mail only says consent is needed)."""

    title: str
    sections: tuple[str, ...]
    separate: bool
    link: str = ""


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
    # changes that need the customer's consent: then doing nothing is never acceptance
    consent: tuple[ConsentNote, ...] = ()
    translation: bool = False  # this text translates the source locale's, which prevails


def _services(content: NoticeContent, locale: str, settings: Settings) -> str:
    names = [
        settings.services[s].name(locale) if s in settings.services else s for s in content.services
    ]
    return ("、" if locale == "zh-CN" else ", ").join(names)


def render(content: NoticeContent, locale: str, settings: Settings) -> Message:
    """Subject, text and HTML in `locale`, with the name placeholders left for each recipient,
    and the sender's name in that locale for the From header."""
    sender_name = in_locale(settings.sender_names, locale, settings.default_locale)
    context = {
        "content": content,
        "services": _services(content, locale, settings),
        "effective": format_date(content.effective, locale),
        "settings": settings,
        "sender_name": sender_name,
        "postal_address": in_locale(settings.postal_addresses, locale, settings.default_locale),
        "name_text": NAME_TEXT,
        "name_html": NAME_HTML,
    }
    subject = _environment.get_template(f"subject.{locale}.txt").render(context).strip()
    return Message(
        locale=locale,
        subject=" ".join(subject.split()),
        text=_environment.get_template(f"notice.{locale}.txt").render(context),
        html=_environment.get_template(f"notice.{locale}.html").render(context),
        sender_name=sender_name,
    )


@dataclass(frozen=True, slots=True)
class ConsentRequest:
    """A mail that asks consent questions again: a fresh link for one whose link expired, or
    the one reminder before the effective date to someone who has not answered."""

    title: str
    version: str
    effective: date
    questions: tuple[ConsentNote, ...]
    reminder: bool


def render_request(request: ConsentRequest, locale: str, settings: Settings) -> Message:
    """The request in `locale`, with the name and link placeholders left for the recipient."""
    sender_name = in_locale(settings.sender_names, locale, settings.default_locale)
    context = {
        "request": request,
        "effective": format_date(request.effective, locale),
        "settings": settings,
        "sender_name": sender_name,
        "name_text": NAME_TEXT,
        "name_html": NAME_HTML,
    }
    subject = _environment.get_template(f"consent_subject.{locale}.txt").render(context)
    return Message(
        locale=locale,
        subject=" ".join(subject.split()),
        text=_environment.get_template(f"consent.{locale}.txt").render(context),
        html=_environment.get_template(f"consent.{locale}.html").render(context),
        sender_name=sender_name,
    )
