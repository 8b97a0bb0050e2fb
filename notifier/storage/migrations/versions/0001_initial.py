"""The first schema: customers, the delivery ledger, webhook events and scheduled runs.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("services", sa.String(1000), nullable=False),
        sa.Column("suppressed_reason", sa.String(500), nullable=True),
        sa.Column("updated_at", AT, nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("release_id", sa.String(200), nullable=False),
        sa.Column("customer_id", sa.Integer, sa.ForeignKey("customers.id"), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("due_at", AT, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("batch_id", sa.String(64), nullable=True),
        sa.Column("claimed_at", AT, nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("sent_at", AT, nullable=True),
        sa.Column("message_id", sa.String(200), nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("delivery_state", sa.String(16), nullable=True),
        sa.Column("state_at", AT, nullable=True),
        sa.Column("delivered_at", AT, nullable=True),
        sa.UniqueConstraint(
            "release_id", "customer_id", name="one_delivery_per_release_customer"
        ),
    )
    op.create_index(
        "deliveries_by_release_status", "deliveries", ["release_id", "status", "locale", "id"]
    )
    op.create_table(
        "delivery_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("delivery_id", sa.Integer, sa.ForeignKey("deliveries.id"), nullable=False),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("sg_event_id", sa.String(200), nullable=False, unique=True),
        sa.Column("timestamp", AT, nullable=False),
        sa.Column("reason", sa.Text, nullable=True),
        sa.Column("received_at", AT, nullable=False),
    )
    op.create_index("delivery_events_by_delivery", "delivery_events", ["delivery_id"])
    op.create_table(
        "webhook_posts",
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("seen_at", AT, nullable=False),
    )
    op.create_table(
        "schedule_runs",
        sa.Column("job_id", sa.String(300), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("release", sa.String(200), nullable=False),
        sa.Column("release_commit", sa.String(64), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("run_at", AT, nullable=True),
        sa.Column("runs", sa.Integer, nullable=False),
        sa.Column("started_at", AT, nullable=True),
        sa.Column("finished_at", AT, nullable=True),
        sa.Column("detail", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("schedule_runs", "webhook_posts", "delivery_events", "deliveries", "customers"):
        op.drop_table(table)
