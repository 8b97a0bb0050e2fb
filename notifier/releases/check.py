"""`notices check`: every rule a published notice must keep, each finding naming file and line.

File rules look at one notice file in the working tree; tree rules compare the working tree with
the releases already on `main` (versions only go up, translations move together); release rules
(materiality of revisions, notice periods, mass removals) come from `releases.rules`.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from datetime import date
from pathlib import Path

from notifier.errors import HistoryError, NoticeError, Problem
from notifier.locales import month_number as english_month
from notifier.releases import lint_files
from notifier.releases.history import read_history, record_path, rewritten
from notifier.releases.promises import promise_problems
from notifier.releases.rules import release_problems
from notifier.settings import Settings
from notifier.statement.lint import error_problems
from notifier.statement.materiality import rules_for
from notifier.statement.notice import (
    FRONT_MATTER_KEYS,
    PREAMBLE_ID,
    STABLE_ID,
    Notice,
    parse_notice,
)
from notifier.statement.sanitize import scan

REQUIRED_FIELDS = ("title", "version", "last_updated", "effective", "services", "summary")
DATE_FIELDS = ("last_updated", "effective", "published")
MATERIAL_VALUES = ("auto", True, False)
_ID_RULE = "is not lower-case ASCII letters and digits joined by single dashes"
# an old id records what was published, so it may also take the form ids had before the rule
# above (`Mozilla-accounts`): links to such an id can then still be kept
_EARLIER_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_EARLIER_ID_RULE = "is not an ASCII id (letters, digits, '_' and '-')"
_LAST_UPDATED_ZH = re.compile(
    r"最后更新(?:时间|日期)\s*[:：]\s*(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"
)
_LAST_UPDATED_EN = re.compile(
    r"(?:last updated|effective date)\s*[:：]?\s*\**\s*"
    r"(?:(\d{4})-(\d{2})-(\d{2})|([A-Z][a-z]+) (\d{1,2}), (\d{4}))",
    re.IGNORECASE,
)
_PLACEHOLDER_LINK = re.compile(r"\[([^\]]+)\]\(#\)")

FileRule = Callable[[Notice, Settings], Iterator[Problem]]


def _error(
    notice: Notice, rule: str, message: str, line: int | None, hint: str | None = None
) -> Problem:
    return Problem("error", rule, message, notice.path, line, hint)


def _warning(
    notice: Notice, rule: str, message: str, line: int | None, hint: str | None = None
) -> Problem:
    return Problem("warning", rule, message, notice.path, line, hint)


def version_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """Natural order of versions: `2018-11-01` < `2018-11-01.2` < `2018-11-01.10` < `2019-01-01`."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"[.\-_]", version)
    )


def body_last_updated(notice: Notice) -> tuple[date | None, int | None]:
    """The date on the body's 最后更新时间 (or 'Last updated') line, and the line's number."""
    for number, line in enumerate(notice.text.split("\n"), start=1):
        if number < notice.body_start_line:
            continue
        try:
            if match := _LAST_UPDATED_ZH.search(line):
                year, month, day = (int(g) for g in match.groups())
                return date(year, month, day), number
            if match := _LAST_UPDATED_EN.search(line):
                groups = match.groups()
                if groups[0]:
                    return date(int(groups[0]), int(groups[1]), int(groups[2])), number
                month_number = english_month(groups[3])
                if month_number:
                    return date(int(groups[5]), month_number, int(groups[4])), number
        except ValueError:
            return None, number
    return None, None


def rule_front_matter(notice: Notice, settings: Settings) -> Iterator[Problem]:
    front = notice.front
    if front is None:
        yield _error(
            notice,
            "front-matter",
            "no front matter",
            1,
            "start the file with --- and the release fields (title, version, effective, …)",
        )
        return
    meant = yield from _unknown_keys(notice)
    for key in REQUIRED_FIELDS:
        if front.raw.get(key) in (None, "", []) and key not in meant:
            yield _error(
                notice,
                "required-field",
                f"front matter lacks '{key}'",
                front.line_of(key) or 1,
                f"add `{key}:` to the front matter",
            )
    for key in DATE_FIELDS:
        value = front.raw.get(key)
        if value is not None and getattr(front, key) is None:
            yield _error(
                notice,
                "real-date",
                f"'{key}' is not a real date: {value!r}",
                front.line_of(key),
                "write dates as YYYY-MM-DD",
            )
    if front.raw.get("services") is not None and not isinstance(front.raw["services"], list):
        yield _error(
            notice,
            "services",
            "'services' must be a list",
            front.line_of("services"),
            "write services: [azure, office365]",
        )
    for service in front.services:
        if service not in settings.services:
            yield _error(
                notice,
                "services",
                f"unknown service '{service}'",
                front.line_of("services"),
                f"known services: {', '.join(settings.services)} (add it to notices.toml)",
            )
    material = front.raw.get("material", "auto")
    if material not in MATERIAL_VALUES:
        yield _error(
            notice,
            "material",
            f"'material' must be auto, true or false, not {material!r}",
            front.line_of("material"),
        )
    elif isinstance(material, bool) and not front.material_reason:
        yield _error(
            notice,
            "material-reason",
            f"'material: {str(material).lower()}' needs a material_reason",
            front.line_of("material"),
            "say in material_reason why the verdict is overridden",
        )


