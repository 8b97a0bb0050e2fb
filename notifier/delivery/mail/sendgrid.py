"""The SendGrid transport: one v3 Mail Send request per batch of up to 1,000 recipients.

Each recipient is a personalization with their own substitutions; `custom_args` carries only the
opaque delivery id. 429 waits for X-RateLimit-Reset, 5xx and connection errors are retried with
backoff and jitter, any other 4xx fails the batch. Nothing here logs the key or an address.
"""

from __future__ import annotations

import logging
import random
import socket
import time
import urllib.error
from collections.abc import Callable, Sequence
from http.client import HTTPException
from typing import Any

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient

from notifier.delivery.mail import MAX_WAIT_SECONDS, Message, Recipient, Sent, scrub
from notifier.errors import MailFailure
from notifier.settings import Secret

log = logging.getLogger(__name__)


def request_body(
    message: Message,
    recipients: Sequence[Recipient],
    *,
    sender: str,
    sender_name: str,
    reply_to: str,
    release_id: str,
    fallback_name: str,
) -> dict[str, Any]:
    """One v3 Mail Send body: a personalization per recipient, only opaque ids in custom_args."""
    body: dict[str, Any] = {
        "personalizations": [
            {
                "to": [{"email": r.email}],
                "substitutions": r.substitutions(fallback_name),
                "custom_args": {"delivery_id": str(r.delivery_id)},
            }
            for r in recipients
        ],
        "from": {"email": sender, "name": sender_name},
        "subject": message.subject,
        "content": [
            {"type": "text/plain", "value": message.text},
            {"type": "text/html", "value": message.html},
        ],
        "custom_args": {"release": release_id},
        "categories": ["privacy-notice"],
        "tracking_settings": {
            "click_tracking": {"enable": False},
            "open_tracking": {"enable": False},
        },
    }
    if reply_to:
        body["reply_to"] = {"email": reply_to}
    return body


class SendGridTransport:
    name = "sendgrid"

    def __init__(
        self,
        api_key: Secret,
        host: str,
        *,
        sender: str,
        sender_name: str,
        reply_to: str,
        fallback_name: str,
        timeout: float,
        max_retries: int,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = SendGridAPIClient(api_key=api_key.reveal(), host=host.rstrip("/"))
        self.sender, self.sender_name, self.reply_to = sender, sender_name, reply_to
        self.fallback_name = fallback_name
        self.timeout, self.max_retries = timeout, max_retries
        self._sleep, self._clock = sleep, clock

    def _reset_wait(self, error: HTTPError, attempt: int) -> float:
        headers = getattr(error, "headers", None)
        reset = headers.get("X-RateLimit-Reset") if headers is not None else None
        try:
            wait = float(reset) - self._clock() if reset else 2.0**attempt
        except ValueError:
            wait = 2.0**attempt
        return min(max(wait, 0.0), MAX_WAIT_SECONDS)

    def _backoff(self, attempt: int) -> float:
        return min(0.5 * 2.0**attempt, 30.0) * random.uniform(0.5, 1.0)

    def send(self, message: Message, recipients: Sequence[Recipient], *, release_id: str) -> Sent:
        body = request_body(
            message,
            recipients,
            sender=self.sender,
            sender_name=self.sender_name,
            reply_to=self.reply_to,
            release_id=release_id,
            fallback_name=self.fallback_name,
        )
        last, kind = "", MailFailure.OTHER
        for attempt in range(self.max_retries + 1):
            try:
                response = self._client.client.mail.send.post(
                    request_body=body, timeout=self.timeout
                )
                message_id = response.headers.get("X-Message-Id", "") or ""
                return Sent(True, message_id=message_id)
            except HTTPError as error:
                status = int(getattr(error, "status_code", 0) or 0)
                last = f"SendGrid answered {status}"
                kind = MailFailure.UNAUTHORIZED if status in (401, 403) else MailFailure.OTHER
                if status == 429:
                    wait = self._reset_wait(error, attempt)
                elif status >= 500:
                    wait = self._backoff(attempt)
                else:
                    return Sent(False, error=f"{last}: {_short(error)}", kind=kind)
            except (TimeoutError, urllib.error.URLError, ConnectionError, HTTPException) as error:
                last = _connection_problem(error, self.timeout)
                kind = _unreachable(error)
                wait = self._backoff(attempt)
            if attempt < self.max_retries:
                log.warning(
                    "%s; retry %d of %d in %.1f s", last, attempt + 1, self.max_retries, wait
                )
                self._sleep(wait)
        return Sent(False, error=f"{last}; gave up after {self.max_retries} retries", kind=kind)


def _connection_problem(error: Exception, timeout: float) -> str:
    """What went wrong on the line, by its cause (urllib wraps connect errors in URLError)."""
    reason = getattr(error, "reason", None) if isinstance(error, urllib.error.URLError) else None
    cause = reason if isinstance(reason, BaseException) else error
    if isinstance(cause, TimeoutError):
        return f"SendGrid did not answer within {timeout:g} s"
    return f"connection failed: {type(cause).__name__}"


def _unreachable(error: Exception) -> MailFailure:
    """UNREACHABLE when the request never left: the port refused it or the name did not
    resolve (every batch would fail alike); OTHER for a failure of this request alone."""
    reason = getattr(error, "reason", None) if isinstance(error, urllib.error.URLError) else None
    cause = reason if isinstance(reason, BaseException) else error
    dead = isinstance(cause, (ConnectionRefusedError, socket.gaierror))
    return MailFailure.UNREACHABLE if dead else MailFailure.OTHER


def _short(error: HTTPError) -> str:
    body = getattr(error, "body", b"")
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    return scrub(" ".join(text.split()))[:300]
