"""Lint a privacy statement: what it lacks (PIPL 17, GB/T 35273) and where it is unclear (WP260).

`notices diff` says what changed; this says what a legal editor should still fix. The rules are
package data (`rules/lint.yaml`) so that wording and severities can be reviewed without reading
code; this module only runs the five kinds of check they name, and `notices.toml` `[lint]` can
disable a rule or change its severity or threshold.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from notifier import rules as rules_data
from notifier.errors import ConfigError, Problem
from notifier.rules import SEVERITIES
from notifier.statement.notice import Notice, Section

if TYPE_CHECKING:
    from notifier.settings.schema import LintRuleTable, LintTable

CHECKS = ("required", "sentences", "occurrences", "density", "defined_terms")
_NEVER = re.compile(r"(?!)")
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n|\n(?=[ \t]*(?:[-*+]|\d+[.)])[ \t])|\n(?=#)")
_SENTENCE_END = re.compile(r"[。！？；!?;]|\.(?=\s|$)")
_QUOTED = re.compile(r"“([^“”\n]{1,60})”|(?<![=\w])\"([^\"\n]{1,60})\"|「([^「」\n]{1,60})」")
_NOT_A_TERM = re.compile(r"[。，；：！？!?;:/\\=<>{}\[\]()（）]|https?|www\.|\.\w")
_MARKDOWN = re.compile(r"\*\*|__|`|\[|\]\([^)]*\)|\{[^}]*\}")
_ATTR_LIST = re.compile(r"\{:?[ \t]*[#.:][^{}\n]*\}|\{:[^{}\n]*\}")  # {#id}, {: datetime="…" }


@dataclass(frozen=True, slots=True)
class Item:
    """One thing a `required` rule looks for, e.g. 'account closure' among the rights."""

    label_zh: str
    label_en: str
    pattern: re.Pattern[str]
    min_distinct: int = 1


@dataclass(frozen=True, slots=True)
class LintRule:
    """A rule from rules/lint.yaml, compiled; `check` names the engine that runs it."""

    id: str
    check: str
    severity: str
    title_zh: str
    title_en: str
    sources: tuple[str, ...]
    suggestion_zh: str
    suggestion_en: str
    sections: re.Pattern[str] = _NEVER
    patterns: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    items: tuple[Item, ...] = ()
    trigger: re.Pattern[str] | None = None
    scope: str = "all"
    scope_sections: re.Pattern[str] = _NEVER
    titles_satisfy: bool = False
    all_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()
    section_any: tuple[str, ...] = ()
    section_none: tuple[str, ...] = ()
    report: str | None = None
    threshold: int | None = None
    max_chars: int = 12
    max_words: int = 4


@dataclass(frozen=True, slots=True)
class LintRules:
    """The rules in force: every packaged rule minus the disabled ones, with overrides applied."""

    rules: tuple[LintRule, ...]
    disabled: tuple[str, ...] = ()

    def get(self, rule_id: str) -> LintRule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing to fix, located by section and line, in Chinese and English, with its source."""

    rule: str
    severity: str
    section: str
    section_id: str
    line: int
    source: str
    message_zh: str
    message_en: str
    suggestion_zh: str
    suggestion_en: str

    def message(self, language: str) -> str:
        return self.message_zh if language == "zh" else self.message_en

    def suggestion(self, language: str) -> str:
        return self.suggestion_zh if language == "zh" else self.suggestion_en


@dataclass(frozen=True, slots=True)
class LintReport:
    """The findings for one notice file; `language` is the one its messages are printed in."""

    path: str
    language: str
    findings: tuple[Finding, ...]

    def count(self, severity: str) -> int:
        return sum(1 for finding in self.findings if finding.severity == severity)


# ---------------------------------------------------------------------------- loading the rules


def _compile(group: Mapping[str, Any] | None) -> re.Pattern[str]:
    """{zh, en, any} lists → one pattern; `en` is case-insensitive and never inside a word."""
    if not group:
        return _NEVER
    parts = [f"(?:{p})" for p in group.get("zh", [])]
    if group.get("en"):
        words = "|".join(f"(?:{p})" for p in group["en"])
        parts.append(f"(?i:(?<![A-Za-z])(?:{words})(?![A-Za-z]))")
    parts += [f"(?i:{p})" for p in group.get("any", [])]
    return re.compile("|".join(parts)) if parts else _NEVER


def _categories(names: Sequence[str], categories: Mapping[str, Any]) -> re.Pattern[str]:
    groups = [categories[name] for name in names]
    merged = {key: [p for g in groups for p in g.get(key, [])] for key in ("zh", "en", "any")}
    return _compile(merged)


