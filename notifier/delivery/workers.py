"""`notices notify send --workers N`: N sender processes sharing the ledger on PostgreSQL.

Each worker is a plain `notices notify send`, exactly what an operator would start on other
machines: workers claim disjoint batches (`FOR UPDATE SKIP LOCKED`), and the batch of one that
dies is taken back by the others. The parent only watches: it shows progress from the ledger,
and if work is left when the workers are gone (one was killed), it finishes the send itself.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import datetime
from typing import Any

from notifier.delivery import ledger, notify
from notifier.errors import NotifyError
from notifier.releases.history import read_history
from notifier.settings import Settings
from notifier.storage import db

log = logging.getLogger(__name__)
POLL_SECONDS = 1.0  # each look counts the release's ledger
UNFINISHED = ("planned", "sending")  # failed deliveries wait for the next run, as with one


def send(
    settings: Settings,
    version: str,
    workers: int,
    *,
    notice: str | None = None,
    locale: str | None = None,
    early: bool = False,
    progress: notify.Progress | None = None,
    retry_failed: bool = False,
) -> notify.SendReport:
    """Run `workers` senders for a release and wait for them; the report adds theirs up."""
    if db.single_writer(settings):
        raise NotifyError(
            f"--workers {workers} needs a PostgreSQL database: SQLite takes one writer",
            hint="set NOTICES_DATABASE_URL=postgresql+psycopg://…, or send with one worker",
        )
    history = read_history(settings.repo, settings)
    current = datetime.now(settings.timezone)
    plan_, due = notify.ready(
        settings, history, version, notice=notice, locale=locale, current=current, early=early
    )
    release, engine = plan_.release, db.engine(settings)
    if not due:
        return notify.SendReport(release.id, 0, 0, 0, 0, True, ledger.counts(engine, release.id))
    ledger.plan(engine, release.id, plan_.services, plan_.due_at)
    if retry_failed:  # once, here: the workers then find those deliveries planned
        ledger.requeue(
            engine, release.id, notify.stale_before(settings, alone=False), every_failure=True
        )
    command = _worker_command(settings, version, notice, locale, early)
    processes = [
        subprocess.Popen(command, stdout=subprocess.PIPE, text=True) for _ in range(workers)
    ]
    try:
        _watch(processes, engine, release.id, progress)
    except BaseException:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        raise
    reports = [_report(process) for process in processes]
    stopped = [p for p, report in zip(processes, reports, strict=True) if _refused(p, report)]
    if stopped:  # they gave up (endpoint down, key refused) or failed: the parent would too
        raise NotifyError(
            f"{len(stopped)} of {workers} worker(s) stopped with an error (above); the others "
            f"were not restarted and this process did not finish their work",
            hint=f"`notices notify status {version}` says why; fix the cause, then rerun",
        )
    lost = sum(1 for report in reports if report is None)
    total = _sum(release.id, [r for r in reports if r is not None], lost)
    if any(ledger.counts(engine, release.id)[state] for state in UNFINISHED):
        log.warning("work is left after the workers stopped: finishing it in this process")
        rest = notify.send(
            settings, version, notice=notice, locale=locale, early=early, progress=progress
        )
        total = _add(total, rest)
    counts = ledger.counts(engine, release.id)
    return replace(total, counts=counts, in_flight=counts["sending"])


def _worker_command(
    settings: Settings, version: str, notice: str | None, locale: str | None, early: bool
) -> list[str]:
    command = [sys.executable, "-m", "notifier", "--repo", str(settings.repo)]
    command += ["notify", "send", version, "--json"]
    command += ["--early"] if early else []
    command += ["--notice", notice] if notice else []
    command += ["--locale", locale] if locale else []
    return command


def _watch(
    processes: list[subprocess.Popen[str]],
    engine: Any,
    release_id: str,
    progress: notify.Progress | None,
) -> None:
    while any(process.poll() is None for process in processes):
        if progress:
            counts = ledger.counts(engine, release_id)
            progress(counts["sent"] + counts["bounced"], sum(counts.values()))
        time.sleep(POLL_SECONDS)


def _report(process: subprocess.Popen[str]) -> notify.SendReport | None:
    """A worker's report, or None when it died without one (its stderr said why)."""
    output = process.stdout.read() if process.stdout else ""
    if process.stdout:
        process.stdout.close()
    if process.returncode < 0:
        name = signal.Signals(-process.returncode).name
        log.error("worker %d was killed by %s; its batch is taken back", process.pid, name)
        return None
    try:
        found = json.loads(output)
    except json.JSONDecodeError:
        return None  # it printed its own error line on stderr
    keys = ("sent", "failed", "batches", "reclaimed", "not_due", "counts", "bounced", "in_flight")
    return notify.SendReport(found["release"], *(found[key] for key in keys))


def _refused(process: subprocess.Popen[str], report: notify.SendReport | None) -> bool:
    """A worker that ended with an error line and no report, as opposed to one that was killed
    (taken back and finished) or one that reported and exited 1 for failed deliveries."""
    return report is None and process.returncode > 0


def _sum(release_id: str, reports: list[notify.SendReport], lost: int) -> notify.SendReport:
    total = notify.SendReport(release_id, 0, 0, 0, 0, False, {}, lost_workers=lost)
    for report in reports:
        total = _add(total, report)
    return total


def _add(total: notify.SendReport, more: notify.SendReport) -> notify.SendReport:
    return replace(
        total,
        sent=total.sent + more.sent,
        failed=total.failed + more.failed,
        batches=total.batches + more.batches,
        reclaimed=total.reclaimed + more.reclaimed,
        bounced=total.bounced + more.bounced,
    )
