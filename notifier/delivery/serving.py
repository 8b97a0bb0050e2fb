"""`notices consent serve`: the consent pages on the webhook's waitress server, and the Event
Webhook beside them when SendGrid's public key is set, so one process and one port can face
the internet for both. The pages learn about deliveries, and mail fresh links, through the
ledger here (`Deliveries`): consent sits below delivery and never reaches up for it. Several
processes can share the port (delivery/prefork.py): one process runs one thread at a time."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from notifier.consent.tokens import Grant
from notifier.consent.web import PREFIX, SECURITY_HEADERS, ConsentApp
from notifier.delivery import fresh_links, ledger, prefork
from notifier.delivery.events import receiver_for
from notifier.delivery.events_server import EventsServer, Limits, WebhookApp
from notifier.settings import Settings
from notifier.storage import db

# Answers spend most of their time waiting for their group commit (consent/records.py), not
# running: with twice the webhook's threads twice as many answers share one commit.
LIMITS = Limits(threads=8)


class Deliveries:
    """What the consent pages ask of the ledger: a grant's locale, and a fresh link by mail."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine = db.engine(settings)

    def locale(self, grant: Grant) -> str | None:
        """The locale of the grant's delivery; None when the ledger has no such delivery of
        that release (a database reset since the mail, or a key shared with another one)."""
        found = ledger.delivery(self.engine, grant.delivery_id)
        return found[1].locale if found is not None and found[0] == grant.release_id else None

    def reissue(self, grant: Grant) -> None:
        fresh_links.reissue(self.settings, grant)


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


def app(settings: Settings) -> Dispatch:
    """The consent pages, and the webhook beside them when its key is set; a ConfigError when
    the consent URL or keys are missing."""
    webhook = WebhookApp(receiver_for(settings)) if settings.webhook_public_key else None
    return Dispatch(ConsentApp(settings, Deliveries(settings)), webhook)


def start(
    settings: Settings,
    listening: socket.socket | tuple[str, int],
    limits: Limits | None = None,
) -> EventsServer:
    """The server on `listening`, or bound to an address (port 0 picks a free one); a
    ConfigError when the consent URL or keys are missing. The server's own refusals (a
    malformed request, a body over the limit) carry the pages' security headers too."""
    return EventsServer(listening, app(settings), limits or LIMITS, headers=SECURITY_HEADERS)


def serve(
    settings: Settings,
    address: tuple[str, int],
    processes: int,
    ready: Callable[[str], None],
) -> None:
    """Serve on `address` until interrupted, from this process or from `processes` forked
    ones; `ready` hears the server's URL once it is bound. A ConfigError comes before
    anything is bound or forked."""
    app(settings)  # refuse missing settings here, once; the schema is made before any child
    db.dispose_all()  # nothing open is inherited: each process opens its own connections
    prefork.serve(address, lambda listening: start(settings, listening), processes, ready)
