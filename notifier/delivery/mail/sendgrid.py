"""The SendGrid transport: one v3 Mail Send request per batch of up to 1,000 recipients.

Each recipient is a personalization with their own substitutions; `custom_args` carries only the
opaque delivery id and its MAC (the release is at the top). A test mail has a category of its own
and a `test` custom arg, so that SendGrid's statistics never count it with the notices. 429 waits
for X-RateLimit-Reset, 5xx and connection errors are retried with backoff and jitter; any other
answer fails the batch, for only a 202 with an X-Message-Id is SendGrid's acceptance. The
official client supplies the headers; the request is ours: no redirect is followed, and one
deadline bounds it all. Nothing here logs the key or an address.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPException, HTTPMessage, HTTPSConnection
from typing import Any
from urllib.parse import SplitResult, urlsplit

from sendgrid import SendGridAPIClient

from notifier.delivery.mail import MAX_WAIT_SECONDS, Message, Recipient, Sent, scrub
from notifier.delivery.provenance import TAG_ARG
from notifier.errors import MailFailure
from notifier.settings import Secret

log = logging.getLogger(__name__)
# Opening the connection gets at most this long (within the request's deadline): TCP has resent
# its SYN three times by then, so a host still silent drops our packets, and every batch would
# wait alike. Such a batch is not retried in the run; the next batch tries, and three in a row
# end the run (notify.GIVE_UP_AFTER): about 30 s against a dead host, whatever the timeout.
CONNECT_SECONDS = 10.0
CATEGORY = "privacy-notice"
TEST_CATEGORY = "privacy-notice-test"  # `--test-to` mails: apart in SendGrid's category stats


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
                "custom_args": _custom_args(r),
            }
            for r in recipients
        ],
        "from": {"email": sender, "name": message.sender_name or sender_name},
        "subject": message.subject,
        "content": [
            {"type": "text/plain", "value": message.text},
            {"type": "text/html", "value": message.html},
        ],
        "custom_args": {"release": release_id, **({"test": "true"} if message.test else {})},
        "categories": [TEST_CATEGORY if message.test else CATEGORY],
        "tracking_settings": {
            "click_tracking": {"enable": False},
            "open_tracking": {"enable": False},
        },
    }
    if reply_to:
        body["reply_to"] = {"email": reply_to}
    return body


def _custom_args(recipient: Recipient) -> dict[str, str]:
    """What comes back in each event to prove it is ours: the delivery id and its MAC."""
    args = {"delivery_id": str(recipient.delivery_id)}
    if recipient.tag:
        args[TAG_ARG] = recipient.tag
    return args


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
        client = SendGridAPIClient(api_key=api_key.reveal(), host=host.rstrip("/")).client
        self._url = urlsplit(f"{host.rstrip('/')}/v3/mail/send")
        self._headers = {**client.request_headers, "Content-Type": "application/json"}
        self.sender, self.sender_name, self.reply_to = sender, sender_name, reply_to
        self.fallback_name = fallback_name
        self.timeout, self.max_retries = timeout, max_retries
        self._sleep, self._clock = sleep, clock

    def _reset_wait(self, answer: _Answer, attempt: int) -> float:
        reset = answer.headers.get("X-RateLimit-Reset")
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
        data = json.dumps(body).encode("utf-8")
        last, kind, left, tries = "", MailFailure.OTHER, False, 0
        for attempt in range(self.max_retries + 1):
            tries = attempt
            try:
                answer = _post(self._url, self._headers, data, self.timeout)
            except _Unsent as unsent:  # nothing left this host: nobody can have been mailed
                last = _connection_problem(unsent.cause, min(self.timeout, CONNECT_SECONDS), True)
                kind = MailFailure.UNREACHABLE  # no connection: every batch would fail alike
                if isinstance(unsent.cause, TimeoutError):
                    break  # a host that drops our packets: TCP has retried; the next batch tries
                wait = self._backoff(attempt)
            except (OSError, HTTPException) as error:
                left = True
                last = _connection_problem(error, self.timeout)
                kind = MailFailure.OTHER
                wait = self._backoff(attempt)
            else:
                left = True
                status = answer.status
                message_id = answer.headers.get("X-Message-Id", "")
                if status == 202 and message_id:
                    return Sent(True, message_id=message_id)
                last = f"SendGrid answered {status}"
                kind = MailFailure.UNAUTHORIZED if status in (401, 403) else MailFailure.OTHER
                if status == 429:
                    wait = self._reset_wait(answer, attempt)
                elif status >= 500:
                    wait = self._backoff(attempt)
                else:
                    return Sent(False, error=f"{last}{_refusal(answer)}", kind=kind)
            if attempt < self.max_retries:
                log.warning(
                    "%s; retry %d of %d in %.1f s", last, attempt + 1, self.max_retries, wait
                )
                self._sleep(wait)
        gave_up = f"{last}; gave up after {tries} retries"
        return Sent(False, error=gave_up, kind=kind, never_left=not left)


@dataclass(frozen=True, slots=True)
class _Answer:
    status: int
    headers: HTTPMessage
    body: bytes


class _Unsent(Exception):
    """The connection failed before a byte of the request was written."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _post(url: SplitResult, headers: dict[str, str], data: bytes, timeout: float) -> _Answer:
    """One POST that never follows a redirect (http.client has none: the key goes to this host
    alone), under one deadline of `timeout` seconds for connect, send and the whole answer.

    A socket timeout bounds each read alone, so an endpoint trickling a byte a second would
    never trip it; past the deadline a timer shuts the socket down instead, which ends any
    blocked read at once; opening the connection (TLS included) gets at most CONNECT_SECONDS of
    it. (The name lookup before connecting has no timeout of its own.)
    """
    kind = HTTPSConnection if url.scheme == "https" else HTTPConnection
    connection = kind(url.hostname or "", url.port, timeout=min(timeout, CONNECT_SECONDS))
    cut = threading.Event()
    watchdog = threading.Timer(timeout, _cut, (connection, cut))  # from here: TLS included
    watchdog.daemon = True
    watchdog.start()
    try:
        try:
            connection.connect()
        except OSError as error:
            raise _Unsent(TimeoutError() if cut.is_set() else error) from error
        if connection.sock is not None:
            connection.sock.settimeout(timeout)  # the watchdog holds the deadline
        try:
            connection.request("POST", url.path, body=data, headers=headers)
            response = connection.getresponse()
            answer = _Answer(response.status, response.headers, response.read(_MAX_BODY))
        except (OSError, HTTPException) as error:
            if cut.is_set():
                raise TimeoutError(f"no whole answer within {timeout:g} s") from error
            raise
    finally:
        watchdog.cancel()
        connection.close()
    return answer


