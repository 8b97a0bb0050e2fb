"""Benchmark: notify N customers through the SendGrid stand-in, end to end.

Runs the real `notices customers import` and `notices notify send` as subprocesses against a real
HTTP stand-in on 127.0.0.1 (which parses and validates every request), on SQLite. Prints, per N:
import time, send time and recipients per second, each subprocess's own peak memory (ru_maxrss
from wait4), and the ratio against the peer: the same sender with one request per recipient
(batch_size = 1), measured on a sample of SAMPLE recipients and extrapolated (said so in the
output). Usage: bench/notify.py [N ...]   (default: 100000 1000000; the million takes ~2 min.)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "tests"))

from support import sendgrid_standin  # noqa: E402
from support.notify import API_KEY, NOTICE, VERSION, amended, write_customers  # noqa: E402
from support.repos import NoticeRepo, seed_text  # noqa: E402

SAMPLE = 2000
TARGET_RATE = 5000
TARGET_MB = 300


def bench_repo(folder: Path, batch_size: int) -> NoticeRepo:
    repo = NoticeRepo(folder)
    folder.mkdir(parents=True)
    repo.git("init", "-q", "-b", "main")
    settings = (PROJECT / "notices.toml").read_text(encoding="utf-8")
    repo.write("notices.toml", settings.replace("batch_size = 1000", f"batch_size = {batch_size}"))
    repo.commit("seed", "2029-01-01T10:00:00+08:00", {NOTICE: seed_text()})
    repo.commit("amend", "2029-11-01T10:00:00+08:00", {NOTICE: amended()})
    return repo


def timed_notices(repo: NoticeRepo, env: dict[str, str], *args: str) -> tuple[float, float]:
    """Run `notices ARGS`; return (seconds, this process's peak RSS in MB)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NOTICES_", "SENDGRID_"))}
    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "notifier", *args],
            cwd=repo.path,
            env={**clean, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            output.seek(0)
            sys.exit(f"notices {' '.join(args)} failed:\n{output.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


def run(
    count: int, batch_size: int, root: Path, stand_in: sendgrid_standin.StandIn
) -> tuple[float, float, float, float]:
    """(import s, import MB, send s, send MB) for `count` customers in batches of `batch_size`."""
    repo = bench_repo(root / f"repo-{count}-{batch_size}", batch_size)
    env = {"SENDGRID_API_KEY": API_KEY, "SENDGRID_API_HOST": stand_in.url}
    write_customers(repo.path / "c.csv", count)
    imported, import_mb = timed_notices(repo, env, "customers", "import", "c.csv")
    before = stand_in.recipient_count
    seconds, send_mb = timed_notices(repo, env, "notify", "send", VERSION, "--early")
    assert stand_in.recipient_count - before == count, "not everyone was mailed"
    return imported, import_mb, seconds, send_mb


def main() -> None:
    counts = [int(arg) for arg in sys.argv[1:]] or [100_000, 1_000_000]
    stand_in = sendgrid_standin.start(API_KEY)
    stand_in.record = False
    print(
        f"notify benchmark: SQLite, SendGrid stand-in on 127.0.0.1, Python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _, _, naive, _ = run(SAMPLE, 1, root, stand_in)
        naive_rate = SAMPLE / naive
        print(
            f"peer, one request per recipient: {naive_rate:,.0f} recipients/s "
            f"(measured on {SAMPLE:,} recipients; extrapolated to N below: "
            f"{1_000_000 / naive_rate / 60:,.0f} min for a million)"
        )
        for count in counts:
            imported, import_mb, seconds, send_mb = run(count, 1000, root, stand_in)
            rate = count / seconds
            verdict = "meets" if rate >= TARGET_RATE and send_mb < TARGET_MB else "MISSES"
            print(
                f"{count:>9,} customers: import {imported:5.1f} s ({count / imported:,.0f} rows/s, "
                f"peak {import_mb:,.0f} MB); send {seconds:5.1f} s = {rate:,.0f} recipients/s "
                f"end to end (peak {send_mb:,.0f} MB); {rate / naive_rate:,.0f}x the peer "
                f"(~{count / naive_rate:,.0f} s); {verdict} the target "
                f"(>= {TARGET_RATE:,}/s, < {TARGET_MB} MB)"
            )
    sendgrid_standin.stop(stand_in)


if __name__ == "__main__":
    main()
