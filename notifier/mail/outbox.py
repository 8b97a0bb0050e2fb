"""The outbox transport: each mail written as an .eml file, for review and for the demo.

The default when no SendGrid key is set. Files hold addresses, so they are readable by their
owner only, and each is written whole (temporary file, then rename) or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path

from notifier.errors import MailError
from notifier.files import atomic_writer
from notifier.mail import Message, Recipient, Sent, personalised


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
    mail["From"] = formataddr((sender_name, sender))
    mail["To"] = recipient.email
    if reply_to:
        mail["Reply-To"] = reply_to
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = message_id
    mail["Content-Language"] = message.locale
    mail.set_content(text)
    mail.add_alternative(html, subtype="html")
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
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            batch_id = make_msgid(domain="outbox.notices")
            for recipient in recipients:
                mail = build_email(
                    message,
                    recipient,
                    sender=self.sender,
                    sender_name=self.sender_name,
                    reply_to=self.reply_to,
                    fallback_name=self.fallback_name,
                    message_id=make_msgid(domain="outbox.notices"),
                )
                with atomic_writer(self.folder / f"{recipient.delivery_id}.eml", mode=0o600) as out:
                    out.write(mail.as_bytes())
        except OSError as error:
            raise MailError(
                f"cannot write to the outbox: {error.strerror}",
                path=self.folder,
                hint="make the outbox folder writable",
            ) from error
        return Sent(True, message_id=batch_id.strip("<>"))
