"""The record of consent decisions: append-only, each bound to the text shown, chained.

No answer is never consent: a decision exists only when the customer posted one. A change of
mind is a new row, and a withdrawal a new row naming the agreement it withdraws, so the record
says who agreed to which words when, and what came after. Each row keeps the minimum: the
delivery (not the address), the article, the text's hash and locale, the decision and the
server's time; a client's address and browser only when configured, and then truncated. Rows
of a release are numbered and hash-chained (`seq`, `chain`): the proof of notice carries them,
and an edited, dropped or reordered row breaks the chain from there on.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Engine,
    Integer,
    String,
    and_,
    bindparam,
    case,
    event,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError

from notifier.consent.tokens import Grant
from notifier.errors import ConsentError
from notifier.storage import db
from notifier.storage.prepared import Prepared

DECISIONS = ("agree", "decline", "withdraw")
_ATTEMPTS = 5  # places in the chain taken by another writer before one is free
_BATCH = 256  # decisions one transaction records at most
_T = TypeVar("_T")
_PRODUCT = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:/[!#$%&'*+.^_`|~0-9A-Za-z-]+)?")


class TextChanged(ConsentError):
    """The text shown is not the text the link was made for, or no longer the current one."""


class NothingToWithdraw(ConsentError):
    """A withdrawal where the standing decision is not an agreement."""


@dataclass(frozen=True, slots=True)
class Decision:
    """One recorded decision; `withdraws` is the id of the agreement a withdrawal withdraws."""

    id: int
    release_id: str
    seq: int
    delivery_id: int
    article: str
    text_sha256: str
    locale: str
    decision: str
    withdraws: int | None
    recorded_at: datetime
    client: str | None
    chain: str

    @property
    def agreed(self) -> bool:
        return self.decision == "agree"


def seed(release_id: str) -> str:
    """The "previous hash" of a release's first decision."""
    return hashlib.sha256(f"consent\n{release_id}".encode()).hexdigest()


def chained(
    previous: str,
    *,
    seq: int,
    delivery_id: int,
    release_id: str,
    article: str,
    text_sha256: str,
    locale: str,
    decision: str,
    withdraws_seq: int | None,
    recorded_at: datetime,
    client: str | None,
) -> str:
    """sha256(previous + the decision as a compact JSON array). A withdrawal names the
    agreement by its place in the chain, which a proof shows without the database's ids."""
    fields = [
        seq,
        delivery_id,
        release_id,
        article,
        text_sha256,
        locale,
        decision,
        withdraws_seq,
        _instant(recorded_at),
        client,
    ]
    canonical = _CANONICAL.encode(fields)
    return hashlib.sha256((previous + canonical).encode("utf-8")).hexdigest()


_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # built once


def _instant(at: datetime) -> str:
    """The time as hashed and shown: UTC, to the microsecond, always the same spelling."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def client_of(record_client: bool, address: str | None, user_agent: str | None) -> str | None:
    """What is kept of the client: nothing unless configured; then the address's /24 (IPv4) or
    /48 (IPv6) network and the browser's first product token (`Mozilla/5.0`)."""
    if not record_client:
        return None
    network = ""
    try:
        ip = ipaddress.ip_address((address or "").strip())
        prefix = 24 if ip.version == 4 else 48
        network = str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
    except ValueError:
        pass
    product = _PRODUCT.match((user_agent or "").strip())
    kept = " ".join(part for part in (network, product.group(0)[:64] if product else "") if part)
    return kept or None


