"""`notices consent serve`: the consent pages on the webhook's waitress server, and the Event
Webhook beside them when SendGrid's public key is set, so one process and one port can face
the internet for both. The pages learn about deliveries, and mail fresh links, through the
ledger here (`Deliveries`): consent sits below delivery and never reaches up for it."""

from __future__ import annotations

from collections.abc import Iterable
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from notifier.consent.tokens import Grant
from notifier.consent.web import PREFIX, SECURITY_HEADERS, ConsentApp
from notifier.delivery import fresh_links, ledger
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


def start(
    settings: Settings, host: str = "127.0.0.1", port: int = 8026, limits: Limits | None = None
) -> EventsServer:
    """Bind the server (port 0 picks a free one); a ConfigError when the consent URL or keys
    are missing. The server's own refusals (a malformed request, a body over the limit) carry
    the pages' security headers too."""
    webhook = WebhookApp(receiver_for(settings)) if settings.webhook_public_key else None
    pages = ConsentApp(settings, Deliveries(settings))
    return EventsServer(
        (host, port), Dispatch(pages, webhook), limits or LIMITS, headers=SECURITY_HEADERS
    )
