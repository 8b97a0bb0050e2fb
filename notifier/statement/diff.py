"""Compare two versions of a notice section by section, telling wording apart from noise.

A redline must show every character that changed (diff-match-patch at character level, which
handles Chinese: 不 deleted, 一年 → 三年; numbers and dates change whole, 2018 → 2026), but the
materiality rules must only judge wording. So sections are aligned by id and then by
similarity, sentences are diffed on a normalised key (width, whitespace, CJK spacing and
Markdown folded away), and what is left over is sorted into wording, moved text, reordered list
items, date lines and formatting. Only this module imports diff_match_patch.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from diff_match_patch import diff_match_patch

from notifier.statement.notice import Notice, Section
from notifier.statement.tokens import DATE, Spans, dates, numbers

Op = tuple[int, str]
DELETE, EQUAL, INSERT = -1, 0, 1
KINDS = ("added", "removed", "modified", "moved", "formatting")

# Tags of ops (parallel to `Change.ops`): why a piece of the redline is there.
WORDING = ""
MOVED = "moved"
REORDER = "reorder"
FORMAT = "formatting"
DATE_LINE = "date-line"

_MIN_MOVE_WITHIN = 4  # normalised characters for a move inside one section
_MIN_MOVE_ACROSS = 10  # ... and between sections, where a coincidence is likelier
_MIN_SIMILARITY = 0.5  # to pair sections whose ids differ

# --- normalisation ---------------------------------------------------------------------------

_CJK_RANGES = (
    "\u2e80-\u2fff\u3001-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff"
    "\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\ufe30-\ufe4f\uff01-\uffef"
)
_CJK = f"[{_CJK_RANGES}]"
_FOLD = str.maketrans(
    {
        "。": ".",
        "、": ",",
        "“": '"',
        "”": '"',
        "「": '"',
        "」": '"',
        "『": '"',
        "』": '"',
        "‘": "'",
        "’": "'",
        "・": "·",
    }
)
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_ATTR_VALUE = r"(?:[#.][\w-]+|[\w-]+=(?:\"[^\"]*\"|'[^']*'|[^\s}]+))"
_ATTR_LIST = re.compile(r"\{:?[ \t]*" + _ATTR_VALUE + r"(?:[ \t]+" + _ATTR_VALUE + r")*[ \t]*\}")
_BLOCK_MARKS = re.compile(r"(?m)^[ \t]*(?:#{1,6}[ \t]+|>[ \t]?)")
_RULE_LINE = re.compile(
    r"(?m)^[ \t]*(?:[-*_][ \t]*){3,}$|^[ \t]*\|?(?:[ \t]*:?-{3,}:?[ \t]*\|)+.*$"
)
_LIST_MARKER = re.compile(r"(?m)^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+")
_LINK_TARGET = r"\((?:<[^<>\n]*>|[^()\s\u2e80-\uffff]*)(?:[ \t]+\"[^\"\n]*\")?\)"
_IMAGE = re.compile(r"!\[([^\[\]\n]*)\]" + _LINK_TARGET)
_INLINE_LINK = re.compile(r"\[([^\[\]\n]*)\]" + _LINK_TARGET)
_REF_LINK = re.compile(r"\[([^\[\]\n]+)\]\[[^\[\]\n]*\]")
_REF_DEFINITION = re.compile(r"(?m)^[ \t]*\[[^\[\]\n]+\]:[ \t]*\S+.*$")
_AUTOLINK = re.compile(r"<((?:https?|mailto|ftp):[^<>\s]*)>")
_EMPHASIS = re.compile(r"\*+|_+|`+")
_BETWEEN_CJK = re.compile(rf"(?<={_CJK})\s+(?={_CJK})")
_SPACES = re.compile(r"\s+")
_NON_CJK = f"[^\\s{_CJK_RANGES}]"
_CJK_SPACING = re.compile(
    rf"(?<={_CJK})\s+(?={_NON_CJK})|(?<={_NON_CJK})\s+(?={_CJK})"
    rf"|(?<={_CJK}[.,;:!?)\]\"'])\s+"
)


def _fold_width(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_FOLD)


def _strip_markup(text: str) -> str:
    text = _ESCAPE.sub(r"\1", text)
    text = _HTML_TAG.sub(" ", text)
    text = _ATTR_LIST.sub("", text)
    text = _RULE_LINE.sub("", text)
    return _BLOCK_MARKS.sub("", text)


def _strip_list_markers(text: str) -> str:
    return _LIST_MARKER.sub("", text)


def _strip_links(text: str) -> str:
    text = _IMAGE.sub(r"\1", text)
    text = _INLINE_LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _REF_DEFINITION.sub("", text)
    return _AUTOLINK.sub(r"\1", text)


def _strip_emphasis(text: str) -> str:
    return _EMPHASIS.sub("", text)


def _collapse_whitespace(text: str) -> str:
    return _SPACES.sub(" ", _BETWEEN_CJK.sub("", text)).strip()


def _cjk_spacing(text: str) -> str:
    return _CJK_SPACING.sub("", text)


# Applied in this order, repeatedly until nothing changes (so normalising is idempotent);
# full-width Markdown such as `＊＊` is folded in the first pass and stripped in the next.
_STEPS: tuple[tuple[str, Callable[[str], str]], ...] = (
    ("markdown", _strip_markup),
    ("list-marker", _strip_list_markers),
    ("link-target", _strip_links),
    ("emphasis", _strip_emphasis),
    ("whitespace", _collapse_whitespace),
    ("cjk-spacing", _cjk_spacing),
    ("punctuation-width", _fold_width),  # last: spacing rules still see CJK punctuation as CJK
)
_MARKDOWN_STEPS = frozenset({"markdown", "list-marker", "link-target", "emphasis"})


@lru_cache(maxsize=65536)
def _normalised(text: str, skip: frozenset[str] = frozenset()) -> str:
    for _ in range(50):
        result = text
        for name, step in _STEPS:
            if name not in skip:
                result = step(result)
        if result == text:
            break
        text = result
    return text


def normalise(text: str) -> str:
    """Text with what does not change meaning folded away: NFKC and full/half-width punctuation,
    Markdown syntax (emphasis, link targets, list markers, attribute lists, HTML tags), line
    reflow, runs of whitespace and spaces between CJK and Latin text. Idempotent."""
    return _normalised(text)


# Steps tried for removal first are the least telling labels; whitespace is kept longest.
_LABEL_PREFERENCE = (
    "cjk-spacing",
    "punctuation-width",
    "markdown",
    "list-marker",
    "emphasis",
    "link-target",
    "whitespace",
)


def explain(old: str, new: str) -> tuple[str, ...]:
    """Labels saying why two texts that normalise alike differ: a smallest set of the
    normalisation steps that still makes them equal (plus "markdown" and "reflow" summaries)."""
    if old == new:
        return ()
    skipped: frozenset[str] = frozenset()
    if _normalised(old) == _normalised(new):
        for name in _LABEL_PREFERENCE:
            trial = skipped | {name}
            if _normalised(old, trial) == _normalised(new, trial):
                skipped = trial
    labels = {name for name, _ in _STEPS if name not in skipped} or {"whitespace"}
    if len(labels) == len(_STEPS):  # not equal after normalisation: no step explains it
        labels = {name for name, step in _STEPS if step(old) != old or step(new) != new}
    if labels & _MARKDOWN_STEPS:
        labels.add("markdown")
    if labels & {"whitespace", "cjk-spacing"} and _line_shape(old) != _line_shape(new):
        labels.add("reflow")
    return tuple(sorted(labels))


def _line_shape(text: str) -> tuple[str, ...]:
    return tuple(n for line in text.split("\n") if (n := _normalised(line)))


# --- date lines ------------------------------------------------------------------------------

_DATE_WORDS = re.compile(
    r"(?:最后|最近)?(?:更新|修订|修改|生效|发布)(?:时间|日期)?|生效|版本|日期"
    r"|effective(?:\s+(?:date|as\s+of|on|from))?|last\s+(?:updated|modified|revised)"
    r"|(?:updated|revised|modified)(?:\s+on)?|date|version\s*[\d.]*|as\s+of",
    re.IGNORECASE,
)
_DATE_ATTRIBUTE = re.compile(r"^\{:?\s*datetime=")


def is_date_line(line: str) -> bool:
    """A line that only states when the notice was updated or takes effect.

    `最后更新时间：2018 年 11 月 1 日`, `Effective date: **May 25, 2018**`, `2026 年 5 月 4 日生效`,
    and Python-Markdown's `{: datetime="2026-05-04" }`.
    """
    text = line.strip()
    if len(text) > 120 or "\n" in text:
        return False
    if _DATE_ATTRIBUTE.match(text):
        return True
    text = _strip_emphasis(_fold_width(text))
    if not DATE.search(text):
        return False
    rest = _DATE_WORDS.sub(" ", DATE.sub(" ", text))
    return not re.sub(r"[\s:,.;()\[\]|#>+\-–—]+", "", rest)


# --- the result ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Move:
    """Text that left one place and arrived at another, unchanged after normalisation."""

    text: str
    from_section: str  # id in the old version
    to_section: str  # id in the new version


@dataclass(frozen=True, slots=True)
class Change:
    """What changed in one section.

    `ops` (diff-match-patch ops over the section body) turn `old_text` into `new_text` exactly;
    `tags` runs parallel to `ops` and says why a piece is there ("" = wording, "moved",
    "reorder", "formatting", "date-line"). `inserted`/`deleted` hold only wording: text that
    moved, reordered list items, date lines and formatting are left out of them and described by
    `moves` and `labels` instead. A `modified` change with neither inserted nor deleted text
    changed only its heading ("heading") or its date line ("date-line").
    """

    section: str
    section_id: str
    kind: str
    old_text: str
    new_text: str
    inserted: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    ops: tuple[Op, ...] = ()
    labels: tuple[str, ...] = ()
    moved_from: str | None = None
    moved_to: str | None = None
    tags: tuple[str, ...] = ()
    old_section_id: str | None = None
    new_section_id: str | None = None
    old_title: str | None = None
    new_title: str | None = None
    old_section: str | None = None
    title_ops: tuple[Op, ...] = ()
    moves: tuple[Move, ...] = ()

    @property
    def moved_text(self) -> tuple[str, ...]:
        """The pieces of this section's redline that moved (from here or to here)."""
        return tuple(
            text
            for (op, text), tag in zip(self.ops, self.tags, strict=True)
            if tag == MOVED and op != EQUAL
        )


