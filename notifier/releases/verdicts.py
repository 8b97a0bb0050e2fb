"""The release log: every release with its verdict against the release before it.

`notices log`, the site, `notify` and the scheduler all ask the same question of a release: did
it change the statement materially? This module answers it once, the same way for all of them.
The answer is one per version: a translation carries the verdict of the same version in the
source locale (the project's default), so the English release of a T3 change is never "not
material" beside its Chinese original.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass

from notifier.releases.history import History, Release
from notifier.releases.judgement_cache import Judged, JudgementCache
from notifier.statement.diff import Comparison, compare
from notifier.statement.materiality import RuleSet, Verdict, assess


@dataclass(frozen=True, slots=True)
class AssessedRelease:
    """A release, the one it follows (None for a notice's first) and the verdict between them.

    The comparison is this release's own (a redline shows the very changes of its locale);
    the verdict is the source locale's when the release is a translation of a version there.
    `source` is that source-locale release (None: the release is its own source).
    """

    release: Release
    previous: Release | None
    verdict: Verdict | None
    comparison: Comparison | None = None
    source: Release | None = None


def assess_release(
    history: History,
    release: Release,
    rules: RuleSet,
    verdicts: MutableMapping[str, Verdict | None] | None = None,
    stored: JudgementCache | None = None,
) -> AssessedRelease:
    """The release's verdict against the one before it (`verdicts` caches source verdicts;
    `stored` keeps comparisons and verdicts between runs)."""
    previous = history.previous(release)
    if previous is None:
        return AssessedRelease(release, None, None)
    source = verdict_source(history, release)
    verdict = None if source is None else _verdict_of(history, source, rules, verdicts, stored)
    if verdict is None:
        own = judged(previous, release, rules, stored)
        return AssessedRelease(release, previous, own.verdict, own.comparison)
    if stored is None:
        comparison = compare(previous.notice_doc, release.notice_doc)
    else:
        comparison = stored.compared(previous, release)
    return AssessedRelease(release, previous, verdict, comparison, source)


def judged(
    previous: Release, release: Release, rules: RuleSet, stored: JudgementCache | None
) -> Judged:
    """`release` compared with `previous` and the verdict on that comparison (from `stored`
    when it holds them, else computed, and stored when there is a cache)."""

    def judge() -> Judged:
        comparison = compare(previous.notice_doc, release.notice_doc)
        verdict = assess(
            comparison,
            rules,
            previous=previous.notice_doc.front,
            override=release.override,
            previous_override=previous.override,
        )
        return Judged(comparison, verdict)

    return judge() if stored is None else stored.judged(previous, release, rules, judge)


def verdict_source(history: History, release: Release) -> Release | None:
    """The source release whose verdict a translation takes; None when the release is judged
    on its own (not a translation, or its source is its locale's first release: no verdict)."""
    source = source_release(history, release)
    return None if source is None or history.previous(source) is None else source


def source_release(history: History, release: Release) -> Release | None:
    """The same version of the notice in the source locale, when `release` is a translation."""
    if release.locale == history.default_locale:
        return None
    return next(
        (
            r
            for r in history.releases_of(release.notice, history.default_locale)
            if r.version == release.version
        ),
        None,
    )


def _verdict_of(
    history: History,
    release: Release,
    rules: RuleSet,
    verdicts: MutableMapping[str, Verdict | None] | None,
    stored: JudgementCache | None,
) -> Verdict | None:
    if verdicts is not None and release.id in verdicts:
        return verdicts[release.id]
    verdict = assess_release(history, release, rules, verdicts, stored).verdict
    if verdicts is not None:
        verdicts[release.id] = verdict
    return verdict


def assessed_releases(
    history: History,
    rules: RuleSet,
    notice: str | None = None,
    stored: JudgementCache | None = None,
) -> tuple[AssessedRelease, ...]:
    """Every release in publish order (optionally of one notice), each with its verdict."""
    verdicts: dict[str, Verdict | None] = {}
    assessed = []
    for release in history.releases:
        if notice is None or release.notice == notice:
            item = assess_release(history, release, rules, verdicts, stored)
            verdicts.setdefault(release.id, item.verdict)
            assessed.append(item)
    return tuple(assessed)