def _unknown_keys(notice: Notice) -> Generator[Problem, None, set[str]]:
    """An error for each key that is not a release field; returns the fields suggested instead,
    whose absence is then the same mistake and not reported twice."""
    assert notice.front is not None
    meant: set[str] = set()
    for key in notice.front.raw:
        if key in FRONT_MATTER_KEYS:
            continue
        close = difflib.get_close_matches(key, FRONT_MATTER_KEYS, n=1)
        meant.update(close)
        guess = f"did you mean `{close[0]}`? " if close else ""
        yield _error(
            notice,
            "unknown-field",
            f"unknown front matter key '{key}'",
            notice.front.line_of(key) or 1,
            f"{guess}known keys: {', '.join(FRONT_MATTER_KEYS)}",
        )
    return meant


def rule_dates(notice: Notice, settings: Settings) -> Iterator[Problem]:
    front = notice.front
    if front is None:
        return
    stated, line = body_last_updated(notice)
    if front.last_updated is not None:
        if line is None:
            yield _error(
                notice,
                "last-updated-line",
                "the body has no 最后更新时间 line",
                notice.body_start_line,
                "add 最后更新时间：YYYY 年 M 月 D 日 under the title",
            )
        elif stated is None:
            yield _error(
                notice, "last-updated-line", "the 最后更新时间 line is not a real date", line
            )
        elif stated != front.last_updated:
            yield _error(
                notice,
                "last-updated-line",
                f"the body says {stated.isoformat()} but last_updated is "
                f"{front.last_updated.isoformat()}",
                line,
                "make the 最后更新时间 line and last_updated agree",
            )
    if front.effective and front.last_updated and front.effective < front.last_updated:
        yield _error(
            notice,
            "effective-date",
            f"effective {front.effective.isoformat()} is before last_updated "
            f"{front.last_updated.isoformat()}",
            front.line_of("effective"),
            "a statement cannot take effect before it was written",
        )


def rule_encoding(notice: Notice, settings: Settings) -> Iterator[Problem]:
    if notice.has_bom:
        yield _warning(
            notice,
            "encoding",
            "the file starts with a UTF-8 byte-order mark",
            1,
            "save it as UTF-8 without BOM",
        )
    if notice.has_crlf:
        yield _warning(
            notice, "encoding", "the file has CRLF line endings", 1, "save it with LF line endings"
        )


def rule_heading_ids(notice: Notice, settings: Settings) -> Iterator[Problem]:
    """Every heading has its own id, and so does every old id it declares; ids are plain ASCII
    and nothing invisible hides in a heading (with a zero-width space after it, `scope` looks the
    same to an editor and is another id to a browser)."""
    lines = notice.text.split("\n")
    seen: dict[str, int] = {}
    for section in notice.sections:
        if section.id == PREAMBLE_ID and section.level == 0:
            continue
        hidden = _invisible(lines[section.line - 1], _hidden)
        if hidden:
            yield _error(
                notice,
                "heading-id",
                f"heading '{_shown(section.title)}' holds an invisible character ({hidden})",
                section.line,
                "delete it: ids and titles must be what they look like",
            )
        if not section.explicit_id:
            yield _error(
                notice,
                "heading-id",
                f"heading '{_shown(section.title)}' has no id",
                section.line,
                "add a stable ASCII id, e.g. ## 范围 {#scope}",
            )
            continue
        for position, word in enumerate((section.id, *section.aliases)):
            what = "old id" if position else "heading id"
            form, rule = (_EARLIER_ID, _EARLIER_ID_RULE) if position else (STABLE_ID, _ID_RULE)
            if not form.match(word) and not (hidden and _invisible(word, _hidden)):
                spaced = _invisible(word, _hidden_in_id)
                yield _error(
                    notice,
                    "heading-id",
                    f"{what} '{_shown(word)}' "
                    + (f"holds an invisible character ({spaced})" if spaced else rule),
                    section.line,
                    "use lower-case ASCII letters and digits joined by dashes: {#data-retention}",
                )
            if word in seen:
                where = "this heading" if seen[word] == section.line else f"line {seen[word]}"
                yield _error(
                    notice,
                    "heading-id",
                    f"{what} '{_shown(word)}' is already used on {where}",
                    section.line,
                    "every heading needs its own id, and an old id belongs to one heading",
                )
            seen.setdefault(word, section.line)


