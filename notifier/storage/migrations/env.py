"""Alembic's entry point: migrate over the connection `notifier.storage.schema` hands in."""

from __future__ import annotations

from alembic import context

from notifier.storage.db import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying
)
with context.begin_transaction():
    context.run_migrations()
