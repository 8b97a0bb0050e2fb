"""Benchmark: notify N customers on PostgreSQL with 1 and with 4 sender workers.

Runs the real `notices customers import` and `notices notify send [--workers 4]` as subprocesses
against the SendGrid stand-in on 127.0.0.1 (which parses and validates every request), on a
fresh PostgreSQL database at 127.0.0.1:5432 that is dropped afterwards. Between runs the ledger
is emptied, so each run mails everyone. Two kinds of mail service: the stand-in answering at
once (the run is bound by the CPUs, which the database, the stand-in and the workers share),
and answering after LATENCY seconds per request, as a round trip to SendGrid's API from far
away does (the run is bound by waiting, which workers overlap). Prints recipients per second
per run and the speed-up of 4 workers over 1 (the peer: one worker, same database, same run).
Usage: bench/notify_pg.py [N]   (default 1000000; about 15 minutes on 2 cores.)
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent / "tests")]
from notify import bench_repo, timed_notices  # noqa: E402
from support import sendgrid_standin  # noqa: E402
from support.notify import API_KEY, VERSION, write_customers  # noqa: E402
from support.repos import NoticeRepo  # noqa: E402

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
WORKERS = (1, 4)
LATENCY = 0.2  # seconds per request: a plausible round trip to api.sendgrid.com from Asia


def _send(
    repo: NoticeRepo,
    env: dict[str, str],
    database: str,
    stand_in: sendgrid_standin.StandIn,
    workers: int,
    count: int,
) -> float:
    """Empty the ledger, send to everyone with `workers` workers: recipients per second."""
    with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={database}") as connection:
        connection.execute("TRUNCATE delivery_events, deliveries")
    before = stand_in.recipient_count
    args = ["notify", "send", VERSION, "--early", "--workers", str(workers)]
    seconds, _ = timed_notices(repo, env, *args)
    assert stand_in.recipient_count - before == count, "not everyone was mailed once"
    return count / seconds


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    name = f"notices_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    stand_in = sendgrid_standin.start(API_KEY)
    stand_in.record = False
    print(
        f"notify on PostgreSQL: {count:,} customers, SendGrid stand-in on 127.0.0.1, "
        f"{os.cpu_count()} CPU(s), Python {sys.version.split()[0]}"
    )
    try:
        with tempfile.TemporaryDirectory() as folder:
            repo = bench_repo(Path(folder) / "repo", 1000)
            env = {
                "SENDGRID_API_KEY": API_KEY,
                "SENDGRID_API_HOST": stand_in.url,
                "NOTICES_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
            }
            write_customers(repo.path / "c.csv", count)
            seconds, megabytes = timed_notices(repo, env, "customers", "import", "c.csv")
            rate = count / seconds
            print(f"import: {seconds:.1f} s ({rate:,.0f} rows/s, peak {megabytes:,.0f} MB)")
            for delay in (0.0, LATENCY):
                stand_in.delay = delay
                rates = {}
                for workers in WORKERS:
                    rates[workers] = _send(repo, env, name, stand_in, workers, count)
                    print(
                        f"answers after {delay:.1f} s, {workers} worker(s): "
                        f"{rates[workers]:,.0f} recipients/s end to end"
                    )
                speed_up = rates[WORKERS[-1]] / rates[WORKERS[0]]
                print(f"  speed-up of {WORKERS[-1]} workers over 1: {speed_up:.2f}x")
    finally:
        sendgrid_standin.stop(stand_in)
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
