"""Where the recipients of a release stand on its consent questions, for operators.

`notices notify status` counts who agreed, declined or never answered; `notices consent report`
lists, masked, those who declined (or withdrew) and those who never answered, so that account
teams can follow up. What happens to their service is not this tool's decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from notifier.consent import records
from notifier.consent.triggers import triggers_of
from notifier.releases.history import History, Release, read_history
from notifier.releases.verdicts import assess_release, source_release
from notifier.settings import Settings
from notifier.statement.materiality import rules_for
from notifier.storage import db


@dataclass(frozen=True, slots=True)
class Report:
    """The questions a release asks, their counts, and who has not agreed (declined, withdrew
    or never answered), in customer order per question."""

    release_id: str
    version: str
    effective: date
    counts: dict[str, dict[str, int]]
    outstanding: tuple[records.Answer, ...]


def _release(settings: Settings, version: str) -> tuple[History, Release]:
    """The release whose customers were told (a translation's: its source's)."""
    history = read_history(settings.repo, settings)
    release = history.find(version)
    return history, source_release(history, release) or release


def articles(settings: Settings, history: History, release: Release) -> tuple[str, ...]:
    """The articles `release` asks consent for (none when notice alone is enough)."""
    verdict = assess_release(history, release, rules_for(settings)).verdict
    return tuple(trigger.article for trigger in triggers_of(verdict))


def totals(per_article: Mapping[str, Mapping[str, int]]) -> dict[str, int]:
    """agreed, declined, no_answer over every question (a recipient asked two counts twice)."""
    return {key: sum(tally[key] for tally in per_article.values()) for key in records.COUNTED}


def report(settings: Settings, version: str) -> Report:
    """Who declined, withdrew or never answered each question of `version`."""
    history, release = _release(settings, version)
    asked = articles(settings, history, release)
    engine = db.engine(settings)
    outstanding = tuple(
        answer
        for answer in records.answers(engine, release.id, asked)
        if answer.decision != "agree"
    )
    counts = records.counts_by_article(engine, release.id, asked) if asked else {}
    return Report(release.id, release.version, release.effective, counts, outstanding)