def record(
    engine: Engine,
    grant: Grant,
    *,
    decision: str,
    shown_sha256: str,
    locale: str,
    at: datetime,
    client: str | None = None,
    current_sha256: str | None = None,
) -> Decision:
    """Record one decision on `grant`, as shown in `locale`. Nothing is recorded, and
    TextChanged is raised, when the text shown is not the grant's or (given
    `current_sha256`, the current text's hash) no longer the current one; NothingToWithdraw
    when a withdrawal finds no standing agreement."""
    if decision not in DECISIONS:
        raise ConsentError(f"unknown decision {decision!r}", hint=f"one of {', '.join(DECISIONS)}")
    if shown_sha256 != grant.text_sha256 or (
        current_sha256 is not None and shown_sha256 != current_sha256
    ):
        raise TextChanged(
            f"the text shown for {grant.article} of {grant.release_id} is not the current one",
            hint="show the current text and ask again",
        )
    return _Writer.submit(engine, _Asked(grant, decision, locale, at.astimezone(UTC), client))


def _held() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


class _Lead:
    """What a waiting caller hears when it is to write the next batch itself."""


_LEAD = _Lead()


@dataclass(slots=True)
class _Asked:
    """One decision waiting for its batch; its caller waits on `ready`, released once
    `outcome` is known or the lead is handed to it (a bare lock: a Future's condition costs
    more than the insert)."""

    grant: Grant
    decision: str
    locale: str
    at: datetime
    client: str | None
    ready: threading.Lock = field(default_factory=_held)
    outcome: Decision | BaseException | _Lead | None = None

    def answer(self, outcome: Decision | BaseException) -> None:
        self.outcome = outcome
        self.ready.release()

    @property
    def answered(self) -> bool:
        return self.outcome is not None and self.outcome is not _LEAD

    def result(self) -> Decision:
        if isinstance(self.outcome, Decision):
            return self.outcome
        assert isinstance(self.outcome, BaseException), "answered"
        raise self.outcome


class _Writer:
    """Group commit, written by the callers themselves: one who finds no batch being written
    leads, recording every decision pending (up to `_BATCH`) in one transaction, so that
    concurrent answers share its lock, look-ups, insert and commit; those arriving meanwhile
    wait, and a leader answered hands the lead to the first of them. No thread of its own:
    handing every batch to one and waiting for its answer cost a quarter of the app's CPU for
    an answer arriving alone (the usual case). A caller is answered once its batch committed;
    a failed commit fails the whole batch."""

    _running: dict[Engine, _Writer] = {}
    _guard = threading.Lock()  # the pending list, the lead and the writers found under it

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pending: list[_Asked] = []
        self.leading = False  # a caller is writing; the ones pending wait for it
        self.disposed = False  # the engine was disposed: the last leader closes the connection
        self.connection: Connection | None = None  # kept between batches, used by the leader
        self.turns = db.WriterTurns(engine, "consent-writers")  # with other processes' writers

    @classmethod
    def submit(cls, engine: Engine, asked: _Asked) -> Decision:
        with cls._guard:
            writer = cls._running.get(engine)
            if writer is None:
                writer = cls._running[engine] = _Writer(engine)
                if not event.contains(engine, "engine_disposed", cls.stop):
                    event.listen(engine, "engine_disposed", cls.stop)
            writer.pending.append(asked)
            leads = not writer.leading
            writer.leading = True
        if not leads:
            try:
                asked.ready.acquire()  # answered, or handed the lead
            except BaseException:  # interrupted: its decision is not written
                writer._give_up(asked)
                raise
        if not asked.answered:
            writer._lead(asked)
        return asked.result()

    @classmethod
    def stop(cls, engine: Engine) -> None:
        """On the engine's disposal: the next decision finds a new writer; this one's
        connection is closed now, or by its last leader."""
        with cls._guard:
            writer = cls._running.pop(engine, None)
            if writer is None:
                return
            writer.disposed = True
            idle = not writer.leading
        if idle:
            writer._close()

    def _lead(self, own: _Asked) -> None:
        """Write batches until `own` is answered, then hand the lead on (or lay it down)."""
        try:
            while not own.answered:
                with self._guard:
                    batch = self.pending[:_BATCH]
                    del self.pending[:_BATCH]
                self._write(batch)
        finally:
            self._hand_over(own)

    def _give_up(self, asked: _Asked) -> None:
        """A caller stops waiting: it leaves the queue, and passes on a lead handed to it."""
        with self._guard:
            if asked.outcome is not _LEAD:
                self.pending = [waiting for waiting in self.pending if waiting is not asked]
                return
        self._hand_over(asked)

    def _hand_over(self, leaving: _Asked) -> None:
        """Hand the lead to the first caller waiting, or lay it down; `leaving` leaves the
        queue if it is still in it (its leader stops on an error). The successor is chosen
        and told under the guard, so that one giving up waiting knows whether it leads."""
        with self._guard:
            if not leaving.answered:
                self.pending = [asked for asked in self.pending if asked is not leaving]
            successor = self.pending[0] if self.pending else None
            if successor is not None:
                successor.outcome = _LEAD
            self.leading = successor is not None
            closing = self.disposed and successor is None
        if successor is not None:
            successor.ready.release()
        if closing:
            self._close()

    def _close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        self.turns.close()

    def _write(self, batch: list[_Asked]) -> None:
        """Record a batch in one transaction, then answer each caller: with its decision, or
        the refusal of its own item; every caller with the error when the transaction fails."""
        for _ in range(_ATTEMPTS):
            try:
                if self.connection is None or self.connection.invalidated:
                    self.connection = self.engine.connect()
                    self.connection.detach()  # its own: closed with the writer
                with self.turns, self.connection.begin():
                    outcomes = _append(self.connection, batch)
            except IntegrityError as error:  # another writer took a place (the lock forbids it)
                said = str(error.orig)  # PostgreSQL names the constraint, SQLite its columns
                if "one_place_in_the_chain" in said or "consent_decisions.seq" in said:
                    continue
                _fail(batch, error)
            except BaseException as error:  # nothing of the batch was recorded: each hears why
                _fail(batch, error)
                if not isinstance(error, Exception):
                    raise
            else:
                for asked, outcome in zip(batch, outcomes, strict=True):
                    asked.answer(outcome)
            return
        releases = ", ".join(sorted({asked.grant.release_id for asked in batch}))
        busy = ConsentError(
            f"could not record the decision on {releases}: the record stayed busy",
            hint="try again",
        )
        _fail(batch, busy)


