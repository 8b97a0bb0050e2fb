"""Which transport sends mail: the one NOTICES_MAIL_BACKEND names, built from the settings.

Notices, consent reminders and fresh consent links all go the same way; only the folder the
outbox transport writes to differs, so that no mail overwrites another's file.
"""

from __future__ import annotations

from pathlib import Path

from notifier.delivery.mail import Transport
from notifier.delivery.mail.outbox import OutboxTransport
from notifier.errors import NotifyError
from notifier.settings import Settings

FALLBACK_NAME = {"zh-CN": "尊敬的客户", "en": "customer"}


def configured_transport(settings: Settings, outbox: Path) -> Transport:
    """The transport NOTICES_MAIL_BACKEND names (outbox unless a SendGrid key is set); the
    outbox transport writes to `outbox`."""
    sender, name, reply_to = settings.sender_email, settings.sender_name, settings.reply_to
    fallback = FALLBACK_NAME["zh-CN"]
    if settings.mail_backend == "sendgrid":
        if settings.sendgrid_api_key is None:
            raise NotifyError(
                "NOTICES_MAIL_BACKEND=sendgrid but SENDGRID_API_KEY is not set",
                hint="set SENDGRID_API_KEY in the environment",
            )
        from notifier.delivery.mail.sendgrid import SendGridTransport

        return SendGridTransport(
            settings.sendgrid_api_key,
            settings.sendgrid_api_host,
            sender=sender,
            sender_name=name,
            reply_to=reply_to,
            fallback_name=fallback,
            timeout=settings.mail_timeout,
            max_retries=settings.mail_max_retries,
        )
    if settings.mail_backend == "smtp":
        from notifier.delivery.mail.smtp import SmtpTransport

        return SmtpTransport(
            settings.smtp_host,
            settings.smtp_port,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password,
            sender=sender,
            sender_name=name,
            reply_to=reply_to,
            fallback_name=fallback,
            timeout=settings.mail_timeout,
        )
    return OutboxTransport(
        outbox,
        sender=sender,
        sender_name=name,
        reply_to=reply_to,
        fallback_name=fallback,
    )