def _invisible(text: str, hidden: Callable[[str], bool]) -> str | None:
    """'U+200B ZERO WIDTH SPACE' for the first invisible character in `text`, else None."""
    for char in text:
        if hidden(char):
            return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}"
    return None


def _hidden(char: str) -> bool:
    """Format characters (Unicode Cf): zero-width spaces and joiners, BOM, bidi controls, soft
    hyphen."""
    return unicodedata.category(char) == "Cf"


def _hidden_in_id(char: str) -> bool:
    """In an id a no-break space hides too: it looks like the space that would end the id."""
    return char == "\u00a0" or _hidden(char)


def _shown(text: str) -> str:
    """`text` with each invisible character written as <U+200B>, so a message shows it."""
    return "".join(f"<U+{ord(c):04X}>" if _hidden_in_id(c) else c for c in text)


def rule_unsafe_html(notice: Notice, settings: Settings) -> Iterator[Problem]:
    """What the site would show as text (sanitize.scan) is refused here, so none reaches main;
    the same kind twice on a line (`<script>…</script>`) is one finding."""
    found = dict.fromkeys((u.line, u.what, u.hint) for u in scan(notice.body))
    for line, what, hint in found:
        yield _error(
            notice, "unsafe-html", f"{what} is refused", notice.body_start_line + line - 1, hint
        )


def rule_unsafe_front_matter(notice: Notice, settings: Settings) -> Iterator[Problem]:
    """The title, summary and reason are shown on the site and in the feed as they are written:
    the same policy as the body keeps script out of them."""
    front = notice.front
    if front is None:
        return
    for key in ("title", "summary", "material_reason"):
        value = getattr(front, key)
        for what, hint in dict.fromkeys((u.what, u.hint) for u in scan(value or "")):
            yield _error(
                notice, "unsafe-html", f"{what} in '{key}' is refused", front.line_of(key), hint
            )


def rule_placeholder_links(notice: Notice, settings: Settings) -> Iterator[Problem]:
    for number, line in enumerate(notice.text.split("\n"), start=1):
        for match in _PLACEHOLDER_LINK.finditer(line):
            yield _warning(
                notice,
                "placeholder-link",
                f"link '{match.group(1)}' points nowhere (#)",
                number,
                "give it a real address",
            )


def rule_what_changes_for_you(notice: Notice, settings: Settings) -> Iterator[Problem]:
    """`what_changes_for_you` maps section ids of this file to plain text (whether a release
    needs it is a release rule: `releases.rules`)."""
    front = notice.front
    raw = front.raw.get("what_changes_for_you") if front else None
    if front is None or raw is None:
        return
    if not isinstance(raw, dict):
        yield _error(
            notice,
            "what-changes-for-you",
            "what_changes_for_you must map section ids to text",
            front.line_of("what_changes_for_you"),
            "write one line per section: `  <section-id>: <one or two plain sentences>`",
        )
        return
    for key, value in raw.items():
        line = front.line_of(f"what_changes_for_you.{key}") or front.line_of(
            "what_changes_for_you"
        )
        if notice.section(str(key)) is None:
            yield _error(
                notice,
                "what-changes-for-you",
                f"what_changes_for_you names '{key}', which is no section of this file",
                line,
                "use the id of a heading ({#id}) of this version",
            )
        elif not isinstance(value, str) or not value.strip():
            yield _error(
                notice,
                "what-changes-for-you",
                f"what_changes_for_you.{key} must be text",
                line,
                "write one or two plain sentences on what changes for the customer",
            )


FILE_RULES: tuple[FileRule, ...] = (
    rule_front_matter,
    rule_dates,
    rule_encoding,
    rule_heading_ids,
    rule_unsafe_html,
    rule_unsafe_front_matter,
    rule_placeholder_links,
    rule_what_changes_for_you,
)


def notice_files(settings: Settings) -> list[Path]:
    """Every `notices/<notice>/<locale>.md` in the working tree, sorted."""
    return sorted(settings.notices_dir.glob("*/*.md"))


def _display(path: Path, settings: Settings) -> str:
    """How messages name a file: relative to the project when inside it."""
    return (
        path.relative_to(settings.repo).as_posix()
        if path.is_relative_to(settings.repo)
        else str(path)
    )


def check_file(path: Path, settings: Settings) -> tuple[Notice | None, list[Problem]]:
    display = _display(path, settings)
    try:
        notice = parse_notice(path.read_bytes(), display)
    except NoticeError as error:
        return None, [Problem("error", "parse", error.message, display, error.line, error.hint)]
    return notice, [problem for rule in FILE_RULES for problem in rule(notice, settings)]