def _fail(batch: list[_Asked], error: BaseException) -> None:
    for asked in batch:
        asked.answer(error)


# Compiled once per number of rows and run on the driver's cursor: a batch runs these per POST,
# and SQLAlchemy's work around each execution costs more than SQLite's. Each row read or
# returned is another call into the driver, made while the database's write lock is held: so a
# batch reads one row per release, and on SQLite numbers its rows instead of having them
# returned.
_COLUMNS = [column for column in db.consent_decisions.columns if column.name != "id"]
_ROWS = 32  # rows one statement reads or inserts at most (one statement per count is kept)


def _tip(column: Any, release: Any) -> Any:
    """The last place's `column` in the chain of `release`."""
    table = db.consent_decisions
    return (
        select(column)
        .where(table.c.release_id == release)
        .order_by(table.c.seq.desc())
        .limit(1)
        .scalar_subquery()
    )


@functools.cache
def _state(count: int) -> Prepared:
    """One row for one release and `count` delivery ids: how many of the ids are deliveries of
    the release, the last place and hash of its chain, and the highest id recorded yet."""
    ids = [bindparam(f"id{n}", type_=Integer) for n in range(count)]
    release = bindparam("release", type_=String)
    deliveries, table = db.deliveries, db.consent_decisions
    # the release is summed, not searched: the ids' primary key is what SQLite looks up
    theirs = func.sum(case((deliveries.c.release_id == release, 1), else_=0))
    owned = select(func.coalesce(theirs, 0)).where(deliveries.c.id.in_(ids)).scalar_subquery()
    top = select(func.max(table.c.id)).scalar_subquery()
    return Prepared(select(owned, _tip(table.c.seq, release), _tip(table.c.chain, release), top))


