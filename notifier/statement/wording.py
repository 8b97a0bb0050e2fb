"""What the wording of a change says: keywords, numbers, names, contact channels, polarity.

Pure functions over text, used by the materiality rules: which words were added or removed in the
sentences a change touched, which periods and ages changed (30 天 → 15 个工作日, 18 岁 → 14 岁,
one year → three years), which company names and contact channels changed, and whether a promise
flipped (不会 → 会, 仅 → 可能, 前 → 后, will not → may). Nothing here knows the rules; the signals
say what changed and in which direction, and `materiality` decides what that means.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache, lru_cache
from typing import Any

from notifier.statement.diff import DELETE, EQUAL, INSERT, Change, normalise
from notifier.statement.tokens import DATE_IN_TEXT

ADVERSE, FAVOURABLE, CHANGED = "adverse", "favourable", "changed"


def has_cjk(text: str) -> bool:
    """Whether the text holds a Chinese character."""
    return bool(_CJK_CHAR.search(text))


@dataclass(frozen=True, slots=True)
class Polarity:
    """Negation, modal and timing words whose change flips what a sentence promises (M21)."""

    negation: tuple[str, ...]
    modal: tuple[str, ...]
    before: tuple[str, ...]
    after: tuple[str, ...]
    stop: tuple[str, ...]
    same: tuple[tuple[str, ...], ...] = ()
    plain: tuple[str, ...] = ()  # come or go alone without changing a promise (will, 会, also)


_ASCII_WORD = re.compile(r"[A-Za-z0-9]")


_CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


# Endings that keep a Latin keyword the same word (collect → collected, collection; cookie →
# cookies). Words of four letters or fewer take only plural endings, so "will" is not found
# in "willing" nor "use" in "user"; a keyword ending in "*" is a stem and matches as a prefix.
_ENDINGS = "s|es|'s|d|ed|ing|er|ers|or|ors|ion|ions|ation|ations|ment|ments|al|t|ts"
_SHORT_ENDINGS = "s|es|'s"
# A final e or y gives way to some endings: delete → deletion, store → storing, notify → notified.
_E_ENDINGS = "ing|ion|ions|ation|ations|able|age"
_Y_ENDINGS = "ies|ied|ication|ications"
_LATIN_END = r"(?![A-Za-z0-9])"


@dataclass(frozen=True, slots=True)
class _Pattern:
    word: str  # Latin: lower-cased, contained in every match
    latin: bool  # False: Chinese, matched on jieba's token boundaries


_PATTERNS: dict[str, _Pattern] = {}


@cache
def _latin_regex(word: str) -> re.Pattern[str]:
    """Compiled when a sentence first holds the keyword's core: most never do, and compiling
    hundreds of keyword patterns up front is a fifth of a second at every start."""
    head = r"(?<![A-Za-z0-9])" if _ASCII_WORD.match(word[0]) else ""
    if word.endswith("*"):
        return re.compile(head + re.escape(word[:-1]), re.IGNORECASE)
    if not word[-1].isalpha():
        return re.compile(head + re.escape(word) + _LATIN_END, re.IGNORECASE)
    short = len(word) <= 4
    # the match is the keyword itself; its ending is looked at, not taken, so that a
    # replacement (synonym folding) keeps it
    forms = [re.escape(word) + rf"(?=(?:{_SHORT_ENDINGS if short else _ENDINGS})?{_LATIN_END})"]
    if not short and word[-1] in "ey":
        endings = _E_ENDINGS if word[-1] == "e" else _Y_ENDINGS
        forms.append(re.escape(word[:-1]) + rf"(?=(?:{endings}){_LATIN_END})")
    return re.compile(head + "(?:" + "|".join(forms) + ")", re.IGNORECASE)


def _pattern(word: str) -> _Pattern:
    found = _PATTERNS.get(word)
    if found is None:
        if word.isascii():
            # what every match contains, lower-cased: the word without a stem's * or the final
            # e or y that some endings replace
            core = word.rstrip("*").lower()
            core = core[:-1] if len(core) > 4 and core[-1] in "ey" else core
            found = _Pattern(core, True)
        else:
            found = _Pattern(word, False)
        _PATTERNS[word] = found
    return found


@lru_cache(maxsize=256)
def _lowered(text: str) -> str:
    return text.lower()


class _Dictionary:
    """jieba's dictionary, loaded only for the characters of the texts cut so far. A text's
    words are made of its own characters, so it cuts exactly as with the whole dictionary, for
    a fraction of the second that loading all of it costs."""

    SCANS = 8  # after this many texts with new characters, the whole dictionary is loaded

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.total = sum(int(f) for f in re.findall(r"(?m)^\S+ (\d+)", raw))
        self.chars: set[str] | None = set()  # None: all loaded
        self.scans = 0
        self.freq: dict[str, int] = {}

    def cover(self, text: str) -> None:
        if self.chars is None:
            return
        new = {c for c in text if not c.isspace()} - self.chars
        if not new:
            return
        self.chars |= new
        self.scans += 1
        if self.scans >= self.SCANS:
            self.load_all()
            return
        letters = "".join(re.escape(c) for c in sorted(self.chars))
        self._load(rf"(?m)^([{letters}]+) (\d+)(?= |$)")

    def load_all(self) -> None:
        if self.chars is not None:
            self.chars = None
            self._load(r"(?m)^(\S+) (\d+)(?= |$)")

    def _load(self, pattern: str) -> None:
        for word, freq in re.findall(pattern, self.raw):
            self.freq[word] = int(freq)
            for end in range(1, len(word)):
                self.freq.setdefault(word[:end], 0)  # jieba looks words up prefix by prefix


@dataclass(frozen=True, slots=True)
class _Segmenter:
    cut: Callable[[str], Iterable[str]]
    words: _Dictionary


_SEGMENTER: list[_Segmenter] = []


def _segmenter() -> _Segmenter:
    """jieba, set up on first use and once, cutting with its dictionary only (no guessing of
    unknown words, so the same text always cuts the same way)."""
    if not _SEGMENTER:
        import logging
        from pathlib import Path

        jieba = _import_jieba()

        jieba.setLogLevel(logging.WARNING)
        words = _Dictionary((Path(jieba.__file__).parent / "dict.txt").read_text(encoding="utf-8"))
        tokenizer = jieba.Tokenizer()
        tokenizer.FREQ, tokenizer.total, tokenizer.initialized = words.freq, words.total, True

        def cut(text: str) -> Iterable[str]:
            words.cover(text)
            found: Iterable[str] = tokenizer.cut(text, HMM=False)
            return found

        _SEGMENTER.append(_Segmenter(cut, words))
    return _SEGMENTER[0]


def load_dictionary() -> None:
    """Load the whole dictionary now, as many texts to cut would: before forking workers, which
    then share it instead of each loading it."""
    _segmenter().words.load_all()


def _import_jieba() -> Any:  # jieba has no type hints
    """jieba, without the 0.1 s of `pkg_resources` it imports only to open its own package files
    (it falls back to plain paths when that import fails)."""
    import sys

    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        import jieba

        return jieba
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]
    try:
        import jieba
    finally:
        del sys.modules["pkg_resources"]
    return jieba


def _parts(token: str, words: Mapping[str, int]) -> list[str]:
    """A compound jieba keeps whole, cut where both sides are dictionary words of two or more
    characters (广告投放 → 广告/投放, 执法机关 → 执法/机关; not 目的地, 身份证件 or 适用于)."""
    for cut in range(2, len(token) - 1):
        if words.get(token[:cut], 0) > 0 and words.get(token[cut:], 0) > 0:
            return [token[:cut], *_parts(token[cut:], words)]
    return [token]


def _segment(text: str) -> Iterable[str]:
    found = _segmenter()
    for token in found.cut(text):
        yield from (_parts(token, found.words.freq) if len(token) >= 4 else (token,))


@lru_cache(maxsize=1024)
def tokens(text: str) -> tuple[str, ...]:
    """The text cut into words: jieba for Chinese, letters and digits for other scripts, one
    token per space or punctuation mark. The tokens joined give the text back."""
    if not has_cjk(text):
        return tuple(_LATIN_TOKEN.findall(text))
    return tuple(
        piece
        for token in _segment(text)
        for piece in (_LATIN_TOKEN.findall(token) if token.isascii() else (token,))
    )


_LATIN_TOKEN = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?|\s+|.", re.DOTALL)


@lru_cache(maxsize=1024)
def _boundaries(text: str) -> frozenset[int]:
    offsets = {0}
    at = 0
    for token in tokens(text):
        at += len(token)
        offsets.add(at)
    return frozenset(offsets)


def occurrences(text: str, word: str) -> list[tuple[int, int]]:
    """Where `word` occurs in `text` as whole words: Chinese starting and ending on jieba's
    token boundaries (位置 in 位置信息 = 位置/信息, but not 用于 in 适用于 = 适用/于), Latin on
    word boundaries give or take an inflection, any case."""
    pattern = _pattern(word)
    if pattern.latin:
        if pattern.word not in _lowered(text):
            return []  # the cheap test first: most keywords are in no given sentence
        return [m.span() for m in _latin_regex(word).finditer(text)]
    if not word or word not in text:
        return []
    bounds = _boundaries(text)
    found = []
    start = text.find(word)
    while start >= 0:
        end = start + len(word)
        if start in bounds and end in bounds:
            found.append((start, end))
            start = text.find(word, end)
        else:
            start = text.find(word, start + 1)
    return found


def count(text: str, word: str) -> int:
    """How often `word` occurs in `text` as whole words (see `occurrences`)."""
    return len(occurrences(text, word))


def replace_word(text: str, word: str, by: str) -> str:
    """`text` with every whole-word occurrence of `word` replaced by `by`."""
    spans = occurrences(text, word)
    for start, end in reversed(spans):
        text = text[:start] + by + text[end:]
    return text


def fold(text: str, groups: Sequence[Sequence[str]]) -> str:
    """Replace every word of a group by the group's first word (longest words first)."""
    pairs = sorted(((w, g[0]) for g in groups for w in g[1:]), key=lambda pair: -len(pair[0]))
    lowered = text.lower()
    for word, by in pairs:
        if word.lower() in lowered and count(text, word):  # the substring test is the cheap one
            text = replace_word(text, word, by)
    return text


