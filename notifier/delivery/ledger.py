"""The ledger: one row per (release, customer) saying planned, sending, sent, failed or bounced.

SendGrid has no idempotency key, so this table is the guard against mailing anyone twice: a batch
is claimed (sending), sent, then marked, one transaction each. A crash leaves at most the claimed
batch in `sending`; the next run reclaims it and says so. The claim works for one SQLite writer
and for several PostgreSQL workers (`FOR UPDATE SKIP LOCKED`); `claimed_at` is the lease after
which a killed worker's batch is taken back, and `claimed_by` (host:pid) lets a worker on the
same host take back a dead one's batch at once.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Integer,
    and_,
    any_,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from notifier.delivery.mail import Sent, scrub
from notifier.storage import db

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
    suppressed: bool = False  # the customer may not be mailed any more (bounced, by hand)


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
    delivery_state: str | None = None
    event_at: datetime | None = None
    delivery_id: int = 0


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A customer of a release whose mail bounced or was dropped: tell them another way."""

    customer_id: int
    email: str
    reason: str


@dataclass(frozen=True, slots=True)
class Failure:
    """Why deliveries of a release are not sent: one stored error (masked when it was stored),
    how many deliveries carry it, their status (`failed`, or `planned` when the batch was put
    back unspent) and when it was last seen."""

    reason: str
    count: int
    status: str
    last_at: datetime | None


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
    chosen = select(
        literal(release_id),
        customers.c.id,
        customers.c.locale,
        literal(db.utc(due_at)),
        literal("planned"),
        literal(0),
    ).where(audience_filter(services))
    columns = ["release_id", "customer_id", "locale", "due_at", "status", "attempts"]
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    # The unique (release, customer) skips who is already planned, also for two workers
    # planning at once. (A NOT EXISTS here made PostgreSQL's plan quadratic: each row rescanned
    # the index entries this very statement had inserted.)
    statement = dialect.insert(deliveries).from_select(columns, chosen).on_conflict_do_nothing()
    with engine.begin() as connection:
        result = connection.execute(statement)
    return int(result.rowcount or 0)


def worker_id() -> str:
    """Who claims a batch: this process, on this host."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def _dead_here(claimers: Iterable[str]) -> list[str]:
    """The claimers that were processes of this host and no longer exist."""
    host, me = socket.gethostname(), worker_id()
    dead = []
    for claimer in claimers:
        name, _, pid = claimer.rpartition(":")
        if name == host and claimer != me and pid.isdigit() and not _alive(int(pid)):
            dead.append(claimer)
    return dead


def reclaim(engine: Engine, release_id: str, stale_before: datetime | None) -> int:
    """Batches whose worker is gone go back to `planned`: those claimed before `stale_before`
    (None: every claimed batch), and those of a process of this host that has died."""
    table = db.deliveries
    sending = and_(table.c.release_id == release_id, table.c.status == "sending")
    with engine.begin() as connection:
        if stale_before is not None:
            claimers = connection.execute(
                select(table.c.claimed_by).where(sending).distinct()
            ).scalars()
            dead = _dead_here(c for c in claimers if c)
            stale = table.c.claimed_at < db.utc(stale_before)
            sending = and_(sending, or_(stale, table.c.claimed_by.in_(dead)))
        reclaimed = connection.execute(
            update(table).where(sending).values(status="planned", batch_id=None, claimed_by=None)
        ).rowcount
    return int(reclaimed or 0)


def requeue(
    engine: Engine, release_id: str, stale_before: datetime | None, *, every_failure: bool = False
) -> tuple[int, int]:
    """Before a run: batches whose worker is gone (see `reclaim`) and failed deliveries with
    attempts left (or all, with `every_failure`) go back to `planned`. Returns (reclaimed,
    failed requeued)."""
    table = db.deliveries
    reclaimed = reclaim(engine, release_id, stale_before)
    left = [] if every_failure else [table.c.attempts < MAX_ATTEMPTS]
    attempts = 0 if every_failure else table.c.attempts
    with engine.begin() as connection:
        retried = connection.execute(
            update(table)
            .where(table.c.release_id == release_id, table.c.status == "failed", *left)
            .values(status="planned", batch_id=None, attempts=attempts)
        ).rowcount
    return reclaimed, int(retried or 0)


def withdraw_suppressed(engine: Engine, release_id: str) -> int:
    """Deliveries not yet sent to customers suppressed since planning become `bounced`, with
    the suppression's reason as their error: they are not mailed, and the proof says why."""
    table, customers = db.deliveries, db.customers
    reason = (
        select(literal("suppressed before sending: ") + customers.c.suppressed_reason)
        .where(customers.c.id == table.c.customer_id)
        .scalar_subquery()
    )
    suppressed = select(customers.c.id).where(customers.c.suppressed_reason.is_not(None))
    with engine.begin() as connection:
        result = connection.execute(
            update(table)
            .where(
                table.c.release_id == release_id,
                table.c.status.in_(("planned", "failed")),
                table.c.customer_id.in_(suppressed.scalar_subquery()),
            )
            .values(status="bounced", error=reason, batch_id=None)
        )
    return int(result.rowcount or 0)