@functools.cache
def _owners(count: int) -> Prepared:
    """The release of each of `count` deliveries (read only when some are not the release's
    the link names)."""
    ids = [bindparam(f"id{n}", type_=Integer) for n in range(count)]
    table = db.deliveries
    return Prepared(select(table.c.id, table.c.release_id).where(table.c.id.in_(ids)))


@functools.cache
def _insert(count: int, numbered: bool) -> Prepared:
    """`count` rows in one statement: `numbered`, carrying their ids; else numbered by the
    database, which returns each row's id with its place in its chain (in no promised order)."""
    table = db.consent_decisions
    columns = list(table.columns) if numbered else _COLUMNS
    values = [
        {column.name: bindparam(f"{column.name}_{n}", type_=column.type) for column in columns}
        for n in range(count)
    ]
    statement = table.insert().values(values)
    if numbered:
        return Prepared(statement)
    return Prepared(statement.returning(table.c.id, table.c.release_id, table.c.seq))


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    return (items[start : start + _ROWS] for start in range(0, len(items), _ROWS))


def _append(connection: Connection, batch: list[_Asked]) -> list[Decision | ConsentError]:
    """Each item's decision, or why it was refused, checked and chained in order."""
    db.exclusive(connection, (asked.grant.release_id for asked in batch))  # one writer a chain
    asked_of: dict[str, set[int]] = {}
    for asked in batch:
        asked_of.setdefault(asked.grant.release_id, set()).add(asked.grant.delivery_id)
    tips: dict[str, tuple[int, str]] = {}
    strangers: set[tuple[int, str]] = set()  # (delivery, release) where it is not the release's
    top = 0
    for release_id, delivery_ids in asked_of.items():
        for ids in _chunks(sorted(delivery_ids)):
            values = {f"id{n}": delivery_id for n, delivery_id in enumerate(ids)}
            [(owned, seq, chain, top)] = _state(len(ids)).rows(
                connection, {**values, "release": release_id}
            )
            tips[release_id] = (seq, chain) if seq else (0, seed(release_id))
            if owned != len(ids):
                owners = dict(_owners(len(ids)).rows(connection, values))
                strangers |= {(d, release_id) for d in ids if owners.get(d) != release_id}
    # SQLite: rows numbered here, under its one write lock; elsewhere by the database's sequence
    numbered = connection.dialect.name == "sqlite"
    rows = _Rows(connection, tips, (top or 0) + 1 if numbered else None)
    outcomes: list[int | ConsentError] = []
    for asked in batch:
        grant = asked.grant
        if (grant.delivery_id, grant.release_id) in strangers:
            outcomes.append(
                ConsentError(
                    f"delivery {grant.delivery_id} is not one of release {grant.release_id}",
                    hint="the link was made for another database",
                )
            )
            continue
        try:
            outcomes.append(rows.add(asked))
        except NothingToWithdraw as refused:
            outcomes.append(refused)
    rows.insert()
    return [rows.decision(o) if isinstance(o, int) else o for o in outcomes]


