"""What a notice mail says in one locale, from the release of that locale.

Customers read their own language: the title, summary, section headings, the editor's
`what_changes_for_you` sentences and the changed sentences all come from the release of the same
version in their locale (its edition), and links point at that locale's pages. A locale without
an edition of the version reads the source locale's mail. Which sections to tell about is decided
once per version, on the source locale (`releases.verdicts`); rule codes never reach customers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from notifier.consent.site import SiteMap
from notifier.consent.texts import compose, section_heading
from notifier.consent.triggers import triggers_of
from notifier.delivery.mail import consent_placeholder
from notifier.delivery.mail.render import ChangeNote, ConsentNote, NoticeContent
from notifier.delivery.plan import Plan
from notifier.locales import LOCALES
from notifier.releases.history import History, Release
from notifier.releases.judgement_cache import JudgementCache
from notifier.releases.verdicts import AssessedRelease, assess_release
from notifier.statement.diff import Change
from notifier.statement.materiality import RuleSet
from notifier.statement.notice import Notice, covering
from notifier.statement.wording import changed_sentences, quote

SENTENCES_PER_SECTION = 6  # more are left to the redline, and the mail says how many
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def editions(
    history: History, release: Release, rules: RuleSet, stored: JudgementCache
) -> dict[str, AssessedRelease]:
    """The release of the same notice and version in each locale we can mail, assessed
    through `stored`."""
    found = {}
    for candidate in history.releases_of_version(release.notice, release.version):
        if candidate.locale in LOCALES or candidate.id == release.id:
            found[candidate.locale] = assess_release(history, candidate, rules, stored=stored)
    return found


def mailed_locales(plan: Plan) -> list[str]:
    """The locales mails are written in: those with templates and an edition of the version
    (a source locale without templates is mailed with the first template set)."""
    return [loc for loc in LOCALES if loc in plan.editions] or [LOCALES[0]]


def message_locale(plan: Plan, customer_locale: str) -> str:
    """The customer's locale when the version has an edition in it, else the source locale's."""
    mailed = mailed_locales(plan)
    for locale in (customer_locale, plan.release.locale):
        if locale in mailed:
            return locale
    return mailed[0]


def content_for(plan: Plan, locale: str, site: SiteMap, *, links: bool = False) -> NoticeContent:
    """Everything the mail says in `locale` (the source edition when there is none in it);
    with `links`, a placeholder for the recipient's personal link to each consent question."""
    edition = plan.editions.get(locale) or plan.editions[plan.release.locale]
    release = edition.release
    version_url, redline_url = site.links_of(release.id)
    return NoticeContent(
        title=release.title,
        version=release.version,
        summary=release.summary,
        effective=release.effective,
        sha256=release.sha256,
        version_url=version_url,
        redline_url=redline_url,
        changes=_notes(plan, edition),
        services=plan.services,
        consent=_consent(plan, edition, locale, site, links),
        translation=release.id != plan.release.id,
    )


def _consent(
    plan: Plan, edition: AssessedRelease, locale: str, site: SiteMap, links: bool
) -> tuple[ConsentNote, ...]:
    """One note per consent question the version asks (never one for the statement as a
    whole), in the edition's words: doing nothing must never read as agreeing to them."""
    notes = []
    for trigger in triggers_of(plan.verdict):
        text = compose(plan.release.id, edition, locale, plan.verdict, trigger, site)
        link = consent_placeholder(trigger.article) if links else ""
        notes.append(ConsentNote(text.title, text.sections, trigger.separate, link))
    return tuple(notes)


def _notes(plan: Plan, edition: AssessedRelease) -> tuple[ChangeNote, ...]:
    """A note per section the version's verdict found material (or undecided, when the editor
    decided material), in the edition's document order."""
    doc = edition.release.notice_doc
    previous = edition.previous.notice_doc if edition.previous else doc
    written = doc.front.what_changes_for_you if doc.front else {}
    told = {
        judged.change.section_id
        for judged in (plan.verdict.changes if plan.verdict else ())
        if judged.material or judged.undecided
    }
    changes = edition.comparison.changes if edition.comparison else ()
    notes = [
        _note(change, _for_you(change.section_id, written, doc, previous))
        for change in changes
        if change.section_id in told
    ]
    if not notes:  # material by the editor's decision: their sentences are the whole story
        notes = [
            ChangeNote(section_heading(section_id, doc, previous), text)
            for section_id, text in written.items()
        ]
    return tuple(notes)


def _note(change: Change, for_you: str) -> ChangeNote:
    pairs = [(_plain(old), _plain(new)) for old, new in changed_sentences(change)]
    pairs = [(old, new) for old, new in pairs if old != new]
    shown = tuple(pairs[:SENTENCES_PER_SECTION])
    heading = change.section or change.new_title or change.old_title or change.section_id
    return ChangeNote(heading, for_you, shown, len(pairs) - len(shown))


def _for_you(section_id: str, written: Mapping[str, str], *docs: Notice) -> str:
    """The editor's sentence for a section, or for the nearest heading above it."""
    key = covering(section_id, written, *docs)
    return written[key] if key is not None else ""


def _plain(sentence: str) -> str:
    """A sentence as the customer reads it in a mail: as quoted for evidence (verbatim words,
    no Markdown block markers or reflow breaks), without link targets or bold marks."""
    return _LINK.sub(r"\1", quote(sentence)).replace("**", "")
