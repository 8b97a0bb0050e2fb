"""`notices consent`: the pages where customers answer a consent question."""

from __future__ import annotations

import click

from notifier import logs
from notifier.cli import contracts
from notifier.cli.app import Context, NoticesGroup, json_option, pass_context, print_json
from notifier.processes import usable_cores


@click.group(cls=NoticesGroup)
def consent() -> None:
    """Ask customers for the consent a release needs, and see who answered."""


@consent.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8026, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--processes",
    type=click.IntRange(min=1),
    default=usable_cores,
    show_default="the cores this process may use",
    help="Server processes sharing the port (each runs one thread at a time).",
)
@pass_context
def consent_serve(ctx: Context, host: str, port: int, processes: int) -> None:
    """Serve the consent pages (and the Event Webhook, when its key is set) until interrupted."""
    from notifier.delivery import serving

    def ready(url: str) -> None:
        click.echo(f"serving consent pages on {url}/consent/ (Ctrl+C to stop)")

    serving.serve(ctx.settings, (host, port), processes, ready)


@consent.command("report")
@click.argument("version")
@json_option("the report")
@pass_context
def consent_report(ctx: Context, version: str, as_json: bool) -> None:
    """Who declined or never answered each consent question, addresses masked."""
    from notifier.consent import report as reporting

    found = reporting.report(ctx.settings, version)
    if as_json:
        print_json(contracts.consent_report(found))
        return
    if not found.counts:
        click.echo(f"{found.release_id} asks no consent")
        return
    for article, tally in found.counts.items():
        click.echo(f"{article}: " + "  ".join(f"{k} {v}" for k, v in tally.items()))
    for answer in found.outstanding:
        when = f"  {answer.at.date().isoformat()}" if answer.at else ""
        state = contracts.ANSWER_STATES[answer.decision]
        click.echo(
            f"{state}  {answer.article}  customer {answer.customer_id}  "
            f"{logs.mask_email(answer.email)}  {answer.locale}{when}"
        )
