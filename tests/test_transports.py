"""Transports against real endpoints: the outbox on disk and SendGrid through the stand-in.

(SMTP against aiosmtpd is in test_smtp.py.) Retries run with an injected `sleep`, so the waits
are recorded instead of slept.
"""

from __future__ import annotations

import json
import socket
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from support import sendgrid_standin
from support.notify import API_KEY, standin

from notifier.delivery.mail import MAX_WAIT_SECONDS, Message, Recipient, lease_seconds
from notifier.delivery.mail.outbox import OutboxTransport
from notifier.delivery.mail.sendgrid import SendGridTransport, request_body
from notifier.errors import MailFailure
from notifier.settings import Secret

__all__ = ["standin"]
MESSAGE = Message(
    "zh-CN",
    "【重要】隐私声明更新",
    "-name-，您好：\n新版本将于 2030 年 1 月 1 日生效。\n",
    "<p>-name_html-，您好：</p><p>新版本将于 2030 年 1 月 1 日生效。</p>",
)
RELEASE = "privacy/zh-CN/2029-11-01"


def _recipients(count: int, start: int = 1) -> list[Recipient]:
    return [
        Recipient(number, f"user{number:06d}@example.com", f"客户{number}")
        for number in range(start, start + count)
    ]


def _sendgrid(
    server: sendgrid_standin.StandIn,
    *,
    waits: list[float] | None = None,
    key: str = API_KEY,
    timeout: float = 5,
    max_retries: int = 5,
    clock: float | None = None,
) -> SendGridTransport:
    return SendGridTransport(
        Secret(key),
        server.url,
        sender="privacy-notices@example.com",
        sender_name="隐私声明通知",
        reply_to="privacy@example.com",
        fallback_name="尊敬的客户",
        timeout=timeout,
        max_retries=max_retries,
        sleep=(waits.append if waits is not None else time.sleep),
        clock=(lambda: clock) if clock is not None else time.time,
    )


def test_outbox_writes_one_private_eml_per_recipient(tmp_path: Path) -> None:
    """When the outbox sends a batch, then each recipient gets an owner-only .eml, named."""
    transport = OutboxTransport(
        tmp_path / "outbox",
        sender="privacy-notices@example.com",
        sender_name="隐私声明通知",
        reply_to="privacy@example.com",
        fallback_name="尊敬的客户",
    )
    recipients = [
        Recipient(7, "wang@example.com", "王<b>伟</b>"),
        Recipient(8, "li@example.com", ""),
    ]
    sent = transport.send(MESSAGE, recipients, release_id=RELEASE)
    assert sent.ok and sent.failures == ()
    files = sorted((tmp_path / "outbox").iterdir())
    assert [f.name for f in files] == ["7.eml", "8.eml"]
    assert {f.stat().st_mode & 0o777 for f in files} == {0o600}
    first = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert first["To"] == "wang@example.com"
    assert first["Message-ID"] == f"<{sent.message_id}.7@example.com>"
    assert first.get_body(("plain",)).get_content().startswith("王<b>伟</b>，您好")  # type: ignore[union-attr]
    assert "王&lt;b&gt;伟&lt;/b&gt;，您好" in first.get_body(("html",)).get_content()  # type: ignore[union-attr]
    second = message_from_bytes(files[1].read_bytes(), policy=policy.default)
    assert second.get_body(("plain",)).get_content().startswith("尊敬的客户，您好")  # type: ignore[union-attr]


def test_outbox_that_cannot_be_written_fails_the_batch(tmp_path: Path) -> None:
    """When the outbox folder cannot be created, then the batch is reported failed, not raised."""
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    transport = OutboxTransport(
        blocker / "outbox",
        sender="a@example.com",
        sender_name="甲",
        reply_to="",
        fallback_name="客户",
    )
    sent = transport.send(MESSAGE, _recipients(2), release_id=RELEASE)
    assert not sent.ok and "cannot write to the outbox" in sent.error