def planned_locales(engine: Engine, release_id: str) -> list[str]:
    """The locales that still have planned deliveries (one mail per locale, batched apart)."""
    table = db.deliveries
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(table.c.locale)
                .where(table.c.release_id == release_id, table.c.status == "planned")
                .distinct()
                .order_by(table.c.locale)
            ).scalars()
        )


def claim(
    engine: Engine,
    release_id: str,
    size: int,
    now: datetime,
    *,
    locale: str | None = None,
    after: int = 0,
) -> Batch | None:
    """Mark up to `size` planned deliveries (of `locale`, if given; with ids above `after`) as
    sending, atomically. A sender passes the last id it claimed as `after`, so the index scan
    starts there instead of stepping over every entry its earlier claims left behind.

    SQLite runs the UPDATE as its one writer; on PostgreSQL the rows are picked `FOR UPDATE SKIP
    LOCKED` so concurrent workers get disjoint batches, and `status = 'planned'` makes a row
    claimed meanwhile drop out rather than be claimed twice. The ids are picked by a statement
    of their own: as a subquery of the UPDATE, PostgreSQL may run the pick again per row, and
    each run skips the rows the last one locked, so the batch would outgrow its limit.
    """
    table, customers = db.deliveries, db.customers
    batch_id = uuid.uuid4().hex
    due = select(table.c.id).where(
        table.c.release_id == release_id, table.c.status == "planned", table.c.id > after
    )
    if locale is not None:
        due = due.where(table.c.locale == locale)
    due = due.order_by(table.c.id).limit(size)
    if engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    with engine.begin() as connection:
        picked = connection.execute(due).scalars().all()
        if not picked:
            return None
        claimed = (
            connection.execute(
                update(table)
                .where(_among(engine, table.c.id, picked), table.c.status == "planned")
                .values(
                    status="sending",
                    batch_id=batch_id,
                    claimed_at=db.utc(now),
                    claimed_by=worker_id(),
                    attempts=table.c.attempts + 1,
                    error=None,
                )
                .returning(table.c.id)
            )
            .scalars()
            .all()
        )
        if not claimed:
            return None
        rows = connection.execute(
            select(
                table.c.id, table.c.customer_id, customers.c.email, customers.c.name, table.c.locale
            )
            .join(customers, customers.c.id == table.c.customer_id)
            .where(_among(engine, table.c.id, claimed))
            .order_by(table.c.id)
        ).all()
    return Batch(
        batch_id, tuple(Delivery(r.id, r.customer_id, r.email, r.name, r.locale) for r in rows)
    )