class _Rows:
    """A batch's rows as they are chained: each release's last place and hash, and the latest
    decision on each question, the batch's own earlier items first."""

    def __init__(
        self, connection: Connection, tips: dict[str, tuple[int, str]], next_id: int | None
    ) -> None:
        self.connection, self.tips = connection, tips
        self.next_id = next_id  # the id the next row takes; None: the database gives ids
        self.rows: list[dict[str, Any]] = []  # each with its id once it has one
        self.inserted = 0  # rows inserted so far
        self.latest: dict[tuple[int, str], int] = {}  # question -> its row in this batch

    def add(self, asked: _Asked) -> int:
        """Chain one decision; the number of its row."""
        grant = asked.grant
        withdrawn = self._standing(grant) if asked.decision == "withdraw" else None
        if asked.decision == "withdraw" and (withdrawn is None or not withdrawn.agreed):
            raise NothingToWithdraw(
                f"delivery {grant.delivery_id} has no agreement to {grant.article} to withdraw",
                hint="only a standing agreement can be withdrawn",
            )
        last, previous = self.tips[grant.release_id]
        seq = last + 1
        chain = chained(
            previous,
            seq=seq,
            delivery_id=grant.delivery_id,
            release_id=grant.release_id,
            article=grant.article,
            text_sha256=grant.text_sha256,
            locale=asked.locale,
            decision=asked.decision,
            withdraws_seq=withdrawn.seq if withdrawn else None,
            recorded_at=asked.at,
            client=asked.client,
        )
        self.tips[grant.release_id] = (seq, chain)
        self.latest[grant.delivery_id, grant.article] = len(self.rows)
        row: dict[str, Any] = {
            "release_id": grant.release_id,
            "seq": seq,
            "delivery_id": grant.delivery_id,
            "article": grant.article,
            "text_sha256": grant.text_sha256,
            "locale": asked.locale,
            "decision": asked.decision,
            "withdraws": withdrawn.id if withdrawn else None,
            "recorded_at": asked.at,
            "client": asked.client,
            "chain": chain,
        }
        if self.next_id is not None:
            row["id"] = self.next_id
            self.next_id += 1
        self.rows.append(row)
        return len(self.rows) - 1

    def _standing(self, grant: Grant) -> Decision | None:
        row = self.latest.get((grant.delivery_id, grant.article))
        if row is None:
            return _standing(self.connection, grant.delivery_id, grant.article)
        self.insert()  # a withdrawal names the agreement by its id
        return self.decision(row)

    def insert(self) -> None:
        """Insert the rows not yet inserted."""
        numbered = self.next_id is not None
        for rows in _chunks(self.rows[self.inserted :]):
            values = {
                f"{name}_{n}": value for n, row in enumerate(rows) for name, value in row.items()
            }
            returned = _insert(len(rows), numbered).rows(self.connection, values)
            places = {(release_id, seq): row_id for row_id, release_id, seq in returned}
            for row in rows if not numbered else ():
                row["id"] = places[row["release_id"], row["seq"]]
            self.inserted += len(rows)

    def decision(self, row: int) -> Decision:
        return _decision(self.rows[row])


def standing(engine: Engine, delivery_id: int, article: str) -> Decision | None:
    """The latest decision of a delivery on one article (None: no answer, which is no consent)."""
    with engine.connect() as connection:
        return _standing(connection, delivery_id, article)


def _standing(connection: Connection, delivery_id: int, article: str) -> Decision | None:
    table = db.consent_decisions
    row = connection.execute(
        select(table)
        .where(table.c.delivery_id == delivery_id, table.c.article == article)
        .order_by(table.c.id.desc())
        .limit(1)
    ).first()
    return _decision(row) if row is not None else None


def _decision(row: Any) -> Decision:
    mapping = row if isinstance(row, dict) else row._mapping
    recorded = db.utc(mapping["recorded_at"])
    assert recorded is not None, "recorded_at is NOT NULL"
    return Decision(**{**mapping, "recorded_at": recorded})


@dataclass(frozen=True, slots=True)
class Proved:
    """A decision as the proof shows it: with its recipient, and the agreement a withdrawal
    withdraws named by its place in the chain."""

    decision: Decision
    customer_id: int
    email: str
    withdraws_seq: int | None

    @property
    def decided_at(self) -> str:
        return _instant(self.decision.recorded_at)


