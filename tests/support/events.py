"""Shared pieces for event-webhook tests: a real key pair, signed posts, a sent release.

Releases are sent with NOTICES_EVENTS_KEY = KEY, so `event` makes events that are ours (the MAC
of their custom args verifies); `tag=` or `email=` make them foreign.
"""

from __future__ import annotations

import base64
import contextlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from notifier.delivery import events_server, notify, provenance
from notifier.delivery.events import SIGNATURE_HEADER, TIMESTAMP_HEADER
from notifier.settings import Settings, load_settings
from notifier.storage import db
from support.notify import VERSION, material_repo, write_customers
from support.repos import NoticeRepo, run_notices

RELEASE = f"privacy/zh-CN/{VERSION}"
KEY = "events-key-for-tests-0123456789abcdef"  # NOTICES_EVENTS_KEY of `sent_release`


@dataclass(frozen=True)
class Signer:
    """A P-256 key pair made for one test; `public` is what SendGrid shows (base64 DER)."""

    key: ec.EllipticCurvePrivateKey

    @classmethod
    def new(cls) -> Signer:
        return cls(ec.generate_private_key(ec.SECP256R1()))

    @property
    def public(self) -> str:
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode("ascii")

    def headers(self, body: bytes, stamp: int | None = None) -> dict[str, str]:
        timestamp = str(int(time.time()) if stamp is None else stamp)
        signature = self.key.sign(timestamp.encode("ascii") + body, ec.ECDSA(hashes.SHA256()))
        return {
            SIGNATURE_HEADER: base64.b64encode(signature).decode("ascii"),
            TIMESTAMP_HEADER: timestamp,
        }


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """A real HTTP POST; returns the status and the JSON answer."""
    request = urllib.request.Request(
        url + "/", data=body, method="POST", headers={"Content-Type": "application/json", **headers}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def tag(delivery_id: int | str, release: str = RELEASE, key: str = KEY) -> str:
    """The MAC our sender puts in a delivery's custom args."""
    return provenance.tag(key.encode("ascii"), release, int(delivery_id))


def event(
    delivery_id: int | str, kind: str, stamp: int, sg_id: str, **extra: Any
) -> dict[str, Any]:
    """An event as SendGrid posts it: custom_args flattened into the event object. The address
    is customer N's of `write_customers` (delivery N of a fresh ledger), the MAC ours."""
    release = extra.get("release", RELEASE)
    number = str(delivery_id)
    return {
        "email": f"user{int(number):06d}@example.com" if number.isdecimal() else "x@example.com",
        "timestamp": stamp,
        "event": kind,
        "sg_event_id": sg_id,
        "sg_message_id": f"msg{delivery_id}.filter",
        "delivery_id": number,
        "release": release,
        provenance.TAG_ARG: tag(number, release) if number.isdecimal() else "0" * 64,
        **extra,
    }


def sent_release(
    repo: NoticeRepo,
    customers: int,
    signer: Signer,
    env: dict[str, str] | None = None,
    *,
    addresses: tuple[str, ...] = (),
) -> tuple[Settings, list[int]]:
    """A material release mailed (outbox) to `customers`, then to `addresses`; settings carry
    the signer's key and NOTICES_EVENTS_KEY = KEY."""
    env = {"NOTICES_EVENTS_KEY": KEY, **(env or {})}
    material_repo(repo)
    write_customers(repo.path / "c.csv", customers)
    with (repo.path / "c.csv").open("a", encoding="utf-8") as extra:  # customers N+1, N+2, ...
        extra.writelines(f"{address},,zh-CN,azure\n" for address in addresses)
    assert run_notices("customers", "import", "c.csv", cwd=repo.path, env=env).code == 0
    settings = replace(load_settings(repo.path, env), webhook_public_key=signer.public)
    report = notify.send(settings, VERSION, early=True)
    assert report.sent == customers + len(addresses)
    with db.engine(settings).connect() as connection:
        ids = connection.execute(select(db.deliveries.c.id).order_by(db.deliveries.c.id))
        return settings, list(ids.scalars())


def snapshot(settings: Settings) -> list[Any]:
    """Every row of the tables a post may change."""
    with db.engine(settings).connect() as connection:
        return [
            connection.execute(select(table).order_by(*table.primary_key.columns)).all()
            for table in (db.deliveries, db.delivery_events, db.customers, db.webhook_posts)
        ]


@contextlib.contextmanager
def serving(settings: Settings, limits: events_server.Limits | None = None) -> Iterator[str]:
    """The Event Webhook server on a free port of 127.0.0.1, in a thread; yields its URL."""
    server = events_server.start(settings, "127.0.0.1", 0, limits)
    events_server.serve_in_thread(server)
    try:
        yield server.url
    finally:
        server.shutdown()
        server.server_close()
        db.dispose_all()
