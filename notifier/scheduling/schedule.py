"""Scheduling: notify and publish each release on time, across restarts, and never notify late.

Only this module imports APScheduler. Its job store (in our database) is a cache of a plan that
`plan_jobs` derives from git history with an injected clock; `sync` applies the plan with stable
job ids, and our own `schedule_runs` table (db.py) records what ran, so work lost in a crash is
found again at start-up (APScheduler drops a one-off job from its store as soon as it submits it).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import Any

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from notifier.consent import links
from notifier.consent.triggers import triggers_of
from notifier.delivery import ledger
from notifier.errors import NoticeError, ScheduleError
from notifier.releases.history import History, Release, read_history, record_path, rewritten
from notifier.releases.verdicts import assess_release, source_release
from notifier.scheduling import leadership
from notifier.settings import Settings
from notifier.statement.materiality import rules_for
from notifier.storage import db

log = logging.getLogger(__name__)

KINDS = ("notify", "remind", "consent_reminder", "publish")
JOB_TABLE = "apscheduler_jobs"
REMIND_BEFORE = timedelta(days=1)
# What a row of `schedule_runs` says: scheduled (put in the store) → queued (submitted to the
# worker) → running → done | late (refused) | failed; or dropped / rewritten by a sync.
SCHEDULED, QUEUED, RUNNING = "scheduled", "queued", "running"
DONE, LATE, FAILED, DROPPED, REWRITTEN = "done", "late", "failed", "dropped", "rewritten"
_IN_FLIGHT = (QUEUED, RUNNING)
_UNFINISHED = (SCHEDULED, QUEUED, RUNNING)
_JOB_DEFAULTS = {"misfire_grace_time": None, "coalesce": True, "max_instances": 1}


@dataclass(frozen=True, slots=True)
class PlannedJob:
    """One job the releases call for: what runs, for which release, when, and why then."""

    id: str  # `privacy/zh-CN/2027-01-15:notify`: stable, so syncing again replaces, never adds
    kind: str  # notify | remind | publish
    release: str
    commit: str  # the commit that first published the release: a rewrite changes it
    run_at: datetime  # in the configured timezone
    state: str  # scheduled | due (run at once) | late (refused: would notify after effective)
    reason: str


@dataclass(frozen=True, slots=True)
class SyncChange:
    """What `sync` did with one job: added, updated, unchanged, done, late, refused, dropped…"""

    id: str
    action: str
    run_at: datetime | None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class SyncReport:
    changes: tuple[SyncChange, ...]

    def of(self, *actions: str) -> tuple[SyncChange, ...]:
        return tuple(change for change in self.changes if change.action in actions)


@dataclass(frozen=True, slots=True)
class JobStatus:
    """A line of `notices schedule list`: a job in the store or the last word on one that ran."""

    id: str
    kind: str
    release: str
    next_run: datetime | None
    state: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RunRecord:
    """A row of `schedule_runs`: our own record of a job (the job store forgets jobs that ran)."""

    id: str
    kind: str
    release: str
    commit: str
    state: str
    run_at: datetime | None
    runs: int
    detail: str


def job_id(release: str, kind: str) -> str:
    return f"{release}:{kind}"


def split_job_id(value: str) -> tuple[str, str]:
    """`privacy/zh-CN/2027-01-15:notify` → (release id, kind)."""
    release, _, kind = value.rpartition(":")
    return release, kind


# --- planning (pure) -------------------------------------------------------------------------


def in_window(release: Release, settings: Settings, now: datetime) -> bool:
    """Whether a release can still call for work: not yet in effect, or published too late."""
    effective_at = release.effective_at(settings.timezone)
    return effective_at > now or release.published >= effective_at


def material_verdicts(history: History, settings: Settings, now: datetime) -> dict[str, bool]:
    """Release id → whether it needs notice (material, or undecided until the editor decides),
    for the releases in the planning window. A notice's first release never does, nor does a
    translation: the source locale's release tells every customer, each in their language."""
    rules = rules_for(settings)
    verdicts: dict[str, bool] = {}
    for release in history.releases:
        if in_window(release, settings, now):
            verdict = assess_release(history, release, rules).verdict
            own = source_release(history, release) is None
            verdicts[release.id] = own and verdict is not None and verdict.needs_notice
    return verdicts