def levenshtein(a: str, b: str, limit: int) -> int:
    """Edit distance of a and b, or limit + 1 as soon as it is known to exceed `limit`."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


_CLOSERS = frozenset("。！？；")


_BLOCK_START = frozenset("\n-*+#>|")


# A full stop after these ends no sentence ("Acme Analytics Inc. processes …").
_ABBREVIATION = re.compile(
    r"(?:^|(?<![A-Za-z.]))(?:Inc|Ltd|Co|Corp|LLC|e\.g|i\.e|etc|U\.S|No|Dr|Mr|Ms)$"
)


def _ends_sentence(text: str, i: int) -> bool:
    char = text[i]
    if char in _CLOSERS:
        return True
    following = text[i + 1] if i + 1 < len(text) else ""
    if char in ".!?;":  # only before a space: a "?" inside a URL or "<!--" ends nothing
        return (
            following.isspace()
            and following != ""
            and not (char == "." and _ABBREVIATION.search(text[max(0, i - 8) : i]))
        )
    # a line break ends a sentence only before a blank line or a new Markdown block (reflow
    # inside a paragraph does not)
    return char == "\n" and following in _BLOCK_START and following != ""


_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
_END_CANDIDATE = re.compile(r"[。！？；.!?;\n]")


def _pieces(text: str) -> Iterator[tuple[str, bool]]:
    """`text` cut after each sentence end (none inside an HTML comment): (piece, whether it
    ends a sentence)."""
    inside = {i for m in _COMMENT.finditer(text) for i in range(m.start(), m.end() - 1)}
    start = 0
    for match in _END_CANDIDATE.finditer(text):
        i = match.start()
        if i not in inside and _ends_sentence(text, i):
            yield text[start : i + 1], True
            start = i + 1
    if start < len(text):
        yield text[start:], False


def changed_sentences(change: Change) -> list[tuple[str, str]]:
    """The sentences a change touched, as (old, new) pairs of raw text.

    Walks the redline ops; text common to both sides goes to both, so counting words over all
    old and all new sentences compares like with like. Only wording ops (tag "") mark a sentence
    as changed; moved text, formatting and date lines do not.
    """
    tags = change.tags if len(change.tags) == len(change.ops) else ("",) * len(change.ops)
    ops = change.ops
    if not ops and (change.old_text or change.new_text):
        ops = tuple(
            (op, text)
            for op, text in ((DELETE, change.old_text), (INSERT, change.new_text))
            if text
        )
        tags = ("",) * len(ops)
    pairs: list[tuple[str, str]] = []
    old: list[str] = []
    new: list[str] = []
    changed = False
    for (op, text), tag in zip(ops, tags, strict=True):
        for piece, closes in _pieces(text):
            if op != INSERT:
                old.append(piece)
            if op != DELETE:
                new.append(piece)
            if op != EQUAL and not tag and piece.strip():
                changed = True
            if closes:
                if changed:
                    pairs.append(("".join(old), "".join(new)))
                old, new, changed = [], [], False
    if changed:
        pairs.append(("".join(old), "".join(new)))
    return pairs


@dataclass(frozen=True, slots=True)
class Signal:
    """Something the text says changed. `direction` is adverse / favourable / changed, or for
    numbers longer / shorter (periods) and lower / higher (ages), resolved by the rule."""

    feature: str
    direction: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    replaced: tuple[tuple[str, str], ...] = ()
    triggers: tuple[str, ...] = ()
    rule: str | None = None
    tier: str | None = None
    released: tuple[str, ...] = ()  # negations or limits whose removal made the words count


def _without_substrings(words: Sequence[str]) -> tuple[str, ...]:
    """Drop repeats (any case) and words inside a longer word of the list (境外 in 中国境外)."""
    unique = list({w.lower(): w for w in reversed(words)}.values())[::-1]
    lowered = [w.lower() for w in unique]
    return tuple(
        w
        for i, w in enumerate(unique)
        if not any(i != j and lowered[i] in other for j, other in enumerate(lowered))
    )


def keyword_delta(old: str, new: str, words: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    """(added, removed): words counted more often in `new`, and more often in `old`."""
    added, removed = [], []
    for word in dict.fromkeys(words):
        before, after = count(old, word), count(new, word)
        if after > before:
            added.append(word)
        elif before > after:
            removed.append(word)
    return _without_substrings(added), _without_substrings(removed)


@dataclass(frozen=True, slots=True)
class Scope:
    """What takes a mention out of what a sentence says is done: a negation before it in its
    clause ("我们不会收集……", "we do not share …"), up to an exception ("除非", "except"), or a
    limiting phrase around it ("仅为……之目的", "solely for the purpose of …")."""

    negation: tuple[str, ...] = ()
    exception: tuple[str, ...] = ()
    limits: tuple[str, ...] = ()  # regular expressions, each one limiting phrase


# Normalised Chinese text has half-width punctuation: a comma or full stop next to a Chinese
# character ends a clause too.
_CJK_RANGE = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CLAUSE_END = re.compile(
    rf"[，；：。！？;:!?\n]|[,.](?=\s|$|[{_CJK_RANGE}])|(?<=[{_CJK_RANGE}])[,.]"
)
_SENTENCE_END = re.compile(rf"[。！？；;!?\n]|\.(?=\s|$|[{_CJK_RANGE}])|(?<=[{_CJK_RANGE}])\.")


def _spans(text: str, ends: re.Pattern[str]) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in ends.finditer(text):
        spans.append((start, match.end()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


@dataclass(frozen=True, slots=True)
class Mentions:
    """The whole-word mentions of some words in a text, told apart by whether they count.
    Remembered and shared by every caller that asks the same: read it, never change it."""

    affirmed: Counter[str]
    held: Counter[str]  # in a negated or limited clause, or a sentence with an `unless` word
    cues: tuple[str, ...]  # the negations and limits that held them


_PASSIVE_AFTER = re.compile(r"被|\s+(?:be|been)\b", re.IGNORECASE)
_PASSIVE_BEFORE = re.compile(r"\b(?:is|are|was|were|be|been)\s+$", re.IGNORECASE)


@lru_cache(maxsize=256)
def _held_regions(text: str, scope: Scope) -> tuple[tuple[int, int, str], ...]:
    """(start, end, cue): where a negation reaches (from after the cue to the clause's end or
    an exception) and where a limiting phrase stands."""
    regions = []
    ends = [end for _, end in _spans(text, _CLAUSE_END)]
    stops = sorted(start for word in scope.exception for start, _ in occurrences(text, word))
    for word in scope.negation:
        for cue_start, cue_end in occurrences(text, word):
            clause = bisect_right(ends, cue_start)
            reach = ends[clause] if clause < len(ends) else len(text)
            stop = bisect_left(stops, cue_end)
            if stop < len(stops):
                reach = min(reach, stops[stop])
            # a passive negation (不会被收集, is not collected) reaches back to the subject
            start = ends[clause - 1] if clause > 0 else 0
            passive = _PASSIVE_AFTER.match(text, cue_end) or _PASSIVE_BEFORE.search(
                text[max(start, cue_start - 8) : cue_start]
            )
            regions.append((start if passive else cue_end, reach, word))
    for limit in scope.limits:
        regions += [(m.start(), m.end(), m.group(0)) for m in re.finditer(limit, text)]
    return tuple(regions)


def mentions(text: str, words: Iterable[str], scope: Scope, unless: Sequence[str] = ()) -> Mentions:
    """The words' whole-word mentions in `text`, those a negation or limit holds back kept apart
    (so "我们不会收集您的生物识别信息" does not mention collecting biometrics as done), and
    all of them held in a sentence that says one of the `unless` words."""
    return _mentions(text, tuple(words), scope, tuple(unless))


# A release's text is the new side of one comparison and the old side of the next: each of its
# sections is read for every keyword group twice in a row.
@lru_cache(maxsize=4096)
def _mentions(text: str, words: tuple[str, ...], scope: Scope, unless: tuple[str, ...]) -> Mentions:
    regions = _held_regions(text, scope) if scope.negation or scope.limits else ()
    excluded = [
        (start, end)
        for start, end in (_spans(text, _SENTENCE_END) if unless else ())
        if any(count(text[start:end], word) for word in unless)
    ]
    affirmed: Counter[str] = Counter()
    held: Counter[str] = Counter()
    cues: list[str] = []
    for word in dict.fromkeys(words):
        for start, end in occurrences(text, word):
            holders = [cue for a, b, cue in regions if a <= start < b and end <= b]
            if holders or any(a <= start < b for a, b in excluded):
                held[word] += 1
                cues += holders
            else:
                affirmed[word] += 1
    return Mentions(affirmed, held, tuple(dict.fromkeys(cues)))


@dataclass(frozen=True, slots=True)
class KeywordChange:
    """Words mentioned as done more often after (`added`) or before (`removed`); `released`:
    the cues whose removal let an added word count (不会 gone from 我们不会收集……)."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    released: tuple[str, ...] = ()


