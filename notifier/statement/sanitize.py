"""The one unsafe-markup policy: what in a statement's Markdown could run script in a browser.

`scan` finds each such piece with its line. `notices check` refuses what it finds, and the site
(`safe_markdown`) shows the same pieces as the characters written: main is append-only, so a
release that reached it without the check must still be published. One scanner for both means
check refuses exactly what the site would alter. An HTML tag survives only when it is a plain
formatting tag with harmless attributes; a `<` that cannot open markup (`a < b`) is text
anyway. Links, reference definitions and attribute lists survive only with harmless targets
and keys. Inline code is left as written where its extent is certain (see `_code_spans`).
The scanners read the text as Python-Markdown does (`_as_read`), find a reference definition
wherever it may start a block line (`_CONTAINERS`), and read the rest of a line after a raw
HTML block also without what it moves away from there (`_tails`).
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from notifier.statement.notice import OLD_IDS_KEY, Notice

_SAFE_TAGS = frozenset(
    "a abbr b blockquote br caption cite code col colgroup dd del div dl dt em h1 h2 h3 h4 h5 h6 "
    "hr i ins kbd li mark ol p pre q s small span strong sub sup table tbody td tfoot th thead "
    "tr u ul".split()
)
_SAFE_ATTRIBUTES = frozenset(
    "align class colspan dir href id lang name rowspan scope title".split()
)
# keys of a `{: …}` attribute list that notices use; `#id` and `.class` are not keys
_SAFE_LIST_KEYS = frozenset({"services", "data-services", OLD_IDS_KEY, "lang", "dir", "title"})
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
# a harmless tag's values hold no `<`, `>` or backtick: Python-Markdown ends raw HTML at the first
# `>` and pairs backticks before it sees tags, either of which could split the tag around them
_VALUE = r"""(?:"[^"<>`]*"|'[^'<>`]*'|[^\s"'=<>`]+)"""
_TAG = re.compile(
    rf"<(/?)([A-Za-z][A-Za-z0-9]*)((?:\s+[A-Za-z_:][-\w.:]*(?:\s*=\s*{_VALUE})?)*)\s*/?>"
)
_ATTRIBUTE = re.compile(rf"([A-Za-z_:][-\w.:]*)(?:\s*=\s*({_VALUE}))?")
# plain comments, and the autolinks Python-Markdown knows: http(s) and e-mail addresses
_KEPT = re.compile(
    r"<!--(?:(?!--)[^<>])*-->|<https?://[^\s<>\"'`]*>|<[^<>\s!@\"'`]+@[^@<>\s\"'`]+>"
)
_MARKUP = re.compile(r"<[A-Za-z/!?]")  # what a browser or Python-Markdown can read as markup
_AUTOLINK = re.compile(r"<([^\s<>]+)")  # the start of `<javascript:…>`, entity-encoded or not
_REGION = re.compile(r"<[^<>]*>?")  # a would-be tag, up to its `>` or the next `<`
_TAG_NAME = re.compile(r"</?([A-Za-z][^\s/>]*)")
_LOOSE_ATTRIBUTE = re.compile(r"""[\s/"']([^\s/>"'=]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]*)""")
_URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "data", "xlink:href"})
# a link target up to `)`, a blank line or the next `](` (a scheme ends before any of them)
_DESTINATION = re.compile(r"\]\((?=\s*<?((?:[^)\]\n]|\](?!\()|\n(?![^\S\n]*\n))*))")
# `[label]:` and its target, which may start the next line after indentation or quote markers;
# Python-Markdown takes every `<` off its start
_DEFINITION = re.compile(r"\[(?=[^\[\]]*\]:[ \t]*(?:\n[ \t>]*)?<*(\S*))")
# What may stand before a reference definition on its line: Python-Markdown looks for one at the
# start of every line of a block once it has taken off indentation (list items, admonitions),
# quote markers and list markers, nested in any order; and a raw HTML block ends at a `>` and
# what follows on that line starts a block of its own, so only the text after a line's last `>`
# counts
_CONTAINERS = re.compile(r"(?:[ \t>]|[*+-][ \t]|\d+\.[ \t])*")
# attr_list reads from an unescaped `{` to the last `}` of its line (a `}` inside quotes does
# not end it: `{: title="}" onclick=… }` is one list), so that is what is checked
_LINE = re.compile(r"[^\n]+")
_OPEN_BRACE = re.compile(r"(?<!\\)(?:\\\\)*\{")
_LIST_KEY = re.compile(r"(?<![^\s=#.])([^\s=#.]++)\s*=")  # possessive: linear time
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_IGNORED_BY_BROWSERS = re.compile(r"[\x00-\x20\x7f]+")
# what Python-Markdown moves out of the rest of a line after a raw HTML block (see `_tails`)
_MOVED = re.compile(
    r"&(?:#(?:[0-9]+|[xX][0-9a-fA-F]+)|[A-Za-z][-.A-Za-z0-9]*);?|<!--.*?-->|<[A-Za-z][^<>]*/>"
)
_LINE_START = re.compile(r"^(?:[^\S\n]|>)*<", re.M)  # a `<` after only blanks and quote markers
_BLOCK = re.compile(r"(?:^(?![ \t]*$).*(?:\n|$))+", re.M)  # lines between blank lines
_TICK = re.compile(r"(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)`")  # Python-Markdown's BACKTICK_RE
_NEUTRAL = {"<": "&lt;", "(": "\\(", "[": "\\[", "{": "\\{"}
_HTML_HINT = "notices are plain Markdown: remove the HTML (write &lt; for a literal <)"
_LINK_HINT = "link to an https:// or mailto: address instead"


