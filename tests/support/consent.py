"""Shared pieces for consent-page tests: a release that asks consent, mailed to customers; the
consent server on a real port; a plain HTTP client that sends exactly the headers it is given.

The server's port is chosen before the settings are read, because the consent URL (whose origin
every POST must match) names it.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from notifier.consent.texts import consent_text
from notifier.consent.tokens import Grant, expiry, sign
from notifier.delivery import notify, serving
from notifier.delivery.events_server import EventsServer, Limits, serve_in_thread
from notifier.settings import Settings, load_settings
from notifier.storage import db
from support.notify import VERSION, add_english, material_repo, write_customers
from support.repos import NoticeRepo, run_notices

RELEASE = f"privacy/zh-CN/{VERSION}"
ARTICLE = "PIPL 39"  # the amendment shares data with affiliates abroad
KEYS = "consent-key-for-tests-0123456789abcdef,consent-key-retired-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def consent_release(
    repo: NoticeRepo, customers: int, env: Mapping[str, str] | None = None
) -> tuple[Settings, list[int]]:
    """A release asking consent for sending data abroad, in Chinese and English, mailed (outbox
    unless `env` says otherwise) to `customers` (every fifth reads English), with
    the consent URL on a free port of 127.0.0.1; returns the settings and the delivery ids."""
    port = free_port()
    with (repo.path / "notices.toml").open("a", encoding="utf-8") as toml:
        toml.write(f'\n[consent]\nurl = "http://127.0.0.1:{port}"\ngrace_days = 30\n')
    environ = {"NOTICES_CONSENT_KEYS": KEYS, **(env or {})}
    material_repo(repo)
    add_english(repo)
    write_customers(repo.path / "c.csv", customers)
    assert run_notices("customers", "import", "c.csv", cwd=repo.path, env=environ).code == 0
    settings = load_settings(repo.path, environ)
    report = notify.send(settings, VERSION, early=True)
    assert report.sent == customers
    with db.engine(settings).connect() as connection:
        ids = connection.execute(select(db.deliveries.c.id).order_by(db.deliveries.c.id))
        return settings, list(ids.scalars())


def port_of(settings: Settings) -> int:
    port = urllib.parse.urlsplit(settings.consent_url).port
    assert port is not None
    return port


@contextlib.contextmanager
def serving_consent(settings: Settings, limits: Limits | None = None) -> Iterator[str]:
    """The consent server at the consent URL's port, in a thread; yields its origin."""
    server: EventsServer = serving.start(settings, ("127.0.0.1", port_of(settings)), limits)
    serve_in_thread(server)
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        db.dispose_all()


def grant_for(
    settings: Settings,
    delivery_id: int,
    *,
    locale: str = "zh-CN",
    release_id: str = RELEASE,
    article: str = ARTICLE,
    expires: datetime | None = None,
) -> Grant:
    """The grant a mail's link carries for `delivery_id`: the current text's hash, valid until
    the effective date plus the grace period (or `expires`)."""
    text = consent_text(settings, release_id, locale, article)
    ends = expires or expiry(text.effective, settings.consent_grace_days, settings.timezone)
    return Grant(delivery_id, release_id, article, text.sha256, ends)


def link(settings: Settings, delivery_id: int, **grant: Any) -> str:
    """The path of the consent page of `delivery_id`, as a mail links to it."""
    return "/consent/" + sign(grant_for(settings, delivery_id, **grant), settings.consent_keys)


def expired_link(settings: Settings, delivery_id: int, **grant: Any) -> str:
    past = datetime.now(UTC) - timedelta(minutes=1)
    return link(settings, delivery_id, expires=past, **grant)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]  # names in lower case
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class Client:
    """HTTP/1.1 to the consent server, one connection per request, no redirects followed."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        parts = urllib.parse.urlsplit(origin)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def request(
        self,
        method: str,
        path: str,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        body = urllib.parse.urlencode(form).encode() if form is not None else None
        sent = dict(headers or {})
        if body is not None:
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            data = response.read()
            found = {name.lower(): value for name, value in response.getheaders()}
            return Answer(response.status, found, data.decode("utf-8", "replace"))
        finally:
            connection.close()

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> Answer:
        return self.request("GET", path, headers=headers)

    def post(
        self, path: str, form: Mapping[str, str] | None = None, *, origin: str | None = None
    ) -> Answer:
        """A POST as our page's form sends it: Origin is the server's unless given."""
        return self.request("POST", path, form or {}, {"Origin": origin or self.origin})


def decisions(settings: Settings) -> list[tuple[Any, ...]]:
    """Every consent decision row, in order."""
    table = db.consent_decisions
    with db.engine(settings).connect() as connection:
        return [tuple(row) for row in connection.execute(select(table).order_by(table.c.id))]


class Inbox:
    """An aiosmtpd handler keeping each message's recipients and bytes."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), bytes(envelope.original_content or b"")))
        return "250 Message accepted for delivery"


def smtp_relay_settings(repo: NoticeRepo, port: int) -> dict[str, str]:
    """Point the repo's notices.toml at a plain SMTP relay on `port`; the environment to use it."""
    path = repo.path / "notices.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("port = 587\nstarttls = true", f"port = {port}\nstarttls = false"),
        encoding="utf-8",
    )
    return {"NOTICES_MAIL_BACKEND": "smtp"}


def links_in(raw: bytes) -> list[str]:
    """The consent page paths a mail links to, in order, each once."""
    from email import message_from_bytes, policy

    mail = message_from_bytes(raw, policy=policy.default)
    body = mail.get_body(("plain",))
    assert body is not None
    found = re.findall(r"https?://[^\s/]+(/consent/[A-Za-z0-9_-]+)", body.get_content())
    return list(dict.fromkeys(found))
