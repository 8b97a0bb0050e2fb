"""Scheduling on real git repositories and a real SQLite job store, with an injected clock."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support.repos import NoticeRepo, release_text, run_notices, run_notices_process
from support.schedule import (
    NOTICE,
    database,
    job_rows,
    material_text,
    postgres_database,
    quiet_text,
    release,
    settings_for,
)

from notifier.delivery.customers import import_csv
from notifier.releases.history import read_history
from notifier.scheduling import jobs, leadership
from notifier.scheduling.schedule import (
    PlannedJob,
    begin_run,
    list_jobs,
    material_verdicts,
    plan_jobs,
    records,
    sync,
)
from notifier.settings import Settings
from notifier.storage import db

SHANGHAI = ZoneInfo("Asia/Shanghai")
RELEASE = "privacy/zh-CN/2027-01-01"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def plan(settings: Settings, now: datetime) -> tuple[PlannedJob, ...]:
    history = read_history(settings.repo, settings)
    return plan_jobs(history, settings, material_verdicts(history, settings, now), now)


def brief(jobs: tuple[PlannedJob, ...]) -> list[tuple[str, str, str]]:
    return [(job.id, job.run_at.isoformat(), job.state) for job in jobs]


# --- planning -----------------------------------------------------------------------------------


def test_material_release_on_time(seeded_repo: NoticeRepo) -> None:
    """When a material release is published well ahead, then it is notified 30 days before it
    takes effect, reminded the day before and published at 00:00 of its effective date."""
    release(seeded_repo, material_text("2027-01-01", "2027-01-15"), "2026-11-02T10:00:00+08:00")
    settings = settings_for(seeded_repo.path)
    jobs = plan(settings, at("2026-11-03T09:00:00+08:00"))
    assert brief(jobs) == [
        (f"{RELEASE}:notify", "2026-12-16T00:00:00+08:00", "scheduled"),
        (f"{RELEASE}:remind", "2027-01-14T00:00:00+08:00", "scheduled"),
        (f"{RELEASE}:publish", "2027-01-15T00:00:00+08:00", "scheduled"),
    ]
    commit = seeded_repo.git("rev-parse", "HEAD")
    assert {(job.kind, job.release, job.commit) for job in jobs} == {
        (kind, RELEASE, commit) for kind in ("notify", "remind", "publish")
    }
    assert jobs[0].reason == "30 days before the effective date"


def test_quiet_release_is_only_published(seeded_repo: NoticeRepo) -> None:
    """When a release only fixes a typo, then nobody is notified: the site switches on time."""
    release(seeded_repo, quiet_text("2027-01-01", "2027-01-15"), "2026-11-02T10:00:00+08:00")
    jobs = plan(settings_for(seeded_repo.path), at("2026-11-03T09:00:00+08:00"))
    assert brief(jobs) == [(f"{RELEASE}:publish", "2027-01-15T00:00:00+08:00", "scheduled")]


def test_late_but_before_effective_notifies_at_once(seeded_repo: NoticeRepo) -> None:
    """When a material release leaves less than the notice period, then the notice is due at
    once (at its publish time), still before the effective date."""
    release(seeded_repo, material_text("2027-01-01", "2027-01-15"), "2027-01-01T10:00:00+08:00")
    jobs = plan(settings_for(seeded_repo.path), at("2027-01-01T10:05:00+08:00"))
    assert brief(jobs) == [
        (f"{RELEASE}:notify", "2027-01-01T10:00:00+08:00", "due"),
        (f"{RELEASE}:remind", "2027-01-14T00:00:00+08:00", "scheduled"),
        (f"{RELEASE}:publish", "2027-01-15T00:00:00+08:00", "scheduled"),
    ]
    assert jobs[0].reason == "published less than 30 days before the effective date: at once"


def test_published_after_effective_is_refused(seeded_repo: NoticeRepo) -> None:
    """When a material release is published after its effective date, then its notice is
    refused (late, with the alert's reason) and nothing else is planned."""
    release(seeded_repo, material_text("2027-01-01", "2027-01-15"), "2027-01-20T10:00:00+08:00")
    jobs = plan(settings_for(seeded_repo.path), at("2027-01-20T10:05:00+08:00"))
    assert brief(jobs) == [(f"{RELEASE}:notify", "2027-01-20T10:00:00+08:00", "late")]
    assert jobs[0].reason == (
        "published 2027-01-20T10:00:00+08:00, on or after its effective date 2027-01-15: "
        "customers cannot be told in advance; move the effective date"
    )


def test_release_in_effect_calls_for_nothing(seeded_repo: NoticeRepo) -> None:
    """When the clock is past a release's effective date, then no job is planned for it."""
    release(seeded_repo, material_text("2027-01-01", "2027-01-15"), "2026-11-02T10:00:00+08:00")
    assert plan(settings_for(seeded_repo.path), at("2027-01-15T00:00:00+08:00")) == ()


def test_publish_at_midnight_shanghai_is_1600_utc(seeded_repo: NoticeRepo) -> None:
    """When the timezone is Asia/Shanghai, then the publish job runs at 16:00 UTC the day
    before the effective date; with UTC it runs at 00:00 UTC on the day."""
    release(seeded_repo, quiet_text("2027-01-01", "2027-01-15"), "2026-11-02T10:00:00+08:00")
    now = at("2027-01-14T15:30:00+00:00")  # 23:30 in Shanghai: both still ahead
    (shanghai,) = plan(settings_for(seeded_repo.path), now)
    assert shanghai.run_at.astimezone(UTC) == at("2027-01-14T16:00:00+00:00")
    (utc,) = plan(settings_for(seeded_repo.path, timezone="UTC"), now)
    assert utc.run_at.isoformat() == "2027-01-15T00:00:00+00:00"


def test_around_midnight_the_timezone_decides(seeded_repo: NoticeRepo) -> None:
    """When it is 16:30 UTC on 14 January, then in Shanghai the release is already in effect
    (no job left) while in UTC its publish job is still 7.5 hours ahead."""
    release(seeded_repo, quiet_text("2027-01-01", "2027-01-15"), "2026-11-02T10:00:00+08:00")
    now = at("2027-01-14T16:30:00+00:00")
    assert plan(settings_for(seeded_repo.path), now) == ()
    (utc,) = plan(settings_for(seeded_repo.path, timezone="UTC"), now)
    assert (utc.kind, utc.run_at - now, utc.state) == ("publish", timedelta(hours=7.5), "scheduled")


# --- syncing the job store ------------------------------------------------------------------------

NOW = at("2026-11-03T09:00:00+08:00")
JOBS = [f"{RELEASE}:notify", f"{RELEASE}:remind", f"{RELEASE}:publish"]


def material_release(repo: NoticeRepo) -> Settings:
    """The seed, then a material release published on 2 November 2026 for 15 January 2027."""
    environ = database(repo)
    release(repo, material_text("2027-01-01", "2027-01-15"), "2026-11-02T10:00:00+08:00")
    return settings_for(repo.path, environ=environ)


def actions(report: object) -> list[tuple[str, str]]:
    return [(change.id, change.action) for change in report.changes]  # type: ignore[attr-defined]


def test_sync_twice_changes_nothing(seeded_repo: NoticeRepo) -> None:
    """When sync runs twice on the same history, then the second run adds, updates and drops
    nothing, and the job store is byte for byte what the first run wrote."""
    settings = material_release(seeded_repo)
    environ = database(seeded_repo)
    assert actions(sync(settings, now=NOW)) == [(job, "added") for job in JOBS]
    stored = job_rows(environ)
    assert [row[0] for row in stored] == sorted(JOBS)
    again = sync(settings, now=NOW + timedelta(hours=6))
    assert actions(again) == [(job, "unchanged") for job in JOBS]
    assert job_rows(environ) == stored


def test_sync_stores_runnable_jobs(seeded_repo: NoticeRepo) -> None:
    """When sync has run, then every job survives a missed run time (no misfire grace,
    coalesced), refers to its function by text and takes plain arguments only."""
    settings = material_release(seeded_repo)
    sync(settings, now=NOW)
    statuses = list_jobs(settings, now=NOW)
    assert [(s.id, s.next_run.isoformat() if s.next_run else None, s.state) for s in statuses] == [
        (f"{RELEASE}:notify", "2026-12-16T00:00:00+08:00", "scheduled"),
        (f"{RELEASE}:remind", "2027-01-14T00:00:00+08:00", "scheduled"),
        (f"{RELEASE}:publish", "2027-01-15T00:00:00+08:00", "scheduled"),
    ]
    import pickle

    commit = seeded_repo.git("rev-parse", "HEAD")
    for job_id, _, state in job_rows(database(seeded_repo)):
        job = pickle.loads(state)
        kind = job_id.rpartition(":")[2]
        assert (job["func"], job["misfire_grace_time"], job["coalesce"]) == (
            f"notifier.scheduling.jobs:{kind}", None, True
        )
        assert job["args"] == ()
        assert job["kwargs"] == {"repo": str(seeded_repo.path), "release": RELEASE,
                                 "commit": commit}


def test_release_removed_from_history_drops_its_jobs(seeded_repo: NoticeRepo) -> None:
    """When a planned release disappears from main (history reset), then sync drops its jobs,
    says why, and the list keeps saying so."""
    settings = material_release(seeded_repo)
    environ = database(seeded_repo)
    sync(settings, now=NOW)
    seeded_repo.git("reset", "-q", "--hard", "HEAD~1")
    report = sync(settings, now=NOW)
    reason = "release removed from history: nothing will be sent or published for it"
    assert [(c.id, c.action, c.detail) for c in report.changes] == [
        (job, "dropped", reason) for job in JOBS
    ]
    assert job_rows(environ) == []
    assert [(s.id, s.next_run, s.state, s.detail) for s in list_jobs(settings, now=NOW)] == [
        (job, None, "dropped", reason) for job in sorted(JOBS)
    ]
    assert actions(sync(settings, now=NOW)) == []


def test_rewritten_release_is_dropped_and_refused(seeded_repo: NoticeRepo) -> None:
    """When the commit that published a planned release is rewritten (amended), then sync drops
    its jobs, refuses to plan them again, and plans them once history is restored."""
    settings = material_release(seeded_repo)
    environ = database(seeded_repo)
    original = seeded_repo.git("rev-parse", "HEAD")
    sync(settings, now=NOW)
    text = material_text("2027-01-01", "2027-01-15").replace("跨境存储", "跨境存储（改写）")
    seeded_repo.write(NOTICE, text)
    seeded_repo.git("commit", "-q", "-a", "--amend", "--no-edit", when="2026-11-02T10:00:00+08:00")
    amended = seeded_repo.git("rev-parse", "HEAD")
    reason = (
        f"release rewritten in history (first published at commit {original[:12]}, "
        f"now {amended[:12]})"
    )
    report = sync(settings, now=NOW)
    assert [(c.id, c.action, c.detail) for c in report.changes] == [
        *[(job, "dropped", reason) for job in JOBS],
        *[(job, "refused", reason) for job in JOBS],
    ]
    assert job_rows(environ) == []
    assert {s.state for s in list_jobs(settings, now=NOW)} == {"rewritten"}
    assert actions(sync(settings, now=NOW)) == [(job, "refused") for job in JOBS]
    seeded_repo.git("reset", "-q", "--hard", original)
    assert actions(sync(settings, now=NOW)) == [(job, "added") for job in JOBS]


def test_late_release_is_recorded_and_alerted_once(
    seeded_repo: NoticeRepo, caplog: pytest.LogCaptureFixture
) -> None:
    """When a material release is published after its effective date, then sync schedules no
    notice, records the release as late with the reason, and raises the alert once."""
    environ = database(seeded_repo)
    release(seeded_repo, material_text("2027-01-01", "2027-01-15"), "2027-01-20T10:00:00+08:00")
    settings = settings_for(seeded_repo.path, environ=environ)
    now = at("2027-01-20T10:05:00+08:00")
    with caplog.at_level(logging.ERROR, logger="notifier.scheduling.schedule"):
        assert actions(sync(settings, now=now)) == [(f"{RELEASE}:notify", "late")]
        assert actions(sync(settings, now=now)) == [(f"{RELEASE}:notify", "late")]
    alerts = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ALERT")]
    assert alerts == [
        f"ALERT: refusing to notify {RELEASE}: published 2027-01-20T10:00:00+08:00, on or after "
        "its effective date 2027-01-15: customers cannot be told in advance; move the "
        "effective date"
    ]
    assert job_rows(environ) == []
    ((job, next_run, state),) = [(s.id, s.next_run, s.state) for s in list_jobs(settings, now=now)]
    assert (job, next_run, state) == (f"{RELEASE}:notify", None, "late")


def test_schedule_list_json(seeded_repo: NoticeRepo) -> None:
    """When `notices schedule sync` then `notices schedule list --json` run, then the list is
    every job with its id, kind, release, next run (ISO 8601 with offset) and state, the late
    release marked as such."""
    environ = database(seeded_repo)
    first = material_text("2030-01-02", "2030-03-01")
    release(seeded_repo, first, "2030-01-02T10:00:00+08:00")
    late = release_text(first, "2030-03-05", effective="2030-03-01", material="true",
                        material_reason="测试：重大变更")
    release(seeded_repo, late, "2030-03-05T10:00:00+08:00")
    synced = run_notices("schedule", "sync", cwd=seeded_repo.path, env=environ)
    late_reason = (
        "published 2030-03-05T10:00:00+08:00, on or after its effective date 2030-03-01: "
        "customers cannot be told in advance; move the effective date"
    )
    first_id, late_id = "privacy/zh-CN/2030-01-02", "privacy/zh-CN/2030-03-05"
    assert synced.code == 0
    assert [line.split(" ", 2)[2] for line in synced.err.splitlines()] == [
        f"ERROR notifier.scheduling.schedule: ALERT: refusing to notify {late_id}: {late_reason}"
    ]
    assert synced.out.splitlines() == [
        f"added      {first_id}:notify  2030-01-30T00:00:00+08:00  30 days before the "
        "effective date",
        f"added      {first_id}:remind  2030-02-28T00:00:00+08:00  check that every customer "
        "was told",
        f"added      {first_id}:publish  2030-03-01T00:00:00+08:00  takes effect: rebuild the "
        "site so it becomes current",
        f"late       {late_id}:notify  2030-03-05T10:00:00+08:00  {late_reason}",
    ]
    listed = run_notices("schedule", "list", "--json", cwd=seeded_repo.path, env=environ)
    assert (listed.code, listed.err) == (0, "")
    assert json.loads(listed.out) == {
        "jobs": [
            {"id": f"{first_id}:notify", "kind": "notify", "release": first_id,
             "next_run": "2030-01-30T00:00:00+08:00", "state": "scheduled",
             "detail": "30 days before the effective date"},
            {"id": f"{first_id}:remind", "kind": "remind", "release": first_id,
             "next_run": "2030-02-28T00:00:00+08:00", "state": "scheduled",
             "detail": "check that every customer was told"},
            {"id": f"{first_id}:publish", "kind": "publish", "release": first_id,
             "next_run": "2030-03-01T00:00:00+08:00", "state": "scheduled",
             "detail": "takes effect: rebuild the site so it becomes current"},
            {"id": f"{late_id}:notify", "kind": "notify", "release": late_id,
             "next_run": None, "state": "late", "detail": late_reason},
        ]
    }
    text = run_notices("schedule", "list", cwd=seeded_repo.path, env=environ)
    assert text.out.splitlines()[-1] == (
        f"{late_id + ':notify':<40} notify   late       -  LATE: {late_reason}"
    )
    again = run_notices("schedule", "sync", "--json", cwd=seeded_repo.path, env=environ)
    assert (again.code, again.err) == (0, "")  # the alert was raised once, not at every sync
    assert [c["action"] for c in json.loads(again.out)["changes"]] == [
        "unchanged", "unchanged", "unchanged", "late"
    ]


# --- jobs, reconciliation, one scheduler --------------------------------------------------------


def test_notify_job_after_effective_refuses_and_alerts(
    seeded_repo: NoticeRepo, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """When a notify job runs after its release took effect (the scheduler was down), then it
    sends nothing, raises an alert and the list shows the release as late."""
    environ = database(seeded_repo)
    monkeypatch.setenv("NOTICES_DATABASE_URL", environ["NOTICES_DATABASE_URL"])
    commit = release(
        seeded_repo, material_text("2026-11-02", "2026-11-20"), "2026-11-02T10:00:00+08:00"
    )
    settings = settings_for(seeded_repo.path, environ=environ)
    release_id = "privacy/zh-CN/2026-11-02"
    with caplog.at_level(logging.ERROR, logger="notifier.scheduling.jobs"):
        jobs.notify(str(seeded_repo.path), release_id, commit)
    (alert,) = [r.getMessage() for r in caplog.records if r.name == "notifier.scheduling.jobs"]
    assert alert.startswith(f"ALERT: release {release_id}: refused to notify at ")
    assert alert.endswith(
        "on or after the effective date 2026-11-20; move the effective date (publish a new "
        "version) and notify then"
    )
    (status,) = list_jobs(settings, now=datetime.now(SHANGHAI))
    assert (status.id, status.next_run, status.state) == (f"{release_id}:notify", None, "late")
    assert status.detail == alert.split(": ", 2)[2]
    assert not settings.outbox_dir.exists()


def test_remind_job_alerts_when_customers_were_not_told(
    seeded_repo: NoticeRepo,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """When the reminder runs and the notice never went out to the two affected customers, then
    it raises an alert saying how many were not told and when the release takes effect."""
    settings = material_release(seeded_repo)
    monkeypatch.setenv("NOTICES_DATABASE_URL", settings.database_url)
    customers = tmp_path / "customers.csv"
    customers.write_text(
        "email,name,locale,services\n"
        "wang.fang@example.cn,王芳,zh-CN,azure\n"
        "li.wei@example.cn,李伟,zh-CN,office365;powerbi\n",
        encoding="utf-8",
    )
    assert import_csv(customers, settings).imported == 2
    sync(settings, now=NOW)
    commit = seeded_repo.git("rev-parse", "HEAD")
    with caplog.at_level(logging.ERROR, logger="notifier.scheduling.jobs"):
        jobs.remind(str(seeded_repo.path), RELEASE, commit)
    detail = (
        f"2 of 2 affected customer(s) not told yet of {RELEASE}; it takes effect on 2027-01-15"
    )
    assert [r.getMessage() for r in caplog.records if r.name == "notifier.scheduling.jobs"] == [
        f"ALERT: {detail}"
    ]
    remind = records(settings)[f"{RELEASE}:remind"]
    assert (remind.state, remind.runs, remind.detail) == ("done", 1, detail)


def test_start_up_reconciles_work_cut_short(seeded_repo: NoticeRepo) -> None:
    """When the scheduler died while a publish job ran (the job store had already let go of
    it), then a plain sync leaves it lost but the start-up reconciliation runs it again."""
    environ = database(seeded_repo)
    release(seeded_repo, quiet_text("2027-01-01", "2027-01-15"), "2026-11-02T10:00:00+08:00")
    settings = settings_for(seeded_repo.path, environ=environ)
    sync(settings, now=NOW)
    job, commit = f"{RELEASE}:publish", seeded_repo.git("rev-parse", "HEAD")
    started = at("2027-01-15T00:00:01+08:00")
    # What APScheduler and the job do at run time: take the job out of the store, start it.
    path = environ["NOTICES_DATABASE_URL"].removeprefix("sqlite:///")
    with closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("DELETE FROM apscheduler_jobs WHERE id = ?", (job,))
    assert begin_run(settings, job, commit, started)
    later = at("2027-01-15T08:00:00+08:00")
    assert actions(sync(settings, now=later)) == []
    report = sync(settings, now=later, reconcile=True)
    assert [(c.id, c.action, c.run_at, c.detail) for c in report.changes] == [
        (job, "reconciled", later, "it was due but never finished (the scheduler stopped)")
    ]
    assert [(s.id, s.next_run, s.state) for s in list_jobs(settings, now=later)] == [
        (job, later, "due")
    ]


def test_second_scheduler_refuses_to_start(seeded_repo: NoticeRepo) -> None:
    """When a scheduler already runs on the job store, then a second `notices schedule run`
    exits 1 naming the lock and the running process. (A real process: the second scheduler
    is another process, and one that failed to see the lock would run until stopped.)"""
    environ = database(seeded_repo)
    settings = settings_for(seeded_repo.path, environ=environ)
    with leadership.elected(settings, threading.Event()):
        second = run_notices_process("schedule", "run", cwd=seeded_repo.path, env=environ)
    lock = seeded_repo.path / "var" / "scheduler.lock"
    assert (second.code, second.out) == (1, "")
    assert second.err == (
        f"error: {lock}: another scheduler is running on this job store (pid {os.getpid()}) "
        "(hint: stop it first: only one `notices schedule run` may run at a time)\n"
    )


def test_sync_on_postgresql(seeded_repo: NoticeRepo) -> None:
    """When the database is PostgreSQL, then the job store and our table live there: the plan
    is stored with its times, a second sync changes nothing, and a removal is reported."""
    release(seeded_repo, material_text("2027-01-01", "2027-01-15"), "2026-11-02T10:00:00+08:00")
    with postgres_database() as url:
        settings = settings_for(seeded_repo.path, environ={"NOTICES_DATABASE_URL": url})
        assert actions(sync(settings, now=NOW)) == [(job, "added") for job in JOBS]
        assert actions(sync(settings, now=NOW)) == [(job, "unchanged") for job in JOBS]
        assert [(s.id, s.next_run.isoformat() if s.next_run else None, s.state)
                for s in list_jobs(settings, now=NOW)] == [
            (f"{RELEASE}:notify", "2026-12-16T00:00:00+08:00", "scheduled"),
            (f"{RELEASE}:remind", "2027-01-14T00:00:00+08:00", "scheduled"),
            (f"{RELEASE}:publish", "2027-01-15T00:00:00+08:00", "scheduled"),
        ]
        seeded_repo.git("reset", "-q", "--hard", "HEAD~1")
        assert actions(sync(settings, now=NOW)) == [(job, "dropped") for job in JOBS]
        assert list_jobs(settings, now=NOW)[0].state == "dropped"
        db.engine(settings).dispose()
