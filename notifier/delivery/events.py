"""SendGrid's Event Webhook: verify a signed post and fold its events into the ledger.

A 202 from SendGrid only means queued; these events say what happened next (delivered, bounced,
dropped), so the proof of notice can say whether a customer was actually reached. A post counts
only when its ECDSA P-256 signature over timestamp + raw body checks out with the configured public
key and its timestamp is fresh; the same signed content is never accepted twice.

The webhook is per account: other applications' events arrive too. Within a valid post each event
stands alone: it changes a delivery only when the MAC in its custom args verifies (see
`provenance`) and its address is that delivery's mailbox; anything else is counted and dropped,
and the post is still answered 200, so SendGrid neither retries nor loses the good events.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update

from notifier.delivery import provenance
from notifier.delivery.mail import scrub
from notifier.errors import ConfigError
from notifier.mailbox import same_mailbox
from notifier.settings import Settings
from notifier.storage import db

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
MAX_AGE_SECONDS = 300
HANDLED = ("processed", "deferred", "delivered", "bounce", "dropped", "spamreport", "unsubscribe")
# How far along a delivery is; rank 3 is terminal: a later event never undoes it.
_RANK = {"": 0, "processed": 1, "deferred": 2, "blocked": 2, "delivered": 3, "bounce": 3}
_RANK["dropped"] = 3
_FAILED = ("bounce", "dropped")
_CHUNK = 500
_MAX_ID = 2**31 - 1  # the ledger's ids are 32-bit integers (PostgreSQL refuses more)
_MAX_DIGITS = 20  # a longer number in a post is no id or timestamp of ours
# Why an event of a valid post changed nothing: kept as counts, never as the event.
INVALID, IGNORED, FOREIGN = "invalid", "ignored", "foreign"


class Rejected(Exception):
    """A post that must change nothing: 401 when unsigned, 403 when forged, stale or replayed."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Event:
    """One event of a post whose MAC verified, reduced to what the ledger needs; `email` is
    only compared with the delivery's mailbox, never kept."""

    delivery_id: int
    release: str
    email: str
    event: str
    sg_event_id: str
    at: datetime
    reason: str | None
    hard: bool  # a bounce of type "bounce" (not "blocked"), or a drop


@dataclass(frozen=True, slots=True)
class IngestReport:
    """What became of each event of a post: applied, or why not. `foreign`: not provably ours
    (no or a wrong MAC, an unknown delivery, another address); `invalid`: ours in form but
    broken (wrong types, missing fields, numbers out of range, not an object); `ignored`: a
    kind that says nothing about delivery (open, click)."""

    received: int
    applied: int
    duplicates: int
    foreign: int
    invalid: int
    ignored: int
    suppressed: int

    def to_json(self) -> dict[str, int]:
        return {
            "received": self.received,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "foreign": self.foreign,
            "invalid": self.invalid,
            "ignored": self.ignored,
            "suppressed": self.suppressed,
        }


def _key_error(problem: str) -> ConfigError:
    return ConfigError(
        f"setting 'events.public_key' {problem}",
        path="notices.toml",
        hint="copy the verification key of SendGrid's Signed Event Webhook into [events]",
    )


def load_public_key(text: str) -> ec.EllipticCurvePublicKey:
    """The P-256 key SendGrid shows (base64 DER, or PEM); a ConfigError when it is not one."""
    if not text.strip():
        raise _key_error("is empty")
    try:
        if "BEGIN" in text:
            key = serialization.load_pem_public_key(text.strip().encode("ascii"))
        else:
            der = base64.b64decode("".join(text.split()), validate=True)
            key = serialization.load_der_public_key(der)
    except (ValueError, binascii.Error, UnicodeEncodeError) as error:
        raise _key_error("is not a public key") from error
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise _key_error("is not an ECDSA P-256 key")
    return key


