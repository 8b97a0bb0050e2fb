"""Several `notices schedule run` on one PostgreSQL database: one active, the others standing by.

Real scheduler processes, killed for real; the SendGrid stand-in counts what customers got.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import create_engine, text
from support import sendgrid_standin
from support.notify import API_KEY, standin, write_customers
from support.repos import NoticeRepo, run_notices
from support.schedule import QUICK_RESYNC, due_release, postgres_database

__all__ = ["standin"]
pytestmark = pytest.mark.slow

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Seconds from committing a release to its notice falling due. The release is committed once
# the schedulers are up, so this covers one re-sync of the active scheduler, not start-ups.
LEAD = 10.0
CUSTOMERS = 300
BATCH = 50
ACTIVE = "is now the active scheduler"


@pytest.fixture
def cluster(
    seeded_repo: NoticeRepo, standin: sendgrid_standin.StandIn
) -> Iterator[dict[str, str]]:
    """A PostgreSQL database with 300 customers; mail through the stand-in, 50 per batch."""
    path = seeded_repo.path / "notices.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("batch_size = 1000", f"batch_size = {BATCH}"),
        encoding="utf-8",
    )
    seeded_repo.commit("Smaller batches", "2024-01-03T09:00:00+08:00")
    with postgres_database() as url:
        env = {"NOTICES_DATABASE_URL": url, "SENDGRID_API_KEY": API_KEY,
               "SENDGRID_API_HOST": standin.url}
        write_customers(seeded_repo.path / "c.csv", CUSTOMERS)
        imported = run_notices("customers", "import", "c.csv", cwd=seeded_repo.path, env=env)
        assert imported.code == 0, imported.err
        yield env


class Scheduler:
    """One `notices -v schedule run` process with its log file."""

    def __init__(
        self, repo: Path, env: Mapping[str, str], log: Path, resync: str | None = None
    ) -> None:
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("NOTICES_", "SENDGRID_"))}
        self.log = log
        every = ["--resync-minutes", resync] if resync else []
        with log.open("ab") as stream:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "notifier", "-v", "schedule", "run", *every],
                cwd=repo,
                env={**clean, "PYTHONIOENCODING": "utf-8", **env},
                stdout=stream,
                stderr=stream,
            )

    def says(self, words: str) -> bool:
        return words in self.log.read_text("utf-8")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds it took for `condition` to hold."""
    began = time.monotonic()
    while not condition():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)
    return time.monotonic() - began


def run_record(env: Mapping[str, str], job: str) -> tuple[str, int] | None:
    engine = create_engine(env["NOTICES_DATABASE_URL"])
    with engine.connect() as connection:
        row = connection.execute(
            text("SELECT state, runs FROM schedule_runs WHERE job_id = :job"), {"job": job}
        ).first()
    engine.dispose()
    return (str(row[0]), int(row[1])) if row else None


def schedulers(
    repo: NoticeRepo, env: Mapping[str, str], folder: Path, count: int,
    first_resync: str | None = None,
) -> list[Scheduler]:
    """Start `count` schedulers: the first becomes active (re-syncing every `first_resync`
    minutes, if given), the others stand by (with the default re-sync, so that none re-syncs
    while a notice is being submitted)."""
    started = [Scheduler(repo.path, env, folder / "s0.log", first_resync)]
    wait_for(lambda: started[0].says("scheduler running"), 30, "the first scheduler")
    for number in range(1, count):
        started.append(Scheduler(repo.path, env, folder / f"s{number}.log"))
    for other in started[1:]:
        wait_for(lambda other=other: other.says("standing by"), 30, "a standby")  # type: ignore[misc]
    return started


