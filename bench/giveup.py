"""Benchmark: how long `notices notify send` takes to give up on a dead mail endpoint.

Imports N × 1000 customers (N batches at the default batch size), then runs the real `notices
notify send` in a subprocess, with the default [mail] settings, against SendGrid at a closed
port on 127.0.0.1 (connection refused at once; no other address is used). Prints, per N, the
seconds until the command exited with its one line, the batches it tried, the ratio to the 60 s
target, and the peer: the same run without giving up, which tries every batch with all its
retries (extrapolated from the measured seconds per batch, and said so).
Usage: bench/giveup.py [N ...]   (default: 10 100; about 2 minutes.)
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT / "tests"))

from sqlalchemy import create_engine, text  # noqa: E402
from support.notify import API_KEY, NOTICE, VERSION, amended, write_customers  # noqa: E402
from support.repos import SETTINGS, NoticeRepo, seed_text  # noqa: E402

from notifier.delivery import customers  # noqa: E402
from notifier.settings import load_settings  # noqa: E402

BATCH = 1000  # the default [mail] batch_size
TARGET_SECONDS = 60.0


def _repo(folder: Path) -> NoticeRepo:
    repo = NoticeRepo(folder)
    folder.mkdir(parents=True)
    repo.git("init", "-q", "-b", "main")
    repo.write("notices.toml", SETTINGS.read_text(encoding="utf-8"))
    repo.commit("seed", "2029-01-01T10:00:00+08:00", {NOTICE: seed_text()})
    repo.commit("amend", "2029-11-01T10:00:00+08:00", {NOTICE: amended()})
    return repo


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _batches_tried(database: Path) -> int:
    """Batches whose error the ledger keeps (each tried batch holds BATCH deliveries)."""
    engine = create_engine(f"sqlite:///{database}")
    try:
        with engine.connect() as connection:
            tried = connection.execute(
                text("SELECT count(*) FROM deliveries WHERE error IS NOT NULL")
            ).scalar_one()
    finally:
        engine.dispose()
    return -(-int(tried) // BATCH)


def run(batches: int, root: Path) -> tuple[float, int, str]:
    """(seconds to give up, batches tried, the last line) for `batches` × 1000 customers."""
    repo = _repo(root / f"repo-{batches}")
    database = repo.path / "var" / "notices.db"
    settings = load_settings(repo.path, {"NOTICES_DATABASE_URL": f"sqlite:///{database}"})
    assert settings.mail_batch_size == BATCH, "the bench needs the default batch size"
    customers.import_csv(write_customers(repo.path / "c.csv", batches * BATCH), settings)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NOTICES_", "SENDGRID_"))}
    env = {
        **clean,
        "SENDGRID_API_KEY": API_KEY,
        "SENDGRID_API_HOST": f"http://127.0.0.1:{_closed_port()}",
        "NOTICES_DATABASE_URL": f"sqlite:///{database}",
    }
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "notifier", "notify", "send", VERSION, "--early"],
        cwd=repo.path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    last = (result.stderr.strip().splitlines() or [""])[-1]
    if result.returncode != 1 or not last.startswith("error: "):
        sys.exit(f"expected exit 1 with an error line, got {result.returncode}:\n{result.stderr}")
    return seconds, _batches_tried(database), last


def main() -> None:
    counts = [int(arg) for arg in sys.argv[1:]] or [10, 100]
    with tempfile.TemporaryDirectory(prefix="bench-giveup-") as folder:
        for batches in counts:
            seconds, tried, last = run(batches, Path(folder))
            per_batch = seconds / max(tried, 1)
            peer = per_batch * batches
            print(
                f"{batches} batches ({batches * BATCH} customers), closed port on 127.0.0.1, "
                f"default settings: gave up in {seconds:.1f} s after {tried} batch(es) "
                f"({seconds / TARGET_SECONDS:.2f} × the {TARGET_SECONDS:.0f} s target; "
                f"{'met' if seconds <= TARGET_SECONDS else 'MISSED'})"
            )
            print(
                f"  peer, without giving up: every batch with all its retries ≈ {peer:.0f} s "
                f"(extrapolated from {per_batch:.1f} s per batch): {peer / seconds:.1f} × longer"
            )
            print(f"  last line: {last[:160]}…")


if __name__ == "__main__":
    main()