def consent_asking(history: History, settings: Settings, now: datetime) -> frozenset[str]:
    """The releases in the planning window whose customers were sent consent links (their
    verdict asks consent, and links can be made): each gets a reminder for those who have
    not answered."""
    if not links.ready(settings):
        return frozenset()
    rules = rules_for(settings)
    return frozenset(
        release.id
        for release in history.releases
        if in_window(release, settings, now)
        and source_release(history, release) is None
        and triggers_of(assess_release(history, release, rules).verdict)
    )


def plan_jobs(
    history: History,
    settings: Settings,
    verdicts: Mapping[str, bool],
    now: datetime,
    *,
    remind_before: timedelta | None = REMIND_BEFORE,
    asking: Collection[str] = frozenset(),
) -> tuple[PlannedJob, ...]:
    """The jobs the releases call for at `now`, ordered by run time.

    A material release is notified `notice_period` before its effective date, or at once when it
    was published later than that; one published on or after its effective date is `late`: it
    is refused, never sent. Each release published ahead of its effective date gets a publish
    job at 00:00 of that date (so the site switches "current"); a material one also gets a
    reminder `remind_before` the effective date that checks every customer was told, and one in
    `asking` the consent reminder `[consent] reminder_days` before it. Releases already in
    effect (and in time) call for nothing more.
    """
    planned: list[PlannedJob] = []
    for release in history.releases:
        if not in_window(release, settings, now):
            continue
        if release.id not in verdicts:
            raise ScheduleError(
                f"no materiality verdict for release {release.id}",
                hint="compute verdicts with schedule.material_verdicts for the same `now`",
            )
        planned.extend(
            _release_jobs(
                release,
                settings,
                verdicts[release.id],
                now,
                remind_before,
                release.id in asking,
            )
        )
    order = {kind: index for index, kind in enumerate(KINDS)}
    return tuple(sorted(planned, key=lambda p: (p.run_at, order[p.kind], p.release)))


def _release_jobs(
    release: Release,
    settings: Settings,
    material: bool,
    now: datetime,
    remind_before: timedelta | None,
    asks_consent: bool = False,
) -> list[PlannedJob]:
    tz = settings.timezone
    effective_at = release.effective_at(tz)
    published = release.published.astimezone(tz)
    jobs: list[PlannedJob] = []

    def job(kind: str, run_at: datetime, reason: str, state: str | None = None) -> None:
        state = state or ("due" if run_at <= now else "scheduled")
        jobs.append(
            PlannedJob(
                job_id(release.id, kind), kind, release.id, release.commit, run_at, state, reason
            )
        )

    if material:
        on_time = effective_at - settings.notice_period
        notify_at = max(on_time, published)
        days = settings.notice_period.days
        if notify_at >= effective_at:
            job(
                "notify",
                notify_at,
                f"published {published.isoformat()}, on or after its "
                f"effective date {release.effective.isoformat()}: customers cannot be told in "
                "advance; move the effective date",
                state=LATE,
            )
        else:
            job(
                "notify",
                notify_at,
                f"{days} days before the effective date"
                if notify_at == on_time
                else f"published less than {days} days before the effective date: at once",
            )
            remind_at = effective_at - remind_before if remind_before else None
            if remind_at is not None and remind_at > notify_at:
                job("remind", remind_at, "check that every customer was told")
            consent_at = effective_at - timedelta(days=settings.consent_reminder_days)
            if asks_consent and settings.consent_reminder_days and consent_at > notify_at:
                job(
                    "consent_reminder",
                    consent_at,
                    "remind those who have not answered the "
                    f"consent questions, {settings.consent_reminder_days} days before",
                )
    if effective_at > published:
        job("publish", effective_at, "takes effect: rebuild the site so it becomes current")
    return jobs


# --- our own record of runs -------------------------------------------------------------------


def _record(row: Any) -> RunRecord:
    return RunRecord(
        id=row.job_id,
        kind=row.kind,
        release=row.release,
        commit=row.release_commit,
        state=row.state,
        run_at=db.utc(row.run_at),
        runs=row.runs,
        detail=row.detail,
    )


def records(settings: Settings) -> dict[str, RunRecord]:
    """Every job our table knows about, by job id."""
    table = db.schedule_runs
    with db.engine(settings).begin() as connection:
        return {row.job_id: _record(row) for row in connection.execute(select(table))}


