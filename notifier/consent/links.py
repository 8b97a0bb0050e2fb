"""Each recipient's personal links to the consent questions, and a fresh link by mail.

A link is the consent page's address with a token (`tokens`) that names one delivery, one
question and the hash of the text the page will show; it works until the grace period after
the effective date has passed. A customer whose link expired asks the page for a fresh one,
which goes by mail to the delivery's own recipient, never to an address given on the page.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime

from notifier.consent.texts import ConsentText, asked, consent_text
from notifier.consent.tokens import Grant, expiry, sign
from notifier.delivery import ledger
from notifier.delivery.mail import Recipient, Sent, consent_placeholder
from notifier.delivery.mail.render import ConsentNote, ConsentRequest, render_request
from notifier.delivery.mail.transports import configured_transport
from notifier.errors import ConsentError, MailError
from notifier.logs import mask_email
from notifier.releases.history import Release
from notifier.settings import Settings
from notifier.storage import db

log = logging.getLogger(__name__)
CONSENT_OUTBOX = "outbox-consent"  # under var/: fresh links and reminders written as files
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


def placeholders(links: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """The links as a mail's substitutions (see `consent_placeholder`)."""
    return tuple((consent_placeholder(article), url) for article, url in links)


def send_request(
    settings: Settings,
    texts: tuple[ConsentText, ...],
    deliveries: Sequence[ledger.Delivery],
    *,
    reminder: bool,
    now: datetime,
) -> Sent:
    """Mail `deliveries` (one locale's recipients of one release) fresh links to the questions
    `texts`, a reminder or a fresh link, as one batch of the configured transport."""
    first = texts[0]
    today = now.astimezone(settings.timezone).date()
    notes = tuple(
        ConsentNote(t.title, t.sections, t.trigger.separate, consent_placeholder(t.trigger.article))
        for t in texts
    )
    request = ConsentRequest(first.notice_title, first.version, first.effective, notes, reminder)
    message = render_request(request, first.locale, settings)
    recipients = [
        Recipient(
            person.id,
            person.email,
            person.name,
            links=tuple(
                (consent_placeholder(t.trigger.article), link(settings, person.id, t, today))
                for t in texts
            ),
        )
        for person in deliveries
    ]
    outbox = settings.var_dir / CONSENT_OUTBOX / first.version
    return configured_transport(settings, outbox).send(
        message, recipients, release_id=first.release_id
    )


def reissue(settings: Settings, grant: Grant, *, now: datetime | None = None) -> None:
    """Mail a fresh link to the question `grant` asked, bound to the current text, to the
    recipient of its delivery (an expired link's holder can ask; only the recipient gets it)."""
    found = ledger.delivery(db.engine(settings), grant.delivery_id)
    if found is None or found[0] != grant.release_id:
        raise ConsentError(
            f"delivery {grant.delivery_id} is not one of release {grant.release_id}",
            hint="the link was made for another database",
        )
    release_id, delivery = found
    if delivery.suppressed:  # bounced or suppressed by hand: the account team tells them
        log.warning("no fresh consent link for %s: the customer is suppressed",
                    mask_email(delivery.email))
        return
    text = consent_text(settings, release_id, delivery.locale, grant.article)
    current = now or datetime.now(settings.timezone)
    outcome = send_request(settings, (text,), [delivery], reminder=False, now=current)
    if not outcome.ok or outcome.failures:
        error = outcome.error or outcome.failures[0][1]
        raise MailError(f"the fresh link to {mask_email(delivery.email)} failed: {error}")
    log.info("a fresh consent link went to %s", mask_email(delivery.email))
