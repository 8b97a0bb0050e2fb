"""`notices site build | serve`: the published site, built from the releases on main."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from notifier.cli import contracts
from notifier.cli.app import (
    Context,
    NoticesGroup,
    json_option,
    pass_context,
    print_json,
    progress,
    today_option,
)


@click.group(cls=NoticesGroup)
def site() -> None:
    """Build or preview the published site: current, upcoming, archive, redlines, feed."""


@site.command("build")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to build into (default: build/site); replaced only on success.",
)
@today_option
@json_option("the result")
@pass_context
def site_build(ctx: Context, out: Path | None, today: datetime | None, as_json: bool) -> None:
    """Build the site from the releases on main into a temporary folder, then swap it in."""
    from notifier.publishing import publish

    with progress("Building the site") as advance:
        built = publish.build(
            ctx.repo_settings, out=out, today=today.date() if today else None, progress=advance
        )
    if as_json:
        print_json(contracts.site_build(built))
    else:
        click.echo(f"built {built.pages} pages ({built.files} files) in {built.path}")


@site.command("serve")
@click.option(
    "--dev-addr",
    default="127.0.0.1:8000",
    show_default=True,
    help="HOST:PORT to serve the preview on.",
)
@today_option
@pass_context
def site_serve(ctx: Context, dev_addr: str, today: datetime | None) -> None:
    """Preview the site, every language, for editors; it rebuilds after commits and after
    edits to the hand-written pages or mkdocs.yml."""
    from notifier.publishing import publish

    publish.serve(ctx.repo_settings, dev_addr=dev_addr, today=today.date() if today else None)