def _rule(rule_id: str, raw: Mapping[str, Any], categories: Mapping[str, Any]) -> LintRule:
    if raw.get("check") not in CHECKS or raw.get("severity") not in SEVERITIES:
        raise ConfigError(f"packaged lint rule {rule_id} has no valid check or severity")
    items = tuple(
        Item(i["label_zh"], i["label_en"], _compile(i["patterns"]), int(i.get("min_distinct", 1)))
        for i in raw.get("items", [])
    )
    return LintRule(
        id=rule_id,
        check=raw["check"],
        severity=raw["severity"],
        title_zh=raw["title_zh"],
        title_en=raw["title_en"],
        sources=tuple(raw.get("sources", [])),
        suggestion_zh=raw["suggestion_zh"],
        suggestion_en=raw["suggestion_en"],
        sections=_categories(raw.get("sections", []), categories),
        patterns={name: _compile(group) for name, group in raw.get("patterns", {}).items()},
        items=items,
        trigger=_compile(raw["trigger"]) if raw.get("trigger") else None,
        scope=raw.get("scope", "all"),
        scope_sections=_categories(raw.get("scope_sections", []), categories),
        titles_satisfy=bool(raw.get("titles_satisfy", False)),
        all_of=tuple(raw.get("all", [])),
        none_of=tuple(raw.get("none", [])),
        section_any=tuple(raw.get("section_any", [])),
        section_none=tuple(raw.get("section_none", [])),
        report=raw.get("report"),
        threshold=raw.get("threshold"),
        max_chars=int(raw.get("max_chars", 12)),
        max_words=int(raw.get("max_words", 4)),
    )


@functools.cache
def packaged_rules() -> tuple[LintRule, ...]:
    """Every rule in notifier/rules/lint.yaml, compiled once per process, in id order."""
    data = rules_data.packaged("lint")
    categories = data.get("sections", {})
    return tuple(_rule(rule_id, raw, categories) for rule_id, raw in sorted(data["rules"].items()))


def _overridden(rule: LintRule, override: LintRuleTable) -> LintRule:
    severity = override.severity or rule.severity
    threshold = override.threshold if override.threshold is not None else rule.threshold
    return replace(rule, severity=severity, threshold=threshold)


def load_lint_rules(
    overrides: LintTable | Mapping[str, Any], *, path: Path | str | None = None
) -> LintRules:
    """The packaged rules with notices.toml's `[lint]` table applied: `settings.lint_overrides`,
    checked when settings loaded, or a mapping checked here by the same schema (errors name
    `path`)."""
    if isinstance(overrides, Mapping):
        from notifier.settings.schema import lint_table  # pydantic only for a mapping

        overrides = lint_table(overrides, path)
    tables = overrides.rules
    rules = tuple(
        _overridden(rule, tables[rule.id]) if rule.id in tables else rule
        for rule in packaged_rules()
        if rule.id not in overrides.disabled
    )
    return LintRules(rules, overrides.disabled)


# ---------------------------------------------------------------------------- reading a notice


@dataclass(frozen=True, slots=True)
class _Block:
    """A section's own lines as in the file (heading included, attribute lists like {#id} removed
    so ids are not read as words); line numbers stay exact."""

    section: Section
    first_line: int
    text: str

    def line_at(self, position: int) -> int:
        return self.first_line + self.text.count("\n", 0, position)


def _blocks(notice: Notice) -> list[_Block]:
    lines = notice.text.split("\n")
    sections = notice.sections
    blocks = []
    for index, section in enumerate(sections):
        end = sections[index + 1].line if index + 1 < len(sections) else len(lines) + 1
        text = "\n".join(lines[section.line - 1 : end - 1])
        blocks.append(_Block(section, section.line, _ATTR_LIST.sub("", text)))
    return blocks


def language_of(notice: Notice) -> str:
    """'zh' for zh-* files, 'en' for other locales; by the text when the name is no locale."""
    stem = PurePosixPath(notice.path).stem
    if _LOCALE.match(stem):
        return "zh" if stem.lower().startswith("zh") else "en"
    letters = sum(1 for char in notice.text if char.isalpha())
    return "zh" if letters and len(_CJK.findall(notice.text)) * 3 > letters else "en"