def keyword_change(
    old: str, new: str, words: Sequence[str], scope: Scope, unless: Sequence[str] = ()
) -> KeywordChange:
    """`keyword_delta` that counts only affirmed mentions (see `mentions`)."""
    before, after = mentions(old, words, scope, unless), mentions(new, words, scope, unless)
    added = [w for w in dict.fromkeys(words) if after.affirmed[w] > before.affirmed[w]]
    removed = [w for w in dict.fromkeys(words) if before.affirmed[w] > after.affirmed[w]]
    freed = [w for w in added if before.held[w] > after.held[w]]
    released = [c for c in before.cues if c not in after.cues] if freed else []
    return KeywordChange(_without_substrings(added), _without_substrings(removed), tuple(released))


def opposite(direction: str) -> str:
    return {ADVERSE: FAVOURABLE, FAVOURABLE: ADVERSE}.get(direction, direction)


_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}


_CN_UNITS = {"十": 10, "百": 100, "千": 1000}


_EN_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty-five": 45,
    "sixty": 60,
    "ninety": 90,
}


_NUMBER = r"(\d+(?:\.\d+)?|[零〇一二两三四五六七八九十百千]+)"


_EN_NUMBER = r"(\d+|" + "|".join(sorted(_EN_NUMBERS, key=len, reverse=True)) + ")"


