"""The outbox transport: each mail written as an .eml file, for review and for the demo.

The default when no SendGrid key is set. Files hold addresses, so they are readable by their
owner only, and each is written whole (temporary file, then rename) or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path

from notifier.delivery.mail import Message, Recipient, Sent, personalised
from notifier.files import atomic_writer, make_folders


def message_id(token: str, delivery_id: int, sender: str) -> str:
    """`<token.delivery-id@sender-domain>`: the ledger keeps the token; each mail is traceable."""
    domain = sender.rpartition("@")[2] or "notices.invalid"
    return f"<{token}.{delivery_id}@{domain}>"


def build_email(
    message: Message,
    recipient: Recipient,
    *,
    sender: str,
    sender_name: str,
    reply_to: str,
    fallback_name: str,
    message_id: str,
) -> EmailMessage:
    """One finished email; header values never carry CR/LF from customer data."""
    text, html = personalised(message, recipient, fallback_name)
    mail = EmailMessage()
    mail["Subject"] = message.subject
    mail["From"] = formataddr((message.sender_name or sender_name, sender))
    mail["To"] = recipient.email
    if reply_to:
        mail["Reply-To"] = reply_to
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = message_id
    mail.set_content(text)
    mail.add_alternative(html, subtype="html")
    mail["Content-Language"] = message.locale  # after the parts: they take Content-* headers
    return mail


class OutboxTransport:
    name = "outbox"

    def __init__(
        self, folder: Path, *, sender: str, sender_name: str, reply_to: str, fallback_name: str
    ) -> None:
        self.folder = folder
        self.sender, self.sender_name, self.reply_to = sender, sender_name, reply_to
        self.fallback_name = fallback_name

    def send(self, message: Message, recipients: Sequence[Recipient], *, release_id: str) -> Sent:
        try:
            make_folders(self.folder)  # var/outbox too: owner-only, whoever makes it first
            token = uuid.uuid4().hex[:20]
            for recipient in recipients:
                mail = build_email(
                    message,
                    recipient,
                    sender=self.sender,
                    sender_name=self.sender_name,
                    reply_to=self.reply_to,
                    fallback_name=self.fallback_name,
                    message_id=message_id(token, recipient.delivery_id, self.sender),
                )
                with atomic_writer(self.folder / f"{recipient.delivery_id}.eml", mode=0o600) as out:
                    out.write(mail.as_bytes())
        except OSError as error:
            # Recorded as a failed batch and retried on the next run; files are rewritten whole.
            return Sent(False, error=f"cannot write to the outbox {self.folder}: {error.strerror}")
        return Sent(True, message_id=token)