@dataclass(frozen=True, slots=True)
class Unsafe:
    """One piece of markup the site shows as text: what it is, its line, and what to do. The site
    neutralises it by escaping the one character at `offset` (the `<` of a tag, or the `(`, `[`
    or `{` that opens a link target, a reference definition or an attribute list)."""

    what: str
    line: int
    offset: int
    hint: str


def _scheme(value: str) -> str | None:
    """The scheme a browser reads in `value`, after decoding entities and dropping the control
    characters and spaces it ignores."""
    scheme = _SCHEME.match(_IGNORED_BY_BROWSERS.sub("", html.unescape(value.strip("\"'"))))
    return scheme.group(1).lower() if scheme else None


def safe_url(value: str) -> bool:
    """False for a URL a browser would run as script or open as a document (`javascript:`,
    `data:`, `file:`, also entity-encoded or split by control characters)."""
    scheme = _scheme(value)
    return scheme is None or scheme in _SAFE_SCHEMES


def _harmless(tag: re.Match[str]) -> bool:
    if tag.group(2).lower() not in _SAFE_TAGS:
        return False
    for name, value in _ATTRIBUTE.findall(tag.group(3)):
        if name.lower() not in _SAFE_ATTRIBUTES or (name.lower() == "href" and not safe_url(value)):
            return False
    return True


def _kept(text: str, start: int) -> bool:
    """Whether the `<` at `start` opens a plain comment, a harmless autolink or a harmless tag."""
    tag = _TAG.match(text, start)
    return _KEPT.match(text, start) is not None or (tag is not None and _harmless(tag))


def _describe_markup(text: str, start: int) -> tuple[str, str]:
    """What the markup at `start` is, most dangerous part first, and what to do about it."""
    if text.startswith("<!", start) or text.startswith("<?", start):
        return "an HTML comment or declaration holding markup", "remove it, or write it as text"
    region = _REGION.match(text, start).group()  # type: ignore[union-attr]
    name_match = _TAG_NAME.match(region)
    name = name_match.group(1).lower() if name_match else ""
    attributes = _LOOSE_ATTRIBUTE.findall(region[name_match.end() :] if name_match else "")
    for key, _ in attributes:
        if key.lower().startswith("on"):
            return f"an HTML event handler ({key.lower()})", _HTML_HINT
    for key, value in attributes:
        if key.lower() in _URL_ATTRIBUTES and not safe_url(value):
            return f"a {_scheme(value)}: link", _LINK_HINT
    if name and name not in _SAFE_TAGS:
        return f"raw <{name}> HTML", _HTML_HINT
    for key, _ in attributes:
        if key.lower() not in _SAFE_ATTRIBUTES:
            return (
                f"the attribute {key.lower()}= on <{name}>",
                f"remove it; tags may carry only {', '.join(sorted(_SAFE_ATTRIBUTES))}",
            )
    return "HTML that is not a plain formatting tag", _HTML_HINT


def _html(text: str) -> Iterator[tuple[int, str, str]]:
    found: dict[int, tuple[str, str]] = {}
    for bracket in re.finditer("<", text):
        start = bracket.start()
        if _kept(text, start):
            continue
        autolink = _AUTOLINK.match(text, start)
        if autolink is not None and not safe_url(autolink.group(1)):
            found[start] = f"a {_scheme(autolink.group(1))}: link", _LINK_HINT
        elif _MARKUP.match(text, start):
            found[start] = _describe_markup(text, start)
    # After a raw HTML block Python-Markdown moves `&lt;` away (see `_tails`), so the first `<`
    # of `<<script>` would open the tag the second one no longer does: it goes too, here rather
    # than one `<` per reading in `scan`
    for start in sorted(found, reverse=True):
        while start > 0 and text[start - 1] == "<" and start - 1 not in found:
            found[start - 1] = found[start]
            start -= 1
    for start, (what, hint) in sorted(found.items()):
        yield start, what, hint