def _upsert(connection: Connection, job: str, values: Mapping[str, Any]) -> None:
    table = db.schedule_runs
    found = connection.execute(
        select(table.c.job_id).where(table.c.job_id == job).with_for_update()
    ).first()
    if found is None:
        release, kind = split_job_id(job)
        defaults = {"kind": kind, "release": release, "release_commit": "", "runs": 0, "detail": ""}
        connection.execute(insert(table).values(job_id=job, **{**defaults, **values}))
    else:
        connection.execute(update(table).where(table.c.job_id == job).values(**values))


def mark(
    settings: Settings,
    job: str,
    state: str,
    detail: str = "",
    *,
    commit: str | None = None,
    run_at: datetime | None = None,
) -> None:
    """Record the last word on a job: late, dropped, rewritten, queued…"""
    values: dict[str, Any] = {"state": state, "detail": detail}
    if commit is not None:
        values["release_commit"] = commit
    if run_at is not None:
        values["run_at"] = db.utc(run_at)
    with db.engine(settings).begin() as connection:
        _upsert(connection, job, values)


def queued(settings: Settings, job: str) -> None:
    """Record that a job was handed to the worker, unless its run already began: the event
    announcing it may arrive after the job's first step."""
    table = db.schedule_runs
    with db.engine(settings).begin() as connection:
        row = connection.execute(
            select(table.c.state).where(table.c.job_id == job).with_for_update()
        ).first()
        if row is None or row.state not in (RUNNING, DONE, LATE, FAILED):
            _upsert(connection, job, {"state": QUEUED, "detail": ""})


def begin_run(settings: Settings, job: str, commit: str, now: datetime) -> bool:
    """Record that a job starts; False when it already ran to the end for this commit."""
    table = db.schedule_runs
    with db.engine(settings).begin() as connection:
        row = connection.execute(
            select(table).where(table.c.job_id == job).with_for_update()
        ).first()
        if row is not None and row.state == DONE and row.release_commit == commit:
            return False
        runs = (row.runs if row is not None else 0) + 1
        _upsert(
            connection,
            job,
            {
                "state": RUNNING,
                "release_commit": commit,
                "runs": runs,
                "started_at": db.utc(now),
                "finished_at": None,
                "detail": "",
            },
        )
    return True


def end_run(settings: Settings, job: str, state: str, detail: str, now: datetime) -> None:
    """Record how a run ended: done, late (refused) or failed."""
    with db.engine(settings).begin() as connection:
        _upsert(connection, job, {"state": state, "detail": detail, "finished_at": db.utc(now)})


# --- the APScheduler job store ----------------------------------------------------------------


class _JobStoreOnly(BaseScheduler):  # type: ignore[misc]
    """A scheduler with no loop: it reads and writes the job store and never runs a job.

    (A paused BackgroundScheduler is not that: shutting it down wakes its loop in the stopped
    state, which is not paused, and it tries to run whatever is due.)
    """

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def wakeup(self) -> None:
        """Nothing here runs jobs, so there is nothing to wake."""


def _scheduler(settings: Settings, kind: type[BaseScheduler] = BackgroundScheduler) -> Any:
    """One worker: jobs run one after another, so two site builds never race."""
    store = SQLAlchemyJobStore(engine=db.engine(settings), tablename=JOB_TABLE)
    return kind(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(max_workers=1)},
        job_defaults=dict(_JOB_DEFAULTS),
        timezone=settings.timezone,
    )


@contextmanager
def _opened(settings: Settings) -> Iterator[BaseScheduler]:
    """The job store, to read and write jobs from a command: nothing runs."""
    scheduler = _scheduler(settings, _JobStoreOnly)
    try:
        scheduler.start(paused=True)
    except SQLAlchemyError as error:
        raise ScheduleError(
            f"cannot open the job store: {error.__class__.__name__}: {error}",
            hint="check NOTICES_DATABASE_URL",
        ) from error
    try:
        yield scheduler
    finally:
        scheduler.shutdown(wait=False)


def _kwargs(settings: Settings, release: str, commit: str) -> dict[str, str]:
    """Plain arguments only: a stored job must still load after an upgrade."""
    return {"repo": str(settings.repo), "release": release, "commit": commit}


