"""Each recipient's personal links to the consent questions.

A link is the consent page's address with a token (`tokens`) that names one delivery, one
question and the hash of the text the page will show; it works until the grace period after
the effective date has passed. Mailing them (in the notice, a reminder or a fresh link) is
delivery's part.
"""

from __future__ import annotations

from datetime import date, datetime

from notifier.consent.texts import ConsentText, asked
from notifier.consent.tokens import Grant, expiry, sign
from notifier.releases.history import Release
from notifier.settings import Settings

PAGE_PATH = "/consent/"


def ready(settings: Settings) -> bool:
    """Whether links can be made: the consent server's address and a signing key are set."""
    return bool(settings.consent_url and settings.consent_keys)


def page_url(settings: Settings, token: str) -> str:
    """The consent page of one token: `<[consent] url>/consent/<token>`."""
    return settings.consent_url.rstrip("/") + PAGE_PATH + token


def link_expiry(settings: Settings, effective: date, today: date | None = None) -> datetime:
    """When a link stops working: `grace_days` after the effective date, or after `today` for
    a link made once the effective date has passed (a fresh one must work for a while)."""
    start = max(effective, today) if today is not None else effective
    return expiry(start, settings.consent_grace_days, settings.timezone)


def link(settings: Settings, delivery_id: int, text: ConsentText, today: date | None = None) -> str:
    """The personal link to one question for one delivery."""
    grant = Grant(
        delivery_id=delivery_id,
        release_id=text.release_id,
        article=text.trigger.article,
        text_sha256=text.sha256,
        expires=link_expiry(settings, text.effective, today),
    )
    return page_url(settings, sign(grant, settings.consent_keys))


def consent_links(
    settings: Settings, delivery_id: int, release: Release, locale: str
) -> tuple[tuple[str, str], ...]:
    """(article, link) for each question `release` asks, in the locale of the mail."""
    return tuple(
        (text.trigger.article, link(settings, delivery_id, text))
        for text in asked(settings, release.id, locale)
    )
