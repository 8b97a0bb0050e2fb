"""The `notices` command: parse arguments, call one operation, print its result. Nothing else."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from notifier import logs
from notifier.errors import CheckFailed, NoticeError
from notifier.releases.check import problem_to_json, run_check
from notifier.settings import Settings, load_settings

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
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as error:  # a fault no operation foresaw: no traceback, no data
            if context is not None and context.debug:
                raise
            click.echo(f"error: {_unexpected(error)}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def _unexpected(error: Exception) -> str:
    """One line for an unforeseen error; tracebacks and statements may hold customer data, so
    only the database driver's own first line is shown, and otherwise the error's type."""
    from sqlalchemy.exc import DBAPIError

    hint = "(hint: rerun with --debug for the traceback, which may show customer data)"
    if isinstance(error, DBAPIError) and error.orig is not None:
        first = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else ""
        return f"the database failed: {type(error.orig).__name__}: {first} {hint}"
    return f"unexpected {type(error).__name__} {hint}"


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


@main.command()
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
@click.option("--notice", default=None, help="Which notice (a folder of notices/), if several.")
@click.option("--locale", default=None, help="Which locale (default: the project's default).")
@click.option(
    "--color/--no-color",
    default=None,
    help="Colour the text format (default: when stdout is a terminal).",
)
@pass_context
@reports_errors
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
    from notifier.releases import version_diff as compare

    result = compare.diff_versions(ctx.settings, old, new, notice=notice, locale=locale)
    if as_json or fmt == "json":
        print_json(compare.to_json(result))
        return
    colour = sys.stdout.isatty() if color is None else color
    click.echo(compare.render(result, fmt, color=colour), color=colour)


@main.command()
@click.argument("notice", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the findings as one JSON object.")
@pass_context
@reports_errors
def lint(ctx: Context, notice: str | None, as_json: bool) -> None:
    """Check that a statement is complete and clear (PIPL 17, GB/T 35273, WP260).

    NOTICE is a notice name (every locale) or a path to a .md file; default: every notice."""
    from notifier.statement import lint as linting

    reports = linting.lint_paths(ctx.settings, notice, Path.cwd())
    counts = linting.counts(reports)
    if as_json:
        print_json(linting.reports_to_json(reports))
    else:
        for line in linting.report_lines(reports):
            click.echo(line)
        errors, warnings, infos = counts["error"], counts["warning"], counts["info"]
        click.echo(f"{errors} error(s), {warnings} warning(s), {infos} info")
    if counts["error"]:
        sys.exit(1)


@contextlib.contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(label, total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


_TODAY_HELP = "Treat DATE (YYYY-MM-DD) as today when deciding which version is current."


@main.group()
def site() -> None:
    """Build or preview the published site: current, upcoming, archive, redlines, feed."""


@site.command("build")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder to build into (default: build/site); replaced only on success.",
)
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help=_TODAY_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@pass_context
@reports_errors
def site_build(ctx: Context, out: Path | None, today: datetime | None, as_json: bool) -> None:
    """Build the site from the releases on main into a temporary folder, then swap it in."""
    from notifier.publishing import (
        publish,  # the renderer's imports are heavy; only site commands pay
    )

    with _progress("Building the site") as progress:
        built = publish.build(
            ctx.settings, out=out, today=today.date() if today else None, progress=progress
        )
    summary = {"path": str(built.path), "pages": built.pages, "files": built.files}
    if as_json:
        print_json({**summary, "seconds": round(built.seconds, 2)})
    else:
        click.echo(f"built {built.pages} pages ({built.files} files) in {built.path}")


@site.command("serve")
@click.option(
    "--dev-addr",
    default="127.0.0.1:8000",
    show_default=True,
    help="HOST:PORT to serve the preview on.",
)
@click.option("--today", type=click.DateTime(["%Y-%m-%d"]), default=None, help=_TODAY_HELP)
@pass_context
@reports_errors
def site_serve(ctx: Context, dev_addr: str, today: datetime | None) -> None:
    """Preview the site for editors; it rebuilds after commits and edits to site/."""
    from notifier.publishing import publish

    publish.serve(ctx.settings, dev_addr=dev_addr, today=today.date() if today else None)


@main.group()
def db() -> None:
    """The database's schema: upgrade it after installing a new version of notices."""


