"""The consent record: append-only decisions bound to the text shown, chained per release,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from support.consent import ARTICLE, RELEASE, consent_release, grant_for
from support.notify import VERSION
from support.repos import NoticeRepo
from support.schedule import postgres_database

from notifier.consent import records, report
from notifier.consent.records import NothingToWithdraw, TextChanged
from notifier.delivery import notify
from notifier.errors import ConsentError
from notifier.settings import Settings
from notifier.storage import db

AT = datetime(2029, 11, 5, 9, 30, 0, 123456, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def released(
    request: pytest.FixtureRequest, seeded_repo: NoticeRepo
) -> Iterator[tuple[Settings, list[int]]]:
    """A release asking consent, mailed to four customers, on each database."""
    if request.param == "sqlite":
        yield consent_release(seeded_repo, 4)
        db.dispose_all()
        return
    with postgres_database() as url:
        yield consent_release(seeded_repo, 4, {"NOTICES_DATABASE_URL": url})
        db.dispose_all()


def _record(
    settings: Settings, delivery_id: int, decision: str, **given: object
) -> records.Decision:
    grant = grant_for(settings, delivery_id)
    fields = {"shown_sha256": grant.text_sha256, "locale": "zh-CN", "at": AT, **given}
    return records.record(db.engine(settings), grant, decision=decision, **fields)  # type: ignore[arg-type]


def _rows(settings: Settings) -> list[records.Decision]:
    return [proved.decision for proved in records.history(db.engine(settings), RELEASE)]


def test_a_change_of_mind_is_a_new_row(released: tuple[Settings, list[int]]) -> None:
    """When a customer agrees and later declines, then both decisions stay, in order, and the
    latest stands; nobody else has a decision."""
    settings, ids = released
    agreed = _record(settings, ids[0], "agree")
    declined = _record(settings, ids[0], "decline", at=AT.replace(minute=45))
    assert [(d.seq, d.decision) for d in _rows(settings)] == [(1, "agree"), (2, "decline")]
    assert _rows(settings)[0] == agreed
    assert records.standing(db.engine(settings), ids[0], ARTICLE) == declined
    assert records.standing(db.engine(settings), ids[1], ARTICLE) is None
    assert agreed.recorded_at == AT and agreed.client is None and agreed.locale == "zh-CN"


def test_a_withdrawal_points_at_the_agreement(released: tuple[Settings, list[int]]) -> None:
    """When a customer withdraws, then a new row names the agreement it withdraws and the
    agreement is left as it was; a withdrawal without a standing agreement records nothing."""
    settings, ids = released
    with pytest.raises(NothingToWithdraw):
        _record(settings, ids[0], "withdraw")
    _record(settings, ids[1], "decline")
    with pytest.raises(NothingToWithdraw):
        _record(settings, ids[1], "withdraw")
    agreed = _record(settings, ids[0], "agree")
    withdrawn = _record(settings, ids[0], "withdraw")
    assert withdrawn.withdraws == agreed.id and withdrawn.decision == "withdraw"
    assert _rows(settings) == [_rows(settings)[0], agreed, withdrawn]
    assert records.standing(db.engine(settings), ids[0], ARTICLE) == withdrawn
    with pytest.raises(NothingToWithdraw):
        _record(settings, ids[0], "withdraw")


def test_a_decision_on_another_text_records_nothing(released: tuple[Settings, list[int]]) -> None:
    """When the text shown is not the link's, or no longer the current one, then TextChanged
    and nothing is recorded; a decision for another release's delivery is refused too."""
    settings, ids = released
    other = "0" * 64
    with pytest.raises(TextChanged):
        _record(settings, ids[0], "agree", shown_sha256=other)
    with pytest.raises(TextChanged):
        _record(settings, ids[0], "agree", current_sha256=other)
    with pytest.raises(ConsentError, match="not one of release"):
        grant = replace(grant_for(settings, ids[0]), release_id="privacy/zh-CN/2018-11-01")
        records.record(
            db.engine(settings),
            grant,
            decision="agree",
            shown_sha256=grant.text_sha256,
            locale="zh-CN",
            at=AT,
        )
    assert _rows(settings) == []


