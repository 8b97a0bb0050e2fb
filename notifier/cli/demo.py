"""`notices demo`: the whole flow in a sandbox, for someone trying the tool for the first time."""

from __future__ import annotations

from pathlib import Path

import click

from notifier.cli.app import NoticesCommand


@click.command(cls=NoticesCommand)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/demo"),
    show_default=True,
    help="Where to build the sandbox (replaced if it holds an earlier demo).",
)
def demo(directory: Path) -> None:
    """The whole flow on embedded defaults in a sandbox."""
    from notifier.demo.sandbox import run

    report = run(directory, say=click.echo)
    sandbox = report.sandbox
    click.echo("\nWhere to look:")
    click.echo(
        f"  site:    {sandbox.site}/index.html  "
        f"(serve it: notices --repo {sandbox.repo} site serve)"
    )
    click.echo(f"  outbox:  {sandbox.outbox}  ({report.sent} .eml files)")
    click.echo(f"  proof:   {sandbox.proof}")
    click.echo(f"  repo:    {sandbox.repo}  (try: notices --repo {sandbox.repo} log)")