def _among(engine: Engine, column: ColumnElement[int], ids: Sequence[int]) -> ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL one array parameter, not a thousand: less to build and
    to parse for every batch."""
    if engine.dialect.name == "postgresql":
        return column == any_(literal(list(ids), postgresql.ARRAY(Integer)))
    return column.in_(ids)


def mark(engine: Engine, batch: Batch, sent: Sent, at: datetime) -> tuple[int, int]:
    """Record a transport's answer for a claimed batch in one transaction: (sent, failed).

    Only rows still claimed by this batch change: if a lease ran out and another worker took the
    batch back, its answer wins. Errors are stored with every address in them masked. A batch
    whose request never left is put back (see `put_back`): it counts as failed for this run
    only, for nobody can have been mailed.
    """
    if not sent.ok and sent.never_left:
        return 0, put_back(engine, batch, sent.error)
    table = db.deliveries
    ids = [d.id for d in batch.deliveries]
    failed = dict(sent.failures) if sent.ok else dict.fromkeys(ids, sent.error)
    delivered = [i for i in ids if i not in failed]
    by_error: dict[str, list[int]] = {}
    for delivery_id, error in failed.items():
        by_error.setdefault(scrub(error)[:2000], []).append(delivery_id)
    claimed = and_(table.c.batch_id == batch.id, table.c.status == "sending")
    with engine.begin() as connection:
        if delivered:
            connection.execute(
                update(table)
                .where(claimed, _among(engine, table.c.id, delivered))
                .values(status="sent", message_id=sent.message_id, sent_at=db.utc(at), error=None)
            )
        for error, group in by_error.items():
            connection.execute(
                update(table)
                .where(claimed, _among(engine, table.c.id, group))
                .values(status="failed", error=error)
            )
    return len(delivered), len(failed)


def put_back(engine: Engine, batch: Batch, error: str) -> int:
    """A claimed batch the endpoint refused goes back to `planned` with the attempt it was
    charged returned, and the refusal (masked) kept as its error: it spent nothing."""
    table = db.deliveries
    claimed = and_(table.c.batch_id == batch.id, table.c.status == "sending")
    with engine.begin() as connection:
        result = connection.execute(
            update(table)
            .where(claimed)
            .values(
                status="planned",
                batch_id=None,
                claimed_by=None,
                attempts=table.c.attempts - 1,
                error=scrub(error)[:2000],
            )
        )
    return int(result.rowcount or 0)


def failures(engine: Engine, release_id: str) -> list[Failure]:
    """Each distinct error of the failed (or put back) deliveries of a release with its count,
    the most recent first."""
    table = db.deliveries
    last = func.max(table.c.claimed_at)
    query = (
        select(table.c.error, table.c.status, func.count(), last)
        .where(
            table.c.release_id == release_id,
            table.c.status.in_(("failed", "planned")),
            table.c.error.is_not(None),
        )
        .group_by(table.c.error, table.c.status)
        .order_by(last.desc(), table.c.status, table.c.error)
    )
    with engine.connect() as connection:
        return [
            Failure(error, int(count), status, db.utc(at))
            for error, status, count, at in connection.execute(query)
        ]


def delivery(engine: Engine, delivery_id: int) -> tuple[str, Delivery] | None:
    """The release and recipient of one delivery (None: no such delivery)."""
    table, customers = db.deliveries, db.customers
    query = (
        select(
            table.c.release_id,
            table.c.id,
            table.c.customer_id,
            customers.c.email,
            customers.c.name,
            table.c.locale,
            customers.c.suppressed_reason,
        )
        .join(customers, customers.c.id == table.c.customer_id)
        .where(table.c.id == delivery_id)
    )
    with engine.connect() as connection:
        row = connection.execute(query).first()
    if row is None:
        return None
    suppressed = row.suppressed_reason is not None
    return row.release_id, Delivery(
        row.id, row.customer_id, row.email, row.name, row.locale, suppressed
    )


def counts(engine: Engine, release_id: str) -> dict[str, int]:
    with engine.begin() as connection:
        return _counts(connection, release_id)


def settled_counts(engine: Engine, release_id: str) -> dict[str, int]:
    """The counts once every claim in progress has ended: what a sender reports when it finds
    nothing more to claim. A batch another worker is claiming this instant (its rows locked,
    its claim not yet committed) is still `planned` to everyone else, and would read as not
    sent while it is being mailed; waiting for those row locks (on PostgreSQL: SQLite has one
    writer, whose claims never overlap a count) makes it count as in flight."""
    table = db.deliveries
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(
                select(table.c.id)
                .where(table.c.release_id == release_id, table.c.status == "planned")
                .with_for_update(key_share=True)
            )
        return _counts(connection, release_id)


def _counts(connection: Connection, release_id: str) -> dict[str, int]:
    table = db.deliveries
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
            table.c.delivery_state,
            table.c.state_at,
            table.c.id,
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
                db.utc(row.sent_at),
                row.message_id,
                row.error,
                row.delivery_state,
                db.utc(row.state_at),
                row.id,
            )


def suppressed(engine: Engine, release_id: str) -> list[Suppressed]:
    """Customers of a release who are suppressed (bounced, dropped, or by hand), by id."""
    table, customers = db.deliveries, db.customers
    query = (
        select(customers.c.id, customers.c.email, customers.c.suppressed_reason)
        .join(table, customers.c.id == table.c.customer_id)
        .where(table.c.release_id == release_id, customers.c.suppressed_reason.is_not(None))
        .order_by(customers.c.id)
    )
    with engine.connect() as connection:
        return [Suppressed(r.id, r.email, r.suppressed_reason) for r in connection.execute(query)]
