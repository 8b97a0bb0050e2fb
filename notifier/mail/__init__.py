"""Mail: one rendered notice per locale, sent in batches by a transport (outbox, SendGrid, SMTP).

A message carries two placeholders replaced per recipient (`-name-` in the text part,
`-name_html-` in the HTML part) so that one SendGrid request carries up to 1,000 recipients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Protocol

NAME_TEXT = "-name-"
NAME_HTML = "-name_html-"


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered notice in one locale, before per-recipient substitution."""

    locale: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Recipient:
    """One addressee; `delivery_id` is the opaque ledger id, the only thing sent as custom_args."""

    delivery_id: int
    email: str
    name: str

    def substitutions(self, fallback: str) -> dict[str, str]:
        name = self.name or fallback
        return {NAME_TEXT: name, NAME_HTML: escape(name)}


@dataclass(frozen=True, slots=True)
class Sent:
    """A transport's answer for a whole batch: accepted (with a message id) or failed."""

    ok: bool
    message_id: str = ""
    error: str = ""


class Transport(Protocol):
    name: str

    def send(
        self, message: Message, recipients: Sequence[Recipient], *, release_id: str
    ) -> Sent: ...


def personalised(message: Message, recipient: Recipient, fallback: str) -> tuple[str, str]:
    """The text and HTML bodies for one recipient (for transports that send one by one)."""
    values = recipient.substitutions(fallback)
    return (
        message.text.replace(NAME_TEXT, values[NAME_TEXT]),
        message.html.replace(NAME_HTML, values[NAME_HTML]),
    )
