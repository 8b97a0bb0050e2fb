"""The scheduler's jobs: referred to by text, given plain arguments, each safe to run twice.

APScheduler keeps `"notifier.scheduling.jobs:notify"` and the job's arguments (repo path, release
id, the commit that first published it) in its job store, so a job planned today still loads after
an upgrade (migration 0003 moved the references of jobs stored before this module had a folder).
Each job records its run in our `schedule_runs` table, re-reads history (a release removed or
rewritten since is refused), and leaves the real guard to the operation it calls: the ledger for
notices, the atomic swap for the site.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from notifier.delivery import ledger
from notifier.errors import ScheduleError
from notifier.releases.history import History, Release, read_history
from notifier.scheduling import schedule
from notifier.settings import Settings, load_settings
from notifier.storage import db

log = logging.getLogger(__name__)

Work = Callable[[Settings, History, Release], tuple[str, str]]


def notify(repo: str, release: str, commit: str) -> None:
    """Send the notice of a material release to every affected customer, never after it is in
    effect: then refuse, raise an alert and record the release as late."""
    _run("notify", repo, release, commit, _notify)


def publish(repo: str, release: str, commit: str) -> None:
    """Rebuild the site when a release takes effect, so it becomes the current version."""
    _run("publish", repo, release, commit, _publish)


def remind(repo: str, release: str, commit: str) -> None:
    """Check, shortly before a release takes effect, that every customer was told."""
    _run("remind", repo, release, commit, _remind)


def consent_reminder(repo: str, release: str, commit: str) -> None:
    """Remind, once, those who have not answered a release's consent questions."""
    _run("consent_reminder", repo, release, commit, _consent_reminder)


def _now(settings: Settings) -> datetime:
    return datetime.now(settings.timezone)


def _run(kind: str, repo: str, release_id: str, commit: str, work: Work) -> None:
    settings = load_settings(Path(repo), os.environ)
    job = schedule.job_id(release_id, kind)
    if not schedule.begin_run(settings, job, commit, _now(settings)):
        log.info("job %s already ran to the end; nothing to do", job)
        return
    log.info("job %s started", job)
    try:
        history = read_history(settings.repo, settings)
        release = _release(history, release_id, commit)
        state, detail = work(settings, history, release)
    except Exception as error:
        schedule.end_run(settings, job, schedule.FAILED, str(error), _now(settings))
        raise
    schedule.end_run(settings, job, state, detail, _now(settings))
    log.info("job %s %s: %s", job, state, detail)


def _release(history: History, release_id: str, commit: str) -> Release:
    found = {release.id: release for release in history.releases}.get(release_id)
    if found is None:
        raise ScheduleError(
            f"release {release_id} is no longer in the history of {history.ref}",
            hint="run `notices schedule sync` to drop its jobs",
        )
    if found.commit != commit:
        raise ScheduleError(
            f"release {release_id} was rewritten in history (planned for commit {commit[:12]}, "
            f"now {found.commit[:12]}); refusing to act on it",
            hint="published history is append-only: restore it",
        )
    return found


def _notify(settings: Settings, history: History, release: Release) -> tuple[str, str]:
    now = _now(settings)
    if now >= release.effective_at(settings.timezone):
        detail = (
            f"refused to notify at {now.isoformat(timespec='seconds')}: on or after the "
            f"effective date {release.effective.isoformat()}; move the effective date "
            "(publish a new version) and notify then"
        )
        log.error("ALERT: release %s: %s", release.id, detail)
        return schedule.LATE, detail
    from notifier.delivery import notify as operation

    report = operation.send(
        settings, release.version, notice=release.notice, locale=release.locale, now=now
    )
    if report.not_due:
        raise ScheduleError(
            f"the notice of {release.id} is not due yet; it was run too early",
            hint="check the host's clock",
        )
    detail = f"sent {report.sent}, failed {report.failed} in {report.batches} batch(es)"
    if report.reclaimed:
        detail += f"; {report.reclaimed} sent again after an interrupted send"
    return (schedule.FAILED if report.failed else schedule.DONE), detail


def _publish(settings: Settings, history: History, release: Release) -> tuple[str, str]:
    from notifier.publishing import (
        publish as operation,  # MkDocs is heavy: only publish jobs load it
    )

    built = operation.build(settings)
    return schedule.DONE, f"built {built.pages} pages in {built.path}"


def _remind(settings: Settings, history: History, release: Release) -> tuple[str, str]:
    """The ledger is the truth: a notice sent by hand (`notices notify send`) counts too."""
    from notifier.delivery import notify as operation

    plan = operation.plan(
        settings, release.version, notice=release.notice, locale=release.locale,
        now=_now(settings),
    )
    counts = ledger.counts(db.engine(settings), release.id)
    unsent = sum(counts.get(status, 0) for status in ("planned", "sending", "failed"))
    untold = unsent + max(0, plan.audience - sum(counts.values()))
    if not untold:
        return schedule.DONE, f"every affected customer was told ({counts.get('sent', 0)} sent)"
    detail = (
        f"{untold} of {plan.audience} affected customer(s) not told yet of {release.id}; "
        f"it takes effect on {release.effective.isoformat()}"
    )
    log.error("ALERT: %s", detail)
    return schedule.DONE, detail


def _consent_reminder(settings: Settings, history: History, release: Release) -> tuple[str, str]:
    """Nobody is deemed to agree: those who have not answered are asked once more."""
    from notifier.consent import reminders

    done = reminders.remind(settings, history, release, _now(settings))
    if not done.asked:
        return schedule.DONE, f"{release.id} asks no consent"
    detail = (
        f"reminded {done.reminded}, failed {done.failed}; "
        f"{done.open} recipient(s) had a question open"
    )
    return (schedule.FAILED if done.failed else schedule.DONE), detail
