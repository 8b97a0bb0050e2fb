"""`notices consent serve`: the consent pages on the webhook's waitress server, and the Event
Webhook beside them when SendGrid's public key is set, so one process and one port can face
the internet for both."""

from __future__ import annotations

from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from notifier.consent.web import PREFIX, ConsentApp
from notifier.delivery.events import receiver_for
from notifier.delivery.events_server import EventsServer, Limits, WebhookApp
from notifier.settings import Settings


class Dispatch:
    """Paths under /consent/ to the consent pages; the rest to the webhook, if it is served."""

    def __init__(self, consent: ConsentApp, webhook: WSGIApplication | None) -> None:
        self.consent = consent
        self.webhook = webhook

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = str(environ.get("PATH_INFO", ""))
        if self.webhook is None or path.startswith(PREFIX):
            return self.consent(environ, start_response)
        return self.webhook(environ, start_response)


def start(
    settings: Settings, host: str = "127.0.0.1", port: int = 8026, limits: Limits | None = None
) -> EventsServer:
    """Bind the server (port 0 picks a free one); a ConfigError when the consent URL or keys
    are missing."""
    webhook = WebhookApp(receiver_for(settings)) if settings.webhook_public_key else None
    return EventsServer((host, port), Dispatch(ConsentApp(settings), webhook), limits or Limits())