@db.command("upgrade")
@pass_context
@reports_errors
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


@main.group()
def schedule() -> None:
    """Plan notify/publish jobs from the releases, list them, and run the scheduler."""


def _schedule_now(ctx: Context) -> datetime:
    return datetime.now(ctx.settings.timezone)


@schedule.command("sync")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@pass_context
@reports_errors
def schedule_sync(ctx: Context, as_json: bool) -> None:
    """Plan jobs from the releases on main; drop those of releases removed or rewritten."""
    from notifier.scheduling import schedule as scheduling

    report = scheduling.sync(ctx.settings, now=_schedule_now(ctx))
    if as_json:
        print_json({"changes": [scheduling.change_to_json(c) for c in report.changes]})
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
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@pass_context
@reports_errors
def schedule_list(ctx: Context, as_json: bool) -> None:
    """Every job: id, kind, release, next run time and state (late releases are marked)."""
    from notifier.scheduling import schedule as scheduling

    jobs = scheduling.list_jobs(ctx.settings, now=_schedule_now(ctx))
    if as_json:
        print_json({"jobs": [scheduling.to_json(job) for job in jobs]})
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
@reports_errors
def schedule_run(ctx: Context, resync_minutes: float) -> None:
    """Run the scheduler in the foreground until SIGTERM or Ctrl-C (see the systemd example)."""
    from datetime import timedelta

    from notifier.scheduling import schedule as scheduling

    scheduling.run(ctx.settings, resync_every=timedelta(minutes=resync_minutes))


