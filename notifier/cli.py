"""The `notices` command: parse arguments, call one operation, print its result. Nothing else."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from notifier import logs
from notifier.check import problem_to_json, run_check
from notifier.config import Settings, load_settings
from notifier.errors import CheckFailed, NoticeError

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    """What every subcommand needs: the repository, its settings (loaded once), output flags."""

    def __init__(self, repo: Path, debug: bool) -> None:
        self.repo = repo
        self.debug = debug
        self._settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.repo, os.environ)
        return self._settings


def _find_repo(start: Path) -> Path:
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False))


def reports_errors(command: F) -> F:
    """Turn a NoticeError into `error: <where>: <what> (hint: …)` and exit 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        context = click.get_current_context().find_object(Context)
        try:
            return command(*args, **kwargs)
        except CheckFailed as failed:
            for problem in failed.problems:
                click.echo(str(problem), err=True)
            click.echo(f"error: {failed.message}", err=True)
            sys.exit(1)
        except NoticeError as error:
            if context is not None and context.debug:
                raise
            click.echo(f"error: {error}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


pass_context = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--repo",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The notices repository (default: the git repository around the current directory).",
)
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr.")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.version_option(package_name="notices")
@click.pass_context
def main(ctx: click.Context, repo: Path | None, verbose: int, quiet: bool, debug: bool) -> None:
    """Keep a privacy statement in git, redline it, and notify customers of material changes."""
    logs.configure(-1 if quiet else verbose)
    ctx.obj = Context((repo or _find_repo(Path.cwd())).resolve(), debug)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as one JSON object.")
@pass_context
@reports_errors
def check(ctx: Context, as_json: bool) -> None:
    """Validate every notice in the working tree and the release rules."""
    problems = run_check(ctx.settings)
    errors = [p for p in problems if p.severity == "error"]
    if as_json:
        print_json({"ok": not errors, "problems": [problem_to_json(p) for p in problems]})
    else:
        for problem in problems:
            click.echo(str(problem))
        click.echo(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)")
    if errors:
        sys.exit(1)
