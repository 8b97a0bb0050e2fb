"""A fresh consent link by mail, for whoever holds an expired one, within limits.

The fresh link goes to the delivery's own recipient, never to an address given on the page,
but anyone holding the expired link can ask: without a limit they could make us mail that
person again and again. So each fresh link mailed is recorded, and one question of one
delivery gets at most one fresh link per `SPACING` and `PER_DAY` a day; a request beyond that,
or for a customer suppressed since, sends nothing. The page answers every request the same.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select

from notifier.consent.texts import consent_text
from notifier.consent.tokens import Grant
from notifier.delivery import ledger
from notifier.delivery.consent_requests import send_request
from notifier.errors import ConsentError, MailError
from notifier.logs import mask_email
from notifier.settings import Settings
from notifier.storage import db

log = logging.getLogger(__name__)
# A lost or slow mail deserves a second link after a short wait, and a customer who comes back
# later in the day a third; more than that in a day is someone else pressing the button, and
# each press would land in the customer's inbox.
SPACING = timedelta(minutes=15)
PER_DAY = 3
Outcome = Literal["sent", "limited", "suppressed"]


def reissue(settings: Settings, grant: Grant, *, now: datetime | None = None) -> Outcome:
    """Mail a fresh link to the question `grant` asked, bound to the current text, to the
    recipient of its delivery, unless the limits or a suppression say no; MailError when the
    transport refuses it (then it does not count against the limits)."""
    engine = db.engine(settings)
    found = ledger.delivery(engine, grant.delivery_id)
    if found is None or found[0] != grant.release_id:
        raise ConsentError(
            f"delivery {grant.delivery_id} is not one of release {grant.release_id}",
            hint="the link was made for another database",
        )
    release_id, delivery = found
    if delivery.suppressed:  # bounced or suppressed by hand: the account team tells them
        log.warning(
            "no fresh consent link for %s: the customer is suppressed", mask_email(delivery.email)
        )
        return "suppressed"
    current = now or datetime.now(settings.timezone)
    claim = _claim(engine, grant, current)
    if claim is None:
        log.warning(
            "no fresh consent link for %s: %s asked for too often",
            mask_email(delivery.email),
            grant.article,
        )
        return "limited"
    text = consent_text(settings, release_id, delivery.locale, grant.article)
    outcome = send_request(settings, (text,), [delivery], reminder=False, now=current)
    if not outcome.ok or outcome.failures:
        with engine.begin() as connection:
            connection.execute(delete(db.consent_reissues).where(db.consent_reissues.c.id == claim))
        error = outcome.error or outcome.failures[0][1]
        raise MailError(f"the fresh link to {mask_email(delivery.email)} failed: {error}")
    log.info("a fresh consent link went to %s", mask_email(delivery.email))
    return "sent"


def _claim(engine: Engine, grant: Grant, now: datetime) -> int | None:
    """Record a fresh link about to be mailed (its row id), or None when the limits are
    reached. One request at a time per delivery decides, so concurrent requests cannot all
    pass the same check."""
    table, at = db.consent_reissues, now.astimezone(UTC)
    question = and_(table.c.delivery_id == grant.delivery_id, table.c.article == grant.article)
    recent = select(
        func.count().filter(table.c.sent_at > at - timedelta(days=1)),
        func.count().filter(table.c.sent_at > at - SPACING),
    ).where(question)
    with engine.begin() as connection:
        _serialise(connection, grant.delivery_id)
        today, lately = connection.execute(recent).one()
        if today >= PER_DAY or lately:
            return None
        values = {"delivery_id": grant.delivery_id, "article": grant.article, "sent_at": at}
        claimed: int = connection.execute(
            insert(table).values(values).returning(table.c.id)
        ).scalar_one()
        return claimed


def _serialise(connection: Connection, delivery_id: int) -> None:
    """SQLite takes its write lock at once; PostgreSQL locks the delivery's row."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    query = select(db.deliveries.c.id).where(db.deliveries.c.id == delivery_id)
    connection.execute(query.with_for_update())
