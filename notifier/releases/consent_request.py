"""What a release asking consent must show: the elements the law requires at that moment.

Consent is only valid when the person is told what they agree to (PIPL 14): for a recipient
(art. 23) or one abroad (art. 39) its name, contact, the purpose, method and categories and how
to exercise rights against it; for sensitive personal information (art. 29, with 30) why it is
necessary and how it affects the person; for renewed consent (art. 14) the new purpose, method
and categories. Each section whose material change asks consent is read for them; the policy
table is `rules/consent_request.yaml`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from notifier import rules as rules_data
from notifier.errors import ConfigError
from notifier.statement.diff import DELETE, INSERT, WORDING, Change, Comparison, normalise
from notifier.statement.materiality import Verdict
from notifier.statement.notice import Notice, Section
from notifier.statement.wording import contact_channels, count, entities

RESOURCE = "consent_request"
FEATURES: Mapping[str, Callable[[str], list[str]]] = {
    "entity": entities,
    "contact_channel": contact_channels,
}
CONSENT_KINDS = ("separate", "renewed")
RECIPIENT = "recipient"  # what a recipient is called where several articles ask at once


@dataclass(frozen=True, slots=True)
class Element:
    """Something the person must be shown, and how a section is seen to show it."""

    id: str
    what: str  # "the {recipient}'s contact (…)"
    hint: str
    words: tuple[str, ...] = ()
    features: tuple[str, ...] = ()

    def shown_in(self, text: str, plain: str) -> bool:
        """Whether a section shows the element: one of its words in the `plain` (normalised)
        text, or a feature (a company name, a contact channel) in the `text` as written."""
        return any(count(plain, word) for word in self.words) or any(
            FEATURES[feature](text) for feature in self.features
        )


@dataclass(frozen=True, slots=True)
class Article:
    """An article that asks consent, and what a request under it must show."""

    id: str  # "PIPL 39", as `Reason.consent` names it
    consent: str  # separate | renewed
    requires: tuple[str, ...]
    sources: tuple[str, ...]
    recipient: str = RECIPIENT


@dataclass(frozen=True, slots=True)
class Policy:
    articles: Mapping[str, Article]
    elements: Mapping[str, Element]


@functools.cache
def policy() -> Policy:
    """The packaged table, checked once: an article may only require elements it defines."""
    data = rules_data.packaged(RESOURCE)
    elements = {
        str(key): Element(
            str(key),
            str(raw["what"]),
            str(raw["hint"]),
            tuple(str(w) for w in (*raw.get("zh", ()), *raw.get("en", ()))),
            tuple(str(f) for f in raw.get("features", ())),
        )
        for key, raw in data["elements"].items()
    }
    articles = {
        str(key): Article(
            str(key),
            str(raw["consent"]),
            tuple(str(e) for e in raw["requires"]),
            tuple(str(s) for s in raw["sources"]),
            str(raw.get("recipient", RECIPIENT)),
        )
        for key, raw in data["articles"].items()
    }
    for element in elements.values():
        unknown = [f for f in element.features if f not in FEATURES]
        if unknown or not (element.words or element.features):
            raise ConfigError(  # pragma: no cover - package data
                f"consent element '{element.id}' has no way to be found ({', '.join(unknown)})",
                path=f"{RESOURCE}.yaml",
            )
    for article in articles.values():
        unknown = [e for e in article.requires if e not in elements]
        if unknown or article.consent not in CONSENT_KINDS:
            raise ConfigError(  # pragma: no cover - package data
                f"consent article '{article.id}' requires unknown elements {unknown} or has "
                f"an unknown kind of consent '{article.consent}'",
                path=f"{RESOURCE}.yaml",
            )
    return Policy(articles, elements)


@dataclass(frozen=True, slots=True)
class Missing:
    """An element the section asking consent does not show; `line` is the changed paragraph's
    (the heading's when the section is new or only its heading changed)."""

    section: Section
    line: int
    articles: tuple[Article, ...]
    element: Element

    @property
    def recipient(self) -> str:
        """The articles' word for the recipient, the plain one when they differ."""
        words = {article.recipient for article in self.articles}
        return words.pop() if len(words) == 1 else RECIPIENT


def missing_elements(verdict: Verdict, comparison: Comparison) -> list[Missing]:
    """Every element a section of `comparison.new` must show because its material change asks
    consent, and does not. `verdict` may be the source locale's, which a translation shares:
    sections are matched by id, and each locale must show the elements in its own words."""
    if not verdict.material:
        return []
    known = policy().articles
    asked: dict[str, dict[str, Article]] = {}
    for judged in verdict.changes:
        if not judged.material:
            continue
        for reason in judged.reasons:
            article = known.get(reason.consent or "")
            if article is not None:
                asked.setdefault(judged.change.section_id, {})[article.id] = article
    doc = comparison.new
    changes = {change.section_id: change for change in comparison.changes}
    found: list[Missing] = []
    for section_id, articles in asked.items():
        section = doc.section(section_id)
        if section is None:  # removed here: nothing is shown, so nothing is asked
            continue
        text = _with_subsections(doc, section)
        plain = normalise(text)
        line = _changed_line(section, changes.get(section_id))
        needed: dict[str, list[Article]] = {}
        for article in articles.values():
            for required in article.requires:
                needed.setdefault(required, []).append(article)
        for element_id, needing in needed.items():
            element = policy().elements[element_id]
            if not element.shown_in(text, plain):
                found.append(Missing(section, line, tuple(needing), element))
    return found


def _with_subsections(doc: Notice, section: Section) -> str:
    """The section's heading and text with its subsections': what customers read as it."""
    return "\n\n".join(
        f"{part.title}\n\n{part.body}"
        for part in doc.sections
        if any(above.id == section.id for above in doc.lineage(part.id))
    )


def _changed_line(section: Section, change: Change | None) -> int:
    """The line of the first words the change wrote into the section, else its heading's."""
    if change is None or change.kind == "added":
        return section.line
    at = 0
    for (op, text), tag in zip(change.ops, change.tags, strict=True):
        if op == INSERT and tag == WORDING and text.strip():
            at += len(text) - len(text.lstrip())
            return section.body_line + change.new_text[:at].count("\n")
        if op != DELETE:
            at += len(text)
    return section.line