def _same(job: Job, planned: PlannedJob, kwargs: Mapping[str, str]) -> bool:
    trigger = job.trigger
    return (
        job.func_ref == f"notifier.scheduling.jobs:{planned.kind}"
        and dict(job.kwargs) == dict(kwargs)
        and isinstance(trigger, DateTrigger)
        and trigger.run_date == planned.run_at
        and job.next_run_time == planned.run_at
        and job.misfire_grace_time is None
        and job.coalesce
    )


def _add(scheduler: BaseScheduler, settings: Settings, planned: PlannedJob) -> None:
    """Put a job in the store, and in our table first: a crash can then never lose it."""
    mark(
        settings,
        planned.id,
        SCHEDULED,
        planned.reason,
        commit=planned.commit,
        run_at=planned.run_at,
    )
    scheduler.add_job(
        f"notifier.scheduling.jobs:{planned.kind}",
        trigger=DateTrigger(run_date=planned.run_at, timezone=settings.timezone),
        id=planned.id,
        name=planned.id,
        kwargs=_kwargs(settings, planned.release, planned.commit),
        misfire_grace_time=None,
        coalesce=True,
        max_instances=1,
        replace_existing=True,
    )


# --- sync -------------------------------------------------------------------------------------


def sync(
    settings: Settings,
    *,
    now: datetime,
    scheduler: BaseScheduler | None = None,
    reconcile: bool = False,
) -> SyncReport:
    """Apply the plan for `now` to the job store; say what was added, changed and dropped.

    Jobs of a release removed from history, or whose published text was rewritten, are dropped
    and recorded (a rewritten release is refused until history is restored). With `reconcile`
    (at start-up, when no job can be running) work that was due but never finished runs again.
    """
    if scheduler is None:
        with _opened(settings) as opened:
            return sync(settings, now=now, scheduler=opened, reconcile=reconcile)
    history = read_history(settings.repo, settings)
    rewrites = {r.release_id: r.detail for r in rewritten(history, record_path(settings))}
    planned = plan_jobs(
        history,
        settings,
        material_verdicts(history, settings, now),
        now,
        asking=consent_asking(history, settings, now),
    )
    current = {release.id: release for release in history.releases}
    existing = {job.id: job for job in scheduler.get_jobs()}
    changes: list[SyncChange] = []
    planned_ids = {p.id for p in planned}
    for job in existing.values():
        reason = _drop_reason(job, current, rewrites, planned_ids, settings, now)
        if reason is None:
            if job.id not in planned_ids:
                changes.append(SyncChange(job.id, "kept", job.next_run_time, "due: runs at once"))
            continue
        scheduler.remove_job(job.id)
        state = REWRITTEN if "rewritten" in reason else DROPPED
        mark(settings, job.id, state, reason, commit=str(job.kwargs.get("commit", "")))
        log.warning("dropped job %s: %s", job.id, reason)
        changes.append(SyncChange(job.id, "dropped", job.next_run_time, reason))
    known = records(settings)
    for record in known.values():  # recorded, not in the store, release gone: say so once
        if record.id in existing or record.release in current:
            continue
        if record.state not in (DONE, DROPPED, REWRITTEN):
            reason = "release removed from history: nothing will be sent or published for it"
            mark(settings, record.id, DROPPED, reason)
            changes.append(SyncChange(record.id, "dropped", None, reason))
    known = records(settings)
    rewrites = {**_rewritten_since_planned(known, current), **rewrites}
    for item in planned:
        changes.append(_apply(scheduler, settings, item, existing, known, rewrites))
    if reconcile:
        changes.extend(_reconcile(scheduler, settings, known, current, rewrites, now))
    return SyncReport(tuple(changes))


def _rewritten_since_planned(
    known: Mapping[str, RunRecord], current: Mapping[str, Release]
) -> dict[str, str]:
    """Releases we planned or ran for a commit that no longer published them: refused until
    history is restored (a release removed and published anew is a new release, not these)."""
    found: dict[str, str] = {}
    for record in known.values():
        release = current.get(record.release)
        if release is None or not record.commit or record.state == DROPPED:
            continue
        if record.commit != release.commit:
            found.setdefault(record.release, _rewrite_reason(record.commit, release.commit))
    return found