def test_sendgrid_one_request_carries_the_whole_batch(standin: sendgrid_standin.StandIn) -> None:
    """When 1,000 recipients are sent, then one valid request carries them with their own names."""
    sent = _sendgrid(standin).send(MESSAGE, _recipients(1000), release_id=RELEASE)
    assert sent.ok and len(sent.message_id) == 22
    assert len(standin.accepted) == 1 and standin.rejected == []
    body = standin.accepted[0]
    assert len(body["personalizations"]) == 1000
    assert body["personalizations"][41] == {
        "to": [{"email": "user000042@example.com"}],
        "substitutions": {"-name-": "客户42", "-name_html-": "客户42"},
        "custom_args": {"delivery_id": "42"},
    }
    assert body["custom_args"] == {"release": RELEASE}
    assert body["categories"] == ["privacy-notice"]
    assert "mail_settings" not in body  # never bypass_list_management
    shared = json.dumps({k: v for k, v in body.items() if k != "personalizations"})
    assert (
        "user0" not in shared and "客户" not in shared
    )  # nothing personal outside personalizations


def test_stand_in_rejects_what_sendgrid_rejects(standin: sendgrid_standin.StandIn) -> None:
    """When a request breaks a documented rule, then the stand-in says 400 and the batch fails."""
    transport = _sendgrid(standin)
    assert not transport.send(MESSAGE, _recipients(1001), release_id=RELEASE).ok
    assert not transport.send(MESSAGE, [], release_id=RELEASE).ok
    no_subject = Message("en", "", "text", "<p>html</p>")
    assert not transport.send(no_subject, _recipients(1), release_id=RELEASE).ok
    assert [problem for _, problem in standin.rejected] == [
        "personalizations must hold 1 to 1000 items",
        "personalizations must hold 1 to 1000 items",
        "subject is required",
    ]
    wrong_key = _sendgrid(standin, key="SG.not.a.real.key.wrong").send(
        MESSAGE, _recipients(1), release_id=RELEASE
    )
    assert not wrong_key.ok and wrong_key.error.startswith("SendGrid answered 401")
    reordered = request_body(
        MESSAGE,
        _recipients(1),
        sender="a@example.com",
        sender_name="甲",
        reply_to="",
        release_id=RELEASE,
        fallback_name="客户",
    )
    assert sendgrid_standin.validate(reordered) is None
    broken = [
        ("content", [*reversed(reordered["content"])], "text/plain must come before text/html"),
        ("headers", {"Bcc": "x@example.com"}, "headers may not override Bcc"),
        ("reply_to", {"name": "甲"}, "reply_to.email is required"),
        ("custom_args", "release", "custom_args must be an object"),
        ("from", {"name": "甲"}, "from.email is required"),
        (
            "categories",
            [f"c{n}" for n in range(11)],
            "at most 10 categories of at most 255 characters",
        ),
    ]
    for field, value, problem in broken:
        assert sendgrid_standin.validate({**reordered, field: value}) == problem
    assert standin.accepted == []


def test_429_waits_until_the_rate_limit_resets(standin: sendgrid_standin.StandIn) -> None:
    """When SendGrid answers 429, then the transport waits until X-RateLimit-Reset, then sends."""
    standin.reset_at = 2_000_000_007
    standin.faults.extend(["429", "429"])
    waits: list[float] = []
    sent = _sendgrid(standin, waits=waits, clock=2_000_000_000).send(
        MESSAGE, _recipients(3), release_id=RELEASE
    )
    assert sent.ok and waits == [7.0, 7.0]
    assert len(standin.recipients()) == 3