def test_the_chain_holds_under_concurrent_writers(released: tuple[Settings, list[int]]) -> None:
    """When eight writers record 200 decisions at once, then each has its own place in the
    chain, 1 to 200, and every hash follows from the one before it."""
    settings, ids = released
    errors: list[BaseException] = []

    def write(delivery_id: int) -> None:
        try:
            for number in range(25):
                _record(settings, delivery_id, ("agree", "decline")[number % 2])
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    writers = [threading.Thread(target=write, args=(ids[n % 4],)) for n in range(8)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert errors == []
    rows = _rows(settings)
    assert [row.seq for row in rows] == list(range(1, 201))
    previous = records.seed(RELEASE)
    for row in rows:
        expected = records.chained(
            previous,
            seq=row.seq,
            delivery_id=row.delivery_id,
            release_id=RELEASE,
            article=row.article,
            text_sha256=row.text_sha256,
            locale=row.locale,
            decision=row.decision,
            withdraws_seq=None,
            recorded_at=row.recorded_at,
            client=row.client,
        )
        assert row.chain == expected
        previous = expected


def test_a_writer_waits_its_turn_behind_another_process(seeded_repo: NoticeRepo) -> None:
    """When another process's consent writer holds the turn at writing the SQLite file, then a
    decision here waits for it (queued in the kernel, not polling SQLite's lock) and is
    recorded as soon as the turn is given back."""
    settings, ids = consent_release(seeded_repo, 1)
    engine = db.engine(settings)
    other = db.WriterTurns(engine, "consent-writers")  # another open file: as another process
    try:
        with ThreadPoolExecutor(1) as pool:
            with other:
                answer = pool.submit(_record, settings, ids[0], "agree")
                time.sleep(0.5)
                assert not answer.done()
            assert answer.result(timeout=30).seq == 1
    finally:
        other.close()
        db.dispose_all()


def test_counts_never_take_silence_for_consent(released: tuple[Settings, list[int]]) -> None:
    """When one of four agrees, one declines and one agrees then withdraws, then one agreed,
    two declined and one never answered; the other question nobody answered."""
    settings, ids = released
    _record(settings, ids[0], "agree")
    _record(settings, ids[1], "decline")
    _record(settings, ids[2], "agree")
    _record(settings, ids[2], "withdraw")
    engine = db.engine(settings)
    assert records.counts_by_article(engine, RELEASE, ("PIPL 23", ARTICLE)) == {
        "PIPL 23": {"agreed": 0, "declined": 0, "no_answer": 4},
        ARTICLE: {"agreed": 1, "declined": 2, "no_answer": 1},
    }
    assert report.totals(records.counts_by_article(engine, RELEASE, ("PIPL 23", ARTICLE))) == {
        "agreed": 1,
        "declined": 2,
        "no_answer": 5,
    }


def test_the_record_keeps_no_address(released: tuple[Settings, list[int]]) -> None:
    """When a decision is recorded, then its row holds the delivery id, never an address."""
    settings, ids = released
    _record(settings, ids[0], "agree", client="203.0.113.0/24 Mozilla/5.0")
    with db.engine(settings).connect() as connection:
        row = connection.execute(select(db.consent_decisions)).one()
    assert "@" not in " ".join(str(value) for value in row)
    assert row.client == "203.0.113.0/24 Mozilla/5.0"


@pytest.mark.parametrize(
    ("configured", "address", "agent", "kept"),
    [
        (False, "203.0.113.77", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", None),
        (
            True,
            "203.0.113.77",
            "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0",
            "203.0.113.0/24 Mozilla/5.0",
        ),
        (
            True,
            "2001:db8:85a3:8d3:1319:8a2e:370:7348",
            "curl/8.5.0",
            "2001:db8:85a3::/48 curl/8.5.0",
        ),
        (True, None, None, None),
        (True, "not an address", "", None),
    ],
)
def test_the_client_is_kept_only_if_configured_and_truncated(
    configured: bool, address: str | None, agent: str | None, kept: str | None
) -> None:
    """When a client is described, then nothing is kept unless configured, and then only the
    /24 or /48 network and the browser's product token."""
    assert records.client_of(configured, address, agent) == kept


# --- group commit: concurrent answers share one transaction ---------------------------------


def _verified(settings: Settings, path: Path) -> int:
    """The decisions in a proof written from the database, its chains checked; how many."""
    notify.proof(settings, VERSION, path)
    notify.verify_proof(path)
    return len(_rows(settings))


@contextlib.contextmanager
def _writes_held(settings: Settings) -> Iterator[None]:
    """Another connection holds the record's write lock: the writer's batch waits for it, and
    the answers posted meanwhile queue up for the next batch."""
    with db.engine(settings).connect() as connection, connection.begin():
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("LOCK TABLE consent_decisions IN EXCLUSIVE MODE")
        yield


def _queued(settings: Settings, count: int) -> None:
    """Wait until `count` answers wait for the next batch."""
    deadline = time.monotonic() + 10
    while True:
        writer = records._Writer._running.get(db.engine(settings))
        queued = len(writer.pending) if writer else -1
        if queued == count:
            return
        assert time.monotonic() < deadline, f"{queued} of {count} answers queued"
        time.sleep(0.005)


class _Caller(threading.Thread):
    """One customer's POST: records a decision and keeps what came back."""

    def __init__(self, settings: Settings, delivery_id: int, decision: str) -> None:
        super().__init__()
        self.settings, self.delivery_id, self.decision = settings, delivery_id, decision
        self.result: records.Decision | None = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = _record(self.settings, self.delivery_id, self.decision)
        except BaseException as error:  # noqa: BLE001 - the test reads it
            self.error = error


def _one_batch(settings: Settings, first: _Caller, batch: list[_Caller]) -> None:
    """`first` waits for the lock in a batch of its own; `batch` queues, in order, behind it
    and is recorded together once the lock is free."""
    with _writes_held(settings):
        first.start()
        _queued(settings, 0)
        time.sleep(0.05)  # the writer took `first` and waits for the lock
        for number, caller in enumerate(batch, start=1):
            caller.start()
            _queued(settings, number)
    for caller in [first, *batch]:
        caller.join(timeout=30)
        assert not caller.is_alive()


def test_two_hundred_answers_at_once_keep_one_gap_free_chain(
    released: tuple[Settings, list[int]], tmp_path: Path
) -> None:
    """When 200 customers' answers arrive at the same moment, then they are recorded in
    shared transactions with places 1 to 200, and the proof's chains verify."""
    settings, ids = released
    start = threading.Barrier(200)
    callers = [_Caller(settings, ids[n % 4], ("agree", "decline")[n % 2]) for n in range(200)]
    for caller in callers:
        caller.run = _after(start, caller.run)  # type: ignore[method-assign]
        caller.start()
    for caller in callers:
        caller.join(timeout=60)
    assert [caller.error for caller in callers] == [None] * 200
    assert sorted(caller.result.seq for caller in callers if caller.result) == list(range(1, 201))
    assert [row.seq for row in _rows(settings)] == list(range(1, 201))
    assert _verified(settings, tmp_path / "proof.csv") == 200


def _after(barrier: threading.Barrier, run: Callable[[], None]) -> Callable[[], None]:
    def started() -> None:
        barrier.wait(timeout=30)
        run()

    return started


class _Stranger(_Caller):
    """A POST whose link names a delivery the release does not have (a database reset since
    the mail, or a key shared with another one)."""

    def run(self) -> None:
        grant = replace(grant_for(self.settings, 1), delivery_id=self.delivery_id)
        try:
            self.result = records.record(
                db.engine(self.settings),
                grant,
                decision=self.decision,
                shown_sha256=grant.text_sha256,
                locale="zh-CN",
                at=AT,
            )
        except BaseException as error:  # noqa: BLE001 - the test reads it
            self.error = error


def test_a_delivery_of_no_such_release_fails_alone_in_its_batch(
    released: tuple[Settings, list[int]], tmp_path: Path
) -> None:
    """When one batch holds answers of two recipients and one on a delivery the release does
    not have, then only that one is refused, and the others take places 2 and 3."""
    settings, ids = released
    first = _Caller(settings, ids[0], "agree")
    before, stranger, after = batch = [
        _Caller(settings, ids[1], "agree"),
        _Stranger(settings, max(ids) + 1000, "agree"),
        _Caller(settings, ids[2], "decline"),
    ]
    _one_batch(settings, first, batch)
    assert isinstance(stranger.error, ConsentError) and "not one of release" in str(stranger.error)
    assert [caller.error for caller in (first, before, after)] == [None] * 3
    assert [(row.seq, row.delivery_id) for row in _rows(settings)] == [
        (1, ids[0]),
        (2, ids[1]),
        (3, ids[2]),
    ]
    assert before.result and after.result and after.result.id == before.result.id + 1
    assert _verified(settings, tmp_path / "proof.csv") == 3


def test_a_refused_withdrawal_fails_alone_in_its_batch(
    released: tuple[Settings, list[int]], tmp_path: Path
) -> None:
    """When one batch holds an agreement, a withdrawal with nothing to withdraw, a withdrawal
    of the agreement made earlier in the same batch and a decline, then only the empty
    withdrawal is refused, and the other names the agreement of its own batch."""
    settings, ids = released
    first = _Caller(settings, ids[0], "agree")
    agreed, empty, withdrawn, declined = batch = [
        _Caller(settings, ids[1], "agree"),
        _Caller(settings, ids[2], "withdraw"),
        _Caller(settings, ids[1], "withdraw"),
        _Caller(settings, ids[3], "decline"),
    ]
    _one_batch(settings, first, batch)
    assert isinstance(empty.error, NothingToWithdraw) and empty.result is None
    assert [caller.error for caller in (first, agreed, withdrawn, declined)] == [None] * 4
    assert agreed.result and withdrawn.result and first.result and declined.result
    assert withdrawn.result.withdraws == agreed.result.id
    assert [(row.seq, row.delivery_id, row.decision) for row in _rows(settings)] == [
        (1, ids[0], "agree"),
        (2, ids[1], "agree"),
        (3, ids[1], "withdraw"),
        (4, ids[3], "decline"),
    ]
    assert _rows(settings)[1:] == [agreed.result, withdrawn.result, declined.result]
    assert _verified(settings, tmp_path / "proof.csv") == 4


def _refuse_inserts_for(settings: Settings, delivery_id: int) -> None:
    """The database refuses a decision of `delivery_id`: SQLite as the row is inserted,
    PostgreSQL only at commit (a deferred trigger)."""
    with db.engine(settings).begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON consent_decisions "
                f"WHEN NEW.delivery_id = {delivery_id} "
                "BEGIN SELECT RAISE(ABORT, 'refused by the database'); END"
            )
            return
        connection.exec_driver_sql(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'refused by the database'; END $$"
        )
        connection.exec_driver_sql(
            "CREATE CONSTRAINT TRIGGER refuse AFTER INSERT ON consent_decisions "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            f"WHEN (NEW.delivery_id = {delivery_id}) EXECUTE FUNCTION refuse()"
        )


def test_a_failed_commit_fails_every_caller_of_its_batch(
    released: tuple[Settings, list[int]], tmp_path: Path
) -> None:
    """When the database refuses one row of a batch, then every caller of that batch gets the
    error and none of its decisions is recorded; the writer records the next answer in the
    free place."""
    settings, ids = released
    _refuse_inserts_for(settings, ids[2])
    first = _Caller(settings, ids[0], "agree")
    batch = [
        _Caller(settings, ids[1], "agree"),
        _Caller(settings, ids[2], "decline"),
        _Caller(settings, ids[3], "agree"),
    ]
    _one_batch(settings, first, batch)
    assert first.error is None and first.result and first.result.seq == 1
    errors = [caller.error for caller in batch]
    assert all(isinstance(error, DBAPIError) for error in errors), errors
    assert all("refused by the database" in str(error) for error in errors)
    assert [row.seq for row in _rows(settings)] == [1]
    assert _record(settings, ids[3], "agree").seq == 2
    assert _verified(settings, tmp_path / "proof.csv") == 2


class _Interrupted(Exception):
    """Raised in the main thread by a timer while it waits."""


def _interrupt(_signal: int, _frame: object) -> None:
    raise _Interrupted


def test_a_caller_interrupted_while_waiting_leaves_the_queue(
    released: tuple[Settings, list[int]],
) -> None:
    """When a caller waiting for its batch is interrupted, then its decision is not written,
    the batch before it is, and the next decision is recorded in the place after it."""
    settings, ids = released
    first = _Caller(settings, ids[0], "agree")
    previous = signal.signal(signal.SIGALRM, _interrupt)
    try:
        with _writes_held(settings):
            first.start()
            _queued(settings, 0)
            time.sleep(0.05)  # `first` leads, and waits for the lock
            signal.setitimer(signal.ITIMER_REAL, 0.3)
            with pytest.raises(_Interrupted):
                _record(settings, ids[1], "agree")
            assert records._Writer._running[db.engine(settings)].pending == []
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    first.join(timeout=30)
    assert first.error is None and first.result and first.result.seq == 1
    assert _record(settings, ids[2], "decline").seq == 2
    assert [(row.seq, row.delivery_id) for row in _rows(settings)] == [(1, ids[0]), (2, ids[2])]


def test_the_writer_ends_with_its_engine(released: tuple[Settings, list[int]]) -> None:
    """When the engine is disposed, then the writer that recorded on it has closed its
    connection, and the next decision starts another."""
    settings, ids = released
    _record(settings, ids[0], "agree")
    writer = records._Writer._running[db.engine(settings)]
    kept = writer.connection
    assert kept is not None and not kept.closed
    db.engine(settings).dispose()
    assert kept.closed and writer.connection is None
    assert db.engine(settings) not in records._Writer._running
    assert _record(settings, ids[0], "decline").seq == 2


@pytest.mark.parametrize("released", ["postgresql"], indirect=True)  # SQLite has no server
def test_a_lost_connection_fails_one_batch_and_the_next_reconnects(
    released: tuple[Settings, list[int]],
) -> None:
    """When the database drops the writer's connection between two answers, then the next
    answer hears why and records nothing, and the one after it is recorded on a new
    connection in the free place."""
    settings, ids = released
    engine = db.engine(settings)
    _record(settings, ids[0], "agree")
    writer = records._Writer._running[engine]
    assert writer.connection is not None
    pid = writer.connection.connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
    with engine.connect() as admin:
        admin.exec_driver_sql(f"SELECT pg_terminate_backend({int(pid)})")
    with pytest.raises(DBAPIError) as lost:
        _record(settings, ids[1], "agree")
    assert lost.value.connection_invalidated
    assert _record(settings, ids[1], "agree").seq == 2
    assert [row.seq for row in _rows(settings)] == [1, 2]