def _rewrite_reason(planned: str, now: str) -> str:
    return (
        f"release rewritten in history (first published at commit {planned[:12]}, now {now[:12]})"
    )


def _drop_reason(
    job: Job,
    current: Mapping[str, Release],
    rewrites: Mapping[str, str],
    planned: set[str],
    settings: Settings,
    now: datetime,
) -> str | None:
    release = str(job.kwargs.get("release", split_job_id(job.id)[0]))
    if release not in current:
        return "release removed from history: nothing will be sent or published for it"
    if release in rewrites:
        return f"published history rewritten: {rewrites[release]}"
    commit = str(job.kwargs.get("commit", ""))
    if commit != current[release].commit:
        return _rewrite_reason(commit, current[release].commit)
    if in_window(current[release], settings, now) and job.id not in planned:
        return "no longer planned (the release is not material any more)"
    return None


def _apply(
    scheduler: BaseScheduler,
    settings: Settings,
    planned: PlannedJob,
    existing: Mapping[str, Job],
    known: Mapping[str, RunRecord],
    rewrites: Mapping[str, str],
) -> SyncChange:
    record = known.get(planned.id)
    if planned.release in rewrites:
        return SyncChange(planned.id, "refused", planned.run_at, rewrites[planned.release])
    if planned.state == LATE:
        if planned.id in existing:
            scheduler.remove_job(planned.id)
        if record is None or record.state != LATE or record.commit != planned.commit:
            mark(
                settings,
                planned.id,
                LATE,
                planned.reason,
                commit=planned.commit,
                run_at=planned.run_at,
            )
            log.error("ALERT: refusing to notify %s: %s", planned.release, planned.reason)
        return SyncChange(planned.id, "late", planned.run_at, planned.reason)
    if record is not None and (
        record.state in _IN_FLIGHT
        or (record.commit == planned.commit and record.state in (DONE, LATE))
    ):
        return SyncChange(planned.id, record.state, planned.run_at, record.detail)
    job = existing.get(planned.id)
    kwargs = _kwargs(settings, planned.release, planned.commit)
    if job is not None and _same(job, planned, kwargs):
        return SyncChange(planned.id, "unchanged", planned.run_at, planned.reason)
    _add(scheduler, settings, planned)
    return SyncChange(
        planned.id, "added" if job is None else "updated", planned.run_at, planned.reason
    )


def _reconcile(
    scheduler: BaseScheduler,
    settings: Settings,
    known: Mapping[str, RunRecord],
    current: Mapping[str, Release],
    rewrites: Mapping[str, str],
    now: datetime,
) -> list[SyncChange]:
    """Work due but not done: runs cut short by a crash or a failure, unsent notices."""
    in_store = {job.id for job in scheduler.get_jobs()}
    changes: list[SyncChange] = []
    for record in known.values():
        release = current.get(record.release)
        if record.id in in_store or release is None or record.release in rewrites:
            continue
        if record.commit != release.commit or record.kind not in KINDS:
            continue
        why = _unfinished(settings, record, release, now)
        if why is None:
            continue
        run_at = now.astimezone(settings.timezone)
        planned = PlannedJob(
            record.id, record.kind, record.release, record.commit, run_at, "due", why
        )
        _add(scheduler, settings, planned)
        log.warning("reconciled job %s: %s; it runs again now", record.id, why)
        changes.append(SyncChange(record.id, "reconciled", run_at, why))
    return changes


def _unfinished(
    settings: Settings, record: RunRecord, release: Release, now: datetime
) -> str | None:
    if record.state in _UNFINISHED:
        return "it was due but never finished (the scheduler stopped)"
    if record.state == FAILED:
        return f"its last run failed ({record.detail})"
    if record.state == DONE and record.kind == "notify":
        if now >= release.effective_at(settings.timezone):
            return None
        unsent = ledger_unsent(settings, release)
        if unsent:
            return f"the ledger shows {unsent} notice(s) not sent"
    return None


def ledger_unsent(settings: Settings, release: Release) -> int:
    """Deliveries of a release the ledger has not sent: planned, in flight or failed."""
    counts = ledger.counts(db.engine(settings), release.id)
    return sum(counts.get(status, 0) for status in ("planned", "sending", "failed"))