def _links(text: str) -> Iterator[tuple[int, str, str]]:
    for match in _DESTINATION.finditer(text):
        if not safe_url(match.group(1)):
            yield match.start() + 1, f"a {_scheme(match.group(1))}: link", _LINK_HINT


def _references(text: str) -> Iterator[tuple[int, str, str]]:
    for match in _DEFINITION.finditer(text):
        if safe_url(match.group(1)):
            continue
        line = text.rfind("\n", 0, match.start()) + 1
        block = max(line, text.rfind(">", line, match.start()) + 1)
        if _CONTAINERS.fullmatch(text, block, match.start()):
            yield match.start(), f"a {_scheme(match.group(1))}: link", _LINK_HINT


def _attribute_lists(text: str) -> Iterator[tuple[int, str, str]]:
    """From the first unescaped `{` of a line to its last `}` is one list as far as safety goes:
    its keys are all the keys in between, and when one is unsafe each `{` in it is escaped."""
    for line in _LINE.finditer(text):
        close = text.rfind("}", line.start(), line.end())
        opens = [
            m.end() - 1
            for m in _OPEN_BRACE.finditer(text, line.start(), max(close, line.start()))
        ]
        if not opens:
            continue
        content = text[opens[0] + 1 : close]
        keys = sorted({key.lower() for key in _LIST_KEY.findall(content)} - _SAFE_LIST_KEYS)
        if not keys:
            continue
        handlers = [key for key in keys if key.startswith("on")]
        what = (
            f"an event handler ({handlers[0]}) in an attribute list"
            if handlers
            else f"the key {keys[0]}= in an attribute list"
        )
        hint = f"attribute lists may set #id, .class and {', '.join(sorted(_SAFE_LIST_KEYS))}"
        for offset in opens:
            yield offset, what, hint


def _find_closing(block: str, start: int) -> tuple[int, int | None]:
    """Python-Markdown's `find_code_spans`: the code between the ticks opening at `start`."""
    last, ticks = len(block), 0
    while start < last and block[start] == "`":
        ticks, start = ticks + 1, start + 1
    longest, end, index = 0, 0, start
    while index < last:
        run = 0
        while index < last and block[index] == "`":
            run, index = run + 1, index + 1
        if not run:
            index += 1
            continue
        if run == ticks:
            return start, index - run
        if run > longest:
            longest, end = run, index
    if 0 < longest < ticks:
        return start - (ticks - longest), end - longest
    return start + ticks, None


def _block_spans(block: str) -> list[tuple[int, int]]:
    """The code spans Python-Markdown finds in a paragraph's text, ticks included."""
    spans: list[tuple[int, int]] = []
    index = 0
    while (match := _TICK.search(block, index)) is not None:
        opening = match.end() if match.group(1) else match.start()
        if match.group(1) and not block.startswith("`", opening):
            index = opening
            continue
        start, end = _find_closing(block, opening)
        if end is None:
            index = start
            continue
        spans.append((opening, end + (start - opening)))
        index = end + (start - opening)
    return spans


def _code_spans(text: str) -> list[tuple[int, int]]:
    """Inline code whose extent is certain, where markup is shown as code and so left alone.

    Only code on one line, in a paragraph where no code crosses a line and on a line without
    table pipes, counts: Python-Markdown pairs backticks across the lines of a paragraph, and a
    heading or HTML block starting on a later line would split the pairing. A text with a kept
    tag at the start of a line (an HTML block) has no such code at all.
    """
    if _has_html_block(text):
        return []
    lines = _Lines(text)
    piped = {lines.number(m.start()) for m in re.finditer(r"\|", text)}
    certain: list[tuple[int, int]] = []
    for block in _BLOCK.finditer(text):
        spans = [(block.start() + s, block.start() + e) for s, e in _block_spans(block.group())]
        if any("\n" in text[start:end] for start, end in spans):
            continue
        certain += [
            (start, end)
            for start, end in spans
            if lines.number(start) not in piped and not re.search(r"<[!?]", text[start:end])
        ]
    return certain


class _Lines:
    """Line numbers of offsets in one text, found by bisection."""

    def __init__(self, text: str) -> None:
        self.breaks = [m.start() for m in re.finditer("\n", text)]

    def number(self, offset: int) -> int:
        return bisect.bisect_left(self.breaks, offset) + 1


