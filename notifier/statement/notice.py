"""Parse a notice file: YAML front matter plus a tree of sections with stable ids and line numbers.

Parsing text is lenient (any Markdown parses, so `notices diff` works on files without our front
matter). Reading a file (`parse_notice`) refuses only what cannot be a statement: not UTF-8, over
1 MB, broken front matter, nesting too deep, merge-conflict markers. `check.py` decides what is
acceptable for a published notice.

Heading ids are promises: `## 范围 {#scope}` gives a section an id that aligns it across versions
and that links in past mails point at (`…/#scope`). An id is lower-case ASCII letters and digits
joined by single dashes. A heading whose id changes declares the id(s) it had, space-separated,
in the same attribute list: `## 数据保留 {#retention data-was="data-retention storage"}` (an old
id may also be in the form ids had before that rule, `Mozilla-accounts`). Python-Markdown's
attr_list reads that as an ordinary `data-was` attribute, so the file still renders anywhere;
the site puts an anchor for each old id before the heading, so old links still land, and
`notices check` refuses an id any release published that is neither kept nor declared.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from pathlib import PurePosixPath
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.token import Token

from notifier.errors import NoticeFileError

BOM = "\ufeff"
PREAMBLE_ID = "preamble"
# The largest statement in the corpus is 84 kB; a file of megabytes is a mistake (a pasted log,
# an export), and parsing, diffing and rendering it would take minutes.
MAX_BYTES = 1024 * 1024
# Lists and quotes inside each other. markdown-it silently drops what is nested 20 token levels
# deep (a list is two), and Python-Markdown slows down cubically: refuse long before either.
MAX_NESTING = 8
_OPENS = frozenset({"blockquote_open", "bullet_list_open", "ordered_list_open"})
_CLOSES = frozenset({"blockquote_close", "bullet_list_close", "ordered_list_close"})
_CONFLICT_START = re.compile(r"^<{7}(?: |$)", re.M)
_CONFLICT_END = re.compile(r"^>{7}(?: |$)", re.M)
_ATTR_LIST = re.compile(r"\s*\{:?\s*([^{}]*)\}\s*$")
# attr_list splits its list at spaces only: `#id` runs to the next space, `=` or `}`, so an id
# holding a no-break space or a zero-width character is read whole and `check` can name it
_ATTR_ID = re.compile(r"(?:^| )#([^ =}]+)")
# the attribute that declares a heading's old ids (see the module docstring)
# what a heading id must look like: lower-case ASCII words joined by single dashes
STABLE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
OLD_IDS_KEY = "data-was"
_ATTR_OLD_IDS = re.compile(rf"""(?:^| ){OLD_IDS_KEY}=(?:"([^"]*)"|'([^']*)'|([^ }}]+))""")
# the same two anywhere in a text: inside an attribute list, after `{`, `{:` or blanks on its
# line (never after a line break: a list is on one line, and `## ` at a line start is no id)
# (the literal first, then the look back: the engine then searches for the literal quickly)
_ANY_ID = re.compile(r"#(?<=[{:]#|[^\S\n]#)([^ =}]+)")
_ANY_OLD_IDS = re.compile(
    rf"""{OLD_IDS_KEY}=(?<=[{{:]{OLD_IDS_KEY}=|[^\S\n]{OLD_IDS_KEY}=)"""
    r"""(?:"([^"]*)"|'([^']*)'|([^ }]+))"""
)
_ATTR_SERVICES = re.compile(r"""(?:^|\s)(?:data-)?services=(?:"([^"]*)"|'([^']*)'|(\S+))""")
_FRONT_KEY = re.compile(r"^([A-Za-z_][\w-]*)\s*:")
_FRONT_ENTRY = re.compile(r"^[ \t]+([A-Za-z0-9_][\w.-]*)\s*:")  # `  customer-data: …`
_YAML_HINT = (
    "check this line: quote a value that holds ': ' or starts with a quote, [, {, * or &, "
    "and start every key at the beginning of its line"
)
_markdown = MarkdownIt("commonmark").disable("inline")  # only blocks are read: headings, nesting


