"""The release log: every release with its verdict against the release before it.

`notices log`, the site and the scheduler all ask the same question of a release: did it change
the statement materially? This module answers it once, the same way for all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from notifier.releases.history import History, Release
from notifier.statement.diff import Comparison, compare
from notifier.statement.materiality import RuleSet, Verdict, assess


@dataclass(frozen=True, slots=True)
class AssessedRelease:
    """A release, the one it follows (None for a notice's first) and the verdict between them.

    The comparison the verdict was made from comes along, so a redline shows the very changes
    that were judged instead of diffing the pair again.
    """

    release: Release
    previous: Release | None
    verdict: Verdict | None
    comparison: Comparison | None = None


def assess_release(history: History, release: Release, rules: RuleSet) -> AssessedRelease:
    previous = history.previous(release)
    if previous is None:
        return AssessedRelease(release, None, None)
    comparison = compare(previous.notice_doc, release.notice_doc)
    verdict = assess(
        comparison, rules, previous=previous.notice_doc.front, override=release.override
    )
    return AssessedRelease(release, previous, verdict, comparison)


def assessed_releases(
    history: History, rules: RuleSet, notice: str | None = None
) -> tuple[AssessedRelease, ...]:
    """Every release in publish order (optionally of one notice), each with its verdict."""
    return tuple(
        assess_release(history, release, rules)
        for release in history.releases
        if notice is None or release.notice == notice
    )
