"""`notices schedule sync | list | run`: jobs that notify and publish on time."""

from __future__ import annotations

import sys
from datetime import datetime

import click

from notifier.cli import contracts
from notifier.cli.app import Context, NoticesGroup, json_option, pass_context, print_json


@click.group(cls=NoticesGroup)
def schedule() -> None:
    """Plan notify/publish jobs from the releases, list them, and run the scheduler."""


def _now(ctx: Context) -> datetime:
    return datetime.now(ctx.repo_settings.timezone)


@schedule.command("sync")
@json_option("the result")
@pass_context
def schedule_sync(ctx: Context, as_json: bool) -> None:
    """Plan jobs from the releases on main; drop those of releases removed or rewritten."""
    from notifier.scheduling import schedule as scheduling

    report = scheduling.sync(ctx.repo_settings, now=_now(ctx))
    if as_json:
        print_json(contracts.sync(report.changes))
    else:
        for change in report.changes:
            when = change.run_at.isoformat() if change.run_at else "-"
            click.echo(f"{change.action:<10} {change.id}  {when}  {change.detail}".rstrip())
        if not report.of("added", "updated", "dropped", "reconciled"):
            click.echo("no change")
    if refused := report.of("refused"):  # cron and CI must see that a release is blocked
        click.echo(
            f"error: {len(refused)} job(s) refused: published history was rewritten "
            "(hint: restore the published text; published history is append-only)",
            err=True,
        )
        sys.exit(1)


@schedule.command("list")
@json_option("the result")
@pass_context
def schedule_list(ctx: Context, as_json: bool) -> None:
    """Every job: id, kind, release, next run time and state (late releases are marked)."""
    from notifier.scheduling import schedule as scheduling

    jobs = scheduling.list_jobs(ctx.repo_settings, now=_now(ctx))
    if as_json:
        print_json(contracts.jobs(jobs))
        return
    for job in jobs:
        when = job.next_run.isoformat() if job.next_run else "-"
        flag = "  LATE: " + job.detail if job.state == "late" else ""
        click.echo(f"{job.id:<40} {job.kind:<8} {job.state:<10} {when}{flag}")
    if not jobs:
        click.echo("no jobs (run `notices schedule sync`)")


@schedule.command("run")
@click.option(
    "--resync-minutes",
    type=click.FloatRange(min=0.01),
    default=10.0,
    show_default=True,
    help="Minutes between re-reading the releases from git.",
)
@pass_context
def schedule_run(ctx: Context, resync_minutes: float) -> None:
    """Run the scheduler in the foreground until SIGTERM or Ctrl-C (see the systemd example)."""
    from datetime import timedelta

    from notifier.scheduling import schedule as scheduling

    scheduling.run(ctx.repo_settings, resync_every=timedelta(minutes=resync_minutes))
