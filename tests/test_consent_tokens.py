"""Consent tokens: what a mailed link proves, and what it refuses."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifier.consent.tokens import (
    ExpiredToken,
    ForgedToken,
    Grant,
    expiry,
    sign,
    verify,
)
from notifier.errors import ConfigError
from notifier.settings import Secret

OLD, NEW = Secret("a" * 32 + "old consent key"), Secret("b" * 32 + "new consent key")
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
GRANT = Grant(
    delivery_id=41,
    release_id="privacy/zh-CN.md@2026-03-15",
    article="PIPL 39",
    text_sha256="ab" * 32,
    expires=datetime(2026, 4, 15, 16, 0, tzinfo=UTC),
)


def test_a_signed_grant_verifies_as_it_was() -> None:
    """When a grant is signed, then verifying its token gives the same grant back."""
    token = sign(GRANT, [NEW])
    assert verify(token, [NEW], NOW) == GRANT
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_rotation_keeps_old_links_working() -> None:
    """When a new key is put first, then links signed with the old key still verify, new ones
    are signed with the new key, and a link of a dropped key is refused."""
    old_link = sign(GRANT, [OLD])
    assert verify(old_link, [NEW, OLD], NOW) == GRANT
    new_link = sign(GRANT, [NEW, OLD])
    assert verify(new_link, [NEW], NOW) == GRANT
    with pytest.raises(ForgedToken):
        verify(old_link, [NEW], NOW)


@pytest.mark.parametrize(
    "change",
    [
        {"release_id": "privacy/zh-CN.md@2026-06-01"},
        {"article": "PIPL 23"},
        {"delivery_id": 42},
        {"text_sha256": "cd" * 32},
        {"expires": GRANT.expires + timedelta(days=365)},
    ],
)
def test_a_token_cannot_be_moved_to_another_grant(change: dict[str, object]) -> None:
    """When any signed field of a token is swapped for another grant's, then the token is
    refused (a link replayed across releases or articles fails)."""
    genuine = base64.urlsafe_b64decode(sign(GRANT, [NEW]) + "==")
    other = base64.urlsafe_b64decode(sign(replace(GRANT, **change), [NEW]) + "==")  # type: ignore[arg-type]
    spliced = other[:-32] + genuine[-32:]
    token = base64.urlsafe_b64encode(spliced).rstrip(b"=").decode()
    with pytest.raises(ForgedToken):
        verify(token, [NEW], NOW)


def test_any_altered_byte_is_refused() -> None:
    """When any single byte of a token is altered, then it is refused as forged."""
    raw = bytearray(base64.urlsafe_b64decode(sign(GRANT, [NEW]) + "=="))
    for at in range(len(raw)):
        altered = bytearray(raw)
        altered[at] ^= 0x01
        token = base64.urlsafe_b64encode(bytes(altered)).rstrip(b"=").decode()
        with pytest.raises(ForgedToken):
            verify(token, [NEW], NOW)


@pytest.mark.parametrize("token", ["", "abc", "not a token!", "тoken", "A" * 300])
def test_garbage_is_forged(token: str) -> None:
    """When a link carries something that is no token, then it is refused as forged."""
    with pytest.raises(ForgedToken):
        verify(token, [NEW], NOW)


def test_an_expired_token_still_names_its_grant() -> None:
    """When a genuine token is past its expiry, then ExpiredToken carries the grant (for a fresh
    link) and a second earlier it was valid."""
    token = sign(GRANT, [NEW])
    with pytest.raises(ExpiredToken) as raised:
        verify(token, [NEW], GRANT.expires)
    assert raised.value.grant == GRANT
    assert verify(token, [NEW], GRANT.expires - timedelta(seconds=1)) == GRANT


def test_expiry_is_the_end_of_the_grace_period_where_notices_are_dated() -> None:
    """When a release takes effect on 15 March with 30 days of grace in Shanghai, then links
    work until midnight ending 14 April there (16:00 UTC)."""
    ends = expiry(date(2026, 3, 15), 30, ZoneInfo("Asia/Shanghai"))
    assert ends == datetime(2026, 4, 14, 16, 0, tzinfo=UTC)


def test_signing_needs_a_key() -> None:
    """When no consent key is configured, then signing says which variable to set."""
    with pytest.raises(ConfigError, match="no consent key"):
        sign(GRANT, [])