def _as_read(text: str) -> tuple[str, Sequence[int]]:
    """`text` as Python-Markdown reads it, and where each of its characters stands in `text`.

    Before it parses, Python-Markdown drops STX and ETX and reads CR and CRLF as LF, so
    `<\x02script>` is a tag to it and a lone CR starts a line: the scanners read the same.
    """
    if not any(c in text for c in "\r\x02\x03"):
        return text, range(len(text))
    chars: list[str] = []
    origin: list[int] = []
    after_cr = False
    for offset, char in enumerate(text):
        if char in "\x02\x03":
            continue
        if not (char == "\n" and after_cr):
            chars.append("\n" if char == "\r" else char)
            origin.append(offset)
        after_cr = char == "\r"
    return "".join(chars), origin


def _has_html_block(text: str) -> bool:
    """Whether a kept tag starts a line, which Python-Markdown may read as a raw HTML block."""
    return any(_kept(text, m.end() - 1) for m in _LINE_START.finditer(text))


def _tails(text: str) -> tuple[str, list[int]]:
    """`text` without what Python-Markdown moves out of the rest of a line after a raw HTML
    block, and where each remaining character stands in `text`.

    There it keeps entity and character references, comments and self-closing tags for the end
    of the document, and the text on either side closes up: `<&amp;script>` becomes `<script>`.
    Where a block ends is not worked out: each line is read so from its first `>` on.
    """
    chars: list[str] = []
    origin: list[int] = []
    position = 0
    for line in _LINE.finditer(text):
        start = text.find(">", line.start(), line.end())
        if start < 0:
            continue
        for moved in _MOVED.finditer(text, start + 1, line.end()):
            chars.append(text[position : moved.start()])
            origin.extend(range(position, moved.start()))
            position = moved.end()
    chars.append(text[position:])
    origin.extend(range(position, len(text)))
    return "".join(chars), origin


def _findings(text: str) -> Iterator[tuple[int, str, str]]:
    yield from _links(text)
    yield from _references(text)
    yield from _attribute_lists(text)
    yield from _html(text)


def _reading(text: str) -> list[Unsafe]:
    """What one reading of `text` finds, in text order."""
    read, origin = _as_read(text)
    code = _code_spans(read)
    starts = [start for start, _ in code]

    def in_code(offset: int) -> bool:
        index = bisect.bisect_right(starts, offset) - 1
        return index >= 0 and offset < code[index][1]

    found = {offset: (what, hint) for offset, what, hint in _findings(read) if not in_code(offset)}
    if _has_html_block(read):  # then there is no code to leave alone
        tails, place = _tails(read)
        for offset, what, hint in _findings(tails):
            found.setdefault(place[offset], (what, hint))
    lines = _Lines(read)
    return [
        Unsafe(what, lines.number(offset), origin[offset], hint)
        for offset, (what, hint) in sorted(found.items())
    ]


def _escaped(text: str, offsets: Iterable[int]) -> tuple[str, list[int]]:
    """`text` with the characters at `offsets` (ascending) made inert, and where each character
    of the result stands in `text` (-1 for one the escape added)."""
    parts: list[str] = []
    place: list[int] = []
    position = 0
    for offset in offsets:
        parts.append(text[position:offset])
        place.extend(range(position, offset))
        escape = _NEUTRAL[text[offset]]
        parts.append(escape)
        place.extend(offset if char == text[offset] else -1 for char in escape)
        position = offset + 1
    parts.append(text[position:])
    place.extend(range(position, len(text)))
    return "".join(parts), place


def scan(text: str) -> tuple[Unsafe, ...]:
    """Every piece of `text` that could run script in a reader's browser, in text order.

    Escaping can itself make markup: after a raw HTML block Python-Markdown moves the `&lt;`
    that stands for a `<` away (see `_tails`), and `[r]: <<javascript:…` is a definition once
    both `<` are escaped. So the text is read again as the site would publish it, until
    nothing more turns up.
    """
    found: dict[int, Unsafe] = {}
    current, place = text, list(range(len(text)))
    while new := {
        place[unsafe.offset]: unsafe
        for unsafe in _reading(current)
        if place[unsafe.offset] not in found
    }:
        found.update((offset, replace(unsafe, offset=offset)) for offset, unsafe in new.items())
        current, moved = _escaped(current, sorted(unsafe.offset for unsafe in new.values()))
        place = [place[offset] if offset >= 0 else -1 for offset in moved]
    return tuple(found[offset] for offset in sorted(found))


def safe_markdown(text: str) -> str:
    """`text` with every piece `scan` finds made inert: it shows as the characters written."""
    return _escaped(text, (unsafe.offset for unsafe in scan(text)))[0]


def inert_body(notice: Notice) -> str:
    """The body of a notice (after its front matter) as the site publishes it: made inert."""
    return safe_markdown(notice.body.strip("\n"))
