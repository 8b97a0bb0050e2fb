"""Render comparisons for people: `<ins>`/`<del>` redlines for the site, coloured text for a
terminal, Markdown summaries for pull requests and emails.

Kept apart from diff.py so that how a change looks can never change what counts as a change.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING

from notifier.statement.diff import (
    DATE_LINE,
    DELETE,
    EQUAL,
    FORMAT,
    INSERT,
    MOVED,
    REORDER,
    Change,
    Op,
)
from notifier.statement.materiality import MATERIAL, NOT_MATERIAL, UNDECIDED

if TYPE_CHECKING:
    from notifier.statement.diff import Comparison
    from notifier.statement.materiality import ChangeVerdict, Override, Reason, Verdict
    from notifier.statement.notice import Notice

CONTEXT = 60  # characters of unchanged text kept around a change in text and Markdown output
MARKDOWN_EDIT = 360  # inserted or deleted text longer than this is shortened in Markdown
_RESET = "\x1b[0m"
_STYLE = {
    (DELETE, ""): "\x1b[31;9m",  # red, struck through
    (INSERT, ""): "\x1b[32;4m",  # green, underlined
    (DELETE, MOVED): "\x1b[35;9m",
    (INSERT, MOVED): "\x1b[36;4m",
    (DELETE, REORDER): "\x1b[35;9m",
    (INSERT, REORDER): "\x1b[36;4m",
    (DELETE, FORMAT): "\x1b[2;9m",
    (INSERT, FORMAT): "\x1b[2;4m",
    (DELETE, DATE_LINE): "\x1b[33;9m",
    (INSERT, DATE_LINE): "\x1b[33;4m",
}
_BOLD = "\x1b[1m"
_KIND_EN = {
    "added": "added",
    "removed": "removed",
    "modified": "modified",
    "moved": "moved",
    "formatting": "formatting only",
}


def _tags(change: Change) -> Sequence[str]:
    return change.tags if len(change.tags) == len(change.ops) else ("",) * len(change.ops)


def _html_text(text: str) -> str:
    return html.escape(text).replace("\n", "<br>\n")


def _ops_html(ops: Sequence[Op], tags: Sequence[str]) -> str:
    parts = []
    for (op, text), tag in zip(ops, tags, strict=True):
        body = _html_text(text)
        css = f' class="notices-{tag}"' if tag and op != EQUAL else ""
        if op == EQUAL:
            parts.append(body)
        elif op == INSERT:
            parts.append(f"<ins{css}>{body}</ins>")
        else:
            parts.append(f"<del{css}>{body}</del>")
    return "".join(parts)


def redline_html(change: Change) -> str:
    """The section as an HTML fragment: inserted text in `<ins>`, deleted text in `<del>`.

    Moved, reordered, date-line and formatting pieces carry a class (`notices-moved`, …) so a
    stylesheet can tone them down. A changed heading comes first, in its own paragraph.
    """
    parts = []
    if change.title_ops:
        title = _ops_html(change.title_ops, ("",) * len(change.title_ops))
        parts.append(f'<p class="notices-heading">{title}</p>\n')
    parts.append(_ops_html(change.ops, _tags(change)))
    return "".join(parts)


def _trimmed(text: str, first: bool, last: bool, context: int) -> str:
    """Unchanged text with its middle left out, keeping `context` characters by each change."""
    if len(text) <= 2 * context + 5:
        return text
    head = "" if first else text[:context]
    tail = "" if last else text[-context:]
    if first and last:
        return text[:context] + " … "
    return (head + " … " if head else "… ") + tail


def _ops_text(ops: Sequence[Op], tags: Sequence[str], color: bool, context: int | None) -> str:
    parts = []
    for index, ((op, text), tag) in enumerate(zip(ops, tags, strict=True)):
        if op == EQUAL:
            if context is not None:
                text = _trimmed(text, index == 0, index == len(ops) - 1, context)
            parts.append(text)
        elif color:
            parts.append(f"{_STYLE[(op, tag)]}{text}{_RESET}")
        else:
            parts.append(f"[-{text}-]" if op == DELETE else f"{{+{text}+}}")
    return "".join(parts)


def redline_text(change: Change, color: bool, context: int | None = CONTEXT) -> str:
    """The change for a terminal: red struck-through deletions and green insertions, or
    `[-deleted-]{+inserted+}` (as `git diff --word-diff`) without colour. Long unchanged text
    is shortened to `context` characters around each change (None keeps all of it)."""
    lines = []
    if change.title_ops:
        tags = ("",) * len(change.title_ops)
        lines.append("heading: " + _ops_text(change.title_ops, tags, color, None))
    if any(op != EQUAL for op, _ in change.ops):
        lines.append(_ops_text(change.ops, _tags(change), color, context))
    return "\n".join(lines)


def _verdict_of(change: Change, verdict: Verdict | None) -> ChangeVerdict | None:
    return verdict.of(change) if verdict is not None else None


def _explanation(reason: Reason, locale: str) -> str:
    zh = locale.lower().startswith("zh")
    return (reason.explanation_zh if zh else reason.explanation_en) or reason.explanation_en


def _title(reason: Reason, locale: str) -> str:
    return reason.title_zh if locale.lower().startswith("zh") else reason.title_en


def _describe(change: Change) -> str:
    """`modified`, `moved from scope`, `formatting only: whitespace, punctuation-width` …"""
    words = [_KIND_EN.get(change.kind, change.kind)]
    if change.moved_from and change.moved_from != change.section_id:
        words.append(f"from {change.moved_from}")
    if change.moved_to and change.moved_to != change.section_id:
        words.append(f"to {change.moved_to}")
    text = " ".join(words)
    if change.old_section_id and change.old_section_id != change.section_id:
        text += f" (was {change.old_section_id})"
    return text + (f": {', '.join(change.labels)}" if change.labels else "")


def comparison_text(
    comparison: Comparison,
    verdict: Verdict | None,
    *,
    old_label: str,
    new_label: str,
    color: bool,
) -> str:
    """A whole comparison for a terminal, section by section, with the verdict on top."""
    bold, reset = (_BOLD, _RESET) if color else ("", "")
    locale = comparison.new.locale
    lines = [f"{bold}{comparison.new.path}: {old_label} → {new_label}{reset}"]
    if verdict is not None:
        lines += verdict_lines(verdict, len(comparison.changes))
    else:
        lines.append(f"{len(comparison.changes)} change(s)")
    if not comparison.changes:
        lines.append("no changes")
    for change in comparison.changes:
        judged_change = _verdict_of(change, verdict)
        flag = _flag(judged_change, verdict)
        lines.append("")
        lines.append(
            f"{bold}== {change.section or '(preamble)'} [{change.section_id}]{reset} · "
            f"{_describe(change)}{flag}"
        )
        if judged_change is not None and judged_change.decision != NOT_MATERIAL:
            for reason in judged_change.reasons:
                words = f" (words: {', '.join(reason.triggers)})" if reason.triggers else ""
                lines.append(f"   {_explanation(reason, locale)}{words}")
                lines += [f"      {line}" for line in evidence_lines(reason)]
        body = redline_text(change, color)
        if body:
            lines.append(body)
    return "\n".join(lines)


def evidence_lines(reason: Reason) -> list[str]:
    """The sentences a reason rests on, as written: "before: …" and "after: …" (a sentence
    that is new or gone has one side), "consent: PIPL 29" when separate consent is needed."""
    lines = []
    for found in reason.evidence:
        if found.before is not None:
            lines.append(f"before: {found.before}")
        if found.after is not None:
            lines.append(f"after: {found.after}")
    if reason.consent:
        lines.append(f"consent: {reason.consent}")
    return lines


def verdict_lines(verdict: Verdict, changes: int) -> list[str]:
    """The verdict for editors: the answer, the change counts, the override and where it came
    from, and an override carried forward from an earlier release (ignored)."""
    material = sum(1 for c in verdict.changes if c.material)
    undecided = sum(1 for c in verdict.changes if c.undecided)
    counts = f"{changes} change(s): {material} material" + (
        f", {undecided} undecided" if undecided else ""
    )
    lines = [f"verdict: {_answer(verdict.decision)} ({verdict.tier}); {counts}"]
    if verdict.undecided:
        lines.append(
            "undecided: a substantive change no rule explains; decide for this version with "
            "`material: true` or `material: false` and a material_reason"
        )
    return lines + _decision_notes(verdict)


def _decision_notes(verdict: Verdict) -> list[str]:
    """The editor's override and what the rules said, and an override carried forward."""
    notes = []
    if verdict.override is not None:
        notes.append(
            f"override: {_override(verdict.override)}; the rules said "
            f"{_answer(verdict.rules_decision)} ({verdict.rules_tier})"
        )
    if verdict.stale_override is not None:
        notes.append(
            f"ignored: {_override(verdict.stale_override)}, carried forward from the release "
            "before; an override belongs to its release"
        )
    return notes


