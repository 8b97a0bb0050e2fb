"""`notices check`, `diff`, `lint` and `log`: what editors run on the statement and its releases."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from notifier.cli import contracts
from notifier.cli.app import (
    Context,
    NoticesCommand,
    json_option,
    notice_options,
    pass_context,
    print_json,
)
from notifier.errors import VersionNotFound

if TYPE_CHECKING:
    from notifier.releases.verdicts import AssessedRelease
    from notifier.statement.materiality import Verdict


@click.command(cls=NoticesCommand)
@json_option("the findings")
@pass_context
def check(ctx: Context, as_json: bool) -> None:
    """Validate every notice in the working tree and the release rules."""
    from notifier.releases.check import run_check

    problems = run_check(ctx.repo_settings)
    errors = [p for p in problems if p.severity == "error"]
    if as_json:
        print_json(contracts.check(problems))
    else:
        for problem in problems:
            click.echo(str(problem))
        click.echo(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)")
    if errors:
        sys.exit(1)


@click.command(cls=NoticesCommand)
@click.argument("old", metavar="[A]", required=False)
@click.argument("new", metavar="[B]", required=False)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html", "md"]),
    default="text",
    show_default=True,
    help="text: coloured redline; json: the "
    "contract; html: an <ins>/<del> fragment; md: a summary for a pull request.",
)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@notice_options
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the text format (default: when stdout is a terminal).",
)
@pass_context
def diff(
    ctx: Context,
    old: str | None,
    new: str | None,
    fmt: str,
    as_json: bool,
    notice: str | None,
    locale: str | None,
    color: bool | None,
) -> None:
    """Show what changed from A to B and whether it is material.

    A and B are a release version, any git revision, or a path to a .md file; by default A is
    the release before B and B is the working tree."""
    from notifier.releases import version_diff

    found = version_diff.diff_versions(
        ctx.settings, old, new, notice=notice, locale=locale
    )
    if as_json or fmt == "json":
        print_json(contracts.diff(found))
        return
    colour = sys.stdout.isatty() if color is None else color
    click.echo(version_diff.render(found, fmt, color=colour), color=colour)


@click.command(cls=NoticesCommand)
@click.argument("notice", required=False)
@json_option("the findings")
@pass_context
def lint(ctx: Context, notice: str | None, as_json: bool) -> None:
    """Check that a statement is complete and clear (PIPL 17, GB/T 35273, WP260).

    NOTICE is a notice name (every locale) or a path to a .md file; default: every notice."""
    from notifier.releases.lint_files import lint_paths
    from notifier.statement import lint as linting

    settings = ctx.settings if notice and notice.endswith(".md") else ctx.repo_settings
    reports = lint_paths(settings, notice, ctx.cwd)
    counts = linting.counts(reports)
    if as_json:
        print_json(contracts.lint(reports, counts))
    else:
        for line in linting.report_lines(reports):
            click.echo(line)
        errors, warnings, infos = counts["error"], counts["warning"], counts["info"]
        click.echo(f"{errors} error(s), {warnings} warning(s), {infos} info")
    if counts["error"]:
        sys.exit(1)


@click.command("log", cls=NoticesCommand)
@click.argument("notice", required=False)
@json_option("the releases")
@pass_context
def log_command(ctx: Context, notice: str | None, as_json: bool) -> None:
    """List releases: version, published, effective, material, summary, sha256."""
    entries = _assessed(ctx, notice)
    if as_json:
        print_json(contracts.log(entries))
        return
    for entry in entries:
        release, verdict = entry.release, entry.verdict
        material = _verdict_label(verdict)
        click.echo(
            f"{release.id}  published {release.published.date().isoformat()}  "
            f"effective {release.effective.isoformat()}  {material}  sha256 {release.sha256[:12]}"
        )
        if release.summary:
            click.echo(f"    {release.summary}")
        for revision in release.revisions:
            click.echo(f"    revised {revision.committed.date()} {revision.commit[:10]}")


def _verdict_label(verdict: Verdict | None) -> str:
    """'material T3', 'undecided', 'not material', with the override that decided it."""
    if verdict is None:
        return "first release"
    label = {"material": f"material {verdict.tier}", "undecided": "undecided (decide it)"}.get(
        verdict.decision, "not material"
    )
    if verdict.override is not None:
        commit = f" in {verdict.override.commit[:10]}" if verdict.override.commit else ""
        label += f" (editor's decision{commit}: {verdict.override.reason})"
    if (stale := verdict.stale_override) is not None:
        label += f" (ignored: version {stale.version}'s override carried forward: {stale.reason})"
    return label


def _assessed(ctx: Context, notice: str | None) -> tuple[AssessedRelease, ...]:
    """The releases with their verdicts, of one notice if named (an unknown name is an error)."""
    from notifier.releases.history import read_history
    from notifier.releases.verdicts import assessed_releases
    from notifier.statement.materiality import rules_for

    history = read_history(ctx.repo, ctx.repo_settings)
    entries = assessed_releases(history, rules_for(ctx.repo_settings), notice)
    if notice is not None and not entries:
        known = ", ".join(sorted({name for name, _ in history.notices()}))
        raise VersionNotFound(
            f"no release of a notice named {notice!r} on {history.ref}",
            hint=f"known notices: {known}" if known else "no release has been published yet",
        )
    return entries
