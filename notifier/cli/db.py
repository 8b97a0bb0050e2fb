"""`notices db upgrade`: the operator's step after installing a new version."""

from __future__ import annotations

import click

from notifier.cli.app import Context, NoticesGroup, pass_context


@click.group(cls=NoticesGroup)
def db() -> None:
    """The database's schema: upgrade it after installing a new version of notices."""


@db.command("upgrade")
@pass_context
def db_upgrade(ctx: Context) -> None:
    """Apply the schema migrations this version needs (safe to run again, one at a time)."""
    from notifier.storage import db as database

    done = database.upgrade(ctx.settings)
    if done.before == done.after:
        click.echo(f"the database schema is current (revision {done.after})")
    elif done.before is None:
        click.echo(f"created the database schema at revision {done.after}")
    else:
        click.echo(f"upgraded the database schema from {done.before} to {done.after}")
