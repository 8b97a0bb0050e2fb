"""Explainable materiality: which changes to a notice customers must be told about, and how early.

Every verdict names the rule (M01–M24 material, N01–N15 quiet), the section and the words that
triggered it, and each rule cites its source (GB/T 35273-2020, PIPL, EDPB WP260, FTC). The rules
are package data (`rules/materiality.yaml`), overridable in the `[materiality]` table of
notices.toml. A verdict has three answers: material (a rule fired, with its evidence), not
material (only editorial kinds of change), and undecided (a substantive change in a section about
personal information that no rule explains, M24): undecided is neither of the others, and blocks
publication until the editor decides for that very version.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from notifier import rules as rules_data
from notifier.errors import ConfigError
from notifier.settings import SETTINGS_FILE, Settings
from notifier.statement.diff import DELETE, INSERT, Change, Comparison, normalise
from notifier.statement.notice import FrontMatter, Section
from notifier.statement.wording import (
    ADVERSE,
    CHANGED,
    FAVOURABLE,
    Polarity,
    Scope,
    Signal,
    changed_sentences,
    changed_words,
    commitment_signal,
    contact_channels,
    count,
    entities,
    entity_signals,
    fold,
    has_cjk,
    keyword_change,
    keyword_delta,
    letters,
    levenshtein,
    list_item_signal,
    mentions,
    number_signals,
    numbers,
    opposite,
    polarity_signal,
    polarity_tokens,
    postcode_corrected,
    postcodes,
    promise_words,
    quote,
    reworded,
    statement,
    without_repeats,
)

if TYPE_CHECKING:
    from notifier.settings.schema import MaterialityRule, MaterialityTable

TIERS = ("T0", "T1", "T2", "T3")
MATERIAL_LEVELS = ("always", "usually", "review", "undecided")
FEATURES = (
    "entity",
    "contact_channel",
    "period",
    "age",
    "polarity",
    "commitment_removed",
    "list_item",
)
RULES_RESOURCE = "notifier/rules/materiality.yaml"


# --- the rules -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeywordGroup:
    """Words counted before and after; `added` says what adding one means for the person."""

    words: tuple[str, ...]
    added: str  # ADVERSE | FAVOURABLE
    anywhere: bool = False  # fire in every section, not only the rule's watched ones
    tier: str | None = None  # tier when this group's change is adverse (None: the rule's)
    unless: tuple[str, ...] = ()  # words that keep the group's words in their sentence silent
    near: tuple[str, ...] = ()  # outside watched sections, count only in lines with one of these


@dataclass(frozen=True, slots=True)
class Rule:
    """A material change kind (M01–M24) with its signals, tiers, sources and explanation."""

    id: str
    title_zh: str
    title_en: str
    sources: tuple[str, ...]
    material: str  # always | usually | review | undecided
    tier: str  # when adverse
    tier_favourable: str
    tier_changed: str
    watch: tuple[str, ...]  # section categories; () = every section
    keywords: tuple[KeywordGroup, ...] = ()
    features: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    escalate_tier: str | None = None
    escalate_words: tuple[str, ...] = ()
    period_longer: str = ADVERSE
    favourable_rule: str | None = None
    why_zh: str = ""
    why_en: str = ""
    consent: str | None = None  # the article requiring separate consent ("PIPL 29")
    claims_named: bool = False  # a company named where its words count is its (M07, M08)

    def watches(self, category: str | None) -> bool:
        return not self.watch or (category is not None and category in self.watch)

    def tier_for(self, direction: str, group_tier: str | None = None) -> str:
        if direction == ADVERSE:
            return group_tier or self.tier
        return self.tier_favourable if direction == FAVOURABLE else self.tier_changed


@dataclass(frozen=True, slots=True)
class QuietRule:
    """A change kind that is not material (N01–N15)."""

    id: str
    title_zh: str
    title_en: str
    sources: tuple[str, ...]
    why_zh: str
    why_en: str


@dataclass(frozen=True, slots=True)
class Category:
    """A kind of section (our seed's ids), found by id or by words in its heading."""

    id: str
    rule: str | None
    personal: bool
    headings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The rules in force: the packaged catalogue with notices.toml's overrides applied."""

    rules: Mapping[str, Rule]
    quiet: Mapping[str, QuietRule]
    categories: tuple[Category, ...]
    personal_words: tuple[str, ...]
    synonyms: tuple[tuple[str, ...], ...]
    renames: tuple[tuple[str, ...], ...]
    polarity: Polarity
    frames: Mapping[str, str]
    quiet_frames: Mapping[str, str]
    words: Mapping[str, Mapping[str, str]]
    notes: Mapping[str, Mapping[str, str]]
    tier_names: Mapping[str, Mapping[str, str]]
    typo_max_cjk: int = 2
    typo_max_latin: int = 3
    disabled: frozenset[str] = frozenset()
    boilerplate: tuple[str, ...] = ()
    scope: Scope = Scope()
    consistent: tuple[tuple[str, ...], ...] = ()  # renamed throughout one comparison (N15)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)


# --- the verdict -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evidence:
    """A sentence a reason rests on, as written before and after (None: it was not there)."""

    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a change got its tier: the rule, its source, the words, in Chinese and English, the
    sentences they sit in, and the article requiring separate consent, if one does."""

    rule: str
    title_zh: str
    title_en: str
    sources: tuple[str, ...]
    triggers: tuple[str, ...]
    explanation_zh: str
    explanation_en: str
    tier: str
    direction: str = ""
    section_id: str = ""
    evidence: tuple[Evidence, ...] = ()
    consent: str | None = None
    # the rule's reason in plain words for readers, without code, section or trigger words
    why_zh: str = ""
    why_en: str = ""

    @property
    def separate_consent(self) -> bool:
        """Whether the consent is separate (PIPL 23, 25, 29, 39), not consent given again for a
        changed purpose or method (art. 14)."""
        return self.consent is not None and self.consent != RENEWED_CONSENT


RENEWED_CONSENT = "PIPL 14"
MATERIAL = "material"
NOT_MATERIAL = "not-material"
UNDECIDED = "undecided"
DECISIONS = (MATERIAL, NOT_MATERIAL, UNDECIDED)


@dataclass(frozen=True, slots=True)
class ChangeVerdict:
    """The verdict on one section's change: material, undecided or neither, its tier and reasons.

    An undecided change (only M24, a rule of level `undecided`, explains it) is not material:
    `tier` is what it would need if the editor decides it is.
    """

    change: Change
    material: bool
    tier: str
    reasons: tuple[Reason, ...]
    category: str | None = None
    undecided: bool = False

    @property
    def decision(self) -> str:
        return MATERIAL if self.material else UNDECIDED if self.undecided else NOT_MATERIAL


@dataclass(frozen=True, slots=True)
class Override:
    """The editor's decision for one version (`material: true|false` with `material_reason`).

    It belongs to that version alone: carried unchanged into the next release, it is ignored
    and `notices check` refuses it. `commit` made it (None: not committed yet).
    """

    material: bool
    reason: str
    version: str
    commit: str | None = None

    @classmethod
    def of(cls, front: FrontMatter | None, commit: str | None = None) -> Override | None:
        if front is None or front.material is None:
            return None
        return cls(front.material, front.material_reason or "", front.version or "", commit)

    def same_decision(self, other: Override | None) -> bool:
        """Whether `other` says the same thing (a copy carried forward, not a new decision)."""
        return other is not None and (other.material, other.reason) == (self.material, self.reason)


@dataclass(frozen=True, slots=True)
class Verdict:
    """The verdict on a release: `decision` (material, not-material or undecided) and its tier.

    The rules decide (`rules_decision`, `rules_tier`) unless the editor's `override` for this
    very version says otherwise; `stale_override` is one carried forward from an earlier
    release, shown and refused but never applied.
    """

    decision: str
    tier: str
    changes: tuple[ChangeVerdict, ...]
    override: Override | None = None
    rules_decision: str = NOT_MATERIAL
    rules_tier: str = "T0"
    stale_override: Override | None = None

    @property
    def material(self) -> bool:
        return self.decision == MATERIAL

    @property
    def undecided(self) -> bool:
        return self.decision == UNDECIDED

    @property
    def needs_notice(self) -> bool:
        """Whether customers may have to be told: material, or undecided until the editor says."""
        return self.decision != NOT_MATERIAL

    @property
    def override_reason(self) -> str | None:
        return self.override.reason if self.override else None

    @property
    def reasons(self) -> tuple[Reason, ...]:
        """Every reason of every material or undecided change, in document order."""
        return tuple(r for cv in self.changes if cv.material or cv.undecided for r in cv.reasons)

    @property
    def rules_fired(self) -> tuple[str, ...]:
        """The material rules that fired, each once, in order of first appearance."""
        return tuple(dict.fromkeys(r.rule for r in self.reasons))

    def of(self, change: Change) -> ChangeVerdict | None:
        """The verdict on one change of the comparison (matched by identity, then equality)."""
        for judged in self.changes:
            if judged.change is change:
                return judged
        return next((judged for judged in self.changes if judged.change == change), None)


def tier_max(tiers: Iterable[str]) -> str:
    """The highest of some tiers ("T0" when there are none)."""
    return max(tiers, key=TIERS.index, default="T0")


# --- loading ---------------------------------------------------------------------------------


def _packaged() -> Mapping[str, Any]:
    return rules_data.packaged("materiality")


def _fold_word(word: str) -> str:
    """Keywords are matched on normalised text, so they are normalised the same way (a stem's
    final * kept)."""
    if word.endswith("*"):
        return (normalise(word[:-1]) or word[:-1]) + "*"
    return normalise(word) or word


def _group(raw: Mapping[str, Any], where: str) -> KeywordGroup:
    added = raw.get("added", ADVERSE)
    if added not in (ADVERSE, FAVOURABLE):
        raise ConfigError(f"{where}: 'added' must be adverse or favourable", path=RULES_RESOURCE)
    words = tuple(_fold_word(str(w)) for w in [*raw.get("zh", []), *raw.get("en", [])])
    tier = raw.get("tier")
    unless = tuple(_fold_word(str(w)) for w in raw.get("unless", ()))
    near = tuple(_fold_word(str(w)) for w in raw.get("near", ()))
    return KeywordGroup(words, added, bool(raw.get("anywhere", False)), tier, unless, near)


def _rule(rule_id: str, raw: Mapping[str, Any]) -> Rule:
    tier = raw.get("tier", "T2")
    escalate = raw.get("escalate") or {}
    return Rule(
        id=rule_id,
        title_zh=raw["title_zh"],
        title_en=raw["title_en"],
        sources=tuple(raw.get("sources", ())),
        material=raw.get("material", "always"),
        tier=tier,
        tier_favourable=raw.get("tier_favourable", "T1"),
        tier_changed=raw.get("tier_changed", tier),
        watch=tuple(raw.get("watch", ())),
        keywords=tuple(
            _group(g, f"{rule_id}.keywords[{i}]") for i, g in enumerate(raw.get("keywords", ()))
        ),
        features={str(k): tuple(v or ()) for k, v in (raw.get("features") or {}).items()},
        escalate_tier=escalate.get("tier"),
        escalate_words=tuple(_fold_word(str(w)) for w in escalate.get("words", ())),
        period_longer=raw.get("period_longer", ADVERSE),
        favourable_rule=raw.get("favourable_rule"),
        why_zh=raw.get("why_zh", ""),
        why_en=raw.get("why_en", ""),
        consent=raw.get("consent"),
        claims_named=bool(raw.get("claims_named", False)),
    )


def _quiet(rule_id: str, raw: Mapping[str, Any]) -> QuietRule:
    return QuietRule(
        rule_id,
        raw["title_zh"],
        raw["title_en"],
        tuple(raw.get("sources", ())),
        raw.get("why_zh", ""),
        raw.get("why_en", ""),
    )


def _check_packaged(rules: Mapping[str, Rule], categories: Sequence[Category]) -> None:
    """The packaged catalogue is data too: fail loudly on a tier or category typo in it."""
    known = {c.id for c in categories}
    for rule in rules.values():
        tiers = [rule.tier, rule.tier_favourable, rule.tier_changed, rule.escalate_tier]
        tiers += [g.tier for g in rule.keywords]
        bad = [t for t in tiers if t is not None and t not in TIERS]
        unknown = [
            c
            for c in [*rule.watch, *(c for v in rule.features.values() for c in v)]
            if c not in known
        ]
        features = [f for f in rule.features if f not in FEATURES]
        if bad or unknown or features or rule.material not in MATERIAL_LEVELS:
            raise ConfigError(
                f"rule {rule.id}: bad tier {bad}, category {unknown}, feature {features} "
                f"or material {rule.material!r}",
                path=RULES_RESOURCE,
            )


def _apply_rule_override(rule: Rule, override: MaterialityRule) -> Rule:
    """A rule with its `[materiality.rules.<id>]` table (checked by the settings schema) applied."""
    changes: dict[str, Any] = {
        name: tier
        for name in ("tier", "tier_favourable", "tier_changed")
        if (tier := getattr(override, name)) is not None
    }
    if override.watch is not None:
        changes["watch"] = override.watch
    extra = [_fold_word(w) for w in (*override.keywords_zh, *override.keywords_en)]
    if extra:
        changes["keywords"] = (*rule.keywords, KeywordGroup(tuple(extra), ADVERSE))
    if "tier" in changes and "tier_changed" not in changes and rule.tier_changed == rule.tier:
        changes["tier_changed"] = changes["tier"]
    fields = {name: getattr(rule, name) for name in Rule.__dataclass_fields__}
    return Rule(**{**fields, **changes})


def load_rules(
    overrides: MaterialityTable | Mapping[str, Any], *, source: Path | None = None
) -> RuleSet:
    """The packaged rules with `[materiality]` overrides from notices.toml applied.

    `overrides` is `settings.materiality_overrides`, checked when settings loaded, or a mapping
    like `{"disabled": ["M15"], "rules": {"M13": {"tier": "T2", "keywords_zh": ["微信"]}}}`,
    checked here by the same schema: unknown rule ids, keys, tiers or categories are
    `ConfigError`s naming the key and `source` (default notices.toml).
    """
    if isinstance(overrides, Mapping):
        from notifier.settings.schema import materiality_table  # pydantic only for a mapping

        overrides = materiality_table(overrides, source)
    data = _packaged()
    categories = tuple(
        Category(
            str(cid),
            raw.get("rule"),
            bool(raw.get("personal", True)),
            tuple(str(h).lower() for h in raw.get("headings", ())),
        )
        for cid, raw in data["categories"].items()
    )
    rules = {str(rid): _rule(str(rid), raw) for rid, raw in data["rules"].items()}
    _check_packaged(rules, categories)
    quiet = {str(qid): _quiet(str(qid), raw) for qid, raw in data["quiet"].items()}
    synonyms = tuple(tuple(_fold_word(w) for w in g) for g in data.get("synonyms", ()))
    renames = tuple(tuple(_fold_word(w) for w in g) for g in data.get("renames", ()))
    disabled = frozenset(overrides.disabled)
    for rule_id, override in overrides.rules.items():
        rules[rule_id] = _apply_rule_override(rules[rule_id], override)
    synonyms += overrides.synonyms
    renames += overrides.renames
    boilerplate = (*data.get("boilerplate", ()), *overrides.boilerplate)
    pol = data["polarity"]
    polarity = Polarity(
        negation=tuple(_fold_word(w) for w in [*pol["negation"]["zh"], *pol["negation"]["en"]]),
        modal=tuple(_fold_word(w) for w in [*pol["modal"]["zh"], *pol["modal"]["en"]]),
        before=tuple(_fold_word(w) for w in [*pol["before"]["zh"], *pol["before"]["en"]]),
        after=tuple(_fold_word(w) for w in [*pol["after"]["zh"], *pol["after"]["en"]]),
        stop=tuple(pol.get("stop", ())),
        same=tuple(tuple(g) for g in pol.get("same", ())),
        plain=tuple(pol.get("plain", ())),
    )
    return RuleSet(
        rules={rid: rule for rid, rule in rules.items() if rid not in disabled},
        quiet={qid: q for qid, q in quiet.items() if qid not in disabled},
        categories=categories,
        personal_words=tuple(_fold_word(w).lower() for w in data.get("personal_words", ())),
        synonyms=synonyms,
        renames=renames,
        polarity=polarity,
        frames=dict(data["frames"]),
        quiet_frames=dict(data["quiet_frames"]),
        words={k: dict(v) for k, v in data["words"].items()},
        notes={k: dict(v) for k, v in data["notes"].items()},
        tier_names={k: dict(v) for k, v in data["tiers"].items()},
        typo_max_cjk=int(data.get("typo", {}).get("max_cjk", 2)),
        typo_max_latin=int(data.get("typo", {}).get("max_latin", 3)),
        disabled=disabled,
        # longest first; ties in one order in every run (a set's order changes between runs)
        boilerplate=tuple(sorted({_fold_word(b) for b in boilerplate}, key=lambda b: (-len(b), b))),
        scope=_scope(data.get("scope") or {}),
    )


def _scope(raw: Mapping[str, Any]) -> Scope:
    """The negations, exceptions and limiting phrases that keep a mention from counting."""

    def both(key: str) -> list[str]:
        part = raw.get(key) or {}
        return [str(w) for w in (*part.get("zh", ()), *part.get("en", ()))]

    limits = both("limits")
    for limit in limits:
        try:
            re.compile(limit)
        except re.error as error:
            raise ConfigError(f"scope.limits: {limit!r}: {error}", path=RULES_RESOURCE) from None
    return Scope(
        tuple(_fold_word(w) for w in both("negation")),
        tuple(_fold_word(w) for w in both("exception")),
        tuple(limits),
    )


# --- text: folding and counting --------------------------------------------------------------


_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def canonical(text: str, rules: RuleSet, *, synonyms: bool = True, renames: bool = True) -> str:
    """Normalised text (diff.normalise, HTML comments dropped) with synonyms and product
    renames folded to one word each."""
    groups = [
        *(rules.synonyms if synonyms else ()),
        *((*rules.renames, *rules.consistent) if renames else ()),
    ]
    text = normalise(_HTML_COMMENT.sub(" ", text))
    if rules.boilerplate and any(b in text for b in rules.boilerplate):
        for chrome in rules.boilerplate:
            text = text.replace(chrome, " ")
        text = normalise(text)
    return fold(text, groups)


# --- text: sentences that changed ------------------------------------------------------------


# --- signals ---------------------------------------------------------------------------------


def keyword_signals(old: str, new: str, rules: RuleSet, category: str | None) -> list[Signal]:
    """Keyword groups whose words were added or removed, one signal per group."""
    signals = []
    for rule in rules.rules.values():
        for group in rule.keywords:
            watched = rule.watches(category)
            if not (group.anywhere or watched):
                continue
            if group.near and not watched:  # only lines that say data goes there
                before, after = _lines_with(old, group.near), _lines_with(new, group.near)
            else:
                before, after = old, new
            change = keyword_change(before, after, group.words, rules.scope, group.unless)
            added, removed = change.added, change.removed
            if not added and not removed:
                continue
            if added and removed:
                direction = CHANGED
            elif added:
                direction = group.added
            else:
                direction = opposite(group.added)
            signals.append(
                Signal(
                    "keywords",
                    direction,
                    added,
                    removed,
                    (),
                    (*added, *removed),
                    rule.id,
                    group.tier,
                    change.released,
                )
            )
    return signals


def _lines_with(text: str, words: Sequence[str]) -> str:
    """The lines of `text` that hold one of `words` (where a place name says where data goes)."""
    return "\n".join(line for line in text.split("\n") if any(count(line, w) for w in words))


# Numbers: periods (days, business days, months, years) and ages.


# --- sections --------------------------------------------------------------------------------


def category_of(change: Change, rules: RuleSet) -> str | None:
    """The category of a change's section: by id, else by words in its heading or its parents'."""
    titles = [t for t in (change.new_title, change.old_title) if t]
    for path in (change.section, change.old_section):
        if path:
            titles += list(reversed(path.split(" > ")))
    ids = (change.section_id, change.new_section_id, change.old_section_id)
    return section_category(ids, titles, rules)


def section_category(
    ids: Iterable[str | None], titles: Iterable[str], rules: RuleSet
) -> str | None:
    """The first category named by one of `ids`, else the first whose heading words occur in
    one of `titles` (own heading first, then the parents')."""
    known = {c.id for c in rules.categories}
    for section_id in ids:
        if section_id in known:
            return section_id
    for title in titles:
        lowered = unicodedata.normalize("NFKC", title).lower()
        for category in rules.categories:
            if any(word in lowered for word in category.headings):
                return category.id
    return None


def is_personal(change: Change, category: str | None, rules: RuleSet) -> bool:
    """Whether the section is about personal information (where unexplained change is material)."""
    if category is not None:
        found = rules.category(category)
        return found is not None and found.personal
    text = canonical(change.old_text + "\n" + change.new_text, rules).lower()
    return any(word in text for word in rules.personal_words)


# --- explaining ------------------------------------------------------------------------------


def _render_words(signal: Signal, language: str, rules: RuleSet) -> str:
    words = rules.words[language]
    join = words["join"]
    parts = []
    if signal.replaced:
        parts += [words["replaced"].format(a, b) for a, b in signal.replaced]
    if signal.added:
        parts.append(words["added"].format(join.join(signal.added)))
    if signal.removed:
        parts.append(words["removed"].format(join.join(signal.removed)))
    return words["sep"].join(parts)


def _explain(
    rule_id: str,
    title: tuple[str, str],
    why: tuple[str, str],
    section: str,
    signals: Sequence[Signal],
    note: tuple[str, str],
    rules: RuleSet,
) -> tuple[str, str]:
    texts = []
    for index, language in enumerate(("zh", "en")):
        words = rules.words[language]["sep"].join(
            dict.fromkeys(w for s in signals if (w := _render_words(s, language, rules)))
        )
        texts.append(
            rules.frames[language].format(
                rule=rule_id,
                title=title[index],
                section=section,
                words=words,
                why=why[index],
                note=note[index],
            )
        )
    return texts[0], texts[1]


def _section_name(change: Change) -> str:
    return change.section or change.new_title or change.old_title or change.section_id


def _note(name: str, words: Sequence[str], tier: str, rules: RuleSet) -> tuple[str, str]:
    """One of the notes an explanation may end with, in both languages."""
    found = []
    for language in ("zh", "en"):
        quoted = rules.words[language]["join"].join(f"“{w}”" for w in words)
        found.append(rules.notes[name][language].format(words=quoted, tier=tier))
    return found[0], " " + found[1]


def _reason(
    rule: Rule,
    direction: str,
    tier: str,
    signals: Sequence[Signal],
    change: Change,
    rules: RuleSet,
    escalated_by: Sequence[str] = (),
    sentences: Sequence[_Sentence] = (),
) -> Reason:
    notes = []
    released = tuple(dict.fromkeys(c for s in signals for c in s.released))
    if direction == FAVOURABLE:
        notes.append((rules.notes["favourable"]["zh"], " " + rules.notes["favourable"]["en"]))
    else:
        if released and "released" in rules.notes:
            notes.append(_note("released", released, tier, rules))
        if escalated_by:
            notes.append(_note("escalated", escalated_by, tier, rules))
    note = ("".join(n[0] for n in notes), "".join(n[1] for n in notes))
    zh, en = _explain(
        rule.id,
        (rule.title_zh, rule.title_en),
        (rule.why_zh, rule.why_en),
        _section_name(change),
        signals,
        note,
        rules,
    )
    triggers = tuple(dict.fromkeys(t for s in signals for t in s.triggers))
    return Reason(
        rule.id,
        rule.title_zh,
        rule.title_en,
        rule.sources,
        triggers,
        zh,
        en,
        tier,
        direction,
        change.section_id,
        _evidence(signals, sentences),
        rule.consent if direction != FAVOURABLE else None,
        rule.why_zh,
        rule.why_en,
    )


@dataclass(frozen=True, slots=True)
class _Sentence:
    """A changed sentence as written (raw) and as the rules read it (canonical)."""

    raw_old: str
    raw_new: str
    old: str
    new: str


_EVIDENCE_MAX = 5


def _evidence(signals: Sequence[Signal], sentences: Sequence[_Sentence]) -> tuple[Evidence, ...]:
    """The sentences a reason's words sit in: removed words in the sentence before, added ones
    in the sentence after; whole words first, else as written, else every changed sentence."""
    before = [w for s in signals for w in (*s.removed, *(a for a, _ in s.replaced)) if w]
    after = [w for s in signals for w in (*s.added, *(b for _, b in s.replaced)) if w]

    def holding(has: Callable[[str, str], bool]) -> list[_Sentence]:
        return [
            found
            for found in sentences
            if any(has(found.old, w) for w in before) or any(has(found.new, w) for w in after)
        ]

    chosen = (
        holding(lambda text, word: count(text, word) > 0)
        or holding(lambda text, word: word.lower() in text.lower())
        or list(sentences)
    )
    return tuple(
        Evidence(quote(found.raw_old) or None, quote(found.raw_new) or None)
        for found in chosen[:_EVIDENCE_MAX]
    )


def _quiet_reason(
    quiet_id: str, change: Change, rules: RuleSet, words: Sequence[str] = ()
) -> Reason | None:
    quiet = rules.quiet.get(quiet_id)
    if quiet is None:
        return None
    texts = []
    for language, why in (("zh", quiet.why_zh), ("en", quiet.why_en)):
        if words:
            why = why.replace("{words}", rules.words[language]["join"].join(words))
        else:
            why = re.sub(r"\s*[（(]\{words\}[）)]", "", why)
        title = quiet.title_zh if language == "zh" else quiet.title_en
        texts.append(
            rules.quiet_frames[language].format(
                rule=quiet.id, title=title, section=_section_name(change), why=why
            )
        )
    return Reason(
        quiet.id,
        quiet.title_zh,
        quiet.title_en,
        quiet.sources,
        tuple(words),
        texts[0],
        texts[1],
        "T0",
        "",
        change.section_id,
    )


# --- routing signals to rules ----------------------------------------------------------------


def _claimant(feature: str, category: str | None, rules: RuleSet) -> Rule | None:
    """The rule that owns a structural signal in this section: one that watches the section for
    it, else the first rule that claims the feature everywhere."""
    fallback = None
    for rule in rules.rules.values():
        sections = rule.features.get(feature)
        if sections is None:
            continue
        if category is not None and category in sections:
            return rule
        if not sections and fallback is None:
            fallback = rule
    return fallback


def _direction(signal: Signal, rule: Rule) -> str:
    if signal.direction in ("longer", "shorter"):
        longer = rule.period_longer
        return longer if signal.direction == "longer" else opposite(longer)
    if signal.direction in ("lower", "higher"):
        return ADVERSE if signal.direction == "lower" else FAVOURABLE
    return signal.direction


@dataclass(slots=True)
class _Finding:
    rule: Rule
    signals: list[Signal] = field(default_factory=list)
    directions: list[str] = field(default_factory=list)
    tiers: list[str] = field(default_factory=list)
    escalated_by: list[str] = field(default_factory=list)


def _route(
    signals: Sequence[Signal], category: str | None, context: str, rules: RuleSet
) -> dict[str, _Finding]:
    findings: dict[str, _Finding] = {}
    for signal in signals:
        rule = (
            rules.rules.get(signal.rule)
            if signal.rule
            else _claimant(signal.feature, category, rules)
        )
        if rule is None:
            continue
        direction = _direction(signal, rule)
        if direction == FAVOURABLE and rule.favourable_rule in rules.rules:
            rule = rules.rules[str(rule.favourable_rule)]
        tier = rule.tier_for(direction, signal.tier)
        finding = findings.setdefault(rule.id, _Finding(rule))
        if direction == ADVERSE and rule.escalate_tier:
            hits = [w for w in rule.escalate_words if count(context, w)]
            if hits and TIERS.index(rule.escalate_tier) > TIERS.index(tier):
                tier = rule.escalate_tier
                finding.escalated_by += [h for h in hits if h not in finding.escalated_by]
        finding.signals.append(signal)
        finding.directions.append(direction)
        finding.tiers.append(tier)
    return findings


def _merged_direction(directions: Sequence[str]) -> str:
    for direction in (ADVERSE, CHANGED, FAVOURABLE):
        if direction in directions:
            return direction
    return CHANGED  # pragma: no cover - a finding has at least one direction


# --- assessing -------------------------------------------------------------------------------


def _quiet_verdict(
    change: Change,
    quiet_id: str,
    rules: RuleSet,
    words: Sequence[str] = (),
    category: str | None = None,
) -> ChangeVerdict:
    reason = _quiet_reason(quiet_id, change, rules, words)
    return ChangeVerdict(change, False, "T0", (reason,) if reason else (), category)


def _formatting_kind(change: Change) -> str:
    labels = set(change.labels)
    if "link-target" in labels:
        return "N06"
    if "reorder" in labels or "section-order" in labels:
        return "N04"
    if labels == {"punctuation-width"}:
        return "N03"
    return "N02"


def _typo(pairs: Sequence[tuple[str, str]], change: Change, rules: RuleSet) -> tuple[str, ...]:
    """The corrected fragments if every changed sentence differs by a few characters only."""
    fragments = [*change.inserted, *change.deleted]
    if not pairs or any(not old or not new for old, new in pairs):
        return ()
    if any(ch.isdigit() for f in fragments for ch in f):
        return ()
    cjk = any(has_cjk(f) for f in fragments)
    limit = rules.typo_max_cjk if cjk else rules.typo_max_latin
    for old, new in pairs:  # the limit holds per sentence: one typo fixed in two places is fine
        if without_repeats(old) == without_repeats(new):
            continue  # a doubled word ("and and") removed or added
        if levenshtein(old, new, limit) > limit:
            return ()
    shown = [
        f"{d.strip()}→{i.strip()}" for d, i in zip(change.deleted, change.inserted, strict=False)
    ]
    shown += [f"−{d.strip()}" for d in change.deleted[len(change.inserted) :] if d.strip()]
    shown += [f"+{i.strip()}" for i in change.inserted[len(change.deleted) :] if i.strip()]
    return tuple(shown) or ("",)


def assess_change(change: Change, rules: RuleSet) -> ChangeVerdict:
    """The verdict on one change: the M-rules it fires, else why it is quiet, else M24."""
    category = category_of(change, rules)
    if change.kind == "formatting":
        return _quiet_verdict(change, _formatting_kind(change), rules, change.labels, category)
    if change.kind == "moved":
        where = [w for w in (change.moved_from, change.moved_to) if w]
        return _quiet_verdict(change, "N04", rules, where, category)
    if change.kind in ("added", "removed") and not change.inserted and not change.deleted:
        where = [w for w in (change.moved_from, change.moved_to) if w] or [change.section_id]
        return _quiet_verdict(change, "N04", rules, where, category)  # its text moved here
    body_pairs = changed_sentences(change)
    title_pair = _title_pair(change)
    raw_pairs = body_pairs + ([title_pair] if title_pair else [])
    pairs = [(canonical(o, rules), canonical(n, rules)) for o, n in raw_pairs]
    sentences = [
        _Sentence(ro, rn, o, n) for (ro, rn), (o, n) in zip(raw_pairs, pairs, strict=True) if o != n
    ]
    differing = [(found.old, found.new) for found in sentences]
    if not differing:
        return _folded_away(change, raw_pairs, category, rules)
    changed_raw = [raw for raw, (o, n) in zip(raw_pairs, pairs, strict=True) if o != n]
    saying = _restated(changed_raw, differing, rules)
    if not saying:
        return _restatement(change, raw_pairs, differing, category, rules)
    differing = saying
    sentences = [found for found in sentences if (found.old, found.new) in saying]
    personal = is_personal(change, category, rules)
    signals = _signals(change, differing, category, personal, rules)
    context = "\n".join(o + "\n" + n for o, n in differing)
    reasons = [
        _reason(
            finding.rule,
            _merged_direction(finding.directions),
            tier_max(finding.tiers),
            finding.signals,
            change,
            rules,
            finding.escalated_by,
            sentences,
        )
        for finding in _route(signals, category, context, rules).values()
    ]
    if reasons:
        reasons.sort(key=lambda r: (-TIERS.index(r.tier), r.rule))
        tier = tier_max(r.tier for r in reasons)
        decisive = any(rules.rules[r.rule].material != "undecided" for r in reasons)
        material = decisive and tier != "T0"
        return ChangeVerdict(change, material, tier, tuple(reasons), category, not decisive)
    if title_pair and not body_pairs:
        words = (f"{title_pair[0]}→{title_pair[1]}",)
        return _quiet_verdict(change, "N12", rules, words, category)
    if corrected := _address_corrected(change, differing, rules):
        return _quiet_verdict(change, "N14", rules, corrected, category)
    return _unexplained(change, raw_pairs, sentences, category, personal, rules)


def _facts(text: str, rules: RuleSet) -> tuple[object, ...]:
    """What a sentence states, as compared for a rewording: the rules' words it uses (actors,
    data, purposes, recipients, places, rights ...), its numbers in any form, company names,
    contact channels, and its promise words (negation, modality, timing)."""
    canon = canonical(text, rules)
    lowered = canon.lower()
    words = frozenset(
        word
        for rule in rules.rules.values()
        for group in rule.keywords
        for word in group.words
        if word.lower() in lowered and count(canon, word)  # the substring test is the cheap one
    )
    return (
        words,
        numbers(canon),
        frozenset(entities(canon)),
        frozenset(contact_channels(canon, urls=False)),
        promise_words(canon, rules.polarity),
    )


def _same_statement(old: str, new: str, rules: RuleSet) -> bool:
    """Whether `new` restates `old`: the same facts, in words that differ only in function words,
    word forms or the text of links that point to the same sites."""
    if max(len(old), len(new)) > 2 * min(len(old), len(new)) + 80:
        return False  # one says much more than the other: no rewording

    def fold(text: str) -> str:
        return canonical(text, rules)

    before, after = statement(old, fold), statement(new, fold)
    if not reworded(before, after):
        return False
    return _facts(before.text, rules) == _facts(after.text, rules)


def _restated(
    raw: Sequence[tuple[str, str]], pairs: Sequence[tuple[str, str]], rules: RuleSet
) -> list[tuple[str, str]]:
    """The changed sentence pairs that say something new: none when all of them together restate
    the same facts (a sentence cut differently on each side), else those that do not on their
    own."""
    if _same_block(raw, rules):
        return []
    if len(pairs) == 1:
        return list(pairs)  # the block was that one pair
    kept = [
        (index, pair)
        for index, pair in enumerate(pairs)
        if not (raw[index][0].strip() and raw[index][1].strip())
        or not _same_statement(raw[index][0], raw[index][1], rules)
    ]
    if len(kept) < len(pairs) and _same_block([raw[index] for index, _ in kept], rules):
        return []
    return [pair for _, pair in kept]


def _same_block(raw: Sequence[tuple[str, str]], rules: RuleSet) -> bool:
    old = " ".join(o for o, _ in raw).strip()
    new = " ".join(n for _, n in raw).strip()
    return bool(old and new) and _same_statement(old, new, rules)


def _title_pair(change: Change) -> tuple[str, str] | None:
    """The heading as a sentence of its own: when the section came or went, or was reworded."""
    old, new = change.old_title or "", change.new_title or ""
    if change.kind in ("added", "removed"):
        return old, new
    if old != new and normalise(old) != normalise(new):
        return old, new
    return None


def _folded_away(
    change: Change, raw_pairs: Sequence[tuple[str, str]], category: str | None, rules: RuleSet
) -> ChangeVerdict:
    """A change that vanishes once synonyms, renames, page chrome and formatting are folded."""
    bare = [
        (
            canonical(o, rules, synonyms=False, renames=False),
            canonical(n, rules, synonyms=False, renames=False),
        )
        for o, n in raw_pairs
    ]
    if any(o != n for o, n in bare):
        plain = [
            (canonical(o, rules, renames=False), canonical(n, rules, renames=False))
            for o, n in raw_pairs
        ]
        renamed = not all(o == n for o, n in plain)
        throughout = _group_swaps(raw_pairs, rules.consistent, rules) if renamed else ()
        if throughout:
            return _quiet_verdict(change, "N15", rules, throughout, category)
        groups = rules.renames if renamed else rules.synonyms
        words = _group_swaps(raw_pairs, groups, rules) or _swapped(raw_pairs)
        return _quiet_verdict(change, "N07" if renamed else "N08", rules, words, category)
    if "date-line" in change.labels:
        return _quiet_verdict(change, "N05", rules, (), category)
    return _quiet_verdict(change, _formatting_kind(change), rules, change.labels, category)


def _signals(
    change: Change,
    differing: Sequence[tuple[str, str]],
    category: str | None,
    personal: bool,
    rules: RuleSet,
) -> list[Signal]:
    """Everything the changed sentences (canonical, old and new) say changed."""
    old_all = "\n".join(o for o, _ in differing)
    new_all = "\n".join(n for _, n in differing)
    signals = keyword_signals(old_all, new_all, rules, category)
    if change.kind == "removed":  # a section's words going away is no narrowing of practice
        signals = [s for s in signals if s.direction != FAVOURABLE]
    signals += number_signals(old_all, new_all)
    signals += [
        _claimed(signal, differing, category, rules) if signal.feature == "entity" else signal
        for signal in entity_signals(old_all, new_all, urls=category == "contact")
    ]
    channels = any(s.feature == "contact_channel" for s in signals)
    if channels and _address_corrected(change, differing, rules):  # same address: same channel
        signals = [s for s in signals if s.feature != "contact_channel"]
    if any(o and not n for o, n in differing):
        signals = _narrowings_kept(signals, differing, category, rules)
    found = [
        polarity_signal([(o, n) for o, n in differing if o and n], rules.polarity),
        commitment_signal([o for o, n in differing if o and not n], rules.polarity),
        list_item_signal(change.old_text, change.new_text),
    ]
    signals += [signal for signal in found if signal is not None]
    if change.kind in ("added", "removed"):
        signals.append(_section_signal(change, category, personal, rules))
    return signals


def _claimed(
    signal: Signal, differing: Sequence[tuple[str, str]], category: str | None, rules: RuleSet
) -> Signal:
    """A company named in a sentence that makes it a recipient (提供给……用于其自身目的) or a
    processor (代表我们处理) belongs to that rule (`claims_named`), whatever the section."""
    before = [*signal.removed, *(a for a, _ in signal.replaced)]
    after = [*signal.added, *(b for _, b in signal.replaced)]
    context = [o for o, _ in differing if any(name in o for name in before)]
    context += [n for _, n in differing if any(name in n for name in after)]
    for rule in rules.rules.values():
        if not rule.claims_named:
            continue
        for group in rule.keywords:
            if not (group.anywhere or rule.watches(category)):
                continue
            if any(
                mentions(sentence, group.words, rules.scope, group.unless).affirmed
                for sentence in context
            ):
                return replace(signal, rule=rule.id)
    return signal


def _address_corrected(
    change: Change, differing: Sequence[tuple[str, str]], rules: RuleSet
) -> tuple[str, ...]:
    """The postcodes corrected when every changed sentence lies in a paragraph holding a postcode
    and only the postcode of the same address changed (street and number, city, email, phone)."""
    if not any(postcodes(o) or postcodes(n) for o, n in differing):
        return ()
    old = _postcode_paragraphs(change.old_text, rules)
    new = _postcode_paragraphs(change.new_text, rules)
    if not old or len(old) != len(new):
        return ()
    for before, after in differing:
        if not any(before in p for p in old) or not any(after in p for p in new):
            return ()
    return postcode_corrected("\n\n".join(old), "\n\n".join(new))


def _postcode_paragraphs(text: str, rules: RuleSet) -> list[str]:
    """The paragraphs (canonical) that hold a postcode."""
    folded = (canonical(p, rules) for p in re.split(r"\n[ \t]*\n", text))
    return [p for p in folded if postcodes(p)]


_NARROWING_FEATURES = ("keywords", "entity", "contact_channel")


def _narrowings_kept(
    signals: Sequence[Signal],
    differing: Sequence[tuple[str, str]],
    category: str | None,
    rules: RuleSet,
) -> list[Signal]:
    """Favourable word or name signals that hold without the sentences deleted outright: a
    statement removed is information gone, not a narrower practice (the editor decides, M24)."""
    kept_old = "\n".join(o for o, n in differing if n)
    new_all = "\n".join(n for _, n in differing)
    names: set[str] | None = None
    kept = []
    for s in signals:
        if s.direction != FAVOURABLE or s.feature not in _NARROWING_FEATURES:
            kept.append(s)
        elif s.feature == "keywords":
            added, removed = keyword_delta(kept_old, new_all, (*s.added, *s.removed))
            if set(added) & set(s.added) or set(removed) & set(s.removed):
                kept.append(s)
        else:
            if names is None:
                urls = category == "contact"
                names = {t for x in entity_signals(kept_old, new_all, urls=urls) for t in x.removed}
            if set(s.removed) & names:
                kept.append(s)
    return kept


def _restatement(
    change: Change,
    raw_pairs: Sequence[tuple[str, str]],
    differing: Sequence[tuple[str, str]],
    category: str | None,
    rules: RuleSet,
) -> ChangeVerdict:
    """Why a change that keeps every fact is quiet: punctuation, a typo, else a rewording."""
    if all(letters(o) == letters(n) for o, n in differing):
        return _quiet_verdict(change, "N03", rules, _swapped(raw_pairs), category)
    if typo := _typo(differing, change, rules):
        return _quiet_verdict(change, "N01", rules, typo, category)
    return _quiet_verdict(change, "N13", rules, _swapped(raw_pairs), category)


def _unexplained(
    change: Change,
    raw_pairs: Sequence[tuple[str, str]],
    sentences: Sequence[_Sentence],
    category: str | None,
    personal: bool,
    rules: RuleSet,
) -> ChangeVerdict:
    """No rule fired: punctuation, a typo, or text outside personal information is quiet;
    anything else about personal information is undecided until the editor decides (M24)."""
    differing = [(found.old, found.new) for found in sentences]
    if all(letters(o) == letters(n) for o, n in differing):
        return _quiet_verdict(change, "N03", rules, _swapped(raw_pairs), category)
    if typo := _typo(differing, change, rules):
        return _quiet_verdict(change, "N01", rules, typo, category)
    runs = _changed_runs(sentences)
    shown = tuple(f"{a}→{b}" if a and b else a or b for a, b in runs)
    if not personal or "M24" not in rules.rules:
        return _quiet_verdict(change, "N08", rules, shown, category)
    review = Signal(
        "review",
        CHANGED,
        added=tuple(b for a, b in runs if b and not a),
        removed=tuple(a for a, b in runs if a and not b),
        replaced=tuple((a, b) for a, b in runs if a and b),
        triggers=shown,
    )
    rule = rules.rules["M24"]
    reason = _reason(rule, CHANGED, rule.tier_changed, [review], change, rules, (), sentences)
    return ChangeVerdict(change, False, rule.tier_changed, (reason,), category, undecided=True)


def _changed_runs(sentences: Sequence[_Sentence], most: int = 3) -> list[tuple[str, str]]:
    """The whole words that differ between the changed sentences (markup and link targets
    aside)."""
    runs = [
        run
        for found in sentences
        for run in changed_words(normalise(found.raw_old), normalise(found.raw_new))
        if letters(run[0]) or letters(run[1])
    ]
    return list(dict.fromkeys(runs))[:most]


def _section_signal(change: Change, category: str | None, personal: bool, rules: RuleSet) -> Signal:
    """A whole section added (adverse) or removed (direction unknown: information is gone)."""
    title = change.new_title if change.kind == "added" else change.old_title
    shown = (title or change.section_id,)
    found = rules.category(category) if category else None
    rule_id = found.rule if found and found.rule in rules.rules else None
    if rule_id is None and personal and "M24" in rules.rules:
        rule_id = "M24"
    direction = ADVERSE if change.kind == "added" else CHANGED
    if change.kind == "added":
        return Signal("section", direction, shown, (), (), shown, rule_id)
    return Signal("section", direction, (), shown, (), shown, rule_id)


def _group_swaps(
    pairs: Sequence[tuple[str, str]], groups: Sequence[Sequence[str]], rules: RuleSet
) -> tuple[str, ...]:
    """'old→new' for the synonyms or renames swapped between the sentences."""
    old = "\n".join(canonical(o, rules, renames=False) for o, _ in pairs)
    new = "\n".join(canonical(n, rules, renames=False) for _, n in pairs)
    old_plain = "\n".join(normalise(o) for o, _ in pairs)
    new_plain = "\n".join(normalise(n) for _, n in pairs)
    shown = []
    for group in groups:
        added, removed = keyword_delta(old_plain, new_plain, group)
        if not added and not removed:
            added, removed = keyword_delta(old, new, group)
        if added and removed:
            shown.append(f"{removed[0]}→{added[0]}")
    return tuple(shown)


def _swapped(pairs: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """'old→new' for the whole words two versions of sentences differ in (quiet explanations)."""
    shown = [
        f"{a}→{b}"
        for old, new in pairs
        if normalise(old) != normalise(new)
        for a, b in changed_words(normalise(old), normalise(new))
    ]
    return tuple(dict.fromkeys(shown))


def consistent_renames(comparison: Comparison, rules: RuleSet) -> tuple[tuple[str, str], ...]:
    """(old, new) names swapped everywhere: 隐私政策 → 隐私声明 when every 政策 of the old version
    is 声明 in the new one and neither side had the other word. A name that holds a rule's
    word, a promise word, a number or part of a company name is a fact, never a rename."""
    old_text = _whole(comparison.old.sections)
    new_text = _whole(comparison.new.sections)
    found: dict[tuple[str, str, str, str], None] = {}  # (before, old, new, after) in order
    for change in comparison.changes:
        tagged = list(zip(change.ops, change.tags or ("",) * len(change.ops), strict=True))
        for k in range(1, len(tagged) - 1):
            (op, text), tag = tagged[k]
            (next_op, next_text), next_tag = tagged[k + 1]
            if tag or next_tag or {op, next_op} != {DELETE, INSERT}:
                continue
            lead = tagged[k - 1][0][1] if tagged[k - 1][0][0] == 0 else ""
            trail = tagged[k + 2][0][1] if k + 2 < len(tagged) and tagged[k + 2][0][0] == 0 else ""
            old, new = (text, next_text) if op == DELETE else (next_text, text)
            key = (lead, old.strip(), new.strip(), trail)
            found[key] = None
    companies: list[str] | None = None
    old_lower, new_lower = old_text.lower(), new_text.lower()
    renamed: dict[tuple[str, str], None] = {}
    for lead, old, new, trail in found:
        # the whole name: 隐私声明, not 声明 (CJK: longest first); statement, not This statement
        cjk = has_cjk(old + new)
        limit = rules.typo_max_cjk if cjk else rules.typo_max_latin
        if levenshtein(old, new, limit) <= limit:
            continue  # a typo fixed everywhere is still a typo (N01)
        sizes = sorted(
            ((a, b) for a in (0, 1, 2) for b in ((0, 1, 2) if cjk else (0,))),
            key=lambda ab: -(ab[0] + ab[1]) if cjk else ab[0] + ab[1],
        )
        for size, after_size in sizes:
            head, tail = _tail(lead, size), trail[:after_size]
            if len(tail) != after_size or not all(has_cjk(ch) for ch in tail):
                continue
            before, after = (head + old + tail).strip(), (head + new + tail).strip()
            if not (_a_word(before) and _a_word(after)):
                continue
            if not _renamed_throughout(before, after, old_text, new_text, old_lower, new_lower):
                continue
            if companies is None:
                companies = [*entities(old_text), *entities(new_text)]
            if _a_name(before, rules, companies) and _a_name(after, rules, companies):
                renamed[(before, after)] = None
                break
    return tuple(  # 隐私声明 → 隐私说明 once, not again as 隐私声明中 → 隐私说明中
        (a, b) for a, b in renamed if not any(o != a and o in a for o, _ in renamed)
    )


def _renamed_throughout(
    before: str, after: str, old_text: str, new_text: str, old_lower: str, new_lower: str
) -> bool:
    """`before` twice or more in the old text and never in the new, `after` the other way round
    (substring tests first: they are the cheap ones)."""
    low_before, low_after = before.lower(), after.lower()
    if old_lower.count(low_before) < 2 or new_lower.count(low_after) < 2:
        return False
    if low_before in new_lower and count(new_text, before):
        return False
    if low_after in old_lower and count(old_text, after):
        return False
    return count(old_text, before) >= 2 and count(new_text, after) >= 2


def _tail(text: str, size: int) -> str:
    """The last `size` CJK characters or Latin words of `text`, with the space after them."""
    if size == 0:
        return ""
    if text and has_cjk(text[-1]):
        tail = text[-size:]
        return tail if all(has_cjk(ch) for ch in tail) else ""
    words = re.findall(r"[A-Za-z]+\s+$|[A-Za-z]+\s+", text)
    return "".join(words[-size:]) if text[-1:].isspace() and len(words) >= size else ""


def _whole(sections: Iterable[Section]) -> str:
    return "\n".join(f"{s.title}\n{s.body}" for s in sections)


def _a_word(word: str) -> bool:
    """Letters only, two CJK characters or three letters at least."""
    if len(word) < (2 if has_cjk(word) else 3) or len(word) > 40:
        return False
    return all(ch.isalpha() or ch in " -'" for ch in word)


def _a_name(word: str, rules: RuleSet, companies: Sequence[str]) -> bool:
    """Whether `word` can be a document or party name: no fact of its own."""
    if polarity_tokens(word, rules.polarity) or any(word in c for c in companies):
        return False
    folded = _fold_word(word)
    return not any(
        count(folded, w) for rule in rules.rules.values() for g in rule.keywords for w in g.words
    )


def assess(
    comparison: Comparison,
    rules: RuleSet,
    front: FrontMatter | None = None,
    *,
    previous: FrontMatter | None = None,
    override: Override | None = None,
    previous_override: Override | None = None,
) -> Verdict:
    """The verdict on a comparison of two versions: per change, then for the release.

    Material when a change is (tier T1 or higher; the release tier is the highest); else
    undecided when a change is; else not material. The editor's override (from the new
    version's `front` matter, or given with the commit that made it) wins, unless the
    `previous` version carries the same decision: then it was carried forward, and that earlier
    release's override (`previous_override`, with its commit) is kept as `stale_override`.
    """
    renamed = consistent_renames(comparison, rules)
    if renamed:
        rules = replace(rules, consistent=(*rules.consistent, *renamed))
    verdicts = tuple(assess_change(change, rules) for change in comparison.changes)
    material = [v for v in verdicts if v.material]
    decision = (
        MATERIAL if material else UNDECIDED if any(v.undecided for v in verdicts) else NOT_MATERIAL
    )
    tier = tier_max(v.tier for v in (material or [v for v in verdicts if v.undecided]))
    override = override or Override.of(front)
    if override is None:
        return Verdict(decision, tier, verdicts, None, decision, tier)
    earlier = previous_override or Override.of(previous)
    if earlier is not None and override.same_decision(earlier):  # the earlier release's own
        return Verdict(decision, tier, verdicts, None, decision, tier, stale_override=earlier)
    if override.material:
        overridden = tier if tier != "T0" else "T2"
        return Verdict(MATERIAL, overridden, verdicts, override, decision, tier)
    return Verdict(NOT_MATERIAL, "T0", verdicts, override, decision, tier)


def rules_for(settings: Settings) -> RuleSet:
    """`load_rules` for a project: errors point at its notices.toml and the offending line."""
    return load_rules(settings.materiality_overrides, source=settings.repo / SETTINGS_FILE)