@dataclass(frozen=True, slots=True)
class SectionPair:
    """An old section and the new section it became (either side None: added or removed)."""

    old: Section | None
    new: Section | None
    change: Change | None
    matched_by: str = ""  # "id" | "similarity" | ""
    similarity: float = 0.0


@dataclass(frozen=True, slots=True)
class Comparison:
    """Two versions of a notice, their sections paired in the new version's order, and changes."""

    old: Notice
    new: Notice
    pairs: tuple[SectionPair, ...]
    changes: tuple[Change, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return bool(self.changes)


# --- units: sentences, list items, date lines -------------------------------------------------

_LIST_LINE = re.compile(r"[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+\S")
_SINGLE_LINE = re.compile(
    r"[ \t]*(?:\||#{1,6}[ \t]|\{:?[ \t]*[#.\w]|<[A-Za-z/!]|(?:[-*_][ \t]*){3,}$)"
)
_QUOTE_LINE = re.compile(r"[ \t]*>")
_CLOSERS = r"[”’」』）)\]】\"'*_]*"
# CJK stops end a sentence anywhere; ASCII ones only before a space (so not inside URLs).
_SENTENCE_END = re.compile(
    rf"(?:[。！？；]+|(?<=[^\s.])[.!?;]+(?={_CLOSERS}(?:\s|$))){_CLOSERS}\s*"
)
_DATE_KEY = "\x00date"


@dataclass(frozen=True, slots=True)
class _Unit:
    text: str
    key: str
    listed: bool
    dated: bool


def _blocks(text: str) -> list[tuple[str, bool, bool]]:
    """Paragraphs, list items and one-line blocks, as (text, is a list item, is a date line)."""
    blocks: list[tuple[str, bool, bool]] = []
    current: list[str] = []
    listed = single = False
    blank_before = True
    for line in text.splitlines(keepends=True):
        content = line.strip()
        if not content:
            current.append(line)
            blank_before = True
            continue
        is_list = bool(_LIST_LINE.match(line))
        is_single = bool(_SINGLE_LINE.match(line)) or is_date_line(content)
        starts = blank_before or is_list or is_single or single or bool(_QUOTE_LINE.match(line))
        if starts and "".join(current).strip():
            blocks.append(("".join(current), listed, single and is_date_line(_first(current))))
            current = []
        if starts:
            listed, single = is_list, is_single
        current.append(line)
        blank_before = False
    if current:
        if "".join(current).strip() or not blocks:
            blocks.append(("".join(current), listed, single and is_date_line(_first(current))))
        else:
            last, was_listed, dated = blocks[-1]
            blocks[-1] = (last + "".join(current), was_listed, dated)
    return blocks


def _first(lines: list[str]) -> str:
    return next((line for line in lines if line.strip()), "")


def _units(text: str) -> list[_Unit]:
    """Split a section body into sentences; their concatenation is the body, exactly."""
    return list(_split_units(text))


@lru_cache(maxsize=4096)  # the site compares every version with one reference: same bodies
def _split_units(text: str) -> tuple[_Unit, ...]:
    units: list[_Unit] = []
    for block, listed, dated in _blocks(text):
        if dated:
            units.append(_Unit(block, _DATE_KEY, listed, True))
            continue
        pieces: list[str] = []
        start = 0
        for match in _SENTENCE_END.finditer(block):
            if match.end() > start:
                pieces.append(block[start : match.end()])
                start = match.end()
        if start < len(block):
            if block[start:].strip() or not pieces:
                pieces.append(block[start:])
            else:
                pieces[-1] += block[start:]
        units.extend(_Unit(piece, _normalised(piece), listed, False) for piece in pieces)
    return tuple(units)


# --- diffing ---------------------------------------------------------------------------------


def _engine() -> diff_match_patch:
    engine = diff_match_patch()
    engine.Diff_Timeout = 0  # never fall back to a coarse diff
    return engine


_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?|\s+|.", re.DOTALL)


def char_diff(old: str, new: str) -> list[Op]:
    """A diff at character level for CJK text and at word level for Latin words, with semantic
    cleanup (ops of -1, 0, 1 and text). Latin words are kept whole so that `one year` →
    `three years` reads as such, not as `on`/`thre`/`s`."""
    return list(_char_diff(old, new))


@lru_cache(maxsize=4096)  # the same sentence pairs recur when many versions meet one reference
def _char_diff(old: str, new: str) -> tuple[Op, ...]:
    if old == new:
        return ((EQUAL, old),) if old else ()
    codes: dict[str, str] = {}
    tokens: list[str] = []

    def encode(text: str) -> str:
        encoded = []
        for token in _TOKEN.findall(text):
            code = codes.get(token)
            if code is None:
                code = codes[token] = chr(0x10000 + len(tokens))
                tokens.append(token)
            encoded.append(code)
        return "".join(encoded)

    engine = _engine()
    diffs = engine.diff_main(encode(old), encode(new), False)
    decoded = [[op, "".join(tokens[ord(c) - 0x10000] for c in text)] for op, text in diffs]
    engine.diff_cleanupSemantic(decoded)
    return tuple(_whole_tokens(old, new, [(int(op), str(text)) for op, text in decoded if text]))


# An edit between unchanged text: [old start, old end, new start, new end].
_Edit = list[int]


def _edits(ops: Sequence[Op]) -> list[_Edit]:
    """Where each run of deleted and inserted text sits in the old and the new text."""
    edits: list[_Edit] = []
    i = j = 0
    joined = False
    for op, text in ops:
        if op == EQUAL:
            i, j, joined = i + len(text), j + len(text), False
            continue
        if not joined:
            edits.append([i, i, j, j])
            joined = True
        if op == DELETE:
            i = edits[-1][1] = i + len(text)
        else:
            j = edits[-1][3] = j + len(text)
    return edits


@dataclass(frozen=True, slots=True)
class _Side:
    """Where the numbers and dates of one side of a diff are."""

    numbers: Spans
    dates: Spans

    def reach(self, start: int, end: int, spacing: bool) -> tuple[int, int]:
        """How far an edit of text[start:end] must grow to the left and right to hold whole
        the numbers it splits, and the dates it splits unless it only changes spacing."""
        left = right = 0
        for spans in (self.numbers,) if spacing else (self.numbers, self.dates):
            if (span := spans.around(start)) is not None:
                left = max(left, start - span[0])
            if (span := spans.around(end)) is not None:
                right = max(right, span[1] - end)
        return left, right


def _whole_tokens(old: str, new: str, ops: list[Op]) -> list[Op]:
    """The same diff with no number or date cut into pieces: an edit that starts or ends
    inside one takes in all of it (on both sides), and edits that then meet become one, so
    `[-2018 年 11 月 1 日-]{+2026 年 12 月 4 日+}` rather than `201[-8-]{+6+} 年 [-1-]1{+2+} 月`."""
    edits = _edits(ops)
    if not edits:
        return ops
    old_numbers, new_numbers = numbers(old), numbers(new)
    if not (old_numbers.starts or new_numbers.starts):
        return ops
    sides = _Side(old_numbers, dates(old)), _Side(new_numbers, dates(new))
    widened = False
    k = 0
    while k < len(edits):
        o0, o1, n0, n1 = edit = edits[k]
        spacing = _SPACES.sub("", old[o0:o1]) == _SPACES.sub("", new[n0:n1])
        left_old, right_old = sides[0].reach(o0, o1, spacing)
        left_new, right_new = sides[1].reach(n0, n1, spacing)
        left, right = max(left_old, left_new), max(right_old, right_new)
        if not (left or right):
            k += 1
            continue
        widened = True
        if k and left >= o0 - edits[k - 1][1]:  # reaches the edit before: one edit now
            edits[k - 1 : k + 1] = [[edits[k - 1][0], o1, edits[k - 1][2], n1]]
            k -= 1
        elif k + 1 < len(edits) and right >= edits[k + 1][0] - o1:
            edits[k : k + 2] = [[o0, edits[k + 1][1], n0, edits[k + 1][3]]]
        else:
            edit[:] = [o0 - left, o1 + right, n0 - left, n1 + right]
    return _ops_of(old, new, edits) if widened else ops


def _ops_of(old: str, new: str, edits: list[_Edit]) -> list[Op]:
    """Ops back from edits: what lies between two edits is the same in both texts."""
    ops: list[Op] = []
    at = 0
    for o0, o1, n0, n1 in edits:
        ops += [(EQUAL, old[at:o0]), (DELETE, old[o0:o1]), (INSERT, new[n0:n1])]
        at = o1
    ops.append((EQUAL, old[at:]))
    return [(op, text) for op, text in ops if text]


@dataclass(slots=True)
class _Segment:
    equal: bool
    old: list[_Unit]
    new: list[_Unit]


def _unit_diff(old: list[_Unit], new: list[_Unit]) -> list[_Segment]:
    """Diff two unit sequences by key: runs of equal units and runs of replaced units."""
    codes: dict[str, str] = {}

    def encode(units: list[_Unit]) -> str:
        return "".join(codes.setdefault(u.key, chr(0x10000 + len(codes))) for u in units)

    a, b = encode(old), encode(new)
    segments: list[_Segment] = []
    i = j = 0
    for op, chars in _engine().diff_main(a, b, False) if a != b else [(EQUAL, a)]:
        n = len(chars)
        if op == EQUAL:
            segments.append(_Segment(True, old[i : i + n], new[j : j + n]))
            i, j = i + n, j + n
            continue
        if not segments or segments[-1].equal:
            segments.append(_Segment(False, [], []))
        if op == DELETE:
            segments[-1].old.extend(old[i : i + n])
            i += n
        else:
            segments[-1].new.extend(new[j : j + n])
            j += n
    return [s for s in segments if s.old or s.new]


@dataclass(slots=True)
class _Work:
    """One pair of sections being compared."""

    old: Section | None
    new: Section | None
    matched_by: str
    similarity: float
    segments: list[_Segment]
    moved_section: bool = False


# A mark on a unit of a replaced run: (pair index, segment index, side, unit index).
_Place = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class _Mark:
    tag: str  # MOVED, REORDER or DATE_LINE
    from_section: str
    to_section: str


def _match_moves(works: Sequence[_Work]) -> dict[_Place, _Mark]:
    """Pair sentences deleted in one place with the same sentences inserted in another."""
    deleted: dict[str, list[_Place]] = {}
    inserted: list[tuple[_Place, _Unit]] = []
    units: dict[_Place, _Unit] = {}
    dates: dict[int, list[_Place]] = {DELETE: [], INSERT: []}
    for w, work in enumerate(works):
        for s, segment in enumerate(work.segments):
            if segment.equal:
                continue
            for side, side_units in ((DELETE, segment.old), (INSERT, segment.new)):
                for u, unit in enumerate(side_units):
                    place = (w, s, side, u)
                    if unit.dated:
                        dates[side].append(place)
                        continue
                    if len(unit.key) < _MIN_MOVE_WITHIN:
                        continue
                    units[place] = unit
                    if side == DELETE:
                        deleted.setdefault(unit.key, []).append(place)
                    else:
                        inserted.append((place, unit))
    marks: dict[_Place, _Mark] = {}
    for across in (False, True):
        for place, unit in inserted:
            if place in marks or unit.key not in deleted:
                continue
            if across and len(unit.key) < _MIN_MOVE_ACROSS:
                continue
            candidates = deleted[unit.key]
            found = next(
                (c for c in candidates if c not in marks and (across or c[0] == place[0])), None
            )
            if found is None:
                continue
            source, target = works[found[0]], works[place[0]]
            assert source.old is not None and target.new is not None
            tag = MOVED
            if found[0] == place[0] and units[found].listed and unit.listed:
                tag = REORDER
            mark = _Mark(tag, source.old.id, target.new.id)
            marks[found] = marks[place] = mark
    # A date line that left one section for another (a restructured top) is still a date line.
    for old_place, new_place in zip(dates[DELETE], dates[INSERT], strict=False):
        source, target = works[old_place[0]], works[new_place[0]]
        assert source.old is not None and target.new is not None
        marks[old_place] = marks[new_place] = _Mark(DATE_LINE, source.old.id, target.new.id)
    return marks


@dataclass(slots=True)
class _Ops:
    """Ops with their tags; neighbours with the same op and tag are merged."""

    items: list[tuple[int, str, str]] = field(default_factory=list)

    def add(self, op: int, text: str, tag: str = WORDING) -> None:
        if not text:
            return
        if op == EQUAL:
            tag = WORDING
        if self.items and self.items[-1][0] == op and self.items[-1][2] == tag:
            self.items[-1] = (op, self.items[-1][1] + text, tag)
        else:
            self.items.append((op, text, tag))


_DIFF_BUDGET = 100_000  # estimated steps of one character diff (at worst about 20 ms)
_SMALL_RUN = 2_500  # tokens × tokens below which related-or-not text is diffed by character
_MIN_RELATED = 0.6  # trigram similarity above which larger text is diffed by character
_ALIGN_BUDGET = 100_000  # sentences × sentences compared to split a long replaced run


def _tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def _run_ops(old: list[_Unit], new: list[_Unit], split: bool = True) -> list[Op]:
    """Ops turning one run of sentences into another, at character level where that helps.

    diff-match-patch (Myers) takes about (N + M) · D steps without a timeout, D being the size
    of the difference; D is estimated from how many trigrams the two sides share. A run too
    costly to diff in one go is split at pairs of similar sentences; what is still too costly,
    or unrelated (a rewritten passage, where a character diff is only noise), is shown as
    replaced whole, which is what it is.
    """
    old_text, new_text = "".join(u.text for u in old), "".join(u.text for u in new)
    if not old_text or not new_text:
        return [(op, t) for op, t in ((DELETE, old_text), (INSERT, new_text)) if t]
    sizes = _tokens(old_text), _tokens(new_text)
    a, b = _trigrams("".join(u.key for u in old)), _trigrams("".join(u.key for u in new))
    similarity = 2 * len(a & b) / (len(a) + len(b))
    total = sizes[0] + sizes[1]
    steps = total * max(1.0, (1 - similarity) * total)
    related = sizes[0] * sizes[1] <= _SMALL_RUN or similarity >= _MIN_RELATED
    if steps <= _DIFF_BUDGET and related:
        return char_diff(old_text, new_text)
    if split and (len(old) > 1 or len(new) > 1):
        parts = _sub_runs(old, new)
        if len(parts) > 1:
            return [op for o, n in parts for op in _run_ops(o, n, split=False)]
    return [(DELETE, old_text), (INSERT, new_text)]


def _sub_runs(old: list[_Unit], new: list[_Unit]) -> list[tuple[list[_Unit], list[_Unit]]]:
    """Split a run at pairs of similar sentences, in order (a weighted longest common
    subsequence over sentence similarity)."""
    m, n = len(old), len(new)
    if m * n > _ALIGN_BUDGET or not m or not n:
        return [(old, new)]
    old_profiles = [_trigrams(u.key) for u in old]
    new_profiles = [_trigrams(u.key) for u in new]
    similar: dict[tuple[int, int], float] = {}
    for i, a in enumerate(old_profiles):
        for j, b in enumerate(new_profiles):
            if a and b and (score := 2 * len(a & b) / (len(a) + len(b))) >= _MIN_SIMILARITY:
                similar[(i, j)] = score
    best = [[0.0] * (n + 1) for _ in range(m + 1)]
    for i in range(1, m + 1):
        row, above = best[i], best[i - 1]
        for j in range(1, n + 1):
            value = above[j] if above[j] > row[j - 1] else row[j - 1]
            weight = similar.get((i - 1, j - 1))
            if weight is not None and above[j - 1] + weight > value:
                value = above[j - 1] + weight
            row[j] = value
    pairs: list[tuple[int, int]] = []
    i, j = m, n
    while i and j:
        weight = similar.get((i - 1, j - 1))
        if weight is not None and best[i][j] == best[i - 1][j - 1] + weight:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif best[i][j] == best[i - 1][j]:
            i -= 1
        else:
            j -= 1
    parts: list[tuple[list[_Unit], list[_Unit]]] = []
    i = j = 0
    for pi, pj in reversed(pairs):
        if i < pi or j < pj:
            parts.append((old[i:pi], new[j:pj]))
        parts.append(([old[pi]], [new[pj]]))
        i, j = pi + 1, pj + 1
    if i < m or j < n:
        parts.append((old[i:], new[j:]))
    return parts


def _trigrams(text: str) -> frozenset[str]:
    return frozenset(text[k : k + 3] for k in range(len(text) - 2)) or frozenset([text])


def _replaced_run(
    ops: _Ops,
    labels: set[str],
    segment: _Segment,
    old_marks: dict[int, str],
    new_marks: dict[int, str],
) -> None:
    """Ops for a run of replaced units: moved units whole, the others diffed by character.

    The character diff runs over the units that did not move; each moved unit is spliced in
    at its offset in that text, so the ops still rebuild both sides exactly.
    """
    old_units = [u for k, u in enumerate(segment.old) if k not in old_marks]
    new_units = [u for k, u in enumerate(segment.new) if k not in new_marks]
    anchors: dict[int, list[tuple[int, str, str]]] = {DELETE: [], INSERT: []}
    for side, units, marks in ((DELETE, segment.old, old_marks), (INSERT, segment.new, new_marks)):
        offset = 0
        for k, unit in enumerate(units):
            if k in marks:
                anchors[side].append((offset, unit.text, marks[k]))
            else:
                offset += len(unit.text)
    old_anchors, new_anchors = anchors[DELETE][::-1], anchors[INSERT][::-1]  # popped from the end
    position = {DELETE: 0, INSERT: 0}

    def flush() -> None:
        for side, pending in ((DELETE, old_anchors), (INSERT, new_anchors)):
            while pending and pending[-1][0] == position[side]:
                _, text, tag = pending.pop()
                ops.add(side, text, tag)

    for op, text in _run_ops(old_units, new_units):
        while text:
            flush()
            limit = len(text)
            if op != INSERT and old_anchors:
                limit = min(limit, old_anchors[-1][0] - position[DELETE])
            if op != DELETE and new_anchors:
                limit = min(limit, new_anchors[-1][0] - position[INSERT])
            piece, text = text[:limit], text[limit:]
            tag = WORDING
            if op != EQUAL and not _normalised(piece):
                tag = FORMAT
                labels.update(explain(piece, "") if piece.strip() else ("whitespace",))
            ops.add(op, piece, tag)
            if op != INSERT:
                position[DELETE] += len(piece)
            if op != DELETE:
                position[INSERT] += len(piece)
    flush()


def _equal_units(ops: _Ops, labels: set[str], old: _Unit, new: _Unit) -> None:
    """Units with the same key: identical, formatted differently, or a changed date line."""
    if old.text == new.text:
        ops.add(EQUAL, old.text)
        return
    if old.dated and (
        _normalised(old.text) != _normalised(new.text)
        or re.findall(r"\d+", old.text) != re.findall(r"\d+", new.text)
    ):
        tag = DATE_LINE
        labels.add(DATE_LINE)
    else:
        tag = FORMAT
        labels.update(explain(old.text, new.text))
    for op, text in char_diff(old.text, new.text):
        ops.add(op, text, tag)


def _heading_labels(old: Section, new: Section, labels: set[str]) -> tuple[tuple[Op, ...], bool]:
    """Labels for what changed in the heading; (title ops, whether its wording changed)."""
    title_ops: tuple[Op, ...] = ()
    worded = False
    if old.title != new.title:
        title_ops = tuple(char_diff(old.title, new.title))
        if _normalised(old.title) == _normalised(new.title):
            labels.update(explain(old.title, new.title))
        else:
            labels.add("heading")
            worded = True
    if old.level != new.level:
        labels.add("heading-level")
    if old.id != new.id:
        labels.add("section-id")
    elif old.explicit_id != new.explicit_id:
        labels.add("markdown")
    return title_ops, worded


def _moves_of(work: _Work, marks: dict[tuple[int, int, int], _Mark]) -> list[Move]:
    """Moves leaving or reaching this section, consecutive sentences joined into one."""
    moves: list[Move] = []
    last: tuple[int, int, int] | None = None
    for s, segment in enumerate(work.segments):
        if segment.equal:
            continue
        for side, units in ((DELETE, segment.old), (INSERT, segment.new)):
            for k, unit in enumerate(units):
                mark = marks.get((s, side, k))
                if mark is None or mark.tag != MOVED:
                    continue
                if side == DELETE and mark.from_section == mark.to_section:
                    continue  # a move inside the section is reported where the text arrives
                text = unit.text.strip()
                previous = moves[-1] if moves else None
                if (
                    previous is not None
                    and last == (s, side, k - 1)
                    and (previous.from_section, previous.to_section)
                    == (mark.from_section, mark.to_section)
                ):
                    gap = units[k - 1].text[len(units[k - 1].text.rstrip()) :]
                    gap = "\n\n" if "\n\n" in gap else " " if gap else ""
                    moves[-1] = Move(previous.text + gap + text, mark.from_section, mark.to_section)
                else:
                    moves.append(Move(text, mark.from_section, mark.to_section))
                last = (s, side, k)
    return moves


def _build_change(work: _Work, marks: dict[tuple[int, int, int], _Mark]) -> Change | None:
    ops = _Ops()
    labels: set[str] = set()
    by_segment: dict[tuple[int, int], dict[int, str]] = {}
    for (s, side, k), mark in marks.items():
        by_segment.setdefault((s, side), {})[k] = mark.tag
    for s, segment in enumerate(work.segments):
        if segment.equal:
            for old_unit, new_unit in zip(segment.old, segment.new, strict=True):
                _equal_units(ops, labels, old_unit, new_unit)
            continue
        old_marks, new_marks = by_segment.get((s, DELETE), {}), by_segment.get((s, INSERT), {})
        _replaced_run(ops, labels, segment, old_marks, new_marks)
    old, new = work.old, work.new
    title_ops: tuple[Op, ...] = ()
    worded = False
    if old is not None and new is not None:
        title_ops, worded = _heading_labels(old, new, labels)
    if work.moved_section:
        labels.add("section-order")
    tags = [tag for _, _, tag in ops.items]
    if REORDER in tags:
        labels.add("reorder")
    if DATE_LINE in tags:
        labels.add(DATE_LINE)
    moves = _moves_of(work, marks)
    wording = any(op != EQUAL and tag == WORDING for op, _, tag in ops.items)
    if old is None:
        kind = "added"
    elif new is None:
        kind = "removed"
    elif wording or worded or DATE_LINE in labels:
        kind = "modified"
    elif MOVED in tags or work.moved_section:
        kind = "moved"
    elif labels or any(op != EQUAL for op, _, _ in ops.items):
        kind = "formatting"
    else:
        return None
    here = new if new is not None else old
    assert here is not None
    arriving = [m for m in moves if new is not None and m.to_section == new.id]
    leaving = [m for m in moves if old is not None and m.from_section == old.id]
    return Change(
        section=here.path,
        section_id=here.id,
        kind=kind,
        old_text=old.body if old is not None else "",
        new_text=new.body if new is not None else "",
        inserted=tuple(t for op, t, tag in ops.items if op == INSERT and tag == WORDING),
        deleted=tuple(t for op, t, tag in ops.items if op == DELETE and tag == WORDING),
        ops=tuple((op, text) for op, text, _ in ops.items),
        labels=tuple(sorted(labels)),
        moved_from=arriving[0].from_section if arriving else None,
        moved_to=leaving[0].to_section if leaving else None,
        tags=tuple(tags),
        old_section_id=old.id if old is not None else None,
        new_section_id=new.id if new is not None else None,
        old_title=old.title if old is not None else None,
        new_title=new.title if new is not None else None,
        old_section=old.path if old is not None else None,
        title_ops=title_ops,
        moves=tuple(moves),
    )


# --- aligning sections -----------------------------------------------------------------------


def _profile(text: str) -> frozenset[str]:
    folded = _normalised(text) if len(text) < 4096 else _normalise_once(text)
    return frozenset(folded[k : k + 2] for k in range(len(folded) - 1)) or frozenset(folded)


def _normalise_once(text: str) -> str:
    for _, step in _STEPS:
        text = step(text)
    return text


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return 2 * len(a & b) / (len(a) + len(b))


@dataclass(frozen=True, slots=True)
class _Profile:
    level: int
    title: frozenset[str]
    body: frozenset[str] | None  # None: the section has no text of its own

    @classmethod
    def of(cls, section: Section) -> _Profile:
        """Date lines are left out: a new date must not stop a section from pairing."""
        text = "\n".join(line for line in section.body.split("\n") if not is_date_line(line))
        body = _profile(text) if text.strip() else None
        return cls(section.level, _profile(section.title), body)


def _similarity(old: _Profile, new: _Profile) -> float:
    """How alike two sections are (0..1): mostly the body, a little the heading."""
    title = _dice(old.title, new.title)
    if old.body is None and new.body is None:
        body = title
    elif old.body is None or new.body is None:
        body = 0.0
    else:
        body = _dice(old.body, new.body)
    return 0.75 * body + 0.25 * title - (0.05 if old.level != new.level else 0.0)


def _occurrence_keys(sections: Sequence[Section]) -> list[tuple[str, int]]:
    seen: Counter[str] = Counter()
    keys = []
    for section in sections:
        seen[section.id] += 1
        keys.append((section.id, seen[section.id]))
    return keys


def _align(old: Sequence[Section], new: Sequence[Section]) -> list[_Work]:
    """Pair sections by id, then unpaired ones by similarity; keep the new version's order
    with removed sections where they used to be."""
    by_key = {key: i for i, key in enumerate(_occurrence_keys(old))}
    match: dict[int, tuple[int, str, float]] = {}
    for j, key in enumerate(_occurrence_keys(new)):
        if key in by_key:
            match[j] = (by_key[key], "id", 1.0)
    used = {i for i, _, _ in match.values()}
    free_old = [i for i in range(len(old)) if i not in used]
    free_new = [j for j in range(len(new)) if j not in match]
    old_profiles = {i: _Profile.of(old[i]) for i in free_old} if free_new else {}
    new_profiles = {j: _Profile.of(new[j]) for j in free_new} if free_old else {}
    candidates = sorted(
        (-score, i, j)
        for i in free_old
        for j in free_new
        if (score := _similarity(old_profiles[i], new_profiles[j])) >= _MIN_SIMILARITY
    )
    for negative, i, j in candidates:
        if i not in used and j not in match:
            match[j] = (i, "similarity", round(-negative, 3))
            used.add(i)
    moved = _moved_sections(old, new, match)
    removed = [i for i in range(len(old)) if i not in used]
    works: list[_Work] = []
    r = 0
    for j, section in enumerate(new):
        if j not in match:
            works.append(_Work(None, section, "", 0.0, []))
            continue
        i, how, score = match[j]
        while r < len(removed) and removed[r] < i:
            works.append(_Work(old[removed[r]], None, "", 0.0, []))
            r += 1
        works.append(_Work(old[i], section, how, score, [], j in moved))
    works.extend(_Work(old[i], None, "", 0.0, []) for i in removed[r:])
    return works


def _moved_sections(
    old: Sequence[Section], new: Sequence[Section], match: dict[int, tuple[int, str, float]]
) -> set[int]:
    """New sections whose place changed: out of order, or under another parent."""
    order = [(j, match[j][0]) for j in sorted(match)]
    keep = _increasing(order)
    moved = {j for j, _ in order if j not in keep}
    old_index = {s.id: i for i, s in reversed(list(enumerate(old)))}
    new_index = {s.id: j for j, s in reversed(list(enumerate(new)))}
    for j, (i, _, _) in match.items():
        old_parent_id, new_parent_id = old[i].parent_id, new[j].parent_id
        old_parent = old_index.get(old_parent_id) if old_parent_id is not None else None
        new_parent: int | None = None
        if new_parent_id is not None:
            parent_j = new_index.get(new_parent_id)
            new_parent = match[parent_j][0] if parent_j is not None and parent_j in match else -1
        if old_parent != new_parent:
            moved.add(j)
    return moved


def _increasing(order: list[tuple[int, int]]) -> set[int]:
    """The new indices of a longest run of pairs whose old indices increase."""
    tails: list[int] = []  # index into order of the smallest tail of each length
    previous: list[int] = [-1] * len(order)
    for k, (_, i) in enumerate(order):
        low, high = 0, len(tails)
        while low < high:
            middle = (low + high) // 2
            if order[tails[middle]][1] < i:
                low = middle + 1
            else:
                high = middle
        previous[k] = tails[low - 1] if low > 0 else -1
        if low == len(tails):
            tails.append(k)
        else:
            tails[low] = k
    keep: set[int] = set()
    k = tails[-1] if tails else -1
    while k >= 0:
        keep.add(order[k][0])
        k = previous[k]
    return keep


# --- comparing -------------------------------------------------------------------------------


def _segments(old: Section | None, new: Section | None) -> list[_Segment]:
    if old is not None and new is not None and old.body == new.body:
        same = _Unit(old.body, "", False, False)
        return [_Segment(True, [same], [same])] if old.body else []
    old_units = _units(old.body) if old is not None and old.body else []
    new_units = _units(new.body) if new is not None and new.body else []
    if old is None or new is None:
        return [_Segment(False, old_units, new_units)] if old_units or new_units else []
    return _unit_diff(old_units, new_units)


def compare(old: Notice, new: Notice) -> Comparison:
    """Compare two versions of a notice (any two, not only neighbours), section by section."""
    works = _align(old.sections, new.sections)
    for work in works:
        work.segments = _segments(work.old, work.new)
    marks = _match_moves(works)
    by_work: dict[int, dict[tuple[int, int, int], _Mark]] = {}
    for (w, s, side, k), mark in marks.items():
        by_work.setdefault(w, {})[(s, side, k)] = mark
    pairs = []
    for w, work in enumerate(works):
        change = _build_change(work, by_work.get(w, {}))
        pairs.append(SectionPair(work.old, work.new, change, work.matched_by, work.similarity))
    return Comparison(old, new, tuple(pairs), tuple(p.change for p in pairs if p.change))


# --- rebuilding ------------------------------------------------------------------------------


def apply_ops(old_text: str, ops: Iterable[Op]) -> str:
    """The text `ops` turn `old_text` into; ValueError if they do not start from `old_text`."""
    ops = tuple(ops)
    source = "".join(text for op, text in ops if op != INSERT)
    if source != old_text:
        raise ValueError("the ops do not start from this text")
    return "".join(text for op, text in ops if op != DELETE)


def _block(level: int, title: str, section_id: str, explicit: bool, body: str) -> str:
    if level == 0:
        return body
    heading = "#" * level + " " + title + (f" {{#{section_id}}}" if explicit else "")
    return heading + ("\n\n" + body if body else "")


def render_sections(sections: Iterable[Section]) -> str:
    """A notice body in a canonical layout: each heading, a blank line, its body."""
    return "\n\n".join(_block(s.level, s.title, s.id, s.explicit_id, s.body) for s in sections)


def apply(comparison: Comparison) -> str:
    """Rebuild the new version (in `render_sections` layout) from the old one and the changes.

    Unchanged sections come from the old version as they are; changed ones by applying their
    ops to the old text. Used to prove a comparison loses nothing.
    """
    blocks = []
    for pair in comparison.pairs:
        if pair.new is None:
            continue
        change = pair.change
        if change is None:
            if pair.old is None:
                raise ValueError(f"section {pair.new.id} is new but has no change")
            old = pair.old
            blocks.append(_block(old.level, old.title, old.id, old.explicit_id, old.body))
            continue
        old_body = pair.old.body if pair.old is not None else ""
        if change.old_text != old_body:
            raise ValueError(f"change of {change.section_id} does not start from the old text")
        body = apply_ops(old_body, change.ops)
        title = change.new_title or ""
        if pair.old is not None and change.title_ops:
            title = apply_ops(pair.old.title, change.title_ops)
        new = pair.new
        blocks.append(_block(new.level, title, change.section_id, new.explicit_id, body))
    return "\n\n".join(blocks)
