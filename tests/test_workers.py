"""Several senders on one PostgreSQL ledger: `--workers N`, independent processes, dead workers.

Real `notices` processes, a real PostgreSQL database per test and the SendGrid stand-in, which
keeps every request it accepted: what customers would have received.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text, update
from support import sendgrid_standin
from support.notify import API_KEY, VERSION, material_repo, standin, write_customers
from support.repos import NoticeRepo, run_notices
from support.schedule import postgres_database

from notifier.storage import db

__all__ = ["standin"]
pytestmark = pytest.mark.slow  # several `notices` processes mailing thousands each
BATCH = 100


@pytest.fixture
def pg_env(seeded_repo: NoticeRepo, standin: sendgrid_standin.StandIn) -> Iterator[dict[str, str]]:
    """A material release, customers in batches of 100, a fresh PostgreSQL database."""
    material_repo(seeded_repo)
    path = seeded_repo.path / "notices.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("batch_size = 1000", f"batch_size = {BATCH}"),
        encoding="utf-8",
    )
    with postgres_database() as url:
        yield {"NOTICES_DATABASE_URL": url, "SENDGRID_API_KEY": API_KEY,
               "SENDGRID_API_HOST": standin.url}


def _import(repo: NoticeRepo, env: dict[str, str], count: int) -> None:
    write_customers(repo.path / "c.csv", count)
    imported = run_notices("customers", "import", "c.csv", cwd=repo.path, env=env)
    assert imported.code == 0, imported.err


def _start(repo: NoticeRepo, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NOTICES_", "SENDGRID_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "notifier", "notify", "send", VERSION, "--early", "--json", *args],
        cwd=repo.path,
        env={**clean, "PYTHONIOENCODING": "utf-8", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == parent:
                found.append(int(entry.name))
    return found


def _wait_for(condition: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _largest_batch(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(text(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM deliveries GROUP BY batch_id) AS b"
        )).scalar_one()
    engine.dispose()
    return int(found)


def _unsent(url: str) -> str:
    """Why deliveries are not sent, as the ledger keeps it: for a failed run's message."""
    table = db.deliveries
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            select(table.c.status, table.c.error, func.count())
            .where(table.c.status != "sent")
            .group_by(table.c.status, table.c.error)
        ).all()
    engine.dispose()
    return "".join(f"\n{count} {status}: {error}" for status, error, count in rows)


def _claimers(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = set(connection.execute(select(db.deliveries.c.claimed_by).distinct()).scalars())
    engine.dispose()
    return found


def test_workers_share_the_send_and_nobody_is_mailed_twice(
    seeded_repo: NoticeRepo, pg_env: dict[str, str], standin: sendgrid_standin.StandIn
) -> None:
    """When `notify send --workers 4` runs on PostgreSQL, then every customer is mailed
    exactly once, and the batches were claimed by several processes."""
    _import(seeded_repo, pg_env, 3000)
    standin.delay = 0.1
    code, out, err = _finish(_start(seeded_repo, pg_env, "--workers", "4"))
    assert code == 0, err + _unsent(pg_env["NOTICES_DATABASE_URL"])
    report = json.loads(out)
    assert (report["sent"], report["failed"], report["lost_workers"]) == (3000, 0, 0)
    assert report["counts"]["sent"] == 3000
    assert len(standin.recipients()) == 3000
    assert set(Counter(standin.recipients()).values()) == {1}
    assert len(_claimers(pg_env["NOTICES_DATABASE_URL"])) >= 2
    assert _largest_batch(pg_env["NOTICES_DATABASE_URL"]) == BATCH
    assert report["batches"] == 3000 // BATCH


def test_independent_senders_claim_disjoint_batches(
    seeded_repo: NoticeRepo, pg_env: dict[str, str], standin: sendgrid_standin.StandIn
) -> None:
    """When four `notices notify send` processes (as on four machines) run at once, then
    together they mail everyone once, each reporting only its own batches."""
    _import(seeded_repo, pg_env, 2000)
    standin.delay = 0.1
    processes = [_start(seeded_repo, pg_env) for _ in range(4)]
    finished = [_finish(process) for process in processes]  # all of them, even if one failed
    reports = []
    for code, out, err in finished:
        assert code == 0, err + _unsent(pg_env["NOTICES_DATABASE_URL"])
        reports.append(json.loads(out))
    assert sum(report["sent"] for report in reports) == 2000
    assert Counter(standin.recipients()) == Counter(
        f"user{n:06d}@example.com" for n in range(1, 2001)
    )


def _waiting_on_a_lock(url: str) -> bool:
    """Whether a session of this database waits for a lock another transaction holds."""
    engine = create_engine(url)
    with engine.connect() as connection:
        waiting = connection.execute(text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )).scalar_one()
    engine.dispose()
    return bool(waiting)


