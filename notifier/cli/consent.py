"""`notices consent`: the pages where customers answer a consent question."""

from __future__ import annotations

import contextlib

import click

from notifier.cli.app import Context, NoticesGroup, pass_context


@click.group(cls=NoticesGroup)
def consent() -> None:
    """Ask customers for the consent a release needs, and see who answered."""


@consent.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8026, show_default=True, type=int, help="Port to listen on.")
@pass_context
def consent_serve(ctx: Context, host: str, port: int) -> None:
    """Serve the consent pages (and the Event Webhook, when its key is set) until interrupted."""
    from notifier.consent import serving

    server = serving.start(ctx.settings, host, port)
    click.echo(f"serving consent pages on {server.url}/consent/ (Ctrl+C to stop)")
    with contextlib.suppress(KeyboardInterrupt), server:
        server.serve_forever()
