"""Which consent questions a release asks: one per article among its material changes' reasons.

The rules know which article a reason needs (`Reason.consent`); this module only gathers them
per release, so that each is asked on its own and agreeing to one never answers another. A
release that needs notice alone asks nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from notifier.statement.materiality import RENEWED_CONSENT, Verdict

# Separate consent: giving data to another handler (23), making it public (25), sensitive data
# (29), transfers abroad (39); consent given again for a changed purpose or method (14).
TRIGGERS = ("PIPL 23", "PIPL 25", "PIPL 29", "PIPL 39", RENEWED_CONSENT)


@dataclass(frozen=True, slots=True)
class Trigger:
    """One question: the article that requires it, and whether the consent must be separate."""

    article: str
    separate: bool

    @classmethod
    def of(cls, article: str) -> Trigger:
        return cls(article, article != RENEWED_CONSENT)


def triggers_of(verdict: Verdict | None) -> tuple[Trigger, ...]:
    """The questions a release asks, in the order of TRIGGERS; none unless it is material."""
    if verdict is None or not verdict.material:
        return ()
    asked = {
        reason.consent
        for judged in verdict.changes
        if judged.material
        for reason in judged.reasons
        if reason.consent in TRIGGERS
    }
    return tuple(Trigger.of(article) for article in TRIGGERS if article in asked)


def sections_asking(verdict: Verdict | None, article: str) -> tuple[str, ...]:
    """The ids of the material sections whose reasons ask for `article`, in document order."""
    if verdict is None or not verdict.material:
        return ()
    found = (
        judged.change.section_id
        for judged in verdict.changes
        if judged.material and any(r.consent == article for r in judged.reasons)
    )
    return tuple(dict.fromkeys(found))