class _FrontMatterLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: `2018-11-31` stays text so check can name it, not crash."""


_FrontMatterLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# The same with libyaml's parser, when PyYAML has it: every release's front matter is read on
# every run, five times faster. Its errors name other lines, so a text it refuses is read again
# by `_FrontMatterLoader`, whose message and line editors are shown.
_FAST_LOADER: type[Any] | None = None
if hasattr(yaml, "CSafeLoader"):
    _FAST_LOADER = type(
        "_FastFrontMatterLoader",
        (yaml.CSafeLoader,),
        {"yaml_implicit_resolvers": _FrontMatterLoader.yaml_implicit_resolvers},
    )


def _load_front_matter(source: str) -> Any:
    if _FAST_LOADER is not None:
        try:
            return yaml.load(source, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
    return yaml.load(source, Loader=_FrontMatterLoader)


@dataclass(frozen=True, slots=True)
class FrontMatter:
    """The release metadata of a notice; a field is None when absent or not of its type."""

    raw: Mapping[str, Any]
    lines: Mapping[str, int]
    title: str | None = None
    version: str | None = None
    last_updated: date | None = None
    effective: date | None = None
    published: date | None = None
    services: tuple[str, ...] = ()
    material: bool | None = None
    material_reason: str | None = None
    summary: str | None = None
    # the editor's plain words on what changes for the customer, by section id, in this locale
    what_changes_for_you: Mapping[str, str] = field(default_factory=dict)

    def line_of(self, key: str) -> int | None:
        """The line of a key; `parent.child` for an entry of a mapping such as
        `what_changes_for_you.customer-data`."""
        return self.lines.get(key)


# the keys a notice's front matter may hold: the release fields above, in their order
FRONT_MATTER_KEYS = tuple(f.name for f in fields(FrontMatter) if f.name not in ("raw", "lines"))


@dataclass(frozen=True, slots=True)
class Section:
    """A heading and its own text (not its subsections'); `path` joins ancestor titles by ' > '."""

    id: str
    title: str
    level: int
    path: str
    parent_id: str | None
    line: int  # the heading's line in the file
    body: str  # without the blank lines around it
    body_line: int  # the line of the body's first line (the heading's next when it is empty)
    explicit_id: bool
    services: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # the old ids this heading declares (`data-was="…"`)


@dataclass(frozen=True, slots=True)
class Notice:
    """A decoded notice file. `text` has LF line ends and no BOM; `source` is what was on disk."""

    path: str
    text: str
    front: FrontMatter | None
    sections: tuple[Section, ...]
    body_start_line: int
    has_bom: bool = False
    has_crlf: bool = False
    headings_by_id: Mapping[str, Section] = field(default_factory=dict)

    @property
    def title(self) -> str:
        if self.front and self.front.title:
            return self.front.title
        headed = [s for s in self.sections if s.level > 0]
        return min(headed, key=lambda s: s.level).title if headed else PurePosixPath(self.path).stem

    @property
    def name(self) -> str:
        """The notice a file belongs to: `notices/privacy/zh-CN.md` → `privacy`."""
        return PurePosixPath(self.path).parent.name or PurePosixPath(self.path).stem

    @property
    def locale(self) -> str:
        """The locale a file is written in: `notices/privacy/zh-CN.md` → `zh-CN`."""
        return PurePosixPath(self.path).stem

    @property
    def body(self) -> str:
        """The Markdown after the front matter."""
        return "\n".join(self.text.split("\n")[self.body_start_line - 1 :])

    def section(self, section_id: str) -> Section | None:
        return self.headings_by_id.get(section_id)

    def lineage(self, section_id: str) -> tuple[Section, ...]:
        """The section and the headings above it, nearest first (empty if there is none)."""
        found = []
        section = self.section(section_id)
        while section is not None:
            found.append(section)
            section = self.section(section.parent_id) if section.parent_id else None
        return tuple(found)

    @property
    def anchor_ids(self) -> frozenset[str]:
        """Every explicit id and declared old id: the anchors a page of this text carries."""
        return frozenset(
            word
            for section in self.sections
            if section.explicit_id
            for word in (section.id, *section.aliases)
        )


def decode(data: bytes, path: str) -> tuple[str, bool, bool]:
    """Bytes → (text with LF line ends, had a BOM, had CRLF). Only UTF-8 is accepted, and only
    what can be a statement: not megabytes, not a file left mid-merge."""
    if len(data) > MAX_BYTES:
        raise NoticeFileError(
            f"the file is {len(data) / 1e6:.1f} MB; a notice may be at most "
            f"{MAX_BYTES // 1024 // 1024} MB",
            path=path,
            line=data[:MAX_BYTES].count(b"\n") + 1,
            hint="a notice is one statement: remove what was pasted or exported into it",
        )
    has_bom = data.startswith(BOM.encode())
    if has_bom:
        data = data[len(BOM.encode()) :]
    if b"\x00" in data[:8192]:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise NoticeFileError(
            "binary data, not a Markdown text file",
            path=path,
            line=line,
            hint="notices must be UTF-8 Markdown",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        hint = "save the file as UTF-8"
        try:
            data.decode("gb18030")
            hint = "the file looks GBK/GB18030-encoded; save it as UTF-8"
        except UnicodeDecodeError:
            pass
        raise NoticeFileError("not valid UTF-8 text", path=path, line=line, hint=hint) from error
    has_crlf = "\r\n" in text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    _check_conflicts(text, path)
    return text, has_bom, has_crlf


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def covering(section_id: str, ids: Collection[str], *docs: Notice) -> str | None:
    """The id among `ids` of the section or of the nearest heading above it, in whichever of
    `docs` has the section: an entry for a section (`what_changes_for_you`) covers its
    subsections."""
    for doc in docs:
        for section in doc.lineage(section_id):
            if section.id in ids:
                return section.id
    return None


def _as_texts(value: Any) -> dict[str, str]:
    """A mapping of ids to texts; entries that are not text are left out (check names them)."""
    if not isinstance(value, dict):
        return {}
    return {str(k): v.strip() for k, v in value.items() if isinstance(v, str) and v.strip()}


def _as_material(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _front_matter(text: str, path: str) -> tuple[FrontMatter | None, int]:
    """Parse `---` front matter; return it and the 1-based line where the body starts."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None, 1
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        raise NoticeFileError(
            "front matter is not closed",
            path=path,
            line=1,
            hint="end the front matter with a line of three dashes: ---",
        )
    source = "\n".join(lines[1:end])
    try:
        raw = _load_front_matter(source) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(error, "problem", None) or "invalid YAML"
        raise NoticeFileError(
            f"front matter is not valid YAML: {problem}", path=path, line=line, hint=_YAML_HINT
        ) from error
    if not isinstance(raw, dict):
        raise NoticeFileError(
            "front matter must be a mapping of keys to values",
            path=path,
            line=2,
            hint="write it as lines of `key: value`",
        )
    key_lines: dict[str, int] = {}
    parent = None
    for number, line in enumerate(lines[1:end], start=2):
        match = _FRONT_KEY.match(line)
        if match and match.group(1) not in key_lines:
            parent = match.group(1)
            key_lines[parent] = number
        elif parent and (entry := _FRONT_ENTRY.match(line)):
            key_lines.setdefault(f"{parent}.{entry.group(1)}", number)
    services = raw.get("services")
    front = FrontMatter(
        raw={str(k): v for k, v in raw.items()},
        lines=key_lines,
        title=_as_text(raw.get("title")),
        version=_as_text(raw.get("version")),
        last_updated=_as_date(raw.get("last_updated")),
        effective=_as_date(raw.get("effective")),
        published=_as_date(raw.get("published")),
        services=tuple(str(s) for s in services) if isinstance(services, list) else (),
        material=_as_material(raw.get("material")),
        material_reason=_as_text(raw.get("material_reason")),
        summary=_as_text(raw.get("summary")),
        what_changes_for_you=_as_texts(raw.get("what_changes_for_you")),
    )
    return front, end + 2


def slugify(title: str) -> str:
    """An id for a heading that has none: ASCII words joined by '-', else the NFKC title itself."""
    text = unicodedata.normalize("NFKC", title).strip().lower()
    ascii_slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    if ascii_slug and text.isascii():
        return ascii_slug
    return re.sub(r"\s+", "-", re.sub(r"[^\w\s-]", "", text)).strip("-") or "section"


def id_candidates(text: str) -> frozenset[str] | None:
    """Every word `text` could give as a heading id or old id, found without parsing: a superset
    of `parse_text(text).anchor_ids`, so a text whose candidates are all known adds no id. None
    when a character markdown-it rewrites (NUL) could make the two differ."""
    if "\x00" in text:
        return None
    found = {match.group(1) for match in _ANY_ID.finditer(text)}
    for match in _ANY_OLD_IDS.finditer(text):
        found.update(old_ids(next(g for g in match.groups() if g is not None)))
    return frozenset(found)


def old_ids(value: str) -> tuple[str, ...]:
    """The old ids in a `data-was` value: separated by spaces (only spaces, as attr_list splits,
    so a no-break space stays inside an id where `check` can name it)."""
    return tuple(word for word in value.split(" ") if word)


@dataclass(frozen=True, slots=True)
class _Attributes:
    """What a heading's attribute list says: its id, old ids and services."""

    id: str | None = None
    aliases: tuple[str, ...] = ()
    services: tuple[str, ...] = ()


def _split_heading(content: str) -> tuple[str, _Attributes]:
    """`范围 {#scope}` → ('范围', id 'scope'); also reads `{: #id }`, `services="a b"` and the
    old ids of `data-was="a b"`."""
    match = _ATTR_LIST.search(content)
    if not match:
        return content.strip(), _Attributes()
    attributes = match.group(1)
    id_match = _ATTR_ID.search(attributes)
    services_match = _ATTR_SERVICES.search(attributes)
    old_match = _ATTR_OLD_IDS.search(attributes)
    services: tuple[str, ...] = ()
    if services_match:
        value = next(g for g in services_match.groups() if g is not None)
        services = tuple(s for s in re.split(r"[\s,;]+", value) if s)
    aliases = old_ids(next(g for g in old_match.groups() if g is not None)) if old_match else ()
    found = _Attributes(id_match.group(1) if id_match else None, aliases, services)
    return content[: match.start()].strip(), found


@dataclass(slots=True)
class _Heading:
    level: int
    title: str
    id: str
    explicit: bool
    services: tuple[str, ...]
    aliases: tuple[str, ...]
    start: int  # 0-based line of the heading in the body
    end: int  # 0-based line after the heading block


def _check_nesting(tokens: list[Token], path: str, offset: int) -> None:
    depth = 0
    for token in tokens:
        if token.type in _CLOSES:
            depth -= 1
        elif token.type in _OPENS:
            depth += 1
            if depth > MAX_NESTING:
                raise NoticeFileError(
                    f"lists and quotes are nested more than {MAX_NESTING} levels deep",
                    path=path,
                    line=offset + token.map[0] if token.map else None,
                    hint="flatten the structure: a statement needs a few levels at most",
                )


def _check_conflicts(text: str, path: str) -> None:
    start = _CONFLICT_START.search(text)
    if start is not None and _CONFLICT_END.search(text, start.end()):
        raise NoticeFileError(
            "unresolved git merge conflict (<<<<<<< … >>>>>>>)",
            path=path,
            line=text.count("\n", 0, start.start()) + 1,
            hint="resolve the conflict and remove the marker lines",
        )


def _headings(tokens: list[Token]) -> list[_Heading]:
    found: list[_Heading] = []
    for index, token in enumerate(tokens):
        if token.type != "heading_open" or token.level != 0 or token.map is None:
            continue
        title, attributes = _split_heading(tokens[index + 1].content)
        found.append(
            _Heading(
                level=int(token.tag[1]),
                title=title,
                id=attributes.id or slugify(title),
                explicit=attributes.id is not None,
                services=attributes.services,
                aliases=attributes.aliases,
                start=token.map[0],
                end=token.map[1],
            )
        )
    return found


def _unique_ids(headings: list[_Heading]) -> None:
    """Give generated ids a numeric suffix when they collide; explicit ids are left for check."""
    seen: set[str] = {h.id for h in headings if h.explicit}
    for heading in headings:
        if heading.explicit:
            continue
        candidate, number = heading.id, 2
        while candidate in seen:
            candidate, number = f"{heading.id}-{number}", number + 1
        heading.id = candidate
        seen.add(candidate)


def _body(lines: list[str], start: int, stop: int) -> tuple[str, int]:
    """lines[start:stop] as text without the blank lines around it, and the index of its first
    line (`start` when there is none)."""
    text = "\n".join(lines[start:stop])
    body = text.strip("\n")
    leading = len(text) - len(text.lstrip("\n"))  # one "\n" per blank line above the text
    return body, (start + leading if body else start)


def _sections(body: str, offset: int, path: str, strict: bool) -> tuple[Section, ...]:
    lines = body.split("\n")
    tokens = _markdown.parse(body)
    if strict:
        _check_nesting(tokens, path, offset)
    headings = _headings(tokens)
    _unique_ids(headings)
    sections: list[Section] = []
    first = headings[0].start if headings else len(lines)
    preamble, preamble_start = _body(lines, 0, first)
    if preamble.strip():
        sections.append(
            Section(
                id=PREAMBLE_ID,
                title="",
                level=0,
                path="",
                parent_id=None,
                line=offset,
                body=preamble,
                body_line=offset + preamble_start,
                explicit_id=False,
            )
        )
    stack: list[_Heading] = []
    for position, heading in enumerate(headings):
        while stack and stack[-1].level >= heading.level:
            stack.pop()
        parent = stack[-1] if stack else None
        titles = [h.title for h in stack if h.level > 1] + [heading.title]
        stack.append(heading)
        stop = headings[position + 1].start if position + 1 < len(headings) else len(lines)
        body, body_start = _body(lines, heading.end, stop)
        sections.append(
            Section(
                id=heading.id,
                title=heading.title,
                level=heading.level,
                path=" > ".join(titles),
                parent_id=parent.id if parent else None,
                line=offset + heading.start,
                body=body,
                body_line=offset + body_start,
                explicit_id=heading.explicit,
                services=heading.services,
                aliases=heading.aliases,
            )
        )
    return tuple(sections)


def parse_text(
    text: str,
    path: str,
    *,
    has_bom: bool = False,
    has_crlf: bool = False,
    strict: bool = False,
) -> Notice:
    """Parse decoded text (LF line ends) into a `Notice`. `strict` refuses broken front matter
    and deep nesting; otherwise broken front matter is read as the Markdown it also is."""
    try:
        front, body_start = _front_matter(text, path)
    except NoticeFileError:
        if strict:
            raise
        front, body_start = None, 1
    body = "\n".join(text.split("\n")[body_start - 1 :])
    sections = _sections(body, body_start, path, strict)
    by_id: dict[str, Section] = {}
    for section in sections:
        by_id.setdefault(section.id, section)
    return Notice(path, text, front, sections, body_start, has_bom, has_crlf, by_id)


def parse_notice(data: bytes, path: str) -> Notice:
    """Decode and parse a notice file's bytes, refusing what cannot be a statement (see
    `decode` and MAX_NESTING); `path` is used in every error message."""
    text, has_bom, has_crlf = decode(data, path)
    return parse_text(text, path, has_bom=has_bom, has_crlf=has_crlf, strict=True)
