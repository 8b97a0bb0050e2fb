"""The README documents every subcommand and every option of the `notices` command."""

from __future__ import annotations

import click
import pytest
from support.repos import PROJECT

from notifier.cli import main

README = (PROJECT / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "notices") -> list[tuple[str, click.Command]]:
    found: list[tuple[str, click.Command]] = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
    return found


COMMANDS = _commands(main)


@pytest.mark.parametrize("path", [path for path, _ in COMMANDS])
def test_every_subcommand_is_documented(path: str) -> None:
    """When a subcommand exists, then the README names it."""
    parent, _, name = path.rpartition(" ")
    assert path in README or (parent in README and f"|{name}" in README.replace("\\\\", ""))


@pytest.mark.parametrize(
    "path,option",
    [
        (path, option)
        for path, command in [("notices", main), *COMMANDS]
        for parameter in command.params
        if isinstance(parameter, click.Option)
        for option in parameter.opts
        if option.startswith("--") and option != "--help"
    ],
)
def test_every_option_is_documented(path: str, option: str) -> None:
    """When a command has an option, then the README mentions it."""
    assert option in README, f"{path} {option} is not in the README"
