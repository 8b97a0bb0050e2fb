"""Transports against real endpoints: the outbox on disk and SendGrid through the stand-in.

(SMTP against aiosmtpd is in test_smtp.py.) Retries run with an injected `sleep`, so the waits
are recorded instead of slept.
"""

from __future__ import annotations

import json
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from support import sendgrid_standin
from support.notify import API_KEY, standin

from notifier.delivery.mail import Message, Recipient
from notifier.delivery.mail.outbox import OutboxTransport
from notifier.delivery.mail.sendgrid import SendGridTransport, request_body
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