# --- listing ----------------------------------------------------------------------------------


def list_jobs(settings: Settings, *, now: datetime) -> tuple[JobStatus, ...]:
    """Every job in the store, then the last word on jobs that ran, were refused or dropped."""
    with _opened(settings) as scheduler:
        jobs = scheduler.get_jobs()
    tz = settings.timezone
    known = records(settings)
    statuses: list[JobStatus] = []
    for job in jobs:
        release, kind = split_job_id(job.id)
        when = job.next_run_time.astimezone(tz) if job.next_run_time else None
        state = "paused" if when is None else ("due" if when <= now else "scheduled")
        record = known.get(job.id)
        statuses.append(
            JobStatus(job.id, kind, release, when, state, record.detail if record else "")
        )
    listed = {status.id for status in statuses}
    for record in sorted(known.values(), key=lambda r: r.id):
        if record.id not in listed:
            statuses.append(
                JobStatus(record.id, record.kind, record.release, None, record.state, record.detail)
            )
    return tuple(statuses)


# --- running ----------------------------------------------------------------------------------


def _now(settings: Settings) -> datetime:
    return datetime.now(settings.timezone)


def _log_report(report: SyncReport) -> None:
    for change in report.changes:
        if change.action not in ("unchanged", "done"):
            when = change.run_at.isoformat() if change.run_at else "-"
            log.info("sync: %s %s at %s %s", change.action, change.id, when, change.detail)


def _listener(settings: Settings) -> Callable[[JobEvent], None]:
    def listen(event: JobEvent) -> None:
        if event.code == EVENT_JOB_SUBMITTED:
            log.info("job %s submitted", event.job_id)
            try:
                queued(settings, event.job_id)
            except Exception:  # the run itself records its outcome; this is a hint only
                log.exception("could not record job %s as queued", event.job_id)
        elif event.code == EVENT_JOB_EXECUTED:
            log.info("job %s ran", event.job_id)
        elif event.code == EVENT_JOB_ERROR and isinstance(event, JobExecutionEvent):
            log.error("job %s failed: %r", event.job_id, event.exception)
        elif event.code in (EVENT_JOB_MISSED, EVENT_JOB_MAX_INSTANCES):
            log.error("job %s was not run (code %s)", event.job_id, event.code)

    return listen


@contextmanager
def _stopped_by_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT ask the loop to stop; running jobs then finish before we exit."""

    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("received %s: stopping", signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run(
    settings: Settings,
    *,
    resync_every: timedelta,
    stop: threading.Event | None = None,
) -> None:
    """Run the scheduler in the foreground until SIGTERM/SIGINT (or `stop`).

    It first waits to be the active scheduler of its database (`leadership`). Then it syncs
    and reconciles before any job runs, jobs missed while no scheduler was active run at once
    (no misfire grace, coalesced), and every `resync_every` it syncs from git again.
    """
    stop = stop or threading.Event()
    with _stopped_by_signals(stop), leadership.elected(settings, stop) as leading:
        if not leading:
            log.info("stopped while standing by")
            return
        scheduler = _scheduler(settings)
        scheduler.add_listener(
            _listener(settings),
            EVENT_JOB_SUBMITTED
            | EVENT_JOB_EXECUTED
            | EVENT_JOB_ERROR
            | EVENT_JOB_MISSED
            | EVENT_JOB_MAX_INSTANCES,
        )
        scheduler.start(paused=True)
        try:
            _log_report(sync(settings, now=_now(settings), scheduler=scheduler, reconcile=True))
            scheduler.resume()
            jobs = scheduler.get_jobs()
            upcoming = jobs[0].next_run_time.isoformat() if jobs else "none"
            log.info(
                "scheduler running: %d job(s), next at %s; re-sync every %s",
                len(jobs),
                upcoming,
                resync_every,
            )
            while not stop.wait(resync_every.total_seconds()):
                try:
                    _log_report(sync(settings, now=_now(settings), scheduler=scheduler))
                except NoticeError as error:
                    log.error("re-sync failed, keeping the jobs as they are: %s", error)
                scheduler.wakeup()
        finally:
            log.info("stopping: waiting for running jobs to finish")
            scheduler.shutdown(wait=True)
            log.info("scheduler stopped")