def translation_problems(notices: Iterable[Notice], settings: Settings) -> Iterator[Problem]:
    """The locales of a notice move together: the same version (a translation the settings do
    not require may lag behind, with a warning) and, at the same version, the same sections as
    the source locale, so every heading, deep link and "what changes for you" has its pair."""
    by_notice: dict[str, list[Notice]] = defaultdict(list)
    for notice in notices:
        by_notice[notice.name].append(notice)
    required = {settings.default_locale, *settings.required_locales}
    for locales in by_notice.values():
        versions = {n.front.version for n in locales if n.front and n.front.version}
        newest = max(versions, key=version_key) if versions else None
        for notice in locales:
            if notice.front and newest and notice.front.version != newest:
                report = _error if notice.locale in required else _warning
                yield report(
                    notice,
                    "translation-drift",
                    f"version {notice.front.version} but another locale is at {newest}",
                    notice.front.line_of("version"),
                    "release every locale of a notice together"
                    + ("" if notice.locale in required else " (this locale is not required)"),
                )
        source = next((n for n in locales if n.locale == settings.default_locale), None)
        if source is not None and source.front and source.front.version == newest:
            for notice in locales:
                if notice is not source and notice.front and notice.front.version == newest:
                    yield from _section_pairs(source, notice)


def _section_pairs(source: Notice, translation: Notice) -> Iterator[Problem]:
    """A translation's sections are the source's, by id."""
    ids = [s.id for s in source.sections if s.level > 0]
    theirs = [s.id for s in translation.sections if s.level > 0]
    missing = [i for i in ids if i not in theirs]
    extra = [i for i in theirs if i not in ids]
    if missing:
        yield _error(
            translation,
            "translation-sections",
            f"lacks the section(s) {', '.join(missing)} of {source.locale}",
            translation.front.line_of("version") if translation.front else 1,
            f"translate them, with the same {{#id}} as in {source.path}",
        )
    for section_id in extra:
        section = translation.section(section_id)
        yield _error(
            translation,
            "translation-sections",
            f"section '{section_id}' is not in {source.locale}",
            section.line if section else 1,
            f"give it the {{#id}} of its section in {source.path}, or remove it",
        )


def run_check(settings: Settings) -> list[Problem]:
    """Every problem in the working tree's notices, errors and warnings, in file order."""
    files = notice_files(settings)
    if not files:
        return [
            Problem(
                "error",
                "no-notices",
                "no notice files found",
                settings.notices_dir.relative_to(settings.repo).as_posix(),
                hint="add notices/<notice>/<locale>.md, e.g. notices/privacy/zh-CN.md",
            )
        ]
    problems: list[Problem] = []
    notices: list[Notice] = []
    paths = [_display(path, settings) for path in files]
    for path in files:
        notice, found = check_file(path, settings)
        problems.extend(found)
        if notice is not None:
            notices.append(notice)
    problems.extend(translation_problems(notices, settings))
    # a date that is not real reaches the release rules as its default (effective = published):
    # their findings on that line would be a second, bogus error for the same mistake
    unreal = {(p.path, p.line) for p in problems if p.rule == "real-date"}
    problems.extend(
        p for p in history_problems(notices, settings, paths) if (p.path, p.line) not in unreal
    )
    problems.extend(error_problems(notices, lint_files.rules_for(settings)))
    return problems


def _release_path(release_id: str, settings: Settings) -> str:
    """`privacy/zh-CN/2018-11-01` → `notices/privacy/zh-CN.md`."""
    notice, locale, _ = release_id.split("/", 2)
    folder = settings.notices_dir.relative_to(settings.repo).as_posix()
    return f"{folder}/{notice}/{locale}.md"


def history_problems(
    notices: Sequence[Notice], settings: Settings, paths: Sequence[str] = ()
) -> list[Problem]:
    """Rules that need `main`: versions only go up, published texts are never rewritten, and
    published ids and paths are kept (`paths`: every notice file in the working tree)."""
    try:
        history = read_history(settings.repo, settings)
    except HistoryError as error:
        return [
            Problem("error", "history", error.message, error.path or ".", error.line, error.hint)
        ]
    problems = [
        Problem(
            "error",
            "rewritten",
            str(found),
            _release_path(found.release_id, settings),
            None,
            "restore the published text; published history is append-only",
        )
        for found in (*history.rewrites, *rewritten(history, record_path(settings)))
    ]
    for notice in notices:
        latest = history.latest(notice.name, notice.locale)
        version = notice.front.version if notice.front else None
        if latest and version and version_key(version) < version_key(latest.version):
            problems.append(
                _error(
                    notice,
                    "version-order",
                    f"version {version} is older than the released {latest.version}",
                    notice.front.line_of("version") if notice.front else None,
                    "versions only go up: give this release a newer version",
                )
            )
    problems += promise_problems(history, notices, paths, settings)
    return problems + release_problems(history, settings, rules_for(settings))
