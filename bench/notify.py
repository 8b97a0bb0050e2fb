"""Benchmark: notify N customers through the SendGrid stand-in, end to end.

Prints recipients per second of `notices notify send` (a real subprocess against a real HTTP
stand-in on 127.0.0.1), its peak memory, and the ratio against one request per recipient (the
naive sender, measured on a sample in the same run). Usage: bench/notify.py [N ...]
(default 100000; pass 1000000 for the million-customer figure).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "tests"))

import sendgrid_standin  # noqa: E402
from conftest import NoticeRepo, seed_text  # noqa: E402
from support_notify import API_KEY, NOTICE, VERSION, amended, write_customers  # noqa: E402

SAMPLE = 2000


def _repo(folder: Path, batch_size: int) -> NoticeRepo:
    repo = NoticeRepo(folder)
    folder.mkdir(parents=True)
    repo.git("init", "-q", "-b", "main")
    settings = (PROJECT / "notices.toml").read_text(encoding="utf-8")
    repo.write("notices.toml", settings.replace("batch_size = 1000", f"batch_size = {batch_size}"))
    repo.commit("seed", "2029-01-01T10:00:00+08:00", {NOTICE: seed_text()})
    repo.commit("amend", "2029-11-01T10:00:00+08:00", {NOTICE: amended()})
    return repo


def _notices(repo: NoticeRepo, env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "notifier", *args],
        cwd=repo.path,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def run(
    count: int, batch_size: int, root: Path, stand_in: sendgrid_standin.StandIn
) -> tuple[float, float]:
    repo = _repo(root / f"repo-{count}-{batch_size}", batch_size)
    env = {"SENDGRID_API_KEY": API_KEY, "SENDGRID_API_HOST": stand_in.url}
    write_customers(repo.path / "c.csv", count)
    imported = _notices(repo, env, "customers", "import", "c.csv")
    before = stand_in.recipient_count
    seconds = _notices(repo, env, "notify", "send", VERSION, "--early")
    assert stand_in.recipient_count - before == count, "not everyone was mailed"
    return imported, seconds


def main() -> None:
    counts = [int(arg) for arg in sys.argv[1:]] or [100_000]
    stand_in = sendgrid_standin.start(API_KEY)
    stand_in.record = False
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        _, naive = run(SAMPLE, 1, root, stand_in)
        naive_rate = SAMPLE / naive
        print(
            f"notify: one request per recipient ({SAMPLE} sampled): {naive_rate:,.0f} recipients/s"
        )
        for count in counts:
            imported, seconds = run(count, 1000, root, stand_in)
            peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            rate = count / seconds
            print(
                f"notify: {count:>9,} customers  import {imported:6.1f} s  "
                f"send {seconds:6.1f} s = {rate:,.0f} recipients/s  "
                f"peak child memory {peak_mb:,.0f} MB  ratio vs naive {rate / naive_rate:,.1f}x"
            )
    sendgrid_standin.stop(stand_in)


if __name__ == "__main__":
    main()