_ZH_AGE = re.compile(_NUMBER + r"\s*(?:周岁|岁)")


_EN_AGE = re.compile(
    r"(?:under|below|younger than|over|older than|(?:the\s+)?age of|aged)\s+(?:the\s+age\s+of\s+)?"
    r"(\d{1,2})(?!\d)|(\d{1,2})\s*(?:years?[ -]old|-year-old)",
    re.IGNORECASE,
)


_ZH_PERIOD = re.compile(
    _NUMBER + r"\s*(个工作日|工作日|个自然日|自然日|小时|天|日|周|星期|个月|月|年)"
)


_EN_PERIOD = re.compile(
    _EN_NUMBER + r"\s*-?\s*(business days?|working days?|calendar days?|days?|weeks?|months?"
    r"|years?|hours?)(?![a-z])",
    re.IGNORECASE,
)


_DAYS = {
    "个工作日": 1.4,
    "工作日": 1.4,
    "个自然日": 1.0,
    "自然日": 1.0,
    "小时": 1 / 24,
    "天": 1.0,
    "日": 1.0,
    "周": 7.0,
    "星期": 7.0,
    "个月": 30.0,
    "月": 30.0,
    "年": 365.0,
}


def cn_number(text: str) -> float:
    """'三十' → 30, '十五' → 15, '两' → 2, '一百二十' → 120; Arabic digits pass through."""
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    total = current = 0
    for char in text:
        if char in _CN_DIGITS:
            current = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[char]
            current = 0
    return float(total + current)


def _en_number(text: str) -> float:
    return float(text) if text[0].isdigit() else float(_EN_NUMBERS[text.lower()])


def _en_days(unit: str) -> float:
    unit = unit.lower()
    if unit.startswith(("business", "working")):
        return 1.4
    for name, days in (
        ("hour", 1 / 24),
        ("day", 1.0),
        ("week", 7.0),
        ("month", 30.0),
        ("year", 365.0),
    ):
        if name in unit:
            return days
    return 1.0  # pragma: no cover - the regex only admits the units above


def ages(text: str) -> list[tuple[str, float]]:
    """Ages stated in the text: ('18岁', 18.0), ('under 13', 13.0)."""
    found = [(m.group(0), cn_number(m.group(1))) for m in _ZH_AGE.finditer(text)]
    for match in _EN_AGE.finditer(text):
        number = match.group(1) or match.group(2)
        found.append((match.group(0), float(number)))
    return found


def periods(text: str) -> list[tuple[str, float]]:
    """Periods in the text, in days: ('30天', 30.0), ('十五个工作日', 21.0), ('1 year', 365.0)."""
    text = DATE_IN_TEXT.sub(" ", text)
    text = _EN_AGE.sub(" ", _ZH_AGE.sub(" ", text))
    found = [
        (m.group(0), cn_number(m.group(1)) * _DAYS[m.group(2)]) for m in _ZH_PERIOD.finditer(text)
    ]
    found += [
        (m.group(0), _en_number(m.group(1)) * _en_days(m.group(2)))
        for m in _EN_PERIOD.finditer(text)
    ]
    return found


