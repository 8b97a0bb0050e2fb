"""The ledger: one row per (release, customer) saying planned, sending, sent, failed or bounced.

SendGrid has no idempotency key, so this table is the guard against mailing anyone twice: a batch
is claimed (sending), sent, then marked, one transaction each. A crash leaves at most the claimed
batch in `sending`; the next run reclaims it and says so.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Engine, and_, func, insert, literal, or_, select, update

from notifier import db
from notifier.mail import Sent

STATUSES = ("planned", "sending", "sent", "failed", "bounced")
MAX_ATTEMPTS = 5


@dataclass(frozen=True, slots=True)
class Delivery:
    """One recipient of one release's notice; `id` is the opaque id sent as custom_args."""

    id: int
    customer_id: int
    email: str
    name: str
    locale: str


@dataclass(frozen=True, slots=True)
class Batch:
    id: str
    deliveries: tuple[Delivery, ...]


@dataclass(frozen=True, slots=True)
class ProofRow:
    customer_id: int
    email: str
    locale: str
    status: str
    sent_at: datetime | None
    message_id: str | None
    error: str | None


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def audience_filter(services: Sequence[str]) -> ColumnElement[bool]:
    """Active customers of any of `services`."""
    table = db.customers
    return and_(
        table.c.suppressed_reason.is_(None),
        or_(*(table.c.services.like(f"%;{service};%") for service in services)),
    )


def plan(engine: Engine, release_id: str, services: Sequence[str], due_at: datetime) -> int:
    """Add a planned delivery for every active customer of `services` not yet in the ledger."""
    customers, deliveries = db.customers, db.deliveries
    already = select(deliveries.c.id).where(
        deliveries.c.release_id == release_id, deliveries.c.customer_id == customers.c.id
    )
    chosen = select(
        literal(release_id),
        customers.c.id,
        customers.c.locale,
        literal(_utc(due_at)),
        literal("planned"),
        literal(0),
    ).where(audience_filter(services), ~already.exists())
    columns = ["release_id", "customer_id", "locale", "due_at", "status", "attempts"]
    with engine.begin() as connection:
        result = connection.execute(insert(deliveries).from_select(columns, chosen))
    return int(result.rowcount or 0)


def requeue(engine: Engine, release_id: str, stale_before: datetime) -> tuple[int, int]:
    """Before a run: batches a crashed sender left in `sending`, and failed deliveries with
    attempts left, go back to `planned`. Returns (reclaimed in-flight, failed requeued)."""
    table = db.deliveries
    with engine.begin() as connection:
        reclaimed = connection.execute(
            update(table)
            .where(
                table.c.release_id == release_id,
                table.c.status == "sending",
                table.c.claimed_at < _utc(stale_before),
            )
            .values(status="planned", batch_id=None)
        ).rowcount
        retried = connection.execute(
            update(table)
            .where(
                table.c.release_id == release_id,
                table.c.status == "failed",
                table.c.attempts < MAX_ATTEMPTS,
            )
            .values(status="planned", batch_id=None)
        ).rowcount
    return int(reclaimed or 0), int(retried or 0)


def claim(engine: Engine, release_id: str, size: int, now: datetime) -> Batch | None:
    """Mark up to `size` planned deliveries as sending, in one transaction."""
    table, customers = db.deliveries, db.customers
    batch_id = uuid.uuid4().hex
    due = (
        select(table.c.id)
        .where(
            table.c.release_id == release_id,
            table.c.status == "planned",
        )
        .order_by(table.c.id)
        .limit(size)
    )
    if engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    with engine.begin() as connection:
        connection.execute(
            update(table)
            .where(table.c.id.in_(due.scalar_subquery()))
            .values(
                status="sending",
                batch_id=batch_id,
                claimed_at=_utc(now),
                attempts=table.c.attempts + 1,
                error=None,
            )
        )
        rows = connection.execute(
            select(
                table.c.id, table.c.customer_id, customers.c.email, customers.c.name, table.c.locale
            )
            .join(customers, customers.c.id == table.c.customer_id)
            .where(table.c.batch_id == batch_id)
            .order_by(table.c.id)
        ).all()
    if not rows:
        return None
    return Batch(
        batch_id, tuple(Delivery(r.id, r.customer_id, r.email, r.name, r.locale) for r in rows)
    )


def mark(engine: Engine, batch_id: str, ids: Sequence[int], sent: Sent, at: datetime) -> None:
    """Record a transport's answer for some deliveries of a claimed batch."""
    table = db.deliveries
    values: dict[str, object] = (
        {"status": "sent", "message_id": sent.message_id, "sent_at": _utc(at)}
        if sent.ok
        else {"status": "failed", "error": sent.error[:2000]}
    )
    with engine.begin() as connection:
        connection.execute(
            update(table)
            .where(table.c.batch_id == batch_id, table.c.id.in_(ids), table.c.status == "sending")
            .values(**values)
        )


def counts(engine: Engine, release_id: str) -> dict[str, int]:
    table = db.deliveries
    with engine.begin() as connection:
        rows = connection.execute(
            select(table.c.status, func.count())
            .where(table.c.release_id == release_id)
            .group_by(table.c.status)
        ).all()
    found = {status: int(count) for status, count in rows}
    return {status: found.get(status, 0) for status in STATUSES}


def locale_counts(engine: Engine, services: Sequence[str]) -> dict[str, int]:
    """How many active customers of `services` there are per locale."""
    table = db.customers
    with engine.begin() as connection:
        rows = connection.execute(
            select(table.c.locale, func.count())
            .where(audience_filter(services))
            .group_by(table.c.locale)
            .order_by(table.c.locale)
        ).all()
    return {locale: int(count) for locale, count in rows}


def proof_rows(engine: Engine, release_id: str) -> Iterator[ProofRow]:
    """Every delivery of a release, streamed in customer order."""
    table, customers = db.deliveries, db.customers
    query = (
        select(
            table.c.customer_id,
            customers.c.email,
            table.c.locale,
            table.c.status,
            table.c.sent_at,
            table.c.message_id,
            table.c.error,
        )
        .join(customers, customers.c.id == table.c.customer_id)
        .where(table.c.release_id == release_id)
        .order_by(table.c.customer_id)
    )
    with engine.connect() as connection:
        for row in connection.execution_options(yield_per=5000).execute(query):
            yield ProofRow(
                row.customer_id,
                row.email,
                row.locale,
                row.status,
                _utc(row.sent_at),
                row.message_id,
                row.error,
            )
