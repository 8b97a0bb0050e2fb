"""SendGrid's Event Webhook: verify a signed post and fold its events into the ledger.

A 202 from SendGrid only means queued; these events say what happened next (delivered, bounced,
dropped), so the proof of notice can say whether a customer was actually reached. A post counts
only when its ECDSA P-256 signature over timestamp + raw body checks out with the configured public
key and its timestamp is fresh; the same signed content is never accepted twice.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
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

from notifier.delivery.mail import scrub
from notifier.errors import ConfigError
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


class Rejected(Exception):
    """A post that must change nothing: 401 when unsigned, 403 when forged, stale or replayed."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Event:
    """One event of a post, reduced to what the ledger needs (no address is kept)."""

    delivery_id: int
    release: str | None
    event: str
    sg_event_id: str
    at: datetime
    reason: str | None
    hard: bool  # a bounce of type "bounce" (not "blocked"), or a drop


@dataclass(frozen=True, slots=True)
class IngestReport:
    received: int
    applied: int
    duplicates: int
    unknown: int
    ignored: int
    suppressed: int

    def to_json(self) -> dict[str, int]:
        return {
            "received": self.received,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "unknown": self.unknown,
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


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def parse(body: bytes) -> list[Any]:
    try:
        events = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise Rejected(400, "body is not JSON") from error
    if not isinstance(events, list):
        raise Rejected(400, "body is not a JSON array of events")
    return events


def _event(raw: Any) -> Event | None:
    """An event we act on, or None (not ours, or not a kind that tells us about delivery)."""
    if not isinstance(raw, dict) or raw.get("event") not in HANDLED:
        return None
    try:
        delivery_id = int(str(raw["delivery_id"]))
        at = datetime.fromtimestamp(int(raw["timestamp"]), UTC)
    except (KeyError, ValueError, TypeError, OverflowError, OSError):
        return None
    kind = str(raw["event"])
    sg_event_id = raw.get("sg_event_id")
    if not isinstance(sg_event_id, str) or not sg_event_id:
        canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False)
        sg_event_id = "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    # a receiving server's answer often quotes the address: it reaches the ledger and
    # `notices notify status` masked, like every address we keep outside the directory
    reason = raw.get("reason") or raw.get("response")
    bounce_type = str(raw.get("type") or "bounce")
    hard = kind == "dropped" or (kind == "bounce" and bounce_type != "blocked")
    if kind == "bounce" and not hard:
        kind = "blocked"
    release = raw.get("release")
    return Event(
        delivery_id,
        str(release) if release is not None else None,
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
    """Folds verified posts into the ledger, one transaction per post, one post at a time."""

    def __init__(self, engine: Engine, *, max_age: int = MAX_AGE_SECONDS) -> None:
        self._engine, self._max_age = engine, max_age
        self._lock = threading.Lock()

    def ingest(self, digest: str, raw_events: Sequence[Any]) -> IngestReport:
        now = datetime.now(UTC)
        with self._lock, self._engine.begin() as connection:
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
        parsed = [_event(raw) for raw in raw_events]
        events = [e for e in parsed if e is not None]
        ignored = len(parsed) - len(events)
        deliveries, recorded = db.deliveries, db.delivery_events
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
                ).where(deliveries.c.id.in_(chunk))
            )
            rows.update({row.id: row for row in found})
        known = [
            e
            for e in events
            if e.delivery_id in rows and e.release in (None, rows[e.delivery_id].release_id)
        ]
        unknown = len(events) - len(known)
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
            len(raw_events), len(fresh), len(known) - len(fresh), unknown, ignored, suppressed
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
                "b_state_at": _utc(row.state_at),
                "b_delivered_at": _utc(row.delivered_at),
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


class Receiver:
    """What the HTTP endpoint calls: verify, parse, ingest; Rejected leaves everything unchanged."""

    def __init__(self, verifier: Verifier, ingestor: Ingestor) -> None:
        self._verifier, self._ingestor = verifier, ingestor

    def receive(self, signature: str | None, timestamp: str | None, body: bytes) -> IngestReport:
        digest = self._verifier.verify(signature, timestamp, body)
        report = self._ingestor.ingest(digest, parse(body))
        log.info(
            "webhook post: %d events, %d applied, %d duplicate, %d unknown",
            report.received,
            report.applied,
            report.duplicates,
            report.unknown,
        )
        return report


def receiver_for(engine: Engine, public_key: str) -> Receiver:
    return Receiver(Verifier(load_public_key(public_key)), Ingestor(engine))