def _number_signal(
    feature: str, old: list[tuple[str, float]], new: list[tuple[str, float]], up: str, down: str
) -> Signal | None:
    if Counter(round(v, 3) for _, v in old) == Counter(round(v, 3) for _, v in new):
        return None
    old_texts = [t for t, _ in old]
    new_texts = [t for t, _ in new]
    gone = [t for t in old_texts if t not in new_texts]
    came = [t for t in new_texts if t not in old_texts]
    if old and new:
        high_old, high_new = max(v for _, v in old), max(v for _, v in new)
        direction = up if high_new > high_old else down if high_new < high_old else CHANGED
    else:
        direction = CHANGED
    replaced = tuple(zip(gone, came, strict=False))
    added = tuple(came[len(replaced) :])
    removed = tuple(gone[len(replaced) :])
    triggers = tuple(dict.fromkeys([*gone, *came]))
    return Signal(feature, direction, added, removed, replaced, triggers)


def number_signals(old: str, new: str) -> list[Signal]:
    """Changed periods (longer / shorter) and ages (higher / lower)."""
    found = [
        _number_signal("period", periods(old), periods(new), "longer", "shorter"),
        _number_signal("age", ages(old), ages(new), "higher", "lower"),
    ]
    return [s for s in found if s is not None]


_ZH_COMPANY = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]{2,40}?(?:股份有限公司|有限责任公司|有限公司)")


_ZH_COMPANY_LEAD = re.compile(
    r"^.*(?:委托|授权|包括|以及|并且|或者|和|与|及|向|由|的|是|在|为|将|给|对|从|即"
    r"|受托方|受托人|服务提供商|供应商|合作伙伴)"
)


_EN_COMPANY = re.compile(
    r"(?:[A-Z0-9][\w&'-]*\.?\s+){0,5}[A-Z0-9][\w&'-]*,?\s+(?:Co\.,?\s*Ltd\b\.?|Inc\b\.?|LLC\b"
    r"|Ltd\b\.?|Limited\b"
    r"|Corporation\b|Corp\b\.?|GmbH\b|B\.V\.|S\.A\.|PLC\b|plc\b)"
)


def entities(text: str) -> list[str]:
    """Company names: '上海蓝云网络科技有限公司', 'GitHub, Inc.', 'Mozilla Corporation'."""
    names = []
    for match in _ZH_COMPANY.finditer(text):
        name = match.group(0)
        trimmed = _ZH_COMPANY_LEAD.sub("", name)
        names.append(trimmed if len(trimmed) >= 6 else name)
    names += [m.group(0).strip() for m in _EN_COMPANY.finditer(text)]
    return names


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


_URL = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]\"'，。；,;]+[^\s<>()\[\]\"'，。；,;.]")


_PHONE = re.compile(
    r"(?<![\w.])(?:\+\d{1,3}[ -]?)?(?:\(\d{2,4}\)[ -]?|\d{2,4}[ -])\d{3,4}[ -]?\d{3,4}(?![\w])"
    r"|(?<!\d)1[3-9]\d{9}(?!\d)"
)


_POSTCODE = re.compile(
    r"(?:邮编|邮政编码|postcode|post code|postal code|zip code|zip)\s*:?\s*(\d{5,6})"
    r"|\b[A-Z]{2}\s+(\d{5})(?:-\d{4})?\b",
    re.IGNORECASE,
)


_ZH_ADDRESS = re.compile(
    r"(?:[\u4e00-\u9fff]{2,3}省)?[\u4e00-\u9fff]{2,4}市[\u4e00-\u9fff\d·\-]{2,60}?"
    r"(?:号楼|号院|层|室|大厦|号)"
)


_EN_ADDRESS = re.compile(
    r"\d{1,5}\s+(?:[A-Z][\w.'-]*\s+){1,5}(?:St|Street|Ave|Avenue|Road|Rd|Blvd|Boulevard|Way"
    r"|Lane|Drive|Dr|Square|Place)\b\.?"
)


def contact_channels(text: str, *, urls: bool = True) -> list[str]:
    """Emails, phone numbers, postcodes, postal addresses and (if `urls`) web addresses
    written in the text."""
    found = _EMAIL.findall(text) + (_URL.findall(text) if urls else [])
    without = _URL.sub(" ", _EMAIL.sub(" ", text))
    found += [m.group(0).strip() for m in _PHONE.finditer(without)]
    found += [m.group(1) or m.group(2) for m in _POSTCODE.finditer(without)]
    found += _ZH_ADDRESS.findall(without) + _EN_ADDRESS.findall(without)
    return found


def _set_signal(feature: str, old: list[str], new: list[str]) -> Signal | None:
    old_set, new_set = list(dict.fromkeys(old)), list(dict.fromkeys(new))
    gone = [x for x in old_set if x not in new_set]
    came = [x for x in new_set if x not in old_set]
    if not gone and not came:
        return None
    direction = CHANGED if gone and came else ADVERSE if came else FAVOURABLE
    replaced = tuple(zip(gone, came, strict=False))
    return Signal(
        feature,
        direction,
        tuple(came[len(replaced) :]),
        tuple(gone[len(replaced) :]),
        replaced,
        tuple([*gone, *came]),
    )


def entity_signals(old: str, new: str, *, urls: bool = True) -> list[Signal]:
    """Changed company names and contact channels (emails, phones, postcodes, addresses and,
    with `urls`, web addresses: only in contact sections, elsewhere they are documentation)."""
    found = [
        _set_signal("entity", entities(old), entities(new)),
        _set_signal(
            "contact_channel", contact_channels(old, urls=urls), contact_channels(new, urls=urls)
        ),
    ]
    return [s for s in found if s is not None]


_WORD_REGEX: dict[str, re.Pattern[str]] = {}


