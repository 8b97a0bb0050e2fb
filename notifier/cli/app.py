"""The command line's frame: the group that maps every error once, the options every command
shares, and the context handlers receive. Command modules build on this; nothing here imports an
operation, so `notices --help` stays fast."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from notifier import logs
from notifier.errors import CheckFailed, HistoryError, NoticeError

if TYPE_CHECKING:
    from notifier.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
_KEY = "notices."  # global options live in click's `meta`, which every nested context shares


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Record a global option given before or after the subcommand: counts add up, flags stay
    set, the last --repo wins."""
    if not value or param.name is None:
        return
    key = _KEY + param.name
    ctx.meta[key] = ctx.meta.get(key, 0) + value if param.name == "verbose" else value


_GLOBAL_OPTIONS: tuple[tuple[list[str], dict[str, Any]], ...] = (
    (
        ["--repo"],
        {
            "type": click.Path(file_okay=False, path_type=Path),
            "help": "The notices repository (default: the git repository around the current "
            "directory).",
        },
    ),
    (["-v", "--verbose"], {"count": True, "help": "More log output on stderr (-vv for debug)."}),
    (["-q", "--quiet"], {"is_flag": True, "help": "Only errors on stderr."}),
    (["--debug"], {"is_flag": True, "help": "Show tracebacks instead of one-line errors."}),
)


def _global_options() -> list[click.Parameter]:
    """`--repo`, `-v`, `-q`, `--debug`: accepted by every command, before or after its name."""
    return [
        click.Option(names, expose_value=False, callback=_remember, **spec)
        for names, spec in _GLOBAL_OPTIONS
    ]


@dataclass(frozen=True)
class Context:
    """What every handler needs: the repository, its settings (loaded once), output flags."""

    given_repo: Path | None
    cwd: Path
    debug: bool
    verbosity: int  # -1 quiet, 0 default, 1 info, 2+ debug

    @classmethod
    def from_meta(cls, meta: MutableMapping[str, Any]) -> Context:
        repo = meta.get(_KEY + "repo")
        verbosity = -1 if meta.get(_KEY + "quiet") else meta.get(_KEY + "verbose", 0)
        return cls(repo, Path.cwd(), bool(meta.get(_KEY + "debug")), verbosity)

    @cached_property
    def found_repo(self) -> Path | None:
        """--repo, else the nearest folder upwards that holds `.git`."""
        if self.given_repo is not None:
            return self.given_repo.resolve()
        for candidate in (self.cwd, *self.cwd.parents):
            if (candidate / ".git").exists():
                return candidate.resolve()
        return None

    @property
    def repo(self) -> Path:
        """The repository; outside one, say so rather than report an empty one."""
        if self.found_repo is None:
            raise HistoryError(
                "not inside a git repository",
                path=self.cwd,
                hint="run this inside a clone of the notices repository, or pass --repo PATH",
            )
        return self.found_repo

    @cached_property
    def settings(self) -> Settings:
        """The settings of the repository around, or of the current folder outside one: enough
        for the customer directory, the ledger and plain .md files."""
        from notifier.settings import load_settings

        return load_settings(self.found_repo or self.cwd, os.environ)

    @cached_property
    def repo_settings(self) -> Settings:
        """The settings of a git repository, for commands that read its notices or history."""
        from notifier.settings import load_settings

        return load_settings(self.repo, os.environ)


pass_context = click.make_pass_decorator(Context)


class NoticesCommand(click.Command):
    """A command that takes the global options and sets up logging from them before it runs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_global_options())

    def invoke(self, ctx: click.Context) -> Any:
        ctx.obj = Context.from_meta(ctx.meta)
        ctx.with_resource(logs.to_stderr(ctx.obj.verbosity))
        return super().invoke(ctx)


class NoticesGroup(click.Group):
    """A group of notices commands; at the root it turns every error into one line."""

    command_class = NoticesCommand
    group_class = type  # subgroups are NoticesGroups too

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_global_options())

    def invoke(self, ctx: click.Context) -> Any:
        if ctx.parent is not None:
            return super().invoke(ctx)
        try:
            return super().invoke(ctx)
        except CheckFailed as failed:
            for problem in failed.problems:
                click.echo(str(problem), err=True)
            click.echo(f"error: {failed.message}", err=True)
        except NoticeError as error:
            debug = ctx.meta.get(_KEY + "debug")
            click.echo(_traceback(error) if debug else f"error: {error}", err=True, nl=not debug)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as error:  # a fault no operation foresaw: no traceback, no data
            debug = ctx.meta.get(_KEY + "debug")
            message = _traceback(error) if debug else f"error: {_unexpected(error)}"
            click.echo(message, err=True, nl=not debug)
        sys.exit(1)


def _traceback(error: BaseException) -> str:
    """The traceback --debug asks for, with every secret of the environment as ***: an HTTP
    library's error may quote the Authorization header it was given."""
    from notifier.settings import scrub_secrets

    return scrub_secrets("".join(traceback.format_exception(error)), os.environ)


def _unexpected(error: Exception) -> str:
    """One line for an unforeseen error; tracebacks and statements may hold customer data, so
    only the database driver's own first line is shown, and otherwise the error's type."""
    hint = "(hint: rerun with --debug for the traceback, which may show customer data)"
    orig = getattr(error, "orig", None)
    if "sqlalchemy" in sys.modules and orig is not None:
        from sqlalchemy.exc import DBAPIError

        if isinstance(error, DBAPIError):
            text = str(orig).strip()
            first = text.splitlines()[0] if text else ""
            return f"the database failed: {type(orig).__name__}: {first} {hint}"
    return f"unexpected {type(error).__name__} {hint}"


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2, sort_keys=False))


def json_option(what: str) -> Callable[[F], F]:
    """`--json`: print `what` as the one documented JSON object instead of text."""
    return click.option("--json", "as_json", is_flag=True, help=f"Print {what} as one JSON object.")


def notice_options(command: F) -> F:
    """`--notice` and `--locale`: which notice and locale, when a name or version is shared."""
    command = click.option(
        "--locale", default=None, help="Which locale, when several match (zh-CN, en, …)."
    )(command)
    return click.option(
        "--notice", default=None, help="Which notice (a folder of notices/), when several match."
    )(command)


today_option = click.option(
    "--today",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Treat DATE (YYYY-MM-DD) as today when deciding which version is current.",
)


@contextlib.contextmanager
def progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
