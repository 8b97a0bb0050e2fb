"""Stored scheduler jobs name their function by its new home, `notifier.scheduling.jobs`.

APScheduler keeps each job's function as text inside a pickled state. Jobs planned before the
package was split into subsystems say `notifier.jobs:notify`; left as they were they would no
longer load, and APScheduler drops a job it cannot load.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import pickle

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JOB_TABLE = "apscheduler_jobs"  # created by APScheduler itself, only once a scheduler ran
OLD, NEW = "notifier.jobs:", "notifier.scheduling.jobs:"


def _move_references(old: str, new: str) -> None:
    connection = op.get_bind()
    if not sa.inspect(connection).has_table(JOB_TABLE):
        return
    jobs = sa.table(JOB_TABLE, sa.column("id", sa.String), sa.column("job_state", sa.LargeBinary))
    for job_id, stored in connection.execute(sa.select(jobs.c.id, jobs.c.job_state)).all():
        state = pickle.loads(stored)  # our own job store: written by APScheduler for us
        func = state.get("func")
        if isinstance(func, str) and func.startswith(old):
            state["func"] = new + func.removeprefix(old)
            connection.execute(
                jobs.update()
                .where(jobs.c.id == job_id)
                .values(job_state=pickle.dumps(state, pickle.HIGHEST_PROTOCOL))
            )


def upgrade() -> None:
    _move_references(OLD, NEW)


def downgrade() -> None:
    _move_references(NEW, OLD)