def polarity_tokens(text: str, polarity: Polarity) -> list[str]:
    """Negation, modal and timing words in order ("不会", "仅", "will", "not", "前"), with
    compounds that only look like them ("供应商", "社会") skipped."""
    words = sorted(
        {*polarity.negation, *polarity.modal, *polarity.before, *polarity.after},
        key=len,
        reverse=True,
    )
    cjk = [w for w in words if not w.isascii()]
    latin = [w for w in words if w.isascii()]
    same = {w: g[0] for g in polarity.same for w in g}
    found: list[tuple[int, str]] = []
    i = 0
    while i < len(text):
        if _CJK_CHAR.match(text[i]):
            stop = next((s for s in polarity.stop if text.startswith(s, i)), None)
            if stop:
                i += len(stop)
                continue
            word = next((w for w in cjk if text.startswith(w, i)), None)
            if word:
                found.append((i, same.get(word, word)))
                i += len(word)
                continue
        i += 1
    spans: list[tuple[int, int]] = []
    for word in latin:
        regex = _WORD_REGEX.get(word)
        if regex is None:
            regex = re.compile(rf"(?<![A-Za-z']){re.escape(word)}(?![A-Za-z'])", re.IGNORECASE)
            _WORD_REGEX[word] = regex
        for match in regex.finditer(text):
            if not any(s <= match.start() < e for s, e in spans):
                spans.append((match.start(), match.end()))
                found.append((match.start(), same.get(word, word)))
    return [w for _, w in sorted(found)]


def _split_compounds(tokens: list[str], polarity: Polarity) -> list[str]:
    """不会 and 不将 as 不 plus 会: 不会出售 → 不出售 keeps the negation, drops a plain word."""
    same = {w: g[0] for g in polarity.same for w in g}
    split: list[str] = []
    for token in tokens:
        head, rest = token[:1], same.get(token[1:], token[1:])
        if not token.isascii() and head in polarity.negation and rest in polarity.plain:
            split += [head, rest]
        else:
            split.append(token)
    return split


def polarity_signal(pairs: Sequence[tuple[str, str]], polarity: Polarity) -> Signal | None:
    """A flip in modified sentences: 不会→会, 仅→可能, 前→后, will not→may, only→also."""
    removed: list[str] = []
    added: list[str] = []
    lost_all: Counter[str] = Counter()  # compounds split (不会 as 不 + 会): what decides
    gained_all: Counter[str] = Counter()
    for old, new in pairs:
        before, after = polarity_tokens(old, polarity), polarity_tokens(new, polarity)
        lost = Counter(before) - Counter(after)
        gained = Counter(after) - Counter(before)
        removed += [w for w in dict.fromkeys(before) if lost[w]]
        added += [w for w in dict.fromkeys(after) if gained[w]]
        split_before = Counter(_split_compounds(before, polarity))
        split_after = Counter(_split_compounds(after, polarity))
        lost_all += split_before - split_after
        gained_all += split_after - split_before
    if not removed and not added:
        return None
    negation_lost = any(w in polarity.negation for w in lost_all)
    timing_back = any(w in polarity.before for w in lost_all) and not any(
        w in polarity.before for w in gained_all
    )
    timing_forward = any(w in polarity.after for w in lost_all) and any(
        w in polarity.before for w in gained_all
    )
    significant = [
        w
        for w in [*lost_all, *gained_all]
        if (w in polarity.negation or w in polarity.modal) and w not in polarity.plain
    ]
    negation_only_gained = not lost_all and any(w in polarity.negation for w in gained_all)
    if negation_lost or timing_back:
        direction = ADVERSE
    elif timing_forward or negation_only_gained:  # a new 不会 / 仅 / only: a narrower promise
        direction = FAVOURABLE
    elif significant:
        direction = CHANGED
    else:
        return None  # only a stray 前/后/before/after: no flip
    join = " " if all(w.isascii() for w in [*removed, *added]) else ""
    old, new = join.join(removed), join.join(added)
    if old and new:
        return Signal("polarity", direction, (), (), ((old, new),), (f"{old}→{new}",))
    return Signal(
        "polarity", direction, (new,) if new else (), (old,) if old else (), (), (old or new,)
    )


def commitment_signal(removed_sentences: Sequence[str], polarity: Polarity) -> Signal | None:
    """Whole sentences deleted that held a promise (不会, 仅, 未经, will not, only)."""
    snippets, tokens = [], []
    for sentence in removed_sentences:
        found = [w for w in polarity_tokens(sentence, polarity) if w in polarity.negation]
        if found:
            snippets.append(snippet(sentence))
            tokens += found
    if not snippets:
        return None
    return Signal(
        "commitment_removed", ADVERSE, (), tuple(snippets), (), tuple(dict.fromkeys(tokens))
    )


_LIST_ITEM = re.compile(r"(?m)^[ \t]*(?:[-*+]|\d{1,3}[.)])[ \t]+(\S.*)$")


def list_item_signal(old_text: str, new_text: str) -> Signal | None:
    """Items added to (or dropped from) a Markdown list in the section."""
    old_items = [normalise(m.group(1)) for m in _LIST_ITEM.finditer(old_text)]
    new_items = [normalise(m.group(1)) for m in _LIST_ITEM.finditer(new_text)]
    if len(new_items) == len(old_items):
        return None
    if len(new_items) > len(old_items):
        came = [snippet(i) for i in new_items if i not in old_items]
        return Signal("list_item", ADVERSE, tuple(came), (), (), tuple(came))
    gone = [snippet(i) for i in old_items if i not in new_items]
    return Signal("list_item", FAVOURABLE, (), tuple(gone), (), tuple(gone))


_MARKUP_LEAD = re.compile(r"(?m)^[ \t]*(?:[-*+]|\d{1,3}[.)]|#{1,6}|>)[ \t]+")


def snippet(text: str, limit: int = 40) -> str:
    """A fragment as shown in an explanation: Markdown markers and runs of space removed, and
    cut after a whole word when it is longer than `limit`."""
    text = re.sub(r"\s+", " ", _MARKUP_LEAD.sub("", text)).strip()
    if len(text) <= limit:
        return text
    kept = ""
    for token in tokens(text):
        if len(kept) + len(token) > limit - 1:
            break
        kept += token
    return (kept.rstrip() or text[: limit - 1]) + "…"