def _answer(decision: str) -> str:
    return decision.replace("-", " ")


def _override(override: Override) -> str:
    where = f" (commit {override.commit[:12]})" if override.commit else ""
    answer = "material" if override.material else "not material"
    return f"{answer} for version {override.version}{where}: {override.reason}"


def _flag(judged: ChangeVerdict | None, verdict: Verdict | None) -> str:
    """The change's mark; when the editor's override decided the release otherwise, the mark
    says it is the rules' view, so the page never reads as contradicting its verdict."""
    if judged is None or judged.decision == NOT_MATERIAL:
        return ""
    mark = f"MATERIAL {judged.tier}" if judged.material else "UNDECIDED"
    overridden = verdict is not None and verdict.override is not None
    return f" · rules: {mark}, overridden" if overridden else f" · {mark}"


def comparison_html(comparison: Comparison, verdict: Verdict | None) -> str:
    """A redline fragment of every change (the site embeds the same `redline_html` blocks),
    under the verdict as editors read it in the terminal."""
    parts = ['<div class="notices-redline-set">']
    if verdict is not None:
        lines = verdict_lines(verdict, len(comparison.changes))
        parts += [f'<p class="notices-verdict">{html.escape(line)}</p>' for line in lines]
    for change in comparison.changes:
        judged = _verdict_of(change, verdict)
        decision = judged.decision if judged is not None else NOT_MATERIAL
        css = f"notices-change notices-change--{change.kind}" + (
            f" notices-change--{decision}" if decision != NOT_MATERIAL else ""
        )
        parts.append(f'<section class="{css}" data-section-id="{html.escape(change.section_id)}">')
        title = html.escape(change.section or change.section_id)
        flag = {MATERIAL: f" · {judged.tier}" if judged else "", UNDECIDED: " · undecided"}
        note = html.escape(_describe(change) + flag.get(decision, ""))
        parts.append(f"<h3>{title} <small>{note}</small></h3>")
        parts.append(f'<div class="notices-redline">{redline_html(change)}</div>')
        parts.append("</section>")
    parts.append("</div>")
    return "\n".join(parts)


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _md_redline(change: Change) -> str:
    """A short redline for Markdown: GitHub and mail clients render `<ins>` and `<del>`."""
    parts = []
    ops, tags = change.ops, _tags(change)
    for index, ((op, text), tag) in enumerate(zip(ops, tags, strict=True)):
        if op == EQUAL:
            parts.append(html.escape(_trimmed(text, index == 0, index == len(ops) - 1, CONTEXT)))
        elif tag in (FORMAT, REORDER):
            continue
        else:
            if len(text) > MARKDOWN_EDIT:
                text = text[: MARKDOWN_EDIT * 2 // 3] + " … " + text[-MARKDOWN_EDIT // 4 :]
            mark = "ins" if op == INSERT else "del"
            parts.append(f"<{mark}>{html.escape(text)}</{mark}>")
    return "".join(parts).replace("\n", " ")


def summary_markdown(
    comparison: Comparison,
    verdict: Verdict | None,
    *,
    old_label: str | None = None,
    new_label: str | None = None,
) -> str:
    """A summary for a pull request or an email: the verdict, a table of changes, and a short
    redline of each change that is not formatting only."""
    locale = comparison.new.locale
    old_label = old_label or _version_label(comparison.old)
    new_label = new_label or _version_label(comparison.new)
    lines = [f"### Changes to {comparison.new.title}: `{old_label}` → `{new_label}`", ""]
    if verdict is not None:
        answer = {
            MATERIAL: "**Material change** — customers must be notified before it takes effect",
            UNDECIDED: "**Undecided** — a substantive change no rule explains; decide for this "
            "version (`material: true` or `false`, with a `material_reason`) before it can be "
            "published",
            NOT_MATERIAL: "**Not material**",
        }[verdict.decision]
        counts = verdict_lines(verdict, len(comparison.changes))[0].partition("; ")[2]
        lines.append(f"{answer} (tier {verdict.tier}); {counts}.")
        lines += [f"{note[0].upper()}{note[1:]}." for note in _decision_notes(verdict)]
        lines.append("")
    if not comparison.changes:
        lines.append("No changes.")
        return "\n".join(lines) + "\n"
    lines += ["| Section | Change | Material | Why |", "|---|---|---|---|"]
    for change in comparison.changes:
        judged = _verdict_of(change, verdict)
        why = "; ".join(f"{r.rule} {_title(r, locale)}" for r in judged.reasons) if judged else ""
        mark = "no"
        if judged is not None and judged.decision != NOT_MATERIAL:
            mark = f"**yes** ({judged.tier})" if judged.material else "**undecided**"
        section = f"{change.section or '(preamble)'} (`{change.section_id}`)"
        lines.append(
            f"| {_md_cell(section)} | {_md_cell(_describe(change))} | {mark} | {_md_cell(why)} |"
        )
    details = [c for c in comparison.changes if c.kind != "formatting"]
    for change in details:
        lines += ["", f"#### {change.section or '(preamble)'} (`{change.section_id}`)"]
        judged = _verdict_of(change, verdict)
        if judged is not None and judged.decision != NOT_MATERIAL:
            for reason in judged.reasons:
                words = f" ({'、'.join(reason.triggers)})" if reason.triggers else ""
                lines.append(f"- {_explanation(reason, locale)}{words}")
                lines += [f"  - {line}" for line in evidence_lines(reason)]
        if change.title_ops:
            lines.append(f"- heading: {change.old_title} → {change.new_title}")
        if any(
            op != EQUAL and tag not in (FORMAT, REORDER)
            for (op, _), tag in zip(change.ops, _tags(change), strict=True)
        ):
            lines += ["", "> " + _md_redline(change)]
    return "\n".join(lines) + "\n"


def _version_label(notice: Notice) -> str:
    return notice.front.version if notice.front and notice.front.version else notice.path