def test_5xx_and_dropped_connections_back_off_with_jitter(
    standin: sendgrid_standin.StandIn,
) -> None:
    """When SendGrid fails with 5xx or drops the line, then each retry waits longer, jittered."""
    standin.faults.extend(["500", "drop", "503", "502"])
    waits: list[float] = []
    sent = _sendgrid(standin, waits=waits).send(MESSAGE, _recipients(2), release_id=RELEASE)
    assert sent.ok and len(waits) == 4
    for attempt, wait in enumerate(waits):
        assert 0.25 * 2**attempt <= wait <= 0.5 * 2**attempt
    assert standin.recipients() == ["user000001@example.com", "user000002@example.com"]


def test_gives_up_after_the_last_retry(standin: sendgrid_standin.StandIn) -> None:
    """When every try fails, then the batch fails after max_retries waits, saying why."""
    standin.faults.extend(["503"] * 10)
    waits: list[float] = []
    sent = _sendgrid(standin, waits=waits, max_retries=3).send(
        MESSAGE, _recipients(1), release_id=RELEASE
    )
    assert not sent.ok and len(waits) == 3
    assert sent.error == "SendGrid answered 503; gave up after 3 retries"
    assert len(standin.faults) == 6  # four tries were made, no more


def test_other_4xx_fails_at_once_with_addresses_masked(standin: sendgrid_standin.StandIn) -> None:
    """When SendGrid answers 400, then the batch fails at once and its error masks addresses."""
    standin.faults.append("400")
    waits: list[float] = []
    sent = _sendgrid(standin, waits=waits).send(MESSAGE, _recipients(2), release_id=RELEASE)
    assert not sent.ok and waits == []
    assert sent.error.startswith("SendGrid answered 400: ")
    assert "u***@e***.com" in sent.error and "user000001@example.com" not in sent.error


def test_a_slow_answer_times_out_and_is_retried(standin: sendgrid_standin.StandIn) -> None:
    """When SendGrid does not answer within the client timeout, then the try is retried."""
    standin.slow_seconds = 3.0
    standin.faults.append("slow")
    waits: list[float] = []
    started = time.monotonic()
    sent = _sendgrid(standin, waits=waits, timeout=0.5).send(
        MESSAGE, _recipients(1), release_id=RELEASE
    )
    assert time.monotonic() - started < 2.5
    assert sent.ok and len(waits) == 1


@pytest.mark.parametrize("name", ["王伟\r\nBcc: evil@example.com", "李<script>娜</script>"])
def test_names_are_substitutions_never_headers(
    standin: sendgrid_standin.StandIn, name: str
) -> None:
    """When a name holds CR/LF or HTML, then it travels one-line, escaped for HTML, in no header."""
    _sendgrid(standin).send(MESSAGE, [Recipient(1, "a@example.com", name)], release_id=RELEASE)
    personalization = standin.accepted[0]["personalizations"][0]
    text, html = (
        personalization["substitutions"]["-name-"],
        personalization["substitutions"]["-name_html-"],
    )
    assert "\r" not in text and "\n" not in text
    assert "<" not in html and "\n" not in html
    assert set(personalization) == {"to", "substitutions", "custom_args"}
    assert personalization["to"] == [{"email": "a@example.com"}]


@pytest.mark.parametrize(
    ("fault", "status", "why"),
    [
        ("200", 200, ", not 202: not SendGrid's acceptance (a proxy or another host answered)"),
        ("202-no-id", 202, " without an X-Message-Id: not an acceptance"),
        ("302", 302, ": a redirect, not followed (the key goes to the configured host only)"),
        ("307", 307, ": a redirect, not followed (the key goes to the configured host only)"),
    ],
)
def test_only_a_202_with_a_message_id_is_an_acceptance(
    standin: sendgrid_standin.StandIn, fault: str, status: int, why: str
) -> None:
    """When the endpoint answers anything but 202 with X-Message-Id, then the batch fails at
    once with one line naming the status, and nothing is retried."""
    standin.faults.append(fault)
    waits: list[float] = []
    sent = _sendgrid(standin, waits=waits).send(MESSAGE, _recipients(2), release_id=RELEASE)
    assert (sent.ok, sent.never_left) == (False, False)
    assert sent.error == f"SendGrid answered {status}{why}"
    assert waits == [] and [f for _, f in standin.requests] == [fault]


