"""The one reminder before a release takes effect, to those who have not answered.

Silence is never consent, so nobody is deemed to agree when the release takes effect; instead,
`[consent] reminder_days` before it, each recipient who has not answered a question gets one
mail with fresh links to the questions they left open. Those who declined are not asked again,
nor is a customer suppressed since (bounced, or by hand).
Each reminder is recorded once sent: a rerun reminds only those not reminded yet, and a crash
can at worst remind the batch that was in flight twice.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select

from notifier.consent import links, records
from notifier.consent.report import articles
from notifier.consent.texts import consent_text
from notifier.delivery import ledger
from notifier.delivery.mail import scrub
from notifier.releases.history import History, Release
from notifier.settings import Settings
from notifier.storage import db

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reminded:
    """How a reminder run went: recipients reminded, failed, and left without an answer."""

    reminded: int
    failed: int
    open: int
    asked: bool = True  # False: the release asks no consent (nothing to remind of)


def _reminded(engine: Engine, release_id: str) -> set[int]:
    table, deliveries = db.consent_reminders, db.deliveries
    query = (
        select(table.c.delivery_id)
        .join(deliveries, deliveries.c.id == table.c.delivery_id)
        .where(deliveries.c.release_id == release_id)
    )
    with engine.connect() as connection:
        return set(connection.execute(query).scalars())


def _mark(engine: Engine, delivery_ids: list[int], at: datetime) -> None:
    if delivery_ids:
        with engine.begin() as connection:
            connection.execute(
                db.consent_reminders.insert(),
                [{"delivery_id": i, "sent_at": at.astimezone(UTC)} for i in delivery_ids],
            )


def remind(settings: Settings, history: History, release: Release, now: datetime) -> Reminded:
    """Send the reminder to every recipient of `release` with a question left unanswered and
    no reminder yet, in batches per locale and set of open questions."""
    asked = articles(settings, history, release)
    if not asked:
        return Reminded(0, 0, 0, asked=False)
    engine = db.engine(settings)
    done = _reminded(engine, release.id)
    open_: dict[int, list[str]] = defaultdict(list)
    people: dict[int, ledger.Delivery] = {}
    for answer in records.answers(engine, release.id, asked):
        if answer.decision is None and not answer.suppressed:
            open_[answer.delivery_id].append(answer.article)
            people[answer.delivery_id] = ledger.Delivery(
                answer.delivery_id, answer.customer_id, answer.email, answer.name, answer.locale
            )
    groups: dict[tuple[str, tuple[str, ...]], list[ledger.Delivery]] = defaultdict(list)
    for delivery_id, open_articles in open_.items():
        if delivery_id not in done:
            person = people[delivery_id]
            groups[person.locale, tuple(open_articles)].append(person)
    reminded = failed = 0
    for (locale, questions), group in groups.items():
        texts = tuple(consent_text(settings, release.id, locale, a) for a in questions)
        for start in range(0, len(group), settings.mail_batch_size):
            batch = group[start : start + settings.mail_batch_size]
            outcome = links.send_request(settings, texts, batch, reminder=True, now=now)
            refused = {i for i, _ in outcome.failures} if outcome.ok else {d.id for d in batch}
            _mark(engine, [d.id for d in batch if d.id not in refused], now)
            reminded, failed = reminded + len(batch) - len(refused), failed + len(refused)
            if refused:
                error = outcome.error or outcome.failures[0][1]
                log.error("consent reminder: %d recipient(s) failed: %s", len(refused),
                          scrub(error))
    return Reminded(reminded, failed, len(open_))
