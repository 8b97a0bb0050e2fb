"""The SMTP transport, for an in-country relay: STARTTLS, then one message per recipient."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.utils import make_msgid

from notifier.config import Secret
from notifier.mail import Message, Recipient, Sent
from notifier.mail.outbox import build_email


class SmtpTransport:
    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int,
        *,
        starttls: bool,
        username: str,
        password: Secret | None,
        sender: str,
        sender_name: str,
        reply_to: str,
        fallback_name: str,
        timeout: float,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port, self.starttls = host, port, starttls
        self.username, self.password = username, password
        self.sender, self.sender_name, self.reply_to = sender, sender_name, reply_to
        self.fallback_name, self.timeout = fallback_name, timeout
        self.tls_context = tls_context or ssl.create_default_context()

    def send(self, message: Message, recipients: Sequence[Recipient], *, release_id: str) -> Sent:
        batch_id = make_msgid(domain="smtp.notices").strip("<>")
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as client:
                if self.starttls:
                    client.starttls(context=self.tls_context)
                if self.username and self.password is not None:
                    client.login(self.username, self.password.reveal())
                for recipient in recipients:
                    mail = build_email(
                        message,
                        recipient,
                        sender=self.sender,
                        sender_name=self.sender_name,
                        reply_to=self.reply_to,
                        fallback_name=self.fallback_name,
                        message_id=make_msgid(domain="smtp.notices"),
                    )
                    client.send_message(mail)
        except (smtplib.SMTPException, OSError) as error:
            return Sent(False, error=f"SMTP relay failed: {type(error).__name__}")
        return Sent(True, message_id=batch_id)