def test_a_standby_takes_over_a_killed_leader_and_the_notice_goes_once(
    seeded_repo: NoticeRepo, cluster: dict[str, str], standin: sendgrid_standin.StandIn,
    tmp_path: Path,
) -> None:
    """Given three schedulers on one database, when the active one has planned a notice and is
    SIGKILLed before it falls due, then a standby is active within 30 s, the notice runs
    exactly once, every customer gets one mail, and the others stop cleanly on SIGTERM."""
    running = schedulers(seeded_repo, cluster, tmp_path, 3, first_resync=QUICK_RESYNC)
    assert not running[0].says("standing by")
    assert all(not s.says(ACTIVE) for s in running[1:])
    # committed now that all are up: how slowly they started cannot eat into the lead
    job, due = due_release(seeded_repo, LEAD)
    wait_for(lambda: running[0].says(f"sync: added {job}"), LEAD, "the leader to plan it")
    assert datetime.now(SHANGHAI) < due, "the leader took the whole lead to re-sync"

    running[0].process.send_signal(signal.SIGKILL)
    running[0].process.wait(10)
    took = wait_for(lambda: any(s.says(ACTIVE) for s in running[1:]), 30, "a takeover")
    print(f"takeover after SIGKILL: {took:.1f} s")
    assert sum(s.says(ACTIVE) for s in running[1:]) == 1

    wait_for(lambda: run_record(cluster, job) == ("done", 1), LEAD + 60, "the notice")
    time.sleep(3)  # time enough to run it again, if anything were going to
    assert run_record(cluster, job) == ("done", 1)
    received = Counter(standin.recipients())
    assert len(received) == CUSTOMERS and set(received.values()) == {1}
    # the standby first: stopping the active one first would hand it the lead
    active, standby = sorted(running[1:], key=lambda s: not s.says(ACTIVE))
    assert standby.stop() == 0
    assert standby.says("stopped while standing by")
    assert active.stop() == 0


def test_a_leader_killed_mid_notice_is_finished_by_the_next(
    seeded_repo: NoticeRepo, cluster: dict[str, str], standin: sendgrid_standin.StandIn,
    tmp_path: Path,
) -> None:
    """Given a mail service that holds the third batch, when the active scheduler is SIGKILLed
    while that batch is in flight, then the standby takes over, finishes that notice (the
    ledger keeps what was sent), nobody is lost and at most the batch in flight arrives twice."""
    job, _ = due_release(seeded_repo, lead=0)  # due at once: the leader sends as it starts
    standin.hold_after = 2
    try:
        running = schedulers(seeded_repo, cluster, tmp_path, 2)
        wait_for(lambda: len(standin.requests) > 2, 60, "the third batch to be in flight")
        running[0].process.send_signal(signal.SIGKILL)
        running[0].process.wait(10)
        assert len(standin.accepted) == 2
        assert run_record(cluster, job) == ("running", 1)
    finally:
        standin.release.set()  # the held batch is taken now, as a dead sender's may be

    wait_for(lambda: run_record(cluster, job) == ("done", 2), 60, "the notice to be finished")
    received = Counter(standin.recipients())
    assert len(received) == CUSTOMERS  # nobody lost
    assert sum(1 for count in received.values() if count > 1) <= BATCH  # one batch at most
    assert running[1].stop() == 0


def test_a_leader_whose_lock_connection_breaks_stops(
    seeded_repo: NoticeRepo, cluster: dict[str, str], tmp_path: Path
) -> None:
    """When the active scheduler's lock connection is cut (as by a server restart or a
    network split), then it stops with one error line and exit 1, and the standby leads."""
    running = schedulers(seeded_repo, cluster, tmp_path, 2)
    name = cluster["NOTICES_DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect("host=127.0.0.1 user=postgres dbname=test", autocommit=True) as admin:
        cut = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND application_name = 'notices scheduler' AND pid = ("
            "  SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            "  AND database = (SELECT oid FROM pg_database WHERE datname = %s) LIMIT 1)",
            (name, name),
        ).fetchall()
    assert cut == [(True,)]
    assert running[0].process.wait(30) == 1
    assert running[0].says("error: lost the scheduler lock")
    wait_for(lambda: running[1].says(ACTIVE), 30, "the standby to take over")
    assert running[1].stop() == 0