_MAX_BODY = 64 * 1024  # an answer's body is read for error messages only


def _cut(connection: HTTPConnection, cut: threading.Event) -> None:
    """The deadline passed: end the request's blocked read or write."""
    cut.set()
    if connection.sock is not None:
        with contextlib.suppress(OSError):
            socket.socket.shutdown(connection.sock, socket.SHUT_RDWR)


def _refusal(answer: _Answer) -> str:
    """Why an answer is not an acceptance; only SendGrid's 202 with an X-Message-Id is."""
    if answer.status == 202:
        return " without an X-Message-Id: not an acceptance"
    if 200 <= answer.status < 300:
        return ", not 202: not SendGrid's acceptance (a proxy or another host answered)"
    if 300 <= answer.status < 400:
        return ": a redirect, not followed (the key goes to the configured host only)"
    return f": {_short(answer.body)}"


def _connection_problem(error: Exception, timeout: float, connecting: bool = False) -> str:
    """What went wrong on the line, by its cause."""
    if isinstance(error, TimeoutError) and connecting:
        return f"no connection to SendGrid within {timeout:g} s"
    if isinstance(error, TimeoutError):
        return f"SendGrid did not answer within {timeout:g} s"
    return f"connection failed: {type(error).__name__}"




def _short(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    return scrub(" ".join(text.split()))[:300]
