"""`notices customers`, `notify` and `events`: who is told, telling them, and what came of it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from notifier import logs
from notifier.cli import contracts
from notifier.cli.app import (
    Context,
    NoticesGroup,
    json_option,
    notice_options,
    pass_context,
    print_json,
    progress,
)
from notifier.delivery.csv_encoding import ENCODINGS
from notifier.errors import CustomerImportError, NoticeError

if TYPE_CHECKING:
    from notifier.delivery.notify import SendReport
    from notifier.delivery.plan import Plan


@click.group(cls=NoticesGroup)
def customers() -> None:
    """The customer directory: import a CSV, mark customers not to be mailed."""


@customers.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--skip-invalid", is_flag=True, help="Import the valid rows and report the rest.")
@click.option(
    "--encoding",
    type=click.Choice(ENCODINGS, case_sensitive=False),
    help="Read FILE in this encoding (gbk: Excel's CSV on Chinese Windows). Default: UTF-8, "
    "checked on the whole file.",
)
@json_option("the result")
@pass_context
def customers_import(
    ctx: Context, file: Path, skip_invalid: bool, encoding: str | None, as_json: bool
) -> None:
    """Import FILE.csv (columns email,name,locale,services; services ';'-separated)."""
    from notifier.delivery.customers import import_csv

    try:
        with progress("importing") as advance:
            result = import_csv(
                file,
                ctx.settings,
                skip_invalid=skip_invalid,
                progress=advance,
                encoding=encoding,
            )
    except CustomerImportError as failed:
        for problem in failed.problems:
            click.echo(f"error: {problem}", err=True)
        raise
    if as_json:
        print_json(contracts.customers_import(result))
        return
    for problem in result.skipped:
        click.echo(f"skipped: {problem}", err=True)
    click.echo(f"imported {result.imported} customer(s), skipped {len(result.skipped)} row(s)")
    if result.fallbacks:
        asked = ", ".join(f"{tag} {count}" for tag, count in result.fallbacks.items())
        click.echo(
            f"{sum(result.fallbacks.values())} customer(s) asked for a language we have no text "
            f"for and will read {ctx.repo_settings.default_locale}: {asked}"
        )


@customers.command("suppress")
@click.argument("email")
@click.option("--reason", required=True, help="Why: bounced, account closed, …")
@pass_context
def customers_suppress(ctx: Context, email: str, reason: str) -> None:
    """Mark a customer as not to be mailed, with a reason."""
    from notifier.delivery.customers import suppress

    if not suppress(ctx.settings, email, reason):
        raise NoticeError(f"no customer {logs.mask_email(email)}", hint="check the address")
    click.echo(f"suppressed {logs.mask_email(email)}: {reason}")


@customers.command("count")
@json_option("the counts")
@pass_context
def customers_count(ctx: Context, as_json: bool) -> None:
    """How many customers there are, active and suppressed (never who they are)."""
    from notifier.delivery.customers import counts

    found = counts(ctx.settings)
    if as_json:
        print_json(found)
    else:
        click.echo("  ".join(f"{name} {count}" for name, count in found.items()))


@click.group(cls=NoticesGroup)
def notify() -> None:
    """Tell affected customers of a material release before it takes effect."""


@notify.command("plan")
@click.argument("version")
@notice_options
@json_option("the plan")
@pass_context
def notify_plan(
    ctx: Context, version: str, notice: str | None, locale: str | None, as_json: bool
) -> None:
    """Who is affected, when each mail goes, per-locale counts."""
    from notifier.delivery import notify as notifying

    found = notifying.plan(ctx.repo_settings, version, notice=notice, locale=locale)
    if as_json:
        print_json(contracts.plan(found))
        return
    for line in _plan_lines(found):
        click.echo(line)


def _plan_lines(found: Plan) -> list[str]:
    if not found.needed:
        return [f"{found.release.id}: not material, no notice is needed"]
    tier = found.verdict.tier if found.verdict else "T0"
    return [
        f"{found.release.id}: material ({tier}), services {', '.join(found.services)}",
        f"send at {found.due_at.isoformat()}, effective {found.effective_at.isoformat()}",
        *(f"  {name}: {count} recipient(s)" for name, count in found.per_locale.items()),
        f"  total: {found.audience} recipient(s)",
    ]


@notify.command("send")
@click.argument("version")
@notice_options
@click.option("--early", is_flag=True, help="Send now even if the notice is not due yet.")
@click.option(
    "--test-to",
    metavar="ADDRESS",
    help="Send one [TEST] mail there, kept apart: no ledger change, not in the outbox.",
)
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
@json_option("the result")
@pass_context
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

    if test_to:
        message_id = notifying.send_test(ctx.repo_settings, version, test_to, locale=locale)
        click.echo(f"test mail sent to {logs.mask_email(test_to)} ({message_id})")
        return
    with progress("sending") as advance:
        how: dict[str, Any] = {
            "notice": notice,
            "locale": locale,
            "early": early,
            "progress": advance,
            "retry_failed": retry_failed,
        }
        report = (
            parallel.send(ctx.repo_settings, version, workers, **how)
            if workers > 1
            else notifying.send(ctx.repo_settings, version, **how)
        )
    if as_json:
        print_json(contracts.send(report))
    else:
        for line in _send_lines(report):
            click.echo(line)
    _refuse_unsent(report, version)


def _send_lines(report: SendReport) -> list[str]:
    if report.not_due:
        return [f"{report.release_id}: not due yet; nothing sent (see `notices notify plan`)"]
    lines = []
    if report.reclaimed:
        lines.append(
            f"resumed: {report.reclaimed} delivery(ies) were in flight when an earlier "
            "send stopped; they were sent again and may arrive twice"
        )
    if report.in_flight:
        lines.append(
            f"{report.in_flight} delivery(ies) are claimed by another worker (or one that "
            "died: rerun after its lease ends to send them)"
        )
    if report.lost_workers:
        lines.append(
            f"{report.lost_workers} worker(s) died; their batches were taken back and sent "
            "(those recipients may get the mail twice)"
        )
    if report.bounced:
        lines.append(f"{report.bounced} delivery(ies) withdrawn: customer suppressed")
    lines.append(
        f"{report.release_id}: sent {report.sent}, failed {report.failed} "
        f"in {report.batches} batch(es)"
    )
    return lines


def _refuse_unsent(report: SendReport, version: str) -> None:
    """Never a quiet exit 0 while someone has not been told."""
    from notifier.delivery.ledger import MAX_ATTEMPTS

    planned = 0 if report.not_due else report.counts.get("planned", 0)  # put back unsent
    unsent = report.counts.get("failed", 0) + planned
    if unsent:
        click.echo(
            f"error: {unsent} delivery(ies) of {report.release_id} failed and are not sent "
            f"(hint: `notices notify status {version}` says why; rerun to retry, with "
            f"--retry-failed for those that failed {MAX_ATTEMPTS} times)",
            err=True,
        )
        sys.exit(1)


@notify.command("status")
@click.argument("version")
@json_option("the counts")
@pass_context
def notify_status(ctx: Context, version: str, as_json: bool) -> None:
    """Ledger counts: planned, sending, sent, failed, bounced; why deliveries failed; where
    consent is asked, how many answers stand agreed, declined or missing."""
    from notifier.delivery import notify as notifying

    found = notifying.status(ctx.settings, version)
    held = notifying.suppressed(ctx.settings, version)
    why = notifying.failures(ctx.settings, version)
    if as_json:
        print_json(contracts.status(version, found.counts, held, why, found.consent))
        return
    click.echo("  ".join(f"{name} {count}" for name, count in found.counts.items()))
    for failure in why:
        when = f", last {failure.last_at.isoformat()}" if failure.last_at else ""
        click.echo(f"{failure.status} {failure.count}{when}: {failure.reason}")
    for item in held:
        click.echo(f"suppressed {item.customer_id} {logs.mask_email(item.email)}: {item.reason}")


@notify.command("proof")
@click.argument("version")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Where to write the proof-of-notice CSV.",
)
@pass_context
def notify_proof(ctx: Context, version: str, out: Path) -> None:
    """Write the proof-of-notice CSV (masked addresses)."""
    from notifier.delivery import notify as notifying

    rows, decisions = notifying.proof(ctx.settings, version, out)
    also = f" and {decisions} consent decision(s)" if decisions else ""
    click.echo(f"wrote {rows} row(s){also} to {out}")


@notify.command("verify-proof")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def notify_verify_proof(file: Path) -> None:
    """Check the hash chain of a proof-of-notice CSV; name the first edited row."""
    from notifier.delivery import notify as notifying

    verified = notifying.verify_proof(file)
    click.echo(f"OK: {verified.rows} row(s), chain head {verified.head}")


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
def notify_preview(ctx: Context, version: str, locale: str | None, out: Path | None) -> None:
    """Write the rendered mail to files for legal review."""
    from notifier.delivery import notify as notifying

    for path in notifying.preview(
        ctx.repo_settings, version, out or ctx.repo_settings.var_dir / "preview", locale=locale
    ):
        click.echo(str(path))


@click.group(cls=NoticesGroup)
def events() -> None:
    """Receive SendGrid's signed Event Webhook: delivered, bounced, dropped, …"""


@events.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8025, show_default=True, type=int, help="Port to listen on.")
@pass_context
def events_serve(ctx: Context, host: str, port: int) -> None:
    """Serve the Event Webhook endpoint until interrupted (Ctrl+C or SIGTERM)."""
    from notifier.delivery import events_server, prefork
    from notifier.delivery.events import receiver_for

    app = events_server.WebhookApp(receiver_for(ctx.settings))  # no key: refused before binding
    limits = events_server.Limits()

    def ready(url: str) -> None:
        click.echo(f"listening for SendGrid events on {url}/ (Ctrl+C to stop)")

    prefork.serve(
        (host, port), lambda listening: events_server.EventsServer(listening, app, limits), 1, ready
    )