@main.command("log")
@click.argument("notice", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the releases as one JSON object.")
@pass_context
@reports_errors
def log_command(ctx: Context, notice: str | None, as_json: bool) -> None:
    """List releases: version, published, effective, material, summary, sha256."""
    from notifier.releases.history import read_history
    from notifier.releases.verdicts import assessed_releases, log_json
    from notifier.statement.materiality import rules_for

    history = read_history(ctx.repo, ctx.settings)
    entries = assessed_releases(history, rules_for(ctx.settings), notice)
    if notice is not None and not entries:
        from notifier.errors import VersionNotFound

        known = ", ".join(sorted({name for name, _ in history.notices()}))
        raise VersionNotFound(
            f"no release of a notice named {notice!r} on {history.ref}",
            hint=f"known notices: {known}" if known else "no release has been published yet",
        )
    if as_json:
        print_json({"releases": [log_json(entry) for entry in entries]})
        return
    for entry in entries:
        release, verdict = entry.release, entry.verdict
        material = f"material {verdict.tier}" if verdict and verdict.material else "not material"
        click.echo(
            f"{release.id}  published {release.published.date().isoformat()}  "
            f"effective {release.effective.isoformat()}  {material}  sha256 {release.sha256[:12]}"
        )
        if release.summary:
            click.echo(f"    {release.summary}")
        for revision in release.revisions:
            click.echo(f"    revised {revision.committed.date()} {revision.commit[:10]}")


@main.group()
def customers() -> None:
    """The customer directory: import a CSV, mark customers not to be mailed."""


@customers.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows and report the rest.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@pass_context
@reports_errors
def customers_import(ctx: Context, file: Path, skip_invalid: bool, as_json: bool) -> None:
    """Import FILE.csv (columns email,name,locale,services; services ';'-separated)."""
    from notifier.delivery.customers import import_csv
    from notifier.errors import CustomerImportError

    try:
        with _progress("importing") as progress:
            result = import_csv(file, ctx.settings, skip_invalid=skip_invalid, progress=progress)
    except CustomerImportError as failed:
        for problem in failed.problems:
            click.echo(f"error: {problem}", err=True)
        raise
    if as_json:
        print_json({"imported": result.imported, "skipped": [str(p) for p in result.skipped]})
        return
    for problem in result.skipped:
        click.echo(f"skipped: {problem}", err=True)
    click.echo(f"imported {result.imported} customer(s), skipped {len(result.skipped)} row(s)")


@customers.command("suppress")
@click.argument("email")
@click.option("--reason", required=True, help="Why: bounced, account closed, …")
@pass_context
@reports_errors
def customers_suppress(ctx: Context, email: str, reason: str) -> None:
    """Mark a customer as not to be mailed, with a reason."""
    from notifier.delivery.customers import suppress
    from notifier.errors import NoticeError as Unknown

    if not suppress(ctx.settings, email, reason):
        raise Unknown(f"no customer {logs.mask_email(email)}", hint="check the address")
    click.echo(f"suppressed {logs.mask_email(email)}: {reason}")


@customers.command("count")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@pass_context
@reports_errors
def customers_count(ctx: Context, as_json: bool) -> None:
    """How many customers there are, active and suppressed (never who they are)."""
    from notifier.delivery.customers import counts

    found = counts(ctx.settings)
    if as_json:
        print_json(found)
    else:
        click.echo("  ".join(f"{name} {count}" for name, count in found.items()))


@main.group()
def notify() -> None:
    """Tell affected customers of a material release before it takes effect."""


def _notice_options(command: F) -> F:
    command = click.option("--notice", help="The notice, when several share a version.")(command)
    return click.option("--locale", help="The notice's locale, when several share a version.")(
        command
    )


@notify.command("plan")
@click.argument("version")
@_notice_options
@click.option("--json", "as_json", is_flag=True, help="Print the plan as one JSON object.")
@pass_context
@reports_errors
def notify_plan(
    ctx: Context, version: str, notice: str | None, locale: str | None, as_json: bool
) -> None:
    """Who is affected, when each mail goes, per-locale counts."""
    from notifier.delivery import notify as notifying

    found = notifying.plan(ctx.settings, version, notice=notice, locale=locale)
    summary = {
        "release": found.release.id,
        "material": found.needed,
        "tier": found.verdict.tier if found.verdict else "T0",
        "services": list(found.services),
        "send_at": found.due_at.isoformat(),
        "effective": found.effective_at.isoformat(),
        "recipients": found.audience,
        "per_locale": found.per_locale,
    }
    if as_json:
        print_json(summary)
    elif not found.needed:
        click.echo(f"{found.release.id}: not material, no notice is needed")
    else:
        click.echo(
            f"{found.release.id}: material ({summary['tier']}), services "
            f"{', '.join(found.services)}"
        )
        click.echo(f"send at {summary['send_at']}, effective {summary['effective']}")
        for name, count in found.per_locale.items():
            click.echo(f"  {name}: {count} recipient(s)")
        click.echo(f"  total: {found.audience} recipient(s)")


@notify.command("send")
@click.argument("version")
@_notice_options
@click.option("--early", is_flag=True, help="Send now even if the notice is not due yet.")
@click.option("--test-to", metavar="ADDRESS", help="Send one test mail there; no ledger change.")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Sender processes sharing the ledger (PostgreSQL only).",
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="Also retry deliveries that already failed the most times a run retries them.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@pass_context
@reports_errors
def notify_send(
    ctx: Context,
    version: str,
    notice: str | None,
    locale: str | None,
    early: bool,
    test_to: str | None,
    workers: int,
    retry_failed: bool,
    as_json: bool,
) -> None:
    """Send what is due (idempotent; resumes after a crash)."""
    from notifier.delivery import notify as notifying
    from notifier.delivery import workers as parallel
    from notifier.delivery.ledger import MAX_ATTEMPTS

    if test_to:
        message_id = notifying.send_test(ctx.settings, version, test_to, locale=locale)
        click.echo(f"test mail sent to {logs.mask_email(test_to)} ({message_id})")
        return
    with _progress("sending") as progress:
        if workers > 1:
            report = parallel.send(
                ctx.settings, version, workers, notice=notice, locale=locale, early=early,
                progress=progress, retry_failed=retry_failed,
            )
        else:
            report = notifying.send(
                ctx.settings, version, notice=notice, locale=locale, early=early,
                progress=progress, retry_failed=retry_failed,
            )
    if as_json:
        print_json(
            {
                "release": report.release_id,
                "sent": report.sent,
                "failed": report.failed,
                "batches": report.batches,
                "reclaimed": report.reclaimed,
                "bounced": report.bounced,
                "in_flight": report.in_flight,
                "lost_workers": report.lost_workers,
                "not_due": report.not_due,
                "counts": report.counts,
            }
        )
    elif report.not_due:
        click.echo(f"{report.release_id}: not due yet; nothing sent (see `notices notify plan`)")
    else:
        if report.reclaimed:
            click.echo(
                f"resumed: {report.reclaimed} delivery(ies) were in flight when an earlier "
                "send stopped; they were sent again and may arrive twice"
            )
        if report.in_flight:
            click.echo(
                f"{report.in_flight} delivery(ies) are claimed by another worker (or one that "
                "died: rerun after its lease ends to send them)"
            )
        if report.lost_workers:
            click.echo(
                f"{report.lost_workers} worker(s) died; their batches were taken back and sent "
                "(those recipients may get the mail twice)"
            )
        if report.bounced:
            click.echo(f"{report.bounced} delivery(ies) withdrawn: customer suppressed")
        click.echo(
            f"{report.release_id}: sent {report.sent}, failed {report.failed} "
            f"in {report.batches} batch(es)"
        )
    unsent = report.counts.get("failed", 0)
    if unsent:  # never a quiet exit 0 while someone has not been told
        click.echo(
            f"error: {unsent} delivery(ies) of {report.release_id} failed and are not sent "
            f"(hint: `notices notify status {version}` says why; rerun to retry, with "
            f"--retry-failed for those that failed {MAX_ATTEMPTS} times)",
            err=True,
        )
        sys.exit(1)


@notify.command("status")
@click.argument("version")
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@pass_context
@reports_errors
def notify_status(ctx: Context, version: str, as_json: bool) -> None:
    """Ledger counts: planned, sending, sent, failed, bounced."""
    from notifier.delivery import notify as notifying

    counts = notifying.status(ctx.settings, version)
    held = [
        {"customer_id": s.customer_id, "email": logs.mask_email(s.email), "reason": s.reason}
        for s in notifying.suppressed(ctx.settings, version)
    ]
    if as_json:
        print_json({"version": version, "counts": counts, "suppressed": held})
        return
    click.echo("  ".join(f"{name} {count}" for name, count in counts.items()))
    for item in held:
        click.echo(f"suppressed {item['customer_id']} {item['email']}: {item['reason']}")


@notify.command("proof")
@click.argument("version")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the proof-of-notice CSV.",
)
@pass_context
@reports_errors
def notify_proof(ctx: Context, version: str, out: Path) -> None:
    """Write the proof-of-notice CSV (masked addresses)."""
    from notifier.delivery import notify as notifying

    rows = notifying.proof(ctx.settings, version, out)
    click.echo(f"wrote {rows} row(s) to {out}")


