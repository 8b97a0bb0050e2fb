"""Faults (issue #10): SendGrid errors, timeouts, resets and slow answers, a locked SQLite
database, PostgreSQL connections cut mid-send, an unwritable outbox.

Every case runs the real `notices notify send` in a subprocess against the SendGrid stand-in (or
the outbox) and checks the retries made, the ledger afterwards (sent, or failed with the error
masked), that nobody was mailed twice beyond the batch in flight, the exit code and the message
when the command gives up, and that a rerun completes.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes
from itertools import pairwise
from pathlib import Path

import psycopg
import pytest
from support import sendgrid_standin
from support.notify import sendgrid_env, standin, write_customers
from support.reliability import (
    VERSION,
    error_line,
    ledger_rows,
    mailed,
    record_fault,
    sending_repo,
    set_mail,
)
from support.repos import NoticeRepo, Run, run_notices
from support.schedule import postgres_database

__all__ = ["standin"]

SEND = ("notify", "send", VERSION, "--early")
RELEASE = f"privacy/zh-CN/{VERSION}"
CUSTOMERS = 30  # 6 in English (the first batch: locales go in order), 24 in Chinese
FIRST_BATCH = 6
BATCHES = 4  # en 6; zh-CN 10, 10, 4
MAX_RETRIES = 2
TIMEOUT = 0.5
MAIL = {"batch_size": 10, "timeout_seconds": TIMEOUT, "max_retries": MAX_RETRIES}
_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ (?P<level>[A-Z]+) [\w.]+: (?P<text>.*)$")
Prop = Callable[[str, object], None]


@pytest.fixture
def repo(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> NoticeRepo:
    """30 customers imported, their notice not yet sent; batches of 10, 0.5 s timeout, 2 retries."""
    return sending_repo(tmp_path, tmp_path_factory.getbasetemp(), CUSTOMERS, **MAIL)


def _url(repo: NoticeRepo) -> str:
    return f"sqlite:///{repo.path / 'var' / 'notices.db'}"


def _customers(count: int = CUSTOMERS) -> set[str]:
    return {f"user{number:06d}@example.com" for number in range(1, count + 1)}


def _log_lines(result: Run) -> list[tuple[str, str]]:
    """(level, message) of each stderr line; anything that is not a log line fails the test."""
    found = []
    lines = result.err.splitlines()
    if lines and lines[-1].startswith("error: "):  # the one-line verdict of a failed send
        lines = lines[:-1]
    for line in lines:
        parsed = _LOG_LINE.match(line)
        assert parsed, f"stderr holds more than log lines:\n{result.err}"
        found.append((parsed["level"], parsed["text"]))
    return found


def _whole_addresses(text: str) -> list[str]:
    return re.findall(r"user\d{6}@example\.com", text)


def _settle(stand_in: sendgrid_standin.StandIn) -> None:
    """Wait for requests the stand-in still holds (slow, hang) to end, so counts are final."""
    held = [at for at, fault in stand_in.requests if fault in ("slow", "hang")]
    if held:
        time.sleep(max(0.0, max(held) + stand_in.slow_seconds + 0.3 - time.time()))


# --- SendGrid: errors, timeouts, resets, slow answers --------------------------------------


REASONS = {  # how a failed try is reported, by the stand-in's fault
    "hang": f"SendGrid did not answer within {TIMEOUT:g} s",
    "slow": f"SendGrid did not answer within {TIMEOUT:g} s",
    "reset": "connection failed: ConnectionResetError",
    "drop": "connection failed: RemoteDisconnected",
}


def _reason(fault: str) -> str:
    return REASONS.get(fault, f"SendGrid answered {fault}")


@dataclass(frozen=True)
class Fault:
    case: str
    faults: tuple[str, ...] = ()  # queued on the stand-in: they hit the first batch's tries
    gives_up: bool = False  # the first batch fails (then a rerun sends it)
    retried: bool = True  # False: a 4xx, which fails at once
    twice: int = 0  # recipients SendGrid takes twice because an answer was lost after taking them
    delay: float = 0.0  # every answer this slow

    @property
    def tries(self) -> int:
        """Requests for the first batch in the first run."""
        if not self.retried:
            return 1
        return MAX_RETRIES + 1 if self.gives_up else len(self.faults) + 1


ALL = MAX_RETRIES + 1  # tries of a batch
SENDGRID_FAULTS = [
    Fault("429 twice, then accepted after X-RateLimit-Reset", ("429", "429")),
    Fault("429 on every try: gives up", ("429",) * ALL, gives_up=True),
    Fault("500 then 503, then accepted", ("500", "503")),
    Fault("502 on every try: gives up", ("502",) * ALL, gives_up=True),
    Fault("timeout (no answer within 0.5 s, request not taken), then accepted", ("hang",)),
    Fault("timeout on every try: gives up", ("hang",) * ALL, gives_up=True),
    Fault(
        "timeout after SendGrid took the request (answer lost): that batch is sent twice",
        ("slow",),
        twice=FIRST_BATCH,
    ),
    Fault("connection reset mid-request, then accepted", ("reset",)),
    Fault("connection reset on every try: gives up", ("reset",) * ALL, gives_up=True),
    Fault("connection closed before the answer, then accepted", ("drop",)),
    Fault("slow answers (0.3 s each, within the 0.5 s timeout)", delay=0.3),
    Fault(
        "400 quoting a recipient's address: not retried, the address masked",
        ("400",),
        gives_up=True,
        retried=False,
    ),
]


@pytest.mark.parametrize("fault", SENDGRID_FAULTS, ids=lambda fault: fault.case)
def test_sendgrid_fault(
    repo: NoticeRepo,
    standin: sendgrid_standin.StandIn,
    fault: Fault,
    record_property: Prop,
) -> None:
    """When SendGrid fails a batch's tries, then it is retried as documented, the ledger says
    what happened (errors masked), nobody gets the mail twice unless SendGrid took a request
    whose answer was lost, a batch that gives up exits 1 naming why, and a rerun completes."""
    standin.slow_seconds = TIMEOUT + 0.5  # longer than the client waits
    standin.delay = fault.delay
    reset_at = int(time.time()) + 2  # whole seconds, as SendGrid sends it
    standin.reset_at = reset_at
    standin.faults.extend(fault.faults)
    env = sendgrid_env(standin, repo)

    first = run_notices(*SEND, cwd=repo.path, env=env)
    _settle(standin)
    failed = FIRST_BATCH if fault.gives_up else 0
    assert first.code == (1 if fault.gives_up else 0), first.err
    assert first.out.splitlines()[-1] == (
        f"{RELEASE}: sent {CUSTOMERS - failed}, failed {failed} in {BATCHES} batch(es)"
    )
    logged = _log_lines(first)
    retries = fault.tries - 1
    warnings = [text for level, text in logged if level == "WARNING"]
    assert len(warnings) == retries, first.err
    for attempt, text in enumerate(warnings, 1):
        reason = _reason(fault.faults[attempt - 1])
        assert text.startswith(f"{reason}; retry {attempt} of {MAX_RETRIES} in "), text
    errors = [text for level, text in logged if level == "ERROR"]
    assert len(errors) == len(logged) - len(warnings)
    rows = ledger_rows(_url(repo))
    if fault.gives_up:
        # the one line saying why the batch was given up, and the ledger saying the same
        reason = _reason(fault.faults[fault.tries - 1])
        if fault.retried:
            reason += f"; gave up after {MAX_RETRIES} retries"
        else:  # SendGrid's own message, the address in it masked
            reason += ': {"errors": [{"message": "The to email u***@e***.com is on a list'
        [error] = errors
        assert re.fullmatch(
            rf"batch [0-9a-f]{{8}}: {failed} of {failed} recipient\(s\) failed "
            rf"\(first u\*\*\*@e\*\*\*\.com\): {re.escape(reason)}.*",
            error,
        ), error
        failures = [row for row in rows if row[1] == "failed"]
        assert len(failures) == failed
        assert {row[3] for row in failures} == {error.split(": ", 2)[2]}
        assert not _whole_addresses(error + str([row[3] for row in failures]))
    else:
        assert errors == []
    assert Counter(row[1] for row in rows) == Counter(sent=CUSTOMERS - failed, failed=failed)
    assert len(standin.requests) == fault.tries + BATCHES - 1
    assert not _whole_addresses(first.out + first.err)
    if fault.faults[:1] == ("429",):  # every retry waited for the reset the 429 named
        retried_at = [at for at, _ in standin.requests[1 : fault.tries]]
        assert all(at >= reset_at - 0.05 for at in retried_at), (reset_at, retried_at)
    if fault.delay:
        arrivals = [at for at, _ in standin.requests]
        assert all(b - a >= fault.delay for a, b in pairwise(arrivals))

    rerun = ""
    if fault.gives_up:
        again = run_notices(*SEND, cwd=repo.path, env=env)
        assert again.code == 0, again.err
        rerun = again.out.splitlines()[-1].split(": ", 1)[1]
        assert rerun == f"sent {failed}, failed 0 in 1 batch(es)"
        assert {row[1] for row in ledger_rows(_url(repo))} == {"sent"}
    times = mailed(standin)
    assert set(times) == _customers()
    twice = [address for address, count in times.items() if count > 1]
    assert len(twice) == fault.twice and max(times.values()) <= 2
    assert len(twice) <= MAIL["batch_size"]

    record_fault(
        record_property,
        "SendGrid",
        fault.case,
        (f"exit 1: {errors[0]}; rerun: {rerun}" if errors else f"exit 0, {retries} retry(ies)")
        + f"; mailed twice: {len(twice)}",
    )
    record_property("figure", f"retries={retries}")
    record_property("figure", f"duplicates={len(twice)}")


# --- a locked SQLite database --------------------------------------------------------------


LOCK_MAIL = {**MAIL, "timeout_seconds": 5.0}  # answers slow enough to lock the ledger meanwhile
BUSY_SECONDS = 3.0  # the SQLite busy timeout of the lock test (30 s unless the URL says)


def _popen_send(repo: NoticeRepo, env: dict[str, str]) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NOTICES_", "SENDGRID_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "notifier", *SEND],
        cwd=repo.path,
        env={**clean, "PYTHONIOENCODING": "utf-8", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str], timeout: float) -> Run:
    out, err = process.communicate(timeout=timeout)
    return Run(process.returncode, out, err)


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def _exclusive_lock(repo: NoticeRepo) -> sqlite3.Connection:
    """Another process's write lock on the ledger (this test's process, not the sender)."""
    connection = sqlite3.connect(repo.path / "var" / "notices.db", timeout=10, isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    return connection


def test_sqlite_locked_briefly_mid_send(
    repo: NoticeRepo, standin: sendgrid_standin.StandIn, record_property: Prop
) -> None:
    """When another process holds the SQLite write lock for 2 s (less than busy_timeout) while
    a batch is in flight, then the send waits for it and completes, everyone mailed once."""
    set_mail(repo.path, **LOCK_MAIL)
    standin.delay = 0.3  # a batch in flight: the lock is taken before it is marked, or the
    process = _popen_send(repo, sendgrid_env(standin, repo))  # next claim; either must wait
    try:
        _wait_for(lambda: len(standin.requests) >= 1, 30, "the first request")
        lock = _exclusive_lock(repo)
        time.sleep(2.0)
        lock.rollback()
        lock.close()
        released = time.time()
        result = _finish(process, 60)
    finally:
        process.kill()
    assert result.code == 0, result.err
    assert result.err == ""
    assert result.out.splitlines()[-1] == (
        f"{RELEASE}: sent {CUSTOMERS}, failed 0 in {BATCHES} batch(es)"
    )
    waited = standin.requests[1][0] - standin.requests[0][0]
    assert standin.requests[1][0] >= released - 0.05  # the next batch waited for the lock
    assert {row[1] for row in ledger_rows(_url(repo))} == {"sent"}
    assert mailed(standin) == Counter(dict.fromkeys(_customers(), 1))
    record_fault(
        record_property,
        "database",
        "SQLite write-locked by another process for 2 s mid-send (busy_timeout is 30 s)",
        f"waited {waited:.1f} s between batches, then exit 0: sent {CUSTOMERS}, each once",
    )


@pytest.mark.slow
def test_sqlite_locked_longer_than_busy_timeout(
    repo: NoticeRepo, standin: sendgrid_standin.StandIn, record_property: Prop
) -> None:
    """When another process holds the SQLite write lock past busy_timeout (set short by the
    URL's ?timeout=) while a batch is in flight, then the send stops with one error line, the
    ledger keeps that batch as in flight and nothing else changed, and a rerun resends only
    that batch."""
    set_mail(repo.path, **LOCK_MAIL)
    standin.delay = 1.0  # a batch in flight long enough to take the lock meanwhile
    env = {**sendgrid_env(standin, repo),
           "NOTICES_DATABASE_URL": f"{_url(repo)}?timeout={BUSY_SECONDS:g}"}
    process = _popen_send(repo, env)
    started = time.monotonic()
    try:
        _wait_for(lambda: len(standin.requests) >= 1, 30, "the first request")
        lock = _exclusive_lock(repo)
        try:
            result = _finish(process, 90)
        finally:
            lock.rollback()
            lock.close()
    finally:
        process.kill()
    elapsed = time.monotonic() - started
    assert result.code == 1
    line = error_line(result)
    assert line.startswith("error: the database failed: OperationalError: database is locked")
    assert elapsed >= BUSY_SECONDS
    rows = ledger_rows(_url(repo))
    # the batch SendGrid took stays `sending` (it cannot be recorded); nothing else moved
    assert Counter(row[1] for row in rows) == {
        "sending": FIRST_BATCH,
        "planned": CUSTOMERS - FIRST_BATCH,
    }
    assert {row[0] for row in rows if row[1] == "sending"} == set(standin.recipients())
    assert len(standin.recipients()) == FIRST_BATCH

    standin.delay = 0.0
    rerun = run_notices(*SEND, cwd=repo.path, env=env)
    assert rerun.code == 0, rerun.err
    assert f"resumed: {FIRST_BATCH} delivery(ies) were in flight" in rerun.out
    assert {row[1] for row in ledger_rows(_url(repo))} == {"sent"}
    times = mailed(standin)
    assert set(times) == _customers()
    twice = sum(1 for count in times.values() if count > 1)
    assert twice == FIRST_BATCH and max(times.values()) == 2
    record_fault(
        record_property,
        "database",
        f"SQLite write-locked by another process past busy_timeout ({BUSY_SECONDS:g} s) "
        "mid-send",
        f"exit 1 after {elapsed:.0f} s: {line}; the batch in flight stays `sending`; "
        f"rerun resent it ({twice} mailed twice) and finished",
    )
    record_property("figure", f"duplicates={twice}")


# --- PostgreSQL: the sender's connections terminated mid-send --------------------------------

PG_CUSTOMERS = 600
PG_BATCH = 20


def _terminate(database: str) -> int:
    """pg_terminate_backend on every connection to `database` (as a server restart would)."""
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=test"
    with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return sum(1 for (done,) in rows if done)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


def test_postgres_connections_terminated_mid_send(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    standin: sendgrid_standin.StandIn,
    pg_url: str,
    record_property: Prop,
) -> None:
    """When the sender's PostgreSQL connections are terminated three times mid-send, then the
    send recovers or fails with one clear line, and a rerun leaves nobody unmailed and at most
    the batch in flight at each failure mailed twice."""
    repo = sending_repo(
        tmp_path,
        tmp_path_factory.getbasetemp(),
        CUSTOMERS,
        **{**MAIL, "batch_size": PG_BATCH, "timeout_seconds": 5.0},
    )
    env = {**sendgrid_env(standin, repo), "NOTICES_DATABASE_URL": pg_url}
    listing = write_customers(tmp_path / "customers.csv", PG_CUSTOMERS)
    imported = run_notices("customers", "import", str(listing), cwd=repo.path, env=env)
    assert imported.code == 0, imported.err
    standin.delay = 0.05
    database = pg_url.rsplit("/", 1)[1]
    terminated: list[int] = []
    process = _popen_send(repo, env)
    try:
        for share in (0.25, 0.5, 0.75):
            _wait_for(
                lambda share=share: standin.recipient_count >= share * PG_CUSTOMERS
                or process.poll() is not None,
                60,
                f"{share:.0%} of the send",
            )
            if process.poll() is not None:
                break
            terminated.append(_terminate(database))
        first = _finish(process, 60)
    finally:
        process.kill()
    assert sum(terminated) >= 1, "no connection of the sender was terminated"
    runs = [first]
    if first.code != 0:
        line = error_line(first)
        assert "terminat" in line or "closed" in line or "connection" in line, line
    else:
        assert first.err == "", first.err
    rerun = run_notices(*SEND, cwd=repo.path, env=env)
    assert rerun.code == 0, rerun.err
    runs.append(rerun)
    assert {row[1] for row in ledger_rows(pg_url)} == {"sent"}
    times = mailed(standin)
    assert set(times) == _customers(PG_CUSTOMERS)
    twice = sum(1 for count in times.values() if count > 1)
    failed_runs = sum(1 for run in runs if run.code != 0)
    assert twice <= failed_runs * PG_BATCH and max(times.values()) <= 2
    outcome = (
        "the send recovered (exit 0)"
        if first.code == 0
        else f"exit {first.code}: {error_line(first)}"
    )
    record_fault(
        record_property,
        "database",
        "PostgreSQL connections of the sender terminated 3 times mid-send (pg_terminate_backend)",
        f"{outcome}; rerun exit 0; {PG_CUSTOMERS} mailed, {twice} twice",
    )
    record_property("figure", f"lost={len(_customers(PG_CUSTOMERS) - set(times))}")
    record_property("figure", f"duplicates={twice}")


# --- the outbox folder cannot be written ----------------------------------------------------


def test_outbox_unwritable(repo: NoticeRepo, record_property: Prop) -> None:
    """When var/outbox is a regular file (root ignores modes, not this), then every batch fails
    with a line naming the outbox and why, exit 1, nothing is marked sent and no mail written;
    once it is a folder again, a rerun writes each mail once, private to its owner."""
    outbox = repo.path / "var" / "outbox"
    outbox.write_text("not a folder\n", encoding="utf-8")
    first = run_notices(*SEND, cwd=repo.path)
    assert first.code == 1
    assert first.out.splitlines()[-1] == (
        f"{RELEASE}: sent 0, failed {CUSTOMERS} in {BATCHES} batch(es)"
    )
    reason = f"cannot write to the outbox {outbox / VERSION}: Not a directory"
    logged = _log_lines(first)
    assert len(logged) == BATCHES
    assert all(level == "ERROR" and text.endswith(f"): {reason}") for level, text in logged)
    rows = ledger_rows(_url(repo))
    assert {(row[1], row[3]) for row in rows} == {("failed", reason)}
    assert outbox.read_text(encoding="utf-8") == "not a folder\n"

    outbox.unlink()
    rerun = run_notices(*SEND, cwd=repo.path)
    assert rerun.code == 0, rerun.err
    assert rerun.out.splitlines()[-1] == (
        f"{RELEASE}: sent {CUSTOMERS}, failed 0 in {BATCHES} batch(es)"
    )
    mails = sorted((outbox / VERSION).iterdir())
    assert len(mails) == CUSTOMERS
    recipients = Counter(str(message_from_bytes(mail.read_bytes())["To"]) for mail in mails)
    assert recipients == Counter(dict.fromkeys(_customers(), 1))
    assert {oct(mail.stat().st_mode & 0o777) for mail in mails} == {"0o600"}
    assert oct(outbox.stat().st_mode & 0o777) == oct((outbox / VERSION).stat().st_mode & 0o777)
    assert oct(outbox.stat().st_mode & 0o777) == "0o700"
    record_fault(
        record_property,
        "outbox",
        "var/outbox is a regular file, not a folder",
        f"exit 1, one line per batch: {logged[0][1]}; nothing marked sent; "
        "rerun after fixing: each mail written once (0600 in 0700 folders)",
    )


def test_outbox_unwritable_for_five_runs(repo: NoticeRepo, record_property: Prop) -> None:
    """When the outbox stays unwritable for five runs (a scheduler retrying through an outage)
    and is then fixed, then the next run refuses to pass quietly (exit 1, one error line
    naming the unsent), and `--retry-failed` mails everyone."""
    outbox = repo.path / "var" / "outbox"
    outbox.write_text("not a folder\n", encoding="utf-8")
    for _ in range(5):
        assert run_notices(*SEND, cwd=repo.path).code == 1
    outbox.unlink()
    rerun = run_notices(*SEND, cwd=repo.path)
    verdict = rerun.err.splitlines()[-1]
    retried = run_notices(*SEND, "--retry-failed", cwd=repo.path)
    sent = sum(1 for row in ledger_rows(_url(repo)) if row[1] == "sent")
    record_fault(
        record_property,
        "outbox",
        "var/outbox unwritable for 5 runs, then fixed",
        f"rerun exit {rerun.code}: {verdict.split(' (hint')[0]}; with --retry-failed: exit "
        f"{retried.code}, {sent} of {CUSTOMERS} sent",
    )
    assert rerun.code == 1
    assert verdict.startswith(f"error: {CUSTOMERS} delivery(ies) of ") and "failed" in verdict
    assert retried.code == 0, retried.err
    assert sent == CUSTOMERS
