"""A plan: who is told of a release, and when.

`notify` makes plans and `content` writes their mails; the plan lives apart from both so that
neither has to import the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from notifier.releases.history import History, Release
from notifier.releases.verdicts import AssessedRelease
from notifier.statement.materiality import Verdict


@dataclass(frozen=True, slots=True)
class Plan:
    """Who is told of a release, and when."""

    release: Release
    verdict: Verdict | None
    needed: bool
    services: tuple[str, ...]
    due_at: datetime
    effective_at: datetime
    per_locale: dict[str, int]
    # the same version in each locale we can mail (customers read their own); `content` module
    editions: Mapping[str, AssessedRelease]
    history: History  # the releases it was planned from: the site its mail links to is theirs

    @property
    def audience(self) -> int:
        return sum(self.per_locale.values())