def quote(text: str) -> str:
    """A sentence as written, for evidence: its punctuation and wording kept, only Markdown
    block markers and line breaks (reflow) taken out."""
    lines = [_MARKUP_LEAD.sub("", line).strip() for line in text.strip().splitlines()]
    joined = ""
    for line in (line for line in lines if line):
        # Chinese and its full-width punctuation (from U+2E80) reflow without a space
        cjk_join = joined and (ord(joined[-1]) >= 0x2E80 or ord(line[0]) >= 0x2E80)
        joined += line if not joined or cjk_join else " " + line
    return joined


def changed_words(old: str, new: str, limit: int = 40) -> list[tuple[str, str]]:
    """(before, after) for each run of whole words that differs between two sentences; a run of
    one Chinese character takes its neighbouring words along, so it reads as words."""
    a, b = list(tokens(old)), list(tokens(new))
    runs = []
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        while _too_short(a[i1:i2], b[j1:j2]) and (i1 > 0 or i2 < len(a)):
            i1, j1 = (i1 - 1, j1 - 1) if i1 > 0 and j1 > 0 else (i1, j1)
            i2, j2 = (i2 + 1, j2 + 1) if i2 < len(a) and j2 < len(b) else (i2, j2)
            if (i1, i2) == (0, len(a)) or (j1, j2) == (0, len(b)):
                break
        runs.append((snippet("".join(a[i1:i2]), limit), snippet("".join(b[j1:j2]), limit)))
    return list(dict.fromkeys(r for r in runs if r[0] or r[1]))


def _too_short(old: Sequence[str], new: Sequence[str]) -> bool:
    """Whether a changed run is a lone character, letter or mark, not yet words to quote."""
    return all(len(letters("".join(side))) < 2 for side in (old, new) if side)


_WORD = re.compile(r"[A-Za-z']+|\S")


def letters(text: str) -> str:
    """Only letters, digits and CJK: what is left when punctuation and symbols are dropped."""
    return "".join(ch for ch in text if ch.isalnum())


def without_repeats(text: str) -> list[str]:
    """Words and other characters, with immediate repeats of a word dropped."""
    tokens = _WORD.findall(text.lower())
    return [t for i, t in enumerate(tokens) if i == 0 or t != tokens[i - 1] or len(t) == 1]


# --- rewording: the same statement in other words ---------------------------------------------

_MD_LINK = re.compile(r"!?\[([^\[\]\n]*)\]\(\s*<?([^()\s<>]*)>?(?:\s+\"[^\"\n]*\")?\s*\)")
_BARE_URL = re.compile(r"<?((?:https?://|www\.)[^\s<>()\[\]\"']*[^\s<>()\[\]\"'.,;:!?])>?")
# Link texts that only say "there" (GitHub Docs fills AUTOTITLE with the target page's title).
_PLACEHOLDER = re.compile(
    r"^\W*(?:autotitle|here|click here|this page|this article|this link"
    r"|这里|此处|本页|此页面|此链接)\W*$",
    re.IGNORECASE,
)
# A sentence that only points the reader to another page ("For more information, see …").
_POINTER_START = re.compile(
    r"^[\s>*_\"'|-]*(?:for (?:more|additional|further) (?:information|details)|for details"
    r"|learn more|to learn (?:more|how)|please (?:see|review|refer|visit)|refer to|see|read more"
    r"|more information|详见|详情请|参见|请参阅|请参见|请查看|请访问|了解更多|如需了解|更多信息)",
    re.IGNORECASE,
)
_POINTER_BEFORE_LINK = re.compile(
    r"(?:\bsee|\bvisit|\bdescribed|\bexplained|\bavailable|参阅|参见|访问|查看)\W{0,3}$",
    re.IGNORECASE,
)
_TOKEN_SPLIT = re.compile(
    r"⟦[^⟧]*⟧|↗?[A-Za-z][A-Za-z'’-]*|↗?\d+(?:\.\d+)?|↗?[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
)
_CN_NUMERAL = re.compile(
    r"[零〇一二两三四五六七八九十百千]+(?=个?(?:工作日|自然日|天|日|年|月|周|星期|小时|分钟|岁|周岁|次|项|条|家|名|%))"
)
_EN_NUMERAL = re.compile(
    r"\b(" + "|".join(sorted(_EN_NUMBERS, key=len, reverse=True)) + r")\b", re.I
)
# Words that carry no fact of their own: articles, pronouns, auxiliaries, and the vocabulary of
# pointers to other pages. Polarity words are compared separately (as facts), not here.
_FUNCTION_WORDS = frozenset(
    "a an the and or of to in on at for by with from as is are be been being was were this that "
    "these those it its our we us you your they their them which who whom such any all some more "
    "most also will shall would does do did has have had please see information learn about here "
    "further additional details described below above following through via using can may "
    "article page section find read visit refer review there".split()
    + list("的了和及与或并等之其也都均而且就即将会")
)


_LINK_WORD = re.compile(
    r"[A-Za-z][A-Za-z'’-]*|\d+(?:\.\d+)?|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
)


def site(target: str) -> str:
    """The site a link points to: its host without www., or "" for a link inside this site."""
    match = re.match(r"(?:[a-z][a-z0-9+.-]*:)?//([^/?#:]+)", target, re.IGNORECASE)
    if match is None:
        match = re.match(r"www\.([^/?#:]+)", target, re.IGNORECASE)
        return match.group(1).lower() if match else ""
    return re.sub(r"^www\.", "", match.group(1).lower())


@dataclass(frozen=True, slots=True)
class Statement:
    """A changed sentence (or several) as compared for rewording: its words (link texts marked
    ↗, links as the site they point to), the sites it links to, and the text whose facts count
    (the titles of links that only point elsewhere left out)."""

    tokens: tuple[str, ...]
    sites: frozenset[str]
    text: str


def _link_text(match: re.Match[str], sentence: str, sites: set[str]) -> tuple[str, str]:
    """(tokens text, facts text) for one Markdown link."""
    text, target = match.group(1), match.group(2)
    where = site(target)
    sites.add(where)
    before = sentence[: match.start()]
    if _PLACEHOLDER.match(text) or _POINTER_BEFORE_LINK.search(before):
        return f" ⟦{where}⟧ ", " "
    marked = " ".join("↗" + word for word in _LINK_WORD.findall(text))
    return f" {marked} ⟦{where}⟧ ", f" {text} "


