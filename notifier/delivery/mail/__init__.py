"""Mail: one rendered notice per locale, sent in batches by a transport (outbox, SendGrid, SMTP).

A message carries two placeholders replaced per recipient (`-name-` in the text part,
`-name_html-` in the HTML part), and one per consent question for the recipient's personal link
(`consent_placeholder`), so that one SendGrid request carries up to 1,000 recipients.
A test mail (`--test-to`) is marked in its subject and kept apart by each transport.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from html import escape
from typing import Protocol

from notifier.errors import MailFailure
from notifier.logs import mask_email

NAME_TEXT = "-name-"
NAME_HTML = "-name_html-"
TEST_MARK = "[TEST] "  # literally, in every locale: a marker for mail filters and people alike
MAX_WAIT_SECONDS = 120.0  # the longest a transport waits between two tries of one batch
_PLACEHOLDER = re.compile(f"{re.escape(NAME_TEXT)}|{re.escape(NAME_HTML)}|-consent_[a-z0-9_]+-")
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*")
_MASKED = re.compile(r".?\*\*\*@[\w-]?")  # what `mask_email` leaves, up to the domain's ***


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered notice in one locale, before per-recipient substitution."""

    locale: str
    subject: str
    text: str
    html: str
    test: bool = False  # a `--test-to` mail: never a delivery, never counted with them
    sender_name: str = ""  # the From name in this locale ("": the transport's own)


def as_test(message: Message) -> Message:
    """The message as a test mail: `[TEST] ` before its subject, and marked for the transport."""
    return replace(message, subject=TEST_MARK + message.subject, test=True)


def consent_placeholder(article: str) -> str:
    """Where a recipient's personal consent link goes: `-consent_pipl_23-` for "PIPL 23"."""
    return "-consent_" + re.sub(r"[^a-z0-9]+", "_", article.lower()).strip("_") + "-"


@dataclass(frozen=True, slots=True)
class Recipient:
    """One addressee; `delivery_id` is the opaque ledger id and `tag` its MAC (see
    `provenance`): the only things sent as custom_args. `links` maps each consent question's
    placeholder to this recipient's personal link."""

    delivery_id: int
    email: str
    name: str
    tag: str = ""  # none for a test mail: its events are never ours
    links: tuple[tuple[str, str], ...] = ()

    def substitutions(self, fallback: str) -> dict[str, str]:
        """The name for the text part (no line breaks) and for the HTML part (escaped), and the
        consent links (URL-safe tokens: the same in both parts).

        A name never carries a placeholder: were SendGrid to substitute inside a substituted
        value, the text name (unescaped) would land in the HTML part.
        """
        name = self.name
        while _PLACEHOLDER.search(name):
            name = _PLACEHOLDER.sub("", name)
        name = " ".join(name.split()) or " ".join(fallback.split())
        return {NAME_TEXT: name, NAME_HTML: escape(name), **dict(self.links)}


@dataclass(frozen=True, slots=True)
class Sent:
    """A transport's answer for a batch: accepted (with a message id) or failed as a whole.

    `failures` names the deliveries of an accepted batch that failed on their own (an SMTP relay
    refusing one recipient): (delivery id, error). The others count as sent. `kind` says how a
    failed batch failed (an endpoint that is down or refuses the key fails every batch alike).
    `never_left` says no byte of any try was written (a refused connection): nobody can have
    been mailed, so the batch is planned again with no attempt spent.
    """

    ok: bool
    message_id: str = ""
    error: str = ""
    failures: tuple[tuple[int, str], ...] = ()
    kind: MailFailure = MailFailure.OTHER
    never_left: bool = False


def scrub(text: str) -> str:
    """An error text fit for logs and the ledger: every address in it masked. A masked one
    (`u***@e***.com`) stays as it is: scrubbing twice (transport, then ledger) changes nothing."""
    return _ADDRESS.sub(_masked, text)


def _masked(found: re.Match[str]) -> str:
    address = found.group(0)  # of `u***@e***.com`, the pattern takes `u***@e`
    if _MASKED.fullmatch(address) and found.string.startswith("***", found.end()):
        return address
    return mask_email(address)


LEASE_MARGIN_SECONDS = 60.0  # claiming and marking the batch, a slow name lookup


def lease_seconds(timeout: float, max_retries: int) -> float:
    """How long a claim holds: longer than one batch can take at worst, so no other worker
    takes a batch whose sender is still at it; a claim older than this is a dead sender's.

    One try lasts at most `timeout`: the transport's deadline bounds connect, send and the whole
    answer, however slowly it trickles. Between two tries a wait lasts at most MAX_WAIT_SECONDS
    (a 429's reset is capped there, backoff at 30 s). So a batch of 1 + max_retries tries takes
    at most (max_retries + 1) * timeout + max_retries * MAX_WAIT_SECONDS, and the lease adds
    LEASE_MARGIN_SECONDS: with the defaults (30 s, 5 retries) 6 * 30 + 5 * 120 + 60 = 840 s.
    """
    return (max_retries + 1) * timeout + max_retries * MAX_WAIT_SECONDS + LEASE_MARGIN_SECONDS


class Transport(Protocol):
    """Sends one rendered message to a batch of recipients and says how it went."""

    name: str

    def send(
        self, message: Message, recipients: Sequence[Recipient], *, release_id: str
    ) -> Sent: ...


def personalised(message: Message, recipient: Recipient, fallback: str) -> tuple[str, str]:
    """The text and HTML bodies for one recipient (for transports that send one by one)."""
    values = recipient.substitutions(fallback)
    text = message.text.replace(NAME_TEXT, values[NAME_TEXT])
    html = message.html.replace(NAME_HTML, values[NAME_HTML])
    for placeholder, link in recipient.links:
        text, html = text.replace(placeholder, link), html.replace(placeholder, escape(link))
    return text, html