def test_a_sender_that_runs_out_while_another_claims_counts_that_batch_in_flight(
    seeded_repo: NoticeRepo, pg_env: dict[str, str], standin: sendgrid_standin.StandIn
) -> None:
    """Given a batch planned and another sender in the middle of claiming it (its rows locked,
    its claim not yet committed), when a send finds nothing it may claim, then it waits for
    that claim before it counts: the batch is in flight, not unsent, and the send exits 0.
    (Counted at once, the batch read as planned, and a send that had failed nobody said 100
    deliveries were not sent while the other sender mailed them.)"""
    _import(seeded_repo, pg_env, 200)
    first = run_notices("notify", "send", VERSION, "--early", cwd=seeded_repo.path, env=pg_env)
    assert first.code == 0, first.err
    url, table = pg_env["NOTICES_DATABASE_URL"], db.deliveries
    engine = create_engine(url)
    with engine.begin() as connection:
        last = select(table.c.id).order_by(table.c.id.desc()).limit(BATCH).scalar_subquery()
        connection.execute(
            update(table).where(table.c.id.in_(last))
            .values(status="planned", batch_id=None, claimed_by=None, message_id=None)
        )
    before = len(standin.recipients())
    with engine.connect() as other, other.begin():
        claiming = other.execute(
            select(table.c.id).where(table.c.status == "planned").with_for_update()
        ).scalars().all()
        process = _start(seeded_repo, pg_env)
        _wait_for(lambda: process.poll() is not None or _waiting_on_a_lock(url))
        other.execute(
            update(table).where(table.c.id.in_(claiming))
            .values(status="sending", claimed_by="elsewhere.example:4242",
                    claimed_at=text("now()"), batch_id="theirs")
        )
    engine.dispose()
    code, out, err = _finish(process)
    assert code == 0, err
    report = json.loads(out)
    assert (len(claiming), report["sent"], report["failed"]) == (BATCH, 0, 0)
    assert (report["in_flight"], report["counts"]["planned"]) == (BATCH, 0)
    assert len(standin.recipients()) == before


def test_a_worker_killed_mid_batch_is_taken_over(
    seeded_repo: NoticeRepo, pg_env: dict[str, str], standin: sendgrid_standin.StandIn
) -> None:
    """Given `--workers 4` with slow answers, when one worker is SIGKILLed while its batch is
    in flight, then the others take its batch back at once (a dead process of this host), the
    send completes, nobody is lost, and at most that one batch arrives twice."""
    _import(seeded_repo, pg_env, 3000)
    standin.delay = 0.3
    parent = _start(seeded_repo, pg_env, "--workers", "4")
    _wait_for(lambda: len(_children(parent.pid)) == 4 and len(standin.accepted) >= 3)
    victim = _children(parent.pid)[0]
    os.kill(victim, signal.SIGKILL)
    code, out, err = _finish(parent)
    assert code == 0, err + _unsent(pg_env["NOTICES_DATABASE_URL"])
    report = json.loads(out)
    assert report["lost_workers"] == 1
    assert report["counts"] == {"planned": 0, "sending": 0, "sent": 3000, "failed": 0,
                                "bounced": 0}
    received = Counter(standin.recipients())
    assert len(received) == 3000  # nobody lost
    assert sum(1 for count in received.values() if count > 1) <= BATCH
    assert "killed by SIGKILL" in err


