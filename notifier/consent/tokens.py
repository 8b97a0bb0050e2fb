"""The personal link of a consent request: a signed, expiring grant to answer one question.

A token binds the delivery, the release, the article asked about and the SHA-256 of the text
shown; change any of them and the MAC fails, so a token cannot be replayed for another release
or article. It is HMAC-SHA256 over a compact binary payload, base64url without padding. Keys
rotate: the first key signs, every key verifies, and each token names its key by an id derived
from the key itself, so adding a key in front never strands the links already mailed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from notifier.errors import ConfigError, NoticeError
from notifier.settings import Secret

_FORMAT = 1  # the first byte of every token: another layout would take another number
_PURPOSE = b"notices consent v1\x00"  # a MAC made for webhook events never passes here
_KEY_ID = 4  # bytes; an id names a key, the MAC proves it
_MAC = 32
_FIXED = struct.Struct(">BQq32sHH")  # format, delivery id, expiry (epoch s), text hash, lengths
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


class ForgedToken(NoticeError):
    """A token that is malformed, signed by no key we hold, or altered after signing."""


class ExpiredToken(NoticeError):
    """A genuine token past its expiry: the grant is known, so a fresh link can be mailed."""

    def __init__(self, grant: Grant) -> None:
        super().__init__(f"the consent link of delivery {grant.delivery_id} has expired")
        self.grant = grant


@dataclass(frozen=True, slots=True)
class Grant:
    """What a token lets its holder do: answer `article` for one delivery of one release, about
    the text whose hash is `text_sha256`, until `expires` (aware, UTC)."""

    delivery_id: int
    release_id: str
    article: str
    text_sha256: str
    expires: datetime


def expiry(effective: date, grace_days: int, zone: ZoneInfo) -> datetime:
    """When a link stops working: the end of the grace period's last day where the notices are
    dated, in UTC."""
    last_day = effective + timedelta(days=grace_days)
    return datetime.combine(last_day + timedelta(days=1), time(), zone).astimezone(UTC)


def sign(grant: Grant, keys: Sequence[Secret]) -> str:
    """The token for `grant`, signed with the first key."""
    if not keys:
        raise ConfigError("no consent key is set", hint="set NOTICES_CONSENT_KEYS")
    if _SHA256.match(grant.text_sha256) is None:
        raise ValueError(f"not a SHA-256 in hex: {grant.text_sha256!r}")
    if grant.expires.tzinfo is None:
        raise ValueError("a grant's expiry must be an aware datetime")
    key = _key(keys[0])
    release, article = grant.release_id.encode("utf-8"), grant.article.encode("utf-8")
    fixed = _FIXED.pack(
        _FORMAT,
        grant.delivery_id,
        int(grant.expires.timestamp()),
        bytes.fromhex(grant.text_sha256),
        len(release),
        len(article),
    )
    signed = _key_id(key) + fixed + release + article
    return _encode(signed + _mac(key, signed))


def verify(token: str, keys: Sequence[Secret], now: datetime) -> Grant:
    """The grant `token` carries; ForgedToken unless one of `keys` signed it as it is,
    ExpiredToken (with the grant) when `now` is past its expiry."""
    raw = _decode(token)
    if len(raw) < _KEY_ID + _FIXED.size + _MAC:
        raise ForgedToken("the consent link is truncated")
    signed, mac = raw[:-_MAC], raw[-_MAC:]
    candidates = [_key(secret) for secret in keys]
    if not any(
        hmac.compare_digest(_mac(key, signed), mac)
        for key in candidates
        if hmac.compare_digest(_key_id(key), signed[:_KEY_ID])
    ):
        raise ForgedToken("the consent link is not signed by any of our keys")
    grant = _grant(signed[_KEY_ID:])
    if now >= grant.expires:
        raise ExpiredToken(grant)
    return grant


def _grant(payload: bytes) -> Grant:
    form, delivery_id, expires, digest, release_size, article_size = _FIXED.unpack_from(payload)
    names = payload[_FIXED.size :]
    if form != _FORMAT or len(names) != release_size + article_size:
        raise ForgedToken("the consent link has an unknown layout")
    try:
        release = names[:release_size].decode("utf-8")
        article = names[release_size:].decode("utf-8")
    except UnicodeDecodeError as error:
        raise ForgedToken("the consent link has an unknown layout") from error
    return Grant(
        delivery_id=delivery_id,
        release_id=release,
        article=article,
        text_sha256=digest.hex(),
        expires=datetime.fromtimestamp(expires, UTC),
    )


def _key(secret: Secret) -> bytes:
    return secret.reveal().encode("utf-8")


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(_PURPOSE + b"key id\x00" + key).digest()[:_KEY_ID]


def _mac(key: bytes, signed: bytes) -> bytes:
    return hmac.digest(key, _PURPOSE + signed, "sha256")  # one call, no HMAC object


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _decode(token: str) -> bytes:
    if not token.isascii() or _TOKEN.fullmatch(token) is None:
        raise ForgedToken("the consent link holds characters no token has")
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as error:
        raise ForgedToken("the consent link is not a token") from error
