"""A redline page's Markdown for readers: what changes for them, the verdict in plain words,
then the whole text in document order, changed sections open with `<ins>`/`<del>` and unchanged
ones collapsed, so every change is read in its context."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from markupsafe import Markup

from notifier.publishing.model import Entry
from notifier.publishing.reasons import ReaderReason, reader_reasons
from notifier.publishing.templates import render
from notifier.statement.diff import Change, Comparison
from notifier.statement.materiality import MATERIAL, ChangeVerdict, Verdict
from notifier.statement.notice import Notice
from notifier.statement.redline import redline_html
from notifier.statement.sanitize import safe_markdown

_ID = re.compile(r"^[^\s{}#\"'<>]+$")  # what attr_list accepts as `{#id}`


@dataclass(frozen=True, slots=True)
class Section:
    """One section of the text on the page: its change, or (None) the section as shown folded;
    `heading` is empty for the text before the first heading."""

    heading: str
    anchor: str | None
    change: Change | None = None
    reasons: tuple[ReaderReason, ...] = ()
    folded: Markup = Markup()


@dataclass(frozen=True, slots=True)
class ForYou:
    """The editor's sentence on what changes for the reader, under the heading it is about."""

    heading: str
    anchor: str | None
    text: str


def changes_markdown(
    *,
    locale: str,
    title: str,
    url: str,
    old: Entry,
    new: Entry,
    comparison: Comparison,
    verdict: Verdict | None,
    laws: Sequence[str] = (),
    banners: Sequence[Mapping[str, Any]] = (),
    between: Sequence[Markup] = (),
) -> str:
    """A redline from `old` to `new`; `between` lists the releases a comparison spans (whose
    verdicts are their own), `verdict` is the release's when the page is one release's."""
    # a change's reasons are shown only when the release is material: an editor's
    # `material: false` speaks for every change
    material = verdict is not None and verdict.decision == MATERIAL
    shown = sections(comparison, verdict if material else None, locale, laws)
    anchors = {section.anchor for section in shown if section.change is not None}
    told = for_you(comparison, anchors) if verdict is not None else []
    return render(
        "changes.md.j2",
        locale,
        title=title,
        url=url,
        old=old,
        new=new,
        verdict=verdict,
        banners=banners,
        between=between,
        for_you=told,
        sections=shown,
        changed=bool(anchors) or any(section.change is not None for section in shown),
        redline=lambda change: Markup(redline_html(change)),
    )


def for_you(comparison: Comparison, anchors: Collection[str | None]) -> list[ForYou]:
    """The new version's `what_changes_for_you`, in document order, each under its heading
    (a link when the page shows that section's change)."""
    doc, previous = comparison.new, comparison.old
    written = doc.front.what_changes_for_you if doc.front else {}
    ordered = [s.id for s in doc.sections if s.id in written]
    ordered += [key for key in written if key not in ordered]
    return [
        ForYou(_heading(key, doc, previous), key if key in anchors else None, written[key])
        for key in ordered
    ]


def sections(
    comparison: Comparison, verdict: Verdict | None, locale: str, laws: Sequence[str]
) -> list[Section]:
    """Every section in the new version's order (removed ones where they were), each with its
    change and the reasons `verdict` gives it in the reader's words (none without a verdict)."""
    shown = []
    for pair in comparison.pairs:
        section = pair.new or pair.old
        if section is None:
            continue
        change = pair.change
        if change is None:
            if pair.new is not None and pair.new.body.strip():
                heading = pair.new.path or pair.new.title
                folded = _folded(locale, heading, pair.new.body)
                shown.append(Section(heading, None, folded=folded))
            continue
        judged = _judged(change, verdict)
        reasons = reader_reasons(judged, locale, laws) if judged is not None else ()
        heading = change.section or change.new_title or change.old_title or ""
        shown.append(Section(heading, _anchor(change.section_id), change, reasons))
    return shown


@lru_cache(maxsize=1024)  # an unchanged section is shown again on every later redline
def _folded(locale: str, heading: str, body: str) -> Markup:
    inert = Markup(safe_markdown(body.strip("\n")))
    return Markup(render("unchanged.md.j2", locale, heading=heading, body=inert))


def _judged(change: Change, verdict: Verdict | None) -> ChangeVerdict | None:
    """The verdict on `change`: the very change, or, in a translation (whose release shares the
    verdict decided on the source locale), the change of the same section."""
    if verdict is None:
        return None
    return verdict.of(change) or next(
        (judged for judged in verdict.changes if judged.change.section_id == change.section_id),
        None,
    )


def _anchor(section_id: str | None) -> str | None:
    return section_id if section_id and _ID.match(section_id) else None


def _heading(section_id: str, *docs: Notice) -> str:
    for doc in docs:
        if (section := doc.section(section_id)) is not None:
            return section.path or section.title
    return section_id