def history(engine: Engine, release_id: str) -> Iterator[Proved]:
    """Every decision on a release in chain order, streamed (for the proof)."""
    table, deliveries, customers = db.consent_decisions, db.deliveries, db.customers
    withdrawn = table.alias("withdrawn")
    query = (
        select(table, deliveries.c.customer_id, customers.c.email, withdrawn.c.seq.label("w"))
        .join(deliveries, deliveries.c.id == table.c.delivery_id)
        .join(customers, customers.c.id == deliveries.c.customer_id)
        .outerjoin(withdrawn, withdrawn.c.id == table.c.withdraws)
        .where(table.c.release_id == release_id)
        .order_by(table.c.seq)
    )
    names = [column.name for column in table.columns]
    with engine.connect() as connection:
        for row in connection.execution_options(yield_per=5000).execute(query):
            decision = _decision(dict(zip(names, row[: len(names)], strict=True)))
            yield Proved(decision, row.customer_id, row.email, row.w)


@dataclass(frozen=True, slots=True)
class Answer:
    """Where one recipient stands on one question: `decision` is None when they never answered;
    a withdrawn agreement stands as "withdraw"."""

    delivery_id: int
    customer_id: int
    email: str
    name: str
    locale: str
    article: str
    decision: str | None
    at: datetime | None
    suppressed: bool = False  # the customer may not be mailed any more


def answers(engine: Engine, release_id: str, articles: Sequence[str]) -> Iterator[Answer]:
    """Each recipient told of the release (its mail sent), for each article, with where they
    stand, in customer order."""
    deliveries, customers, table = db.deliveries, db.customers, db.consent_decisions
    latest = (
        select(table.c.delivery_id, table.c.article, func.max(table.c.id).label("id"))
        .where(table.c.release_id == release_id)
        .group_by(table.c.delivery_id, table.c.article)
        .subquery()
    )
    for article in articles:
        query = (
            select(
                deliveries.c.id,
                deliveries.c.customer_id,
                customers.c.email,
                customers.c.name,
                deliveries.c.locale,
                table.c.decision,
                table.c.recorded_at,
                customers.c.suppressed_reason,
            )
            .join(customers, customers.c.id == deliveries.c.customer_id)
            .outerjoin(
                latest,
                and_(latest.c.delivery_id == deliveries.c.id, latest.c.article == article),
            )
            .outerjoin(table, table.c.id == latest.c.id)
            .where(deliveries.c.release_id == release_id)
            .where((deliveries.c.status == "sent") | latest.c.id.is_not(None))
            .order_by(deliveries.c.customer_id)
        )
        with engine.connect() as connection:
            for row in connection.execution_options(yield_per=5000).execute(query):
                yield Answer(
                    row.id,
                    row.customer_id,
                    row.email,
                    row.name,
                    row.locale,
                    article,
                    row.decision,
                    db.utc(row.recorded_at),
                    row.suppressed_reason is not None,
                )


COUNTED = ("agreed", "declined", "no_answer")


def counts_by_article(
    engine: Engine, release_id: str, articles: Sequence[str]
) -> dict[str, dict[str, int]]:
    """Per article, the recipients who stand agreed, declined (a withdrawal is a decline from
    then on), and who never answered."""
    table, deliveries = db.consent_decisions, db.deliveries
    found = {article: dict.fromkeys(COUNTED, 0) for article in articles}
    latest = (
        select(func.max(table.c.id))
        .where(table.c.release_id == release_id)
        .group_by(table.c.delivery_id, table.c.article)
    )
    with engine.connect() as connection:
        told = connection.execute(
            select(func.count()).where(
                deliveries.c.release_id == release_id, deliveries.c.status == "sent"
            )
        ).scalar_one()
        rows = connection.execute(
            select(table.c.article, table.c.decision, func.count())
            .where(table.c.id.in_(latest))
            .group_by(table.c.article, table.c.decision)
        ).all()
    for article, decision, count in rows:
        tally = found.setdefault(article, dict.fromkeys(COUNTED, 0))
        tally["agreed" if decision == "agree" else "declined"] += int(count)
    for tally in found.values():
        tally["no_answer"] = max(0, int(told) - tally["agreed"] - tally["declined"])
    return found
