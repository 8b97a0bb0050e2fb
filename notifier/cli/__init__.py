"""The `notices` command: the root group; each family of commands lives in its own module, and
every handler imports its operation only when it runs."""

from __future__ import annotations

import click

from notifier.cli import consent, db, delivery, demo, init, schedule, site, statement
from notifier.cli.app import NoticesGroup


@click.group(cls=NoticesGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="notices")
def main() -> None:
    """Keep a privacy statement in git, redline it, and notify customers of material changes."""


for command in (
    statement.check,
    statement.diff,
    statement.lint,
    statement.log_command,
    site.site,
    db.db,
    schedule.schedule,
    delivery.customers,
    delivery.notify,
    delivery.events,
    consent.consent,
    demo.demo,
    init.init,
):
    main.add_command(command)
