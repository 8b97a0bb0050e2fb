"""A redline page's Markdown: each changed section with its verdict and `<ins>`/`<del>` text."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from notifier.publishing.model import Entry
from notifier.publishing.templates import render
from notifier.statement.diff import Change, Comparison
from notifier.statement.materiality import ChangeVerdict, Verdict
from notifier.statement.redline import redline_html

_ID = re.compile(r"^[^\s{}#\"'<>]+$")  # what attr_list accepts as `{#id}`
Judged = tuple[Change, ChangeVerdict | None]


@dataclass(frozen=True, slots=True)
class Section:
    """The changes of one section under its heading; `anchor` is its id if attr_list takes it."""

    heading: str
    anchor: str | None
    changes: tuple[Judged, ...]


def changes_markdown(
    *,
    locale: str,
    title: str,
    url: str,
    old: Entry,
    new: Entry,
    comparison: Comparison,
    verdict: Verdict | None,
    between: Sequence[Markup] = (),
) -> str:
    """A redline from `old` to `new`; `between` lists the releases a comparison spans."""
    return render(
        "changes.md.j2",
        locale,
        title=title,
        url=url,
        old=old,
        new=new,
        verdict=verdict,
        between=between,
        sections=sections(_change_verdicts(comparison, verdict)),
        redline=lambda change: Markup(redline_html(change)),
    )


def sections(pairs: Sequence[Judged]) -> list[Section]:
    """Changes grouped by section id in order of first appearance; an id anchors one heading."""
    groups: dict[str, list[Judged]] = {}
    for change, verdict in pairs:
        groups.setdefault(change.section_id or "", []).append((change, verdict))
    return [
        Section(
            heading=items[0][0].section or section_id,
            anchor=section_id if _ID.match(section_id) else None,
            changes=tuple(items),
        )
        for section_id, items in groups.items()
    ]


def _change_verdicts(comparison: Comparison, verdict: Verdict | None) -> list[Judged]:
    """Each change with its verdict (if there is one for it), in document order."""
    if verdict is None:
        return [(change, None) for change in comparison.changes]
    by_change = {id(cv.change): cv for cv in verdict.changes}
    pairs = [(change, by_change.get(id(change))) for change in comparison.changes]
    if all(cv is None for _, cv in pairs) and verdict.changes:
        return [(cv.change, cv) for cv in verdict.changes]
    return pairs
