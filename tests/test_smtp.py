"""The SMTP transport against real aiosmtpd servers: a relay that requires STARTTLS, and a plain
one for a test mail and a send through the command."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from support.notify import VERSION, material_repo, write_customers
from support.repos import NoticeRepo, run_notices

from notifier.delivery.mail import Message, Recipient
from notifier.delivery.mail.smtp import SmtpTransport


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        self.refused: set[str] = set()

    async def handle_RCPT(  # noqa: N802
        self, server: object, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refused:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:  # noqa: N802
        self.messages.append(
            (
                str(envelope.mail_from),
                list(envelope.rcpt_tos),
                bytes(envelope.original_content or b""),
            )
        )
        return "250 Message accepted for delivery"


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[tuple[Controller, Inbox, Path]]:
    cert, key = _certificate(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=_free_port(),
        tls_context=server_context,
        require_starttls=True,
    )
    controller.start()
    yield controller, inbox, cert
    controller.stop()


def test_smtp_relay_with_starttls(relay: tuple[Controller, Inbox, Path]) -> None:
    """When mail goes through an SMTP relay, then STARTTLS is used and names stay out of headers."""
    controller, inbox, cert = relay
    client_context = ssl.create_default_context(cafile=str(cert))
    client_context.check_hostname = False
    transport = SmtpTransport(
        "127.0.0.1",
        controller.port,
        starttls=True,
        username="",
        password=None,
        sender="privacy-notices@example.com",
        sender_name="隐私声明通知",
        reply_to="",
        fallback_name="客户",
        timeout=10,
        tls_context=client_context,
    )
    message = Message(
        "zh-CN", "【重要】隐私声明更新", "-name-，您好：\n正文\n", "<p>-name_html-，您好：</p>"
    )
    recipients = [
        Recipient(1, "wang@example.com", "王伟"),
        Recipient(2, "li@example.com", "李<b>娜</b>\r\nBcc: evil@example.com"),
    ]
    sent = transport.send(message, recipients, release_id="privacy/zh-CN/2030-01-01")
    assert sent.ok, sent.error
    assert [to for _, to, _ in inbox.messages] == [["wang@example.com"], ["li@example.com"]]
    second = message_from_bytes(inbox.messages[1][2], policy=policy.default)
    assert second["Bcc"] is None
    html = second.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "李&lt;b&gt;娜&lt;/b&gt;" in html


def test_plain_connection_is_refused_by_relay(relay: tuple[Controller, Inbox, Path]) -> None:
    """When STARTTLS is turned off against a relay that requires it, then the batch fails."""
    controller, inbox, _ = relay
    transport = SmtpTransport(
        "127.0.0.1",
        controller.port,
        starttls=False,
        username="",
        password=None,
        sender="privacy-notices@example.com",
        sender_name="通知",
        reply_to="",
        fallback_name="客户",
        timeout=10,
    )
    sent = transport.send(
        Message("en", "s", "t", "<p>h</p>"), [Recipient(1, "a@example.com", "A")], release_id="r"
    )
    assert not sent.ok and "SMTP relay failed" in sent.error and inbox.messages == []


def test_a_refused_recipient_fails_alone(relay: tuple[Controller, Inbox, Path]) -> None:
    """When the relay refuses one recipient, then only that delivery fails, its address masked."""
    controller, inbox, cert = relay
    inbox.refused.add("gone@example.com")
    client_context = ssl.create_default_context(cafile=str(cert))
    client_context.check_hostname = False
    transport = SmtpTransport(
        "127.0.0.1",
        controller.port,
        starttls=True,
        username="",
        password=None,
        sender="privacy-notices@example.com",
        sender_name="隐私声明通知",
        reply_to="",
        fallback_name="客户",
        timeout=10,
        tls_context=client_context,
    )
    recipients = [
        Recipient(1, "wang@example.com", "王伟"),
        Recipient(2, "gone@example.com", "赵敏"),
        Recipient(3, "li@example.com", "李娜"),
    ]
    sent = transport.send(
        Message("zh-CN", "主题", "-name-，您好", "<p>-name_html-</p>"), recipients, release_id="r"
    )
    assert sent.ok and sent.failures == ((2, "SMTP relay refused the recipient: 550"),)
    assert [to for _, to, _ in inbox.messages] == [["wang@example.com"], ["li@example.com"]]
    ids = [
        message_from_bytes(raw, policy=policy.default)["Message-ID"] for *_, raw in inbox.messages
    ]
    assert ids == [f"<{sent.message_id}.1@example.com>", f"<{sent.message_id}.3@example.com>"]


def test_a_test_mail_through_a_relay_reaches_the_test_address_alone(
    seeded_repo: NoticeRepo,
) -> None:
    """When a test mail and then the real send go through an SMTP relay, then the relay gets one
    [TEST] mail for the test address alone, then each customer's mail without the marker, and
    the ledger counts the customers only."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        material_repo(seeded_repo)
        settings = seeded_repo.path / "notices.toml"
        text = settings.read_text(encoding="utf-8")
        relay = f"port = {controller.port}\nstarttls = false"
        settings.write_text(text.replace("port = 587\nstarttls = true", relay), encoding="utf-8")
        env = {"NOTICES_MAIL_BACKEND": "smtp"}
        write_customers(seeded_repo.path / "c.csv", 3)
        for args in (
            ("customers", "import", "c.csv"),
            ("notify", "send", VERSION, "--test-to", "legal@example.com"),
            ("notify", "send", VERSION, "--early"),
        ):
            result = run_notices(*args, cwd=seeded_repo.path, env=env)
            assert result.code == 0, result.err
    finally:
        controller.stop()
    mails = [message_from_bytes(raw, policy=policy.default) for *_, raw in inbox.messages]
    assert [to for _, to, _ in inbox.messages] == [
        ["legal@example.com"],
        *([f"user00000{n}@example.com"] for n in range(1, 4)),
    ]
    subject = "【重要】世纪互联运营的在线服务隐私声明将于 2030 年 1 月 1 日更新"
    assert [m["Subject"] for m in mails] == [f"[TEST] {subject}"] + [subject] * 3
    status = run_notices("notify", "status", VERSION, cwd=seeded_repo.path, env=env)
    assert status.out == "planned 0  sending 0  sent 3  failed 0  bounced 0\n"
