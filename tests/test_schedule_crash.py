"""A real `notices schedule run` on an SQLite job store, killed across a due time and restarted."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import closing
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.repos import NoticeRepo, run_notices
from support.schedule import QUICK_RESYNC, database, due_release, settings_for

from notifier.delivery.customers import import_csv

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Seconds between committing the release and its notice falling due: the release is committed
# once the scheduler runs, so this covers one re-sync, not its start-up.
LEAD = 6.0
CUSTOMERS = (
    ("wang.fang@example.cn", "王芳", "zh-CN"),
    ("li.wei@example.cn", "李伟", "zh-CN"),
    ("jane.doe@example.com", "Jane Doe", "en"),
)

pytestmark = pytest.mark.slow


def start(
    repo: Path, environ: Mapping[str, str], log: Path, resync: str = "10"
) -> subprocess.Popen[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("NOTICES_", "SENDGRID_"))}
    with log.open("ab") as stream:
        return subprocess.Popen(
            [sys.executable, "-m", "notifier", "-v", "schedule", "run", "--resync-minutes", resync],
            cwd=repo,
            env={**clean, "PYTHONIOENCODING": "utf-8", **environ},
            stdout=stream,
            stderr=stream,
        )


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def run_record(environ: Mapping[str, str], job: str) -> tuple[str, int] | None:
    path = environ["NOTICES_DATABASE_URL"].removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as connection:
        row = connection.execute(
            "SELECT state, runs FROM schedule_runs WHERE job_id = ?", (job,)
        ).fetchone()
    return (str(row[0]), int(row[1])) if row else None


def test_missed_notice_runs_exactly_once_after_sigkill(
    seeded_repo: NoticeRepo, tmp_path: Path
) -> None:
    """When the scheduler is killed (SIGKILL) before a notice falls due and restarted after,
    then the missed notice runs exactly once at start-up, every customer gets one mail, and
    SIGTERM then stops the scheduler cleanly."""
    environ = database(seeded_repo)
    csv_file = tmp_path / "customers.csv"
    csv_file.write_text(
        "email,name,locale,services\n"
        + "".join(f"{email},{name},{locale},azure;office365;powerbi\n"
                  for email, name, locale in CUSTOMERS),
        encoding="utf-8",
    )
    settings = settings_for(seeded_repo.path, environ=environ)
    assert import_csv(csv_file, settings).imported == len(CUSTOMERS)
    log = tmp_path / "scheduler.log"

    first = start(seeded_repo.path, environ, log, QUICK_RESYNC)
    try:
        wait_for(lambda: "scheduler running" in log.read_text("utf-8"), 60, "start-up")
        job, due = due_release(seeded_repo, LEAD)
        wait_for(lambda: f"sync: added {job}" in log.read_text("utf-8"), LEAD, "the plan")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    assert datetime.now(SHANGHAI) < due, "the scheduler took the whole lead to re-sync"
    assert run_record(environ, job) == ("scheduled", 0)

    time.sleep(max(0.0, (due - datetime.now(SHANGHAI)).total_seconds()) + 3)  # past due + grace
    second = start(seeded_repo.path, environ, log)
    try:
        wait_for(lambda: run_record(environ, job) == ("done", 1), 30, "the missed notice")
        time.sleep(2)  # time enough to run it twice, if it were going to
    finally:
        second.send_signal(signal.SIGTERM)
        code = second.wait(30)
    output = log.read_text("utf-8")
    assert code == 0
    assert run_record(environ, job) == ("done", 1)
    assert output.count(f"job {job} started") == 1
    assert f"job {job} done: sent 3, failed 0 in 2 batch(es)" in output  # zh-CN and en
    assert output.rstrip().endswith("INFO notifier.scheduling.schedule: scheduler stopped")
    mails = sorted(settings.outbox_dir.rglob("*.eml"))
    assert len(mails) == len(CUSTOMERS)
    for email, _, _ in CUSTOMERS:
        assert email not in output  # addresses are never logged whole

    listed = run_notices("schedule", "list", "--json", cwd=seeded_repo.path, env=environ)
    states = {entry["id"]: entry["state"] for entry in json.loads(listed.out)["jobs"]}
    assert states[job] == "done"
