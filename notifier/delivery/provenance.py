"""Proof that an event is ours: a MAC over the release and the delivery id we sent.

The Event Webhook is per SendGrid account, so other applications' events, and anyone who learns
a delivery id, reach us too. What we send as custom args (release, delivery id, this MAC) comes
back in each event; only an event whose MAC verifies may change the ledger. The key comes from
NOTICES_EVENTS_KEY, or is generated once and kept owner-only in var/events.key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from notifier.errors import ConfigError
from notifier.files import atomic_writer
from notifier.settings import MIN_EVENTS_KEY, Settings

KEY_FILE = "events.key"
TAG_ARG = "notices_mac"  # the custom arg that carries `tag`; SendGrid puts it in each event
_PURPOSE = b"notices event v1\x00"


def key_path(settings: Settings) -> Path:
    return settings.var_dir / KEY_FILE


def events_key(settings: Settings) -> bytes:
    """NOTICES_EVENTS_KEY, or the key in var/events.key, made on first use."""
    if settings.events_key is not None:
        return settings.events_key.reveal().encode("ascii")
    path = key_path(settings)
    if not path.exists():
        _create(path)
    return _read(path)


def _create(path: Path) -> None:
    """Write a new key beside `path`, then link it in: of two processes racing, one key wins
    and both use it (a rename would let the second replace the key the first already used)."""
    staged = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    try:
        with atomic_writer(staged, mode=0o600) as stream:
            stream.write(secrets.token_hex(32).encode("ascii"))
        os.link(staged, path)
    except FileExistsError:
        pass
    except OSError as error:
        raise ConfigError(
            f"cannot create the events key: {error.strerror}",
            path=path,
            hint="make var/ writable, or set NOTICES_EVENTS_KEY",
        ) from error
    finally:
        staged.unlink(missing_ok=True)


def _read(path: Path) -> bytes:
    try:
        mode, key = stat.S_IMODE(path.stat().st_mode), path.read_bytes().strip()
    except OSError as error:
        raise ConfigError(
            f"cannot read the events key: {error.strerror or type(error).__name__}",
            path=path,
            hint="run as the user who owns var/, or set NOTICES_EVENTS_KEY",
        ) from error
    if mode & 0o077:
        raise ConfigError(
            "the events key is readable by other users",
            path=path,
            hint=f"run `chmod 600 {path}`: whoever reads it can forge delivery events",
        )
    if len(key) < MIN_EVENTS_KEY:
        raise ConfigError(
            f"the events key is shorter than {MIN_EVENTS_KEY} characters",
            path=path,
            hint="delete the file: a new key is made (events of mails sent before stop counting)",
        )
    return key


def tag(key: bytes, release: str, delivery_id: int) -> str:
    """The MAC sent with a delivery (hex): opaque, no address in it."""
    message = _PURPOSE + release.encode("utf-8") + b"\x00" + str(delivery_id).encode("ascii")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def verifies(key: bytes, release: str, delivery_id: int, mac: str) -> bool:
    """Whether `mac` is ours for (release, delivery id), compared in constant time."""
    ours = tag(key, release, delivery_id)
    return mac.isascii() and hmac.compare_digest(ours.encode("ascii"), mac.encode("ascii"))
