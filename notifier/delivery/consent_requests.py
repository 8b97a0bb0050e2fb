"""Mail consent questions again, outside the notice: the one reminder, or a fresh link.

Both go the notice's way (the configured transport, one batch per locale and set of
questions), each recipient with personal links made today; the mail itself never holds an
address other than the delivery's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from notifier.consent.links import link
from notifier.consent.texts import ConsentText
from notifier.delivery import ledger
from notifier.delivery.mail import Recipient, Sent, consent_placeholder
from notifier.delivery.mail.render import ConsentNote, ConsentRequest, render_request
from notifier.delivery.mail.transports import configured_transport
from notifier.settings import Settings

CONSENT_OUTBOX = "outbox-consent"  # under var/: fresh links and reminders written as files


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
