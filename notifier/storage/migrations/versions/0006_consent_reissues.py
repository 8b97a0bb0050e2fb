"""Fresh consent links mailed on request, one row each, so that they can be limited.

Whoever holds an expired link can ask for a fresh one, which goes to the delivery's own
recipient; without a record of what was sent, they could make us mail that person again and
again.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consent_reissues",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("delivery_id", sa.Integer, sa.ForeignKey("deliveries.id"), nullable=False),
        sa.Column("article", sa.String(32), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "consent_reissues_by_question",
        "consent_reissues",
        ["delivery_id", "article", "sent_at"],
    )


def downgrade() -> None:
    op.drop_index("consent_reissues_by_question", table_name="consent_reissues")
    op.drop_table("consent_reissues")
