"""No output ever carries the SendGrid key or a whole customer address, even at -vv with faults."""

from __future__ import annotations

import csv
import logging
import time

import pytest
from support import sendgrid_standin
from support.notify import API_KEY, VERSION, material_repo, sendgrid_env, standin, write_customers
from support.repos import NoticeRepo, run_notices

from notifier import logs
from notifier.delivery.mail import Message, Recipient
from notifier.delivery.mail.sendgrid import SendGridTransport
from notifier.settings import Secret

__all__ = ["standin"]
BAD_ROWS = (
    "zhang.san@@example.com,张三,zh-CN,azure\n"
    "user000003@example.com,重复,zh-CN,azure\n"
    "=cmd@example.com,=HYPERLINK(1),en,azure\n"
)


def _addresses(path: str) -> set[str]:
    with open(path, encoding="utf-8", newline="") as handle:
        return {row["email"] for row in csv.DictReader(handle)}


def test_no_output_names_the_key_or_an_address(
    seeded_repo: NoticeRepo, standin: sendgrid_standin.StandIn
) -> None:
    """When the whole flow runs at -vv through faults and failures, then no output leaks."""
    material_repo(seeded_repo)
    path = write_customers(seeded_repo.path / "c.csv", 1500)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(BAD_ROWS)
    env = sendgrid_env(standin, seeded_repo)
    standin.reset_at = int(time.time()) + 1
    standin.faults.extend(["429", "503", "drop", "400"])
    cwd = seeded_repo.path
    runs = [
        run_notices("-vv", "customers", "import", "c.csv", cwd=cwd, env=env),
        run_notices("-vv", "customers", "import", "c.csv", "--skip-invalid", cwd=cwd, env=env),
        run_notices(
            "-vv",
            "customers",
            "suppress",
            "user000009@example.com",
            "--reason",
            "hard bounce",
            cwd=cwd,
            env=env,
        ),
        run_notices(
            "-vv", "customers", "suppress", "nobody@example.com", "--reason", "x", cwd=cwd, env=env
        ),
        run_notices("-vv", "customers", "count", "--json", cwd=cwd, env=env),
        run_notices("-vv", "notify", "plan", VERSION, "--json", cwd=cwd, env=env),
        run_notices("-vv", "notify", "send", VERSION, "--early", cwd=cwd, env=env),
        run_notices("-vv", "notify", "send", VERSION, "--early", "--json", cwd=cwd, env=env),
        run_notices(
            "-vv",
            "notify",
            "send",
            VERSION,
            "--test-to",
            "legal.reviewer@example.com",
            cwd=cwd,
            env=env,
        ),
        run_notices("-vv", "notify", "status", VERSION, cwd=cwd, env=env),
        run_notices("-vv", "notify", "proof", VERSION, "--out", "proof.csv", cwd=cwd, env=env),
        run_notices("-vv", "--debug", "notify", "send", VERSION, "--early", cwd=cwd, env=env),
    ]
    assert [run.code for run in runs] == [1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0]
    output = "".join(run.out + run.err for run in runs)
    output += (cwd / "proof.csv").read_text(encoding="utf-8")
    secrets = {API_KEY, "legal.reviewer@example.com", "nobody@example.com"} | _addresses(str(path))
    assert len(secrets) == 1503 + 2  # the duplicate row repeats an address
    assert [secret for secret in secrets if secret in output] == []
    # the scan can fail: the output did talk about these recipients and retries, masked
    assert "u***@e***.com" in output and "retry 1 of 5" in output
    assert "SendGrid answered 400" in output and "n***@e***.com" in output
    mailed = set(standin.recipients()) - {"legal.reviewer@example.com"}
    assert len(mailed) == 1499 and "user000009@example.com" not in mailed  # all but the suppressed


def test_http_debug_logging_stays_off_at_vv(
    standin: sendgrid_standin.StandIn, caplog: pytest.LogCaptureFixture
) -> None:
    """When every logger is at DEBUG, the SendGrid client's included, then a send logs neither
    the key nor an address (the client's request path, which would, is not used), nor at -vv."""
    transport = SendGridTransport(
        Secret(API_KEY),
        standin.url,
        sender="privacy-notices@example.com",
        sender_name="通知",
        reply_to="",
        fallback_name="客户",
        timeout=5,
        max_retries=0,
    )
    message = Message("zh-CN", "主题", "-name-，您好", "<p>-name_html-</p>")
    recipients = [Recipient(1, "wang.wei@example.com", "王伟")]
    caplog.set_level(logging.DEBUG)
    logging.getLogger("python_http_client").setLevel(logging.DEBUG)
    assert transport.send(message, recipients, release_id="r").ok
    unguarded = caplog.text
    assert API_KEY not in unguarded and "wang.wei@example.com" not in unguarded
    caplog.clear()
    logs.configure(2)
    assert transport.send(message, recipients, release_id="r").ok
    assert caplog.text == ""


def test_database_urls_are_printed_without_their_passwords() -> None:
    """When a database URL holds a password, in its user part or in its query string, then the
    form fit to print shows *** instead, and keeps the rest."""
    assert logs.mask_url("postgresql+psycopg://u:S3CRET@db:5432/n") == (
        "postgresql+psycopg://u:***@db:5432/n"
    )
    masked = logs.mask_url("postgresql+psycopg://u@db/n?password=S3CRET&sslmode=require")
    assert "S3CRET" not in masked
    assert masked == "postgresql+psycopg://u@db/n?password=%2A%2A%2A&sslmode=require"