def _sentences(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence: paragraphs and list items first, then sentence punctuation."""
    start = 0
    breaks = [(m.start(), m.end()) for m in _PARAGRAPH_BREAK.finditer(text)] + [(len(text),) * 2]
    for stop, resume in breaks:
        begin = start
        for end in _SENTENCE_END.finditer(text, start, stop):
            if text[begin : end.end()].strip():
                yield begin, end.end()
            begin = end.end()
        if text[begin:stop].strip():
            yield begin, stop
        start = resume


def _snippet(text: str, limit: int = 40) -> str:
    plain = " ".join(_MARKDOWN.sub("", text).split()).lstrip("-*+ ")
    return plain if len(plain) <= limit else plain[: limit - 1] + "…"


def _word(match: re.Match[str]) -> str:
    text = match.group(0)
    if text.startswith("、") and text.endswith("等"):
        return "等"
    return text if _CJK.search(text) else text.lower()


def _distinct(pattern: re.Pattern[str], text: str) -> list[str]:
    return list(dict.fromkeys(_word(m) for m in pattern.finditer(text)))


# ---------------------------------------------------------------------------- the five checks


def _finding(
    rule: LintRule, block: _Block | None, line: int, zh: str = "", en: str = ""
) -> Finding:
    return Finding(
        rule=rule.id,
        severity=rule.severity,
        section=(block.section.path or block.section.title) if block else "",
        section_id=block.section.id if block else "",
        line=line,
        source="; ".join(rule.sources),
        message_zh=f"{rule.title_zh}：{zh}" if zh else rule.title_zh,
        message_en=f"{rule.title_en}: {en}" if en else rule.title_en,
        suggestion_zh=rule.suggestion_zh,
        suggestion_en=rule.suggestion_en,
    )


def _title_block(blocks: Sequence[_Block]) -> _Block | None:
    titled = [b for b in blocks if b.section.level > 0]
    return (
        min(titled, key=lambda b: (b.section.level, b.first_line))
        if titled
        else (blocks[0] if blocks else None)
    )


def _check_required(rule: LintRule, blocks: Sequence[_Block], notice: Notice) -> Iterator[Finding]:
    triggered: list[tuple[_Block, int, int]] = []
    if rule.trigger is not None:
        for block in blocks:
            hits = list(rule.trigger.finditer(block.text))
            if hits:
                triggered.append((block, len(hits), hits[0].start()))
        if not triggered:
            return
    if rule.titles_satisfy and any(rule.sections.search(b.section.title) for b in blocks):
        return
    scope: Sequence[_Block] = blocks
    if rule.scope == "trigger":
        scope = [block for block, _, _ in triggered]
    elif rule.scope == "sections":
        scope = [b for b in blocks if rule.scope_sections.search(b.section.title)] or blocks
    text = "\n".join(block.text for block in scope)
    missing = [i for i in rule.items if len(_distinct(i.pattern, text)) < i.min_distinct]
    if not missing:
        return
    zh = en = ""
    if len(rule.items) > 1:
        zh = "缺少" + "、".join(i.label_zh for i in missing)
        en = "missing " + ", ".join(i.label_en for i in missing)
    if triggered:
        named = [t for t in triggered if rule.sections.search(t[0].section.title)]
        block, _, position = named[0] if named else max(triggered, key=lambda t: t[1])
        yield _finding(rule, block, block.line_at(position), zh, en)
        return
    placed = next((b for b in blocks if rule.sections.search(b.section.title)), None)
    placed = placed or _title_block(blocks)
    line = placed.first_line if placed else notice.body_start_line
    yield _finding(rule, placed, line, zh, en)


def _check_sentences(rule: LintRule, blocks: Sequence[_Block], notice: Notice) -> Iterator[Finding]:
    group = rule.patterns
    for block in blocks:
        if not all(group[name].search(block.text) for name in rule.section_any):
            continue
        if any(group[name].search(block.text) for name in rule.section_none):
            continue
        for start, end in _sentences(block.text):
            sentence = block.text[start:end]
            if not all(group[name].search(sentence) for name in rule.all_of):
                continue
            if any(group[name].search(sentence) for name in rule.none_of):
                continue
            reported = group[rule.report or rule.all_of[0]]
            first = reported.search(sentence)
            words = _distinct(reported, sentence)
            quote = _snippet(sentence)
            yield _finding(
                rule,
                block,
                block.line_at(start + (first.start() if first else 0)),
                f"“{quote}”（{'、'.join(words)}）",
                f"“{quote}” ({', '.join(words)})",
            )


def _check_occurrences(
    rule: LintRule, blocks: Sequence[_Block], notice: Notice
) -> Iterator[Finding]:
    for block in blocks:
        for match in rule.patterns["match"].finditer(block.text):
            yield _finding(rule, block, block.line_at(match.start()), match[0], match[0])


def _check_density(rule: LintRule, blocks: Sequence[_Block], notice: Notice) -> Iterator[Finding]:
    threshold = rule.threshold or 1
    for block in blocks:
        counts = Counter(_word(m) for m in rule.patterns["vague"].finditer(block.text))
        total = sum(counts.values())
        if total < threshold:
            continue
        listed = counts.most_common()
        yield _finding(
            rule,
            block,
            block.first_line,
            f"{total} 处（" + "、".join(f"{w}×{n}" for w, n in listed) + "）",
            f"{total} of them (" + ", ".join(f"{w} ×{n}" for w, n in listed) + ")",
        )


def _is_term(term: str, rule: LintRule) -> bool:
    if not term or _NOT_A_TERM.search(term):
        return False
    if _CJK.search(term):
        return len(term) <= rule.max_chars
    return len(term.split()) <= rule.max_words and term[0].isupper()


def _definitions(rule: LintRule) -> tuple[re.Pattern[str], str]:
    """(pattern that must follow a quoted term to define it, the joiner/verb source for reuse)."""
    after = rule.patterns["after"].pattern
    joiners = rule.patterns["joiners"].pattern
    chain = rf"(?:\s*(?:{joiners})\s*[“\"「][^”\"」\n]{{1,60}}[”\"」])*"
    return re.compile(rf"{chain}\s*,?\s*(?:都|均|all\s+)?\s*(?:{after})"), after


def _in_parenthesis(text: str, start: int, end: int) -> bool:
    window = max(0, start - 80)
    opening = max(text.rfind("(", window, start), text.rfind("（", window, start))
    if opening < 0 or re.search(r"[)）。\n]", text[opening + 1 : start]):
        return False
    closing = re.search(r"[)）]", text[end : end + 80])
    return closing is not None and not re.search(r"[。\n]", text[end : end + closing.start()])


def _check_defined_terms(
    rule: LintRule, blocks: Sequence[_Block], notice: Notice
) -> Iterator[Finding]:
    follows, after = _definitions(rule)
    body = "\n".join(block.text for block in blocks)
    titles = {block.section.title.casefold() for block in blocks}
    defined: set[str] = set()
    first_use: dict[str, tuple[_Block, int, str]] = {}
    for block in blocks:
        for match in _QUOTED.finditer(block.text):
            raw = next(g for g in match.groups() if g is not None)
            term = raw.strip().rstrip(",.，。")
            if not _is_term(term, rule):
                continue
            key = term.casefold()
            first_use.setdefault(key, (block, match.start(), term))
            if _in_parenthesis(block.text, match.start(), match.end()) or follows.match(
                block.text, match.end()
            ):
                defined.add(key)
    for key, (block, position, term) in first_use.items():
        if key in defined or key in titles:
            continue
        escaped = re.escape(term)
        if re.search(rf"\*\*{escaped}\*\*", body, re.I) or re.search(
            rf"(?:^|[。！？.!?]\s*|\n\s*){escaped}\s*(?:{after})", body, re.I
        ):
            continue
        yield _finding(rule, block, block.line_at(position), f"“{term}”", f"“{term}”")


_CHECKS = {
    "required": _check_required,
    "sentences": _check_sentences,
    "occurrences": _check_occurrences,
    "density": _check_density,
    "defined_terms": _check_defined_terms,
}


def lint_notice(notice: Notice, rules: LintRules) -> tuple[Finding, ...]:
    """Every finding of every rule in force, ordered by line, then rule id."""
    blocks = _blocks(notice)
    found = [f for rule in rules.rules for f in _CHECKS[rule.check](rule, blocks, notice)]
    return tuple(sorted(found, key=lambda f: (f.line, f.rule)))


# ---------------------------------------------------------------------------- output


def error_problems(notices: Iterable[Notice], rules: LintRules) -> list[Problem]:
    """The lint findings of severity error, as `notices check` problems."""
    problems = []
    for notice in notices:
        language = language_of(notice)
        problems += [
            Problem(
                "error", f.rule, f.message(language), notice.path, f.line, f.suggestion(language)
            )
            for f in lint_notice(notice, rules)
            if f.severity == "error"
        ]
    return problems


def counts(reports: Iterable[LintReport]) -> dict[str, int]:
    listed = list(reports)
    return {severity: sum(r.count(severity) for r in listed) for severity in SEVERITIES}


def report_lines(reports: Iterable[LintReport]) -> Iterator[str]:
    """`path:line: severity: [L03] message (suggestion)`, in the notice's language."""
    for report in reports:
        for f in report.findings:
            message, suggestion = f.message(report.language), f.suggestion(report.language)
            yield f"{report.path}:{f.line}: {f.severity}: [{f.rule}] {message} ({suggestion})"