def test_a_redirect_never_takes_the_key_to_another_host(
    standin: sendgrid_standin.StandIn,
) -> None:
    """When SendGrid's host redirects to another host, then nothing is sent there: no request,
    no Authorization header."""
    elsewhere = sendgrid_standin.start(API_KEY)
    try:
        standin.redirect_to = f"{elsewhere.url}/v3/mail/send"
        standin.faults.append("302")
        sent = _sendgrid(standin, waits=[]).send(MESSAGE, _recipients(1), release_id=RELEASE)
        assert not sent.ok and sent.error.startswith("SendGrid answered 302")
        assert elsewhere.requests == [] and elsewhere.authorizations == []
        assert standin.authorizations == [f"Bearer {API_KEY}"]
    finally:
        sendgrid_standin.stop(elsewhere)


def test_a_trickling_answer_ends_at_the_deadline(standin: sendgrid_standin.StandIn) -> None:
    """When the endpoint answers one byte a second, then each try ends at the timeout, not when
    the answer is complete (a socket timeout per read would wait for all of it)."""
    standin.trickle_seconds = 1.0
    standin.faults.extend(["trickle", "trickle"])
    waits: list[float] = []
    started = time.monotonic()
    sent = _sendgrid(standin, waits=waits, timeout=1.0, max_retries=1).send(
        MESSAGE, _recipients(1), release_id=RELEASE
    )
    elapsed = time.monotonic() - started
    assert sent.error == "SendGrid did not answer within 1 s; gave up after 1 retries"
    assert 2.0 <= elapsed < 3.0 and len(waits) == 1 and not sent.never_left


def test_the_lease_outlasts_the_slowest_batch(standin: sendgrid_standin.StandIn) -> None:
    """When every try of a batch trickles to its deadline and every wait is at its longest, then
    the batch still ends before its claim's lease, so no other worker takes it meanwhile."""
    timeout, retries = 1.0, 2
    standin.trickle_seconds = 0.5
    standin.faults.extend(["trickle"] * (retries + 1))
    waits: list[float] = []
    started = time.monotonic()
    sent = _sendgrid(standin, waits=waits, timeout=timeout, max_retries=retries).send(
        MESSAGE, _recipients(1), release_id=RELEASE
    )
    tries = time.monotonic() - started
    assert not sent.ok and len(waits) == retries and tries < (retries + 1) * (timeout + 0.2)
    worst = tries + retries * MAX_WAIT_SECONDS  # waits are capped at MAX_WAIT_SECONDS
    assert worst < lease_seconds(timeout, retries)
    assert lease_seconds(30, 5) == 6 * 30 + 5 * MAX_WAIT_SECONDS + 60 == 840


def test_a_refused_connection_never_left(standin: sendgrid_standin.StandIn) -> None:
    """When the port refuses every connection, then the batch fails as never sent (nobody can
    have been mailed); when a try was written and then dropped, it may have left."""
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connect() is refused
    refused = SendGridTransport(
        Secret(API_KEY),
        f"http://127.0.0.1:{port}",
        sender="privacy-notices@example.com",
        sender_name="隐私声明通知",
        reply_to="",
        fallback_name="尊敬的客户",
        timeout=1.0,
        max_retries=2,
        sleep=lambda _: None,
    ).send(MESSAGE, _recipients(1), release_id=RELEASE)
    assert (refused.ok, refused.never_left, refused.kind) == (False, True, MailFailure.UNREACHABLE)
    assert refused.error == "connection failed: ConnectionRefusedError; gave up after 2 retries"
    standin.faults.extend(["drop"] * 3)
    dropped = _sendgrid(standin, waits=[], max_retries=2).send(
        MESSAGE, _recipients(1), release_id=RELEASE
    )
    assert (dropped.ok, dropped.never_left) == (False, False)