def statement(text: str, fold: Callable[[str], str]) -> Statement:
    """`text` prepared for `reworded`; `fold` is the canonical folding (synonyms, width, case)."""
    tokens: list[str] = []
    facts: list[str] = []
    sites: set[str] = set()
    paragraphs = re.split(r"\n[ \t]*\n", text)
    for sentence in (piece for part in paragraphs for piece, _ in _pieces(part)):
        if not sentence.strip():
            continue
        found: set[str] = set()
        if _POINTER_START.match(sentence) and (
            _MD_LINK.search(sentence) or _BARE_URL.search(sentence)
        ):
            found.update(site(m.group(2)) for m in _MD_LINK.finditer(sentence))
            found.update(site(m.group(1)) for m in _BARE_URL.finditer(sentence))
            tokens += [f"⟦{s}⟧" for s in sorted(found)]
            sites |= found
            continue  # it states nothing of its own: only where to read more
        words, fact = [], []
        last = 0
        for match in _MD_LINK.finditer(sentence):
            words.append(sentence[last : match.start()])
            fact.append(sentence[last : match.start()])
            shown, counted = _link_text(match, sentence, found)
            words.append(shown)
            fact.append(counted)
            last = match.end()
        words.append(sentence[last:])
        fact.append(sentence[last:])
        plain = _BARE_URL.sub(lambda m: f" ⟦{site(m.group(1))}⟧ ", "".join(words))
        found.update(site(m.group(1)) for m in _BARE_URL.finditer("".join(words)))
        sites |= found
        facts.append(_BARE_URL.sub(" ", "".join(fact)))
        tokens += _tokens(fold(plain))
    return Statement(tuple(tokens), frozenset(sites), " ".join(facts))


def _tokens(text: str) -> list[str]:
    text = _CN_NUMERAL.sub(lambda m: f" {cn_number(m.group(0)):g} ", text)
    text = _EN_NUMERAL.sub(lambda m: f" {_en_number(m.group(1)):g} ", text)
    found = []
    for token in _TOKEN_SPLIT.findall(text):
        token = token.lower().replace("’", "'")
        token = re.sub(r"'s$", "", token).strip("'-")
        if token and token != "↗":
            found.append(token)
    return found


def _same_word(a: str, b: str) -> bool:
    """One word in another form: cookie/cookies, repos/repositories, info/information."""
    a, b = a.lstrip("↗"), b.lstrip("↗")
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    stem = short[:-1] if short.endswith("s") else short
    return short.isalpha() and len(stem) >= 4 and long.startswith(stem)


def reworded(old: Statement, new: Statement) -> bool:
    """Whether `new` says `old` in other words: every word that came or went is a function word,
    the same word in another form, or the text of a link that still points to the same sites."""
    if old.sites != new.sites:
        return False
    matcher = SequenceMatcher(None, old.tokens, new.tokens, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        gone = [t for t in old.tokens[i1:i2] if _carries_fact(t)]
        came = [t for t in new.tokens[j1:j2] if _carries_fact(t)]
        for word in list(gone):
            partner = next((c for c in came if _same_word(word, c)), None)
            if partner is not None:
                gone.remove(word)
                came.remove(partner)
        if gone or came:
            return False
    return True


def _carries_fact(token: str) -> bool:
    if token.startswith(("↗", "⟦")):
        return False  # a link's own text or place: the links still go to the same sites
    return token not in _FUNCTION_WORDS


def numbers(text: str) -> Counter[float]:
    """Every number stated, whatever its form: 30, 三十 (before a unit), thirty."""
    text = _CN_NUMERAL.sub(lambda m: f" {cn_number(m.group(0)):g} ", text)
    text = _EN_NUMERAL.sub(lambda m: f" {_en_number(m.group(1)):g} ", text)
    return Counter(float(n) for n in re.findall(r"\d+(?:\.\d+)?", text))


def promise_words(text: str, polarity: Polarity) -> Counter[str]:
    """The negation, modal and timing words a sentence promises with (plain words left out)."""
    tokens = _split_compounds(polarity_tokens(text, polarity), polarity)
    return Counter(t for t in tokens if t not in polarity.plain)


_STREET = re.compile(r"(?<![\w.])(\d{1,5})\s+([A-Z][A-Za-z]+)")
_CITY = re.compile(r"([A-Z][a-z]+(?:\s+[A-Z][a-z]+){0,3}),?\s+([A-Z]{2})\s+\d{5}")


def postcodes(text: str) -> list[str]:
    """The postcodes written in the text (邮编 100080, zip 94107, CA 94107)."""
    return [m.group(1) or m.group(2) for m in _POSTCODE.finditer(text)]


def _place(text: str) -> tuple[frozenset[str], ...]:
    """Where an address is, postcode aside: street numbers with their street's first word,
    city and state, Chinese addresses (市 to 号/层/室), and the emails and phones."""
    without = _URL.sub(" ", _EMAIL.sub(" ", text))
    return (
        frozenset(f"{m.group(1)} {m.group(2)}" for m in _STREET.finditer(without)),
        frozenset(f"{m.group(1)}, {m.group(2)}" for m in _CITY.finditer(without)),
        frozenset(_ZH_ADDRESS.findall(without)),
        frozenset(_EMAIL.findall(text)),
        frozenset(m.group(0) for m in _PHONE.finditer(without)),
    )


def postcode_corrected(old: str, new: str) -> tuple[str, ...]:
    """'old→new' postcodes when only the postcode of the same address changed (the same street
    and number, city, emails and phones): a correction, not a new way to reach anyone."""
    before, after = postcodes(old), postcodes(new)
    if not before or len(before) != len(after) or before == after:
        return ()
    place = _place(old)
    if place != _place(new) or not (place[0] or place[2]) or not (place[1] or place[2]):
        return ()
    return tuple(f"{a}→{b}" for a, b in zip(before, after, strict=True) if a != b)