class Verifier:
    """Checks the signature and the age of a post; says nothing about replays (the ledger does)."""

    def __init__(
        self,
        key: ec.EllipticCurvePublicKey,
        *,
        max_age: int = MAX_AGE_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key, self._max_age, self._clock = key, max_age, clock

    def verify(self, signature: str | None, timestamp: str | None, body: bytes) -> str:
        """Return the replay digest of a valid post; raise Rejected otherwise."""
        if not signature or not timestamp:
            raise Rejected(401, "unsigned post")
        try:
            stamp = int(timestamp)
            raw = base64.b64decode(signature, validate=True)
        except (ValueError, binascii.Error) as error:
            raise Rejected(403, "malformed signature or timestamp") from error
        if abs(self._clock() - stamp) > self._max_age:
            raise Rejected(403, "stale timestamp")
        signed = timestamp.encode("ascii") + body
        try:
            self._key.verify(raw, signed, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature as error:
            raise Rejected(403, "signature does not verify") from error
        # ECDSA signatures are malleable, so a replay is recognised by what was signed.
        return hashlib.sha256(b"%d\n" % stamp + body).hexdigest()


def _bounded_int(text: str) -> int | float:
    """A JSON integer; one too long to be an id or a timestamp becomes infinity, so that its
    event alone is invalid (Python refuses ints of over 4,300 digits: the whole post would be)."""
    return int(text) if len(text) <= _MAX_DIGITS else math.inf


def parse(body: bytes) -> list[Any]:
    try:
        events = json.loads(body, parse_int=_bounded_int)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise Rejected(400, "body is not JSON") from error
    if not isinstance(events, list):
        raise Rejected(400, "body is not a JSON array of events")
    return events


def _delivery_id(value: Any) -> int | None:
    """Our custom arg is a decimal string; SendGrid may give it back as a number."""
    if isinstance(value, str) and value.isascii() and value.isdecimal() and len(value) <= 10:
        number = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        return None
    return number if 0 < number <= _MAX_ID else None


def _moment(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _event(raw: Any, key: bytes) -> Event | str:
    """An event of ours that tells about delivery, or why not: INVALID, IGNORED or FOREIGN."""
    if not isinstance(raw, dict) or not isinstance(raw.get("event"), str):
        return INVALID
    if raw["event"] not in HANDLED:
        return IGNORED
    mac, release = raw.get(provenance.TAG_ARG), raw.get("release")
    if mac is None or release is None or "delivery_id" not in raw:
        return FOREIGN  # without our custom args: another application's mail, or a test mail
    delivery_id, at, email = (
        _delivery_id(raw["delivery_id"]),
        _moment(raw.get("timestamp")),
        raw.get("email"),
    )
    if not isinstance(mac, str) or not isinstance(release, str) or not isinstance(email, str):
        return INVALID
    if delivery_id is None or at is None:
        return INVALID
    try:  # a lone surrogate cannot be stored: it would fail the whole post's transaction
        canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return INVALID
    if not provenance.verifies(key, release, delivery_id, mac):
        return FOREIGN
    kind = str(raw["event"])
    sg_event_id = raw.get("sg_event_id")
    if not isinstance(sg_event_id, str) or not sg_event_id:
        sg_event_id = "sha256:" + hashlib.sha256(canonical).hexdigest()
    # a receiving server's answer often quotes the address: it reaches the ledger and
    # `notices notify status` masked, like every address we keep outside the directory
    reason = raw.get("reason") or raw.get("response")
    if "\x00" in f"{sg_event_id}{reason}":  # PostgreSQL refuses NUL in text
        return INVALID
    bounce_type = str(raw.get("type") or "bounce")
    hard = kind == "dropped" or (kind == "bounce" and bounce_type != "blocked")
    if kind == "bounce" and not hard:
        kind = "blocked"
    return Event(
        delivery_id,
        release,
        email,
        kind,
        sg_event_id[:200],
        at,
        scrub(str(reason))[:400] if reason else None,
        hard,
    )


def advance(
    state: str, state_at: datetime | None, event: str, at: datetime
) -> tuple[str, datetime | None]:
    """The delivery state after `event`: it only moves forward; terminal states stay."""
    if event not in _RANK or _RANK[state] >= 3:
        return state, state_at
    if _RANK[event] > _RANK[state]:
        return event, at
    return state, state_at


def _chunks(values: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


class Ingestor:
    """Folds verified posts into the ledger, one transaction per post, one post at a time (in
    every process serving the webhook: a post's changes are read, then written)."""

    def __init__(self, engine: Engine, key: bytes, *, max_age: int = MAX_AGE_SECONDS) -> None:
        self._engine, self._key, self._max_age = engine, key, max_age
        self._lock = threading.Lock()

    def ingest(self, digest: str, raw_events: Sequence[Any]) -> IngestReport:
        now = datetime.now(UTC)
        with self._lock, self._engine.begin() as connection:
            db.exclusive(connection, ["webhook posts"])
            self._remember(connection, digest, now)
            return self._apply(connection, raw_events, now)

    def _remember(self, connection: Connection, digest: str, now: datetime) -> None:
        posts = db.webhook_posts
        forget = now - timedelta(seconds=4 * self._max_age)
        connection.execute(delete(posts).where(posts.c.seen_at < forget))
        if connection.execute(select(posts.c.digest).where(posts.c.digest == digest)).first():
            raise Rejected(403, "replayed post")
        connection.execute(insert(posts).values(digest=digest, seen_at=now))

    def _apply(
        self, connection: Connection, raw_events: Sequence[Any], now: datetime
    ) -> IngestReport:
        parsed = [_event(raw, self._key) for raw in raw_events]
        events = [e for e in parsed if isinstance(e, Event)]
        refused = {kind: parsed.count(kind) for kind in (INVALID, IGNORED, FOREIGN)}
        deliveries, recorded, customers = db.deliveries, db.delivery_events, db.customers
        rows: dict[int, Any] = {}
        for chunk in _chunks(sorted({e.delivery_id for e in events})):
            found = connection.execute(
                select(
                    deliveries.c.id,
                    deliveries.c.release_id,
                    deliveries.c.customer_id,
                    deliveries.c.status,
                    deliveries.c.delivery_state,
                    deliveries.c.state_at,
                    deliveries.c.delivered_at,
                    customers.c.email,
                )
                .join(customers, customers.c.id == deliveries.c.customer_id)
                .where(deliveries.c.id.in_(chunk))
            )
            rows.update({row.id: row for row in found})
        known = [e for e in events if _matches(e, rows.get(e.delivery_id))]
        foreign = refused[FOREIGN] + len(events) - len(known)
        seen: set[str] = set()
        for chunk in _chunks(sorted({e.sg_event_id for e in known})):
            seen.update(
                connection.execute(
                    select(recorded.c.sg_event_id).where(recorded.c.sg_event_id.in_(chunk))
                ).scalars()
            )
        fresh: list[Event] = []
        for candidate in known:
            if candidate.sg_event_id not in seen:
                seen.add(candidate.sg_event_id)
                fresh.append(candidate)
        if fresh:
            connection.execute(
                insert(recorded),
                [
                    {
                        "delivery_id": e.delivery_id,
                        "event": e.event,
                        "sg_event_id": e.sg_event_id,
                        "timestamp": e.at,
                        "reason": e.reason,
                        "received_at": now,
                    }
                    for e in fresh
                ],
            )
        suppressed = self._update(connection, rows, fresh)
        return IngestReport(
            len(raw_events),
            len(fresh),
            len(known) - len(fresh),
            foreign,
            refused[INVALID],
            refused[IGNORED],
            suppressed,
        )

    def _update(self, connection: Connection, rows: dict[int, Any], fresh: list[Event]) -> int:
        changes: dict[int, dict[str, Any]] = {}
        reasons: dict[int, str] = {}
        for e in sorted(fresh, key=lambda item: item.at):
            row = rows[e.delivery_id]
            current = changes.get(e.delivery_id) or {
                "b_id": row.id,
                "b_status": row.status,
                "b_state": row.delivery_state or "",
                "b_state_at": db.utc(row.state_at),
                "b_delivered_at": db.utc(row.delivered_at),
            }
            state, state_at = advance(current["b_state"], current["b_state_at"], e.event, e.at)
            if (state, state_at) == (current["b_state"], current["b_state_at"]):
                continue
            current.update(b_state=state, b_state_at=state_at)
            if state == "delivered":
                current["b_delivered_at"] = e.at
            if state in _FAILED and e.hard:
                current["b_status"] = "bounced"
                reasons[row.customer_id] = f"{state}: {e.reason or 'no reason given'}"[:500]
            changes[e.delivery_id] = current
        if changes:
            table = db.deliveries
            connection.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(
                    status=bindparam("b_status"),
                    delivery_state=bindparam("b_state"),
                    state_at=bindparam("b_state_at"),
                    delivered_at=bindparam("b_delivered_at"),
                ),
                list(changes.values()),
            )
        if reasons:
            customers = db.customers
            connection.execute(
                update(customers)
                .where(customers.c.id == bindparam("b_id"), customers.c.suppressed_reason.is_(None))
                .values(suppressed_reason=bindparam("b_reason"), updated_at=datetime.now(UTC)),
                [{"b_id": cid, "b_reason": reason} for cid, reason in reasons.items()],
            )
        return len(reasons)


def _matches(event: Event, row: Any) -> bool:
    """The delivery the event names exists, of its release, sent to the event's mailbox."""
    return (
        row is not None and row.release_id == event.release and same_mailbox(event.email, row.email)
    )


class Receiver:
    """What the HTTP endpoint calls: verify, parse, ingest; Rejected leaves everything unchanged."""

    def __init__(self, verifier: Verifier, ingestor: Ingestor) -> None:
        self._verifier, self._ingestor = verifier, ingestor

    def receive(self, signature: str | None, timestamp: str | None, body: bytes) -> IngestReport:
        digest = self._verifier.verify(signature, timestamp, body)
        report = self._ingestor.ingest(digest, parse(body))
        log.info(
            "webhook post: %d events, %d applied, %d duplicate, %d foreign, %d invalid",
            report.received,
            report.applied,
            report.duplicates,
            report.foreign,
            report.invalid,
        )
        return report


def receiver_for(settings: Settings) -> Receiver:
    """The webhook's receiver: SendGrid's public key checks posts, our events key each event."""
    verifier = Verifier(load_public_key(settings.webhook_public_key))
    return Receiver(verifier, Ingestor(db.engine(settings), provenance.events_key(settings)))