def test_workers_facing_a_dead_endpoint_stop_the_run_once(
    seeded_repo: NoticeRepo, pg_env: dict[str, str]
) -> None:
    """When nothing listens at the API host, then each of `--workers 2` gives up after 3
    batches in a row and the parent ends the run with one line: it neither counts them as dead
    workers nor sends the rest itself (which would give up a second time)."""
    path = seeded_repo.path / "notices.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("max_retries = 5", "max_retries = 0"),
        encoding="utf-8",
    )
    _import(seeded_repo, pg_env, 1000)
    with socket.socket() as probe:  # a port nothing listens on: connecting is refused at once
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    code, out, err = _finish(
        _start(seeded_repo, {**pg_env, "SENDGRID_API_HOST": dead}, "--workers", "2")
    )
    assert (code, out) == (1, "")
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 3, err  # each worker's own line, then the parent's
    assert all("could not be reached (3 batch(es) in a row)" in line for line in errors[:2])
    assert errors[2].startswith("error: 2 of 2 worker(s) stopped with an error (above)")
    assert "taken back" not in err and "finishing it in this process" not in err
    engine = create_engine(pg_env["NOTICES_DATABASE_URL"])
    with engine.connect() as connection:
        rows = connection.execute(select(db.deliveries.c.status, db.deliveries.c.attempts))
        assert Counter(rows.all()) == {("planned", 0): 1000}  # nothing sent, no attempt spent
    engine.dispose()


def _send_all_then_claim(
    repo: NoticeRepo, env: dict[str, str], claimed_by: str, claimed_at: str
) -> None:
    """Everyone sent; then the first 100 deliveries look claimed by `claimed_by` at
    `claimed_at`, as a worker that died mid-batch leaves them."""
    sent = run_notices("notify", "send", VERSION, "--early", cwd=repo.path, env=env)
    assert sent.code == 0, sent.err
    engine = create_engine(env["NOTICES_DATABASE_URL"])
    table = db.deliveries
    with engine.begin() as connection:
        first = select(table.c.id).order_by(table.c.id).limit(100).scalar_subquery()
        connection.execute(
            update(table)
            .where(table.c.id.in_(first))
            .values(status="sending", claimed_by=claimed_by, claimed_at=text(claimed_at))
        )
    engine.dispose()


def test_a_batch_of_a_worker_on_another_host_waits_for_its_lease(
    seeded_repo: NoticeRepo, pg_env: dict[str, str], standin: sendgrid_standin.StandIn
) -> None:
    """Given a batch claimed just now by a worker on another machine, then a send leaves it
    alone (it may still be sending) and says so; once its lease has run out, the next send
    takes it back and mails it."""
    _import(seeded_repo, pg_env, 300)
    _send_all_then_claim(seeded_repo, pg_env, "elsewhere.example:4242", "now()")
    before = len(standin.recipients())

    waiting = run_notices("notify", "send", VERSION, "--early", cwd=seeded_repo.path, env=pg_env)
    assert waiting.code == 0, waiting.err
    assert "100 delivery(ies) are claimed by another worker" in waiting.out
    assert len(standin.recipients()) == before

    engine = create_engine(pg_env["NOTICES_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text("UPDATE deliveries SET claimed_at = now() - interval '2 hours' "
                                "WHERE status = 'sending'"))
    engine.dispose()
    taken = run_notices("notify", "send", VERSION, "--early", cwd=seeded_repo.path, env=pg_env)
    assert taken.code == 0, taken.err
    assert "resumed: 100 delivery(ies) were in flight" in taken.out
    assert len(standin.recipients()) == before + 100


def test_a_batch_of_a_dead_process_on_this_host_is_taken_back_at_once(
    seeded_repo: NoticeRepo, pg_env: dict[str, str], standin: sendgrid_standin.StandIn
) -> None:
    """Given a batch claimed just now by a process of this host that no longer exists, then
    the next send takes it back without waiting for the lease."""
    _import(seeded_repo, pg_env, 300)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    _send_all_then_claim(seeded_repo, pg_env, f"{socket.gethostname()}:{dead.pid}", "now()")
    before = len(standin.recipients())
    taken = run_notices("notify", "send", VERSION, "--early", cwd=seeded_repo.path, env=pg_env)
    assert taken.code == 0, taken.err
    assert "resumed: 100 delivery(ies) were in flight" in taken.out
    assert len(standin.recipients()) == before + 100


def test_workers_need_postgresql(seeded_repo: NoticeRepo) -> None:
    """On SQLite (one writer), `--workers 2` is refused with one line, and nothing is sent."""
    material_repo(seeded_repo)
    sent = run_notices("notify", "send", VERSION, "--early", "--workers", "2",
                       cwd=seeded_repo.path)
    assert sent.code == 1
    assert sent.err == (
        "error: --workers 2 needs a PostgreSQL database: SQLite takes one writer (hint: set "
        "NOTICES_DATABASE_URL=postgresql+psycopg://…, or send with one worker)\n"
    )
