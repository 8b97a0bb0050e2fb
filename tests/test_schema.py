"""The schema is versioned: new databases are created at the head, older ones are refused at
start-up until `notices db upgrade` migrates them, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, insert, inspect, select, text
from support.repos import NoticeRepo, run_notices
from support.schedule import postgres_database

from notifier.storage import db, schema


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, notice_repo: NoticeRepo) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{(notice_repo.path.parent / 'notices.db').as_posix()}"
        return
    with postgres_database() as url:
        yield url


def _migrate_to(url: str, revision: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        command.upgrade(schema.config(connection), revision)
    engine.dispose()


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = schema.current(connection)
    engine.dispose()
    return found


def test_migrations_build_exactly_the_tables_the_code_uses(database_url: str) -> None:
    """When an empty database is upgraded, then Alembic finds no difference between it and
    the tables the code declares (a migration forgotten for a new column fails here)."""
    _migrate_to(database_url, "head")
    engine = create_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    engine.dispose()
    assert differences == []


def test_migrations_go_down_and_up_again(database_url: str) -> None:
    """Every migration has a working downgrade: base and back to head."""
    _migrate_to(database_url, "head")
    engine = create_engine(database_url)
    with engine.begin() as connection:
        command.downgrade(schema.config(connection), "base")
    with engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    _migrate_to(database_url, "head")
    assert _revision(database_url) == schema.head()


def test_a_new_database_is_created_at_the_head(
    notice_repo: NoticeRepo, database_url: str
) -> None:
    """When a command opens an empty database, then it creates the schema and works."""
    env = {"NOTICES_DATABASE_URL": database_url}
    counted = run_notices("customers", "count", cwd=notice_repo.path, env=env)
    assert counted.code == 0, counted.err
    assert _revision(database_url) == schema.head()
    again = run_notices("db", "upgrade", cwd=notice_repo.path, env=env)
    assert again.out == f"the database schema is current (revision {schema.head()})\n"


def test_a_database_behind_is_refused_until_upgraded(
    notice_repo: NoticeRepo, database_url: str
) -> None:
    """Given a database at the first revision holding a customer, when a command starts, then
    it stops with one line naming the revisions and the fix; `notices db upgrade` migrates it
    keeping the data, and the command then works."""
    _migrate_to(database_url, "0001")
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            insert(db.customers).values(
                email="a@example.cn", name="A", locale="zh-CN", services=";ecs;",
                updated_at=datetime.now(UTC),
            )
        )
    engine.dispose()
    env = {"NOTICES_DATABASE_URL": database_url}

    refused = run_notices("customers", "count", cwd=notice_repo.path, env=env)
    assert refused.code == 1
    assert refused.out == ""
    assert refused.err.count("\n") == 1
    assert f"is at revision 0001; this version of notices needs {schema.head()}" in refused.err
    assert "run `notices db upgrade`" in refused.err
    assert _revision(database_url) == "0001"

    upgraded = run_notices("db", "upgrade", cwd=notice_repo.path, env=env)
    assert upgraded.out == f"upgraded the database schema from 0001 to {schema.head()}\n", (
        upgraded.err
    )
    counted = run_notices("customers", "count", "--json", cwd=notice_repo.path, env=env)
    assert counted.code == 0, counted.err
    assert '"active": 1' in counted.out


def test_a_database_made_before_migrations_is_adopted(
    notice_repo: NoticeRepo, database_url: str
) -> None:
    """Given the first schema without a version table (made by create_all before migrations),
    then commands refuse it and `notices db upgrade` stamps and upgrades it."""
    _migrate_to(database_url, "0001")
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    engine.dispose()
    env = {"NOTICES_DATABASE_URL": database_url}
    refused = run_notices("customers", "count", cwd=notice_repo.path, env=env)
    assert refused.code == 1
    assert "predates schema versions" in refused.err
    upgraded = run_notices("db", "upgrade", cwd=notice_repo.path, env=env)
    assert upgraded.out == f"upgraded the database schema from 0001 to {schema.head()}\n", (
        upgraded.err
    )
    assert _revision(database_url) == schema.head()


def test_a_database_from_a_newer_version_is_refused(
    notice_repo: NoticeRepo, database_url: str
) -> None:
    """A revision this version does not know means a newer notices migrated it: neither the
    commands nor `db upgrade` touch it."""
    _migrate_to(database_url, "head")
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
    engine.dispose()
    env = {"NOTICES_DATABASE_URL": database_url}
    for args in (("customers", "count"), ("db", "upgrade")):
        refused = run_notices(*args, cwd=notice_repo.path, env=env)
        assert refused.code == 1
        assert "is at revision f00d, which this version of notices does not know" in refused.err
    assert _revision(database_url) == "f00d"


def test_workers_starting_together_on_an_empty_postgresql_create_it_once(
    notice_repo: NoticeRepo,
) -> None:
    """When four processes open the same empty PostgreSQL database at once, then the advisory
    lock lets one create the schema and the others find it current: all succeed."""
    with postgres_database() as url:
        env = {"NOTICES_DATABASE_URL": url, "PYTHONIOENCODING": "utf-8"}
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "notifier", "customers", "count"],
                cwd=notice_repo.path,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in processes]
        for process in processes:
            for stream in (process.stdout, process.stderr):
                if stream:
                    stream.close()
        assert [code for code, _ in outcomes] == [0, 0, 0, 0], outcomes
        engine = create_engine(url)
        with engine.connect() as connection:
            versions = connection.execute(select(text("version_num")).select_from(
                text("alembic_version"))).scalars().all()
        engine.dispose()
        assert versions == [schema.head()]


def test_an_unreachable_database_is_one_line(notice_repo: NoticeRepo) -> None:
    """When the server does not answer, then the error says which database (no password)."""
    env = {"NOTICES_DATABASE_URL": "postgresql+psycopg://postgres:s3cret@127.0.0.1:1/none"}
    refused = run_notices("customers", "count", cwd=notice_repo.path, env=env)
    assert refused.code == 1
    assert refused.err.startswith("error: cannot open the database postgresql+psycopg://postgres:***@")
    assert "s3cret" not in refused.err
    assert refused.err.count("\n") == 1


def test_jobs_stored_under_the_old_module_name_load_after_the_upgrade(database_url: str) -> None:
    """When the job store holds a job planned as `notifier.jobs:notify` (before the package had
    subsystem folders), then migration 0003 renames it and APScheduler loads it as
    `notifier.scheduling.jobs:notify` with its trigger and arguments intact."""
    import pickle

    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.date import DateTrigger

    from notifier.scheduling.schedule import JOB_TABLE

    _migrate_to(database_url, "0002")
    engine = create_engine(database_url)
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)}
    )
    scheduler.start(paused=True)
    run_at = datetime(2030, 1, 1, 16, 0, tzinfo=UTC)
    kwargs = {"repo": "/srv/notices", "release": "privacy/zh-CN/2030-01-01", "commit": "abc"}
    scheduler.add_job(
        "notifier.scheduling.jobs:notify", trigger=DateTrigger(run_date=run_at),
        id="privacy/zh-CN/2030-01-01:notify", kwargs=kwargs, misfire_grace_time=None,
    )
    scheduler.shutdown(wait=False)
    with engine.begin() as connection:  # as a version before the move stored it
        stored = connection.execute(text(f"SELECT job_state FROM {JOB_TABLE}")).scalar_one()
        state = pickle.loads(stored)
        state["func"] = "notifier.jobs:notify"
        connection.execute(
            text(f"UPDATE {JOB_TABLE} SET job_state = :state"), {"state": pickle.dumps(state)}
        )

    _migrate_to(database_url, "head")
    (job,) = SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE).get_all_jobs()
    engine.dispose()
    assert job.func_ref == "notifier.scheduling.jobs:notify"
    assert (job.id, job.kwargs, job.trigger.run_date) == (
        "privacy/zh-CN/2030-01-01:notify", kwargs, run_at
    )
