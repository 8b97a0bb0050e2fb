"""Consent decisions, one append-only row each, and the one reminder each recipient gets.

A decision binds a delivery, the article asked about, the SHA-256 of the text shown and its
locale; a change of mind or a withdrawal is a new row (a withdrawal names the agreement it
withdraws), never an update. `seq` numbers a release's decisions and `chain` hashes each with
the one before it, so an edited or dropped row shows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("release_id", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("delivery_id", sa.Integer, sa.ForeignKey("deliveries.id"), nullable=False),
        sa.Column("article", sa.String(32), nullable=False),
        sa.Column("text_sha256", sa.String(64), nullable=False),
        sa.Column("locale", sa.String(16), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column(
            "withdraws", sa.Integer, sa.ForeignKey("consent_decisions.id"), nullable=True
        ),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client", sa.String(200), nullable=True),
        sa.Column("chain", sa.String(64), nullable=False),
        sa.UniqueConstraint("release_id", "seq", name="one_place_in_the_chain"),
        sa.CheckConstraint(
            "decision IN ('agree', 'decline', 'withdraw')", name="known_decision"
        ),
    )
    op.create_index(
        "consent_decisions_by_delivery", "consent_decisions", ["delivery_id", "article", "id"]
    )
    op.create_table(
        "consent_reminders",
        sa.Column(
            "delivery_id", sa.Integer, sa.ForeignKey("deliveries.id"), primary_key=True
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("consent_reminders")
    op.drop_index("consent_decisions_by_delivery", table_name="consent_decisions")
    op.drop_table("consent_decisions")
