"""Every customer's address in its one mailbox form (`notifier.delivery.mailbox`).

Imports before November 2026 kept the local part's case ("Wang.Wei@example.com"), and later
commands look an address up in its mailbox form only: such a row would be missed by
`customers suppress` and by the Event Webhook's address check. Each row is rewritten to
that form. Rows that turn out to be one mailbox are not merged (their deliveries are the proof
of who was told what): the lowest id takes the mailbox form, carrying any suppression of the
others, and the others keep their address and are suppressed as duplicates of it, so nobody is
mailed twice. Addresses that no longer validate are left as they are. Nothing is undone on a
downgrade: the earlier forms were equivalent.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from notifier.mailbox import mailbox

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

log = logging.getLogger(__name__)
_CHUNK = 500
customers = sa.table(
    "customers",
    sa.column("id", sa.Integer),
    sa.column("email", sa.String),
    sa.column("suppressed_reason", sa.String),
    sa.column("updated_at", sa.DateTime(timezone=True)),
)


def _changed(connection: sa.Connection) -> dict[str, list[Any]]:
    """Rows whose address is not in its mailbox form, by that form (streamed: flat memory)."""
    found: dict[str, list[Any]] = {}
    query = sa.select(customers.c.id, customers.c.email, customers.c.suppressed_reason)
    stream = connection.execute(query, execution_options={"yield_per": 5000})
    invalid = 0
    for row in stream:
        try:
            form = mailbox(row.email)
        except ValueError:
            invalid += 1
            continue
        if form != row.email:
            found.setdefault(form, []).append(row)
    if invalid:
        log.warning("%d customer address(es) do not validate and were left as they are", invalid)
    return found


def _holders(connection: sa.Connection, forms: Sequence[str]) -> dict[str, Any]:
    """The rows that already hold one of `forms`."""
    holders: dict[str, Any] = {}
    for start in range(0, len(forms), _CHUNK):
        chunk = forms[start : start + _CHUNK]
        query = sa.select(customers.c.id, customers.c.email, customers.c.suppressed_reason)
        for row in connection.execute(query.where(customers.c.email.in_(chunk))):
            holders[row.email] = row
    return holders


def upgrade() -> None:
    connection = op.get_bind()
    changed = _changed(connection)
    holders = _holders(connection, sorted(changed))
    now, duplicates = datetime.now(UTC), 0
    for form, rows in changed.items():
        group = sorted(rows, key=lambda row: row.id)
        keep = holders.get(form)
        if keep is None:
            keep, group = group[0], group[1:]
            connection.execute(
                customers.update()
                .where(customers.c.id == keep.id)
                .values(email=form, updated_at=now)
            )
        suppressed = next((r.suppressed_reason for r in group if r.suppressed_reason), None)
        if suppressed and not keep.suppressed_reason:
            connection.execute(
                customers.update()
                .where(customers.c.id == keep.id)
                .values(suppressed_reason=suppressed, updated_at=now)
            )
        for row in group:
            duplicates += 1
            if not row.suppressed_reason:
                connection.execute(
                    customers.update()
                    .where(customers.c.id == row.id)
                    .values(suppressed_reason=f"duplicate of customer {keep.id}", updated_at=now)
                )
    if duplicates:
        log.warning(
            "%d customer row(s) were the same mailbox as another and are suppressed as its "
            "duplicates (their reason names the customer kept)",
            duplicates,
        )


def downgrade() -> None:
    """The earlier forms were equivalent: nothing to undo."""
