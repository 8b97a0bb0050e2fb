"""The SMTP transport, for an in-country relay: STARTTLS, then one message per recipient.

A relay refusing one recipient fails that delivery alone; a lost connection fails the recipients
not yet handed over, so that a retry never mails twice those the relay already accepted.
"""

from __future__ import annotations

import smtplib
import ssl
import uuid
from collections.abc import Sequence

from notifier.delivery.mail import Message, Recipient, Sent
from notifier.delivery.mail.outbox import build_email, message_id
from notifier.settings import Secret


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
        """Send each mail on one connection; the Message-ID of each is `<token>.<delivery id>`."""
        token = uuid.uuid4().hex[:20]
        failures: list[tuple[int, str]] = []
        done = 0
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
                        message_id=message_id(token, recipient.delivery_id, self.sender),
                    )
                    try:
                        client.send_message(mail)
                    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError) as refused:
                        failures.append((recipient.delivery_id, _refusal(refused)))
                    done += 1
        except (smtplib.SMTPException, OSError) as error:
            reason = f"SMTP relay failed: {type(error).__name__}"
            failures.extend((r.delivery_id, reason) for r in recipients[done:])
        if len(failures) == len(recipients):
            return Sent(False, error=failures[0][1] if failures else "no recipients")
        return Sent(True, message_id=token, failures=tuple(failures))


def _refusal(error: smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError) -> str:
    """The relay's code only: its text may quote the address."""
    if isinstance(error, smtplib.SMTPDataError):
        return f"SMTP relay refused the message: {error.smtp_code}"
    codes = sorted({str(code) for code, _ in error.recipients.values()})
    return f"SMTP relay refused the recipient: {', '.join(codes)}"