@notify.command("verify-proof")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@pass_context
@reports_errors
def notify_verify_proof(ctx: Context, file: Path) -> None:
    """Check the hash chain of a proof-of-notice CSV; name the first edited row."""
    from notifier.delivery import notify as notifying

    verified = notifying.verify_proof(file)
    click.echo(f"OK: {verified.rows} row(s), chain head {verified.head}")


@main.group()
def events() -> None:
    """Receive SendGrid's signed Event Webhook: delivered, bounced, dropped, …"""


@events.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8025, show_default=True, type=int, help="Port to listen on.")
@pass_context
@reports_errors
def events_serve(ctx: Context, host: str, port: int) -> None:
    """Serve the Event Webhook endpoint until interrupted."""
    from notifier.delivery import events_server

    server = events_server.start(ctx.settings, host, port)
    click.echo(f"listening for SendGrid events on {server.url}/ (Ctrl+C to stop)")
    with contextlib.suppress(KeyboardInterrupt), server:
        server.serve_forever()


@notify.command("preview")
@click.argument("version")
@click.option("--locale", help="Only this locale (zh-CN or en).")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder for the rendered mail (default var/preview).",
)
@pass_context
@reports_errors
def notify_preview(ctx: Context, version: str, locale: str | None, out: Path | None) -> None:
    """Write the rendered mail to files for legal review."""
    from notifier.delivery import notify as notifying

    for path in notifying.preview(
        ctx.settings, version, out or ctx.settings.var_dir / "preview", locale=locale
    ):
        click.echo(str(path))


@main.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("build/demo"),
    show_default=True,
    help="Where to build the sandbox (replaced if it holds an earlier demo).",
)
@reports_errors
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
