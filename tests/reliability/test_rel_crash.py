"""Faults (issue #10): a 100,000-recipient send killed with SIGKILL at 20 random points.

The send runs as the real `notices notify send` against the SendGrid stand-in on SQLite; it is
killed at points drawn by a seeded generator across the whole send (at a share of the recipients
mailed, plus a random delay), restarted, killed again, and finally let finish. Figures: customers
lost (none may be) and customers mailed twice (at most the batch in flight at each kill).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from support import sendgrid_standin
from support.notify import sendgrid_env, standin
from support.reliability import VERSION, ledger_rows, mailed, record_fault, sending_repo
from support.repos import NoticeRepo, run_notices

__all__ = ["standin"]

SEND = ("notify", "send", VERSION, "--early")
COUNT = 100_000
KILLS = 20
BATCH = 1000  # the default mail.batch_size
SEED = 10  # the number: the same kill points on every run
Prop = Callable[[str, object], None]


def _kill_plan(rng: random.Random) -> list[tuple[float, float]]:
    """(share of the recipients mailed, extra delay in s) for each kill, in order: shares spread
    over the whole send (the last one early enough that the send is not over), delays of up to
    about two batches, so kills land in claims, requests, marks and start-ups alike."""
    shares = sorted(rng.uniform(0.0, 0.95) for _ in range(KILLS))
    return [(share, rng.uniform(0.0, 0.15)) for share in shares]


def _statuses(repo: NoticeRepo) -> dict[str, int]:
    path = repo.path / "var" / "notices.db"
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
        rows = connection.execute("SELECT status, count(*) FROM deliveries GROUP BY status")
        return {status: int(count) for status, count in rows}


def _start(repo: NoticeRepo, env: dict[str, str]) -> subprocess.Popen[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NOTICES_", "SENDGRID_"))}
    return subprocess.Popen(
        [sys.executable, "-m", "notifier", *SEND],
        cwd=repo.path,
        env={**clean, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_sigkill_at_20_random_points_of_a_100k_send(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    standin: sendgrid_standin.StandIn,
    record_property: Prop,
) -> None:
    """When a 100,000-recipient send is SIGKILLed at 20 random points and restarted each time,
    then every customer is mailed, and those mailed twice are at most the deliveries in flight
    at the kills (at most one batch each)."""
    started = time.monotonic()
    repo = sending_repo(tmp_path, tmp_path_factory.getbasetemp(), COUNT)
    env = sendgrid_env(standin, repo)
    sending_started = time.monotonic()
    in_flight: list[int] = []  # deliveries each kill left `sending`
    shares: list[float] = []  # share of the recipients the stand-in had taken at each kill
    for share, delay in _kill_plan(random.Random(SEED)):
        process = _start(repo, env)
        try:
            deadline = time.monotonic() + 120
            while standin.recipient_count < share * COUNT and process.poll() is None:
                assert time.monotonic() < deadline, "the send made no progress"
                time.sleep(0.005)
            time.sleep(delay)
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            process.kill()
        assert process.returncode == -signal.SIGKILL, "the send ended before its kill"
        shares.append(standin.recipient_count / COUNT)
        left = _statuses(repo).get("sending", 0)
        assert left <= BATCH, f"a kill left {left} deliveries in flight"
        in_flight.append(left)
    final = run_notices(*SEND, cwd=repo.path, env=env)
    sending_time = time.monotonic() - sending_started
    assert final.code == 0, final.err
    time.sleep(0.3)  # requests a killed sender made may still be being answered
    assert {row[1] for row in ledger_rows(f"sqlite:///{repo.path / 'var' / 'notices.db'}")} == {
        "sent"
    }
    times = mailed(standin)
    everyone = {f"user{number:06d}@example.com" for number in range(1, COUNT + 1)}
    lost = len(everyone - set(times))
    duplicates = sum(1 for count in times.values() if count > 1)
    assert set(times) <= everyone
    assert lost == 0
    assert duplicates <= sum(in_flight) <= KILLS * BATCH
    total = time.monotonic() - started
    record_fault(
        record_property,
        "crash",
        f"SIGKILL at {KILLS} random points of a {COUNT:,}-recipient send (SQLite, SendGrid), "
        "restarting after each",
        f"kills at {', '.join(f'{share:.0%}' for share in shares)} of the recipients mailed; "
        f"in flight at the kills: {sum(in_flight)} (at most {max(in_flight)} at one); "
        f"lost {lost}, mailed twice {duplicates} (bound {KILLS} × {BATCH})",
    )
    record_property("figure", f"lost={lost}")
    record_property("figure", f"duplicates={duplicates}")
    record_property("figure", f"kills={KILLS}")
    record_property("figure", f"send_seconds={sending_time:.1f}")
    record_property("figure", f"total_seconds={total:.1f}")
