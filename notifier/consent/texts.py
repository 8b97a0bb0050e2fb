"""The exact text of one consent question in one locale, and its SHA-256.

A decision is bound to the words the customer was shown, not to a version number: the link in
the mail carries the hash of this text, the page shows it, and a decision is recorded only while
the text it answers is still the current one. The text is the editor's "what changes for you"
sentences for the sections concerned, links to the new text and its redline, and the question,
in the customer's language and plain words. Texts are kept per release until main moves.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined

from notifier.consent.site import SiteMap, site_map
from notifier.consent.triggers import TRIGGERS, Trigger, sections_asking, triggers_of
from notifier.errors import ConsentError, NoticeError
from notifier.locales import LOCALES, format_date, matching_locale
from notifier.releases.history import History, Release, main_tip, read_history, tip
from notifier.releases.verdicts import AssessedRelease, assess_release, source_release
from notifier.settings import Settings
from notifier.statement.materiality import RuleSet, Verdict, rules_for
from notifier.statement.notice import Notice, covering

_environment = Environment(
    loader=PackageLoader("notifier.consent", "wording"),
    autoescape=False,  # plain text: the page escapes it where it shows it
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)


class UnknownConsent(ConsentError):
    """No such question: the release does not exist, asks no consent for the article, or the
    locale has no wording."""


@dataclass(frozen=True, slots=True)
class ConsentText:
    """One question as shown: `body` is the whole text (the question included), `sha256` its
    hash in UTF-8; `release_id` is the release customers were told of (the source locale's)."""

    release_id: str
    version: str
    locale: str
    trigger: Trigger
    title: str
    what_changes: tuple[str, ...]
    sections: tuple[str, ...]
    body: str
    sha256: str
    version_url: str
    redline_url: str
    effective: date
    notice_title: str = ""  # the statement's title in this locale, for mails that ask again


def _wording() -> dict[str, dict[str, dict[str, str]]]:
    raw = resources.files("notifier.consent").joinpath("wording/questions.yaml").read_text("utf-8")
    loaded: dict[str, dict[str, dict[str, str]]] = yaml.safe_load(raw)
    return loaded


_WORDING = _wording()
assert set(_WORDING) == set(TRIGGERS), "every trigger needs its wording"


def section_heading(section_id: str, *docs: Notice) -> str:
    """A section's heading path in the first of `docs` that has it (a removed section keeps
    its old heading)."""
    for doc in docs:
        if (section := doc.section(section_id)) is not None:
            return section.path or section.title
    return section_id


def compose(
    release_id: str,
    edition: AssessedRelease,
    locale: str,
    verdict: Verdict | None,
    trigger: Trigger,
    site: SiteMap,
) -> ConsentText:
    """The question about `trigger` in `locale`, in the words of `edition` (the release in
    that locale, or the source locale's when it is the one mailed in `locale`)."""
    release = edition.release
    wording = _WORDING[trigger.article][locale]
    doc = release.notice_doc
    previous = edition.previous.notice_doc if edition.previous else doc
    asked = sections_asking(verdict, trigger.article)
    written = doc.front.what_changes_for_you if doc.front else {}
    keys = (covering(section_id, written, doc, previous) for section_id in asked)
    what_changes = tuple(dict.fromkeys(written[key] for key in keys if key is not None))
    sections = tuple(dict.fromkeys(section_heading(s, doc, previous) for s in asked))
    version_url, redline_url = site.links_of(release.id)
    body = _environment.get_template(f"body.{locale}.txt").render(
        title=wording["title"],
        notice_title=release.title,
        version=release.version,
        effective=format_date(release.effective, locale),
        what_changes=what_changes,
        sections=sections,
        version_url=version_url,
        redline_url=redline_url,
        sha256=release.sha256,  # any revision of the statement is a new text to agree to
        question=wording["question"],
    )
    return ConsentText(
        release_id=release_id,
        version=release.version,
        locale=locale,
        trigger=trigger,
        title=wording["title"],
        what_changes=what_changes,
        sections=sections,
        body=body,
        sha256=hashlib.sha256(body.encode("utf-8")).hexdigest(),
        version_url=version_url,
        redline_url=redline_url,
        effective=release.effective,
        notice_title=release.title,
    )


def editions(history: History, source: Release, rules: RuleSet) -> dict[str, AssessedRelease]:
    """The version in each locale mails are written in (see `content.mailed_locales`): those
    we have wording for with an edition of it, else the first, in the source's words."""
    found = {
        release.locale: assess_release(history, release, rules)
        for release in history.releases_of_version(source.notice, source.version)
        if release.locale in LOCALES
    }
    return found or {LOCALES[0]: assess_release(history, source, rules)}


def texts_of(
    history: History, release: Release, rules: RuleSet, site: SiteMap
) -> dict[tuple[str, str], ConsentText]:
    """Every question `release` asks, by (locale, article): none if it needs notice alone."""
    source = source_release(history, release) or release
    by_locale = editions(history, source, rules)
    verdict = assess_release(history, source, rules).verdict
    return {
        (locale, trigger.article): compose(source.id, edition, locale, verdict, trigger, site)
        for trigger in triggers_of(verdict)
        for locale, edition in by_locale.items()
    }


@dataclass(frozen=True, slots=True)
class _Kept:
    head: str
    texts: dict[tuple[str, str], ConsentText]


_kept: dict[tuple[Path, str], _Kept] = {}
_lock = threading.Lock()


def remember(
    settings: Settings, history: History, release: Release, site: SiteMap
) -> dict[tuple[str, str], ConsentText]:
    """The questions of `release` from a history and site already read (a send has both),
    kept for `consent_text` until main moves."""
    source = source_release(history, release) or release
    texts = texts_of(history, source, rules_for(settings), site)
    with _lock:
        _kept[settings.repo, source.id] = _Kept(history.head, texts)
    return texts


def consent_text(settings: Settings, release_id: str, locale: str, article: str) -> ConsentText:
    """The current text of one question in `locale`, or in the locale its mail was written in
    when the version has no edition in `locale` (as `content.message_locale` chooses);
    UnknownConsent when the release asks no such question."""
    return _in_locale(_texts(settings, release_id), release_id, locale, article)


def asked(settings: Settings, release_id: str, locale: str) -> tuple[ConsentText, ...]:
    """Every question the release asks, in `locale` as `consent_text` chooses it."""
    texts = _texts(settings, release_id)
    articles = dict.fromkeys(article for _, article in texts)
    return tuple(_in_locale(texts, release_id, locale, article) for article in articles)


def _in_locale(
    texts: dict[tuple[str, str], ConsentText], release_id: str, locale: str, article: str
) -> ConsentText:
    exact = texts.get((locale, article))  # the answer's own locale: nearly always asked in it
    if exact is not None:
        return exact
    source_locale = release_id.split("/", 2)[1] if release_id.count("/") >= 2 else ""
    candidates = (locale, matching_locale(locale) or "", source_locale, *LOCALES)
    found = next((texts[c, article] for c in candidates if (c, article) in texts), None)
    if found is None:
        asked = sorted({a for _, a in texts}) or ["none"]
        raise UnknownConsent(
            f"release {release_id} asks no consent for {article!r}",
            hint=f"it asks: {', '.join(asked)}",
        )
    return found


def _texts(settings: Settings, release_id: str) -> dict[tuple[str, str], ConsentText]:
    """The texts of the release at main's current commit: kept ones while main has not moved
    (its ref read on every call), else read from git again."""
    key = (settings.repo, release_id)
    # outside the lock, so that answers in parallel need not queue; git is asked only where
    # its files cannot tell (no branch main, a symbolic ref)
    head = main_tip(settings.repo) or tip(settings.repo)
    with _lock:
        kept = _kept.get(key)
        if kept is not None and kept.head == head:
            return kept.texts
        history = read_history(settings.repo, settings)
        try:
            release = history.find(release_id)
        except NoticeError as error:
            raise UnknownConsent(f"no release {release_id!r} on main", hint=error.hint) from None
        texts = texts_of(history, release, rules_for(settings), site_map(settings, history))
        _kept[key] = _Kept(history.head, texts)
        return texts
