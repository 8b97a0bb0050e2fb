"""`notices init [DIR]`: a new notices repository, ready for `check`, `diff` and `site build`."""

from __future__ import annotations

import shlex
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from notifier.cli.app import NoticesCommand

if TYPE_CHECKING:
    from notifier.scaffold.repository import Initialised


@click.command("init", cls=NoticesCommand)
@click.argument(
    "directory", metavar="[DIR]", type=click.Path(path_type=Path), default=Path("."), required=False
)
@click.option("--notice", default="privacy", show_default=True, help="The notice's name.")
@click.option(
    "--locale",
    "locales",
    multiple=True,
    help="A locale to write the notice in; repeat it for each, the first is the default "
    "(default: zh-CN).",
)
@click.option("--site-url", default=None, help="Where the site will be published.")
@click.option("--title", default=None, help="The statement's title in the default locale.")
@click.option("--no-commit", is_flag=True, help="Do not commit the files as the first release.")
def init(
    directory: Path,
    notice: str,
    locales: tuple[str, ...],
    site_url: str | None,
    title: str | None,
    no_commit: bool,
) -> None:
    """Create a notices repository in DIR (default: here); it never overwrites a file."""
    from notifier.scaffold import starter
    from notifier.scaffold.repository import initialise

    try:
        asked = starter.Starter(
            today=datetime.now(ZoneInfo(starter.TIMEZONE)).date(),
            notice=notice,
            locales=locales or (starter.DEFAULT_LOCALE,),
            site_url=site_url or starter.DEFAULT_SITE_URL,
            title=title,
        )
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    made = initialise(directory, asked, commit=not no_commit)
    for relative in made.files:
        click.echo(f"created {directory / relative}")
    click.echo("\n".join(_next_steps(directory, made)))


def _next_steps(directory: Path, made: Initialised) -> list[str]:
    said = [f"initialised a git repository on branch main in {directory}"] * made.created_git
    commit = made.commit
    if commit:
        said.append(f"committed the starter statement as the first release ({commit[:10]})")
    steps = [f"cd {shlex.quote(str(directory))}"] if directory != Path(".") else []
    if commit is None:
        steps += [
            "git add " + " ".join(sorted({shlex.quote(file.split("/")[0]) for file in made.files})),
            'git commit -m "First release of the notice"',
        ]
    steps += [
        "notices check",
        "notices lint",
        "# fill in the bracketed text, give the release a new version, commit it, then:",
        "notices diff",
        "notices site build",
    ]
    return [*said, "next:", *(f"  {step}" for step in steps)]
