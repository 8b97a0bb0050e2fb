"""Transport (issue #16, items 3 to 5): only SendGrid's acceptance counts as sent, one deadline
bounds each request, and the key never leaves the process.

Each case runs the real `notices notify send` against the SendGrid stand-in (a real HTTP server)
misbehaving as a proxy, a wrong host or a trickling endpoint would, or against a port that
refuses connections, and checks the ledger afterwards, who was mailed, and the output.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support import sendgrid_standin
from support.notify import API_KEY, sendgrid_env, standin
from support.reliability import (
    VERSION,
    error_line,
    ledger_rows,
    mailed,
    record_fault,
    sending_repo,
)
from support.repos import NoticeRepo, Run, run_notices

from notifier.delivery.mail import MAX_WAIT_SECONDS, lease_seconds

__all__ = ["standin"]

SEND = ("notify", "send", VERSION, "--early")
CUSTOMERS = 30  # batches of 10: en 6 first (locales go in order), then zh-CN 10, 10, 4
FIRST_BATCH = 6
TIMEOUT = 1.0
MAX_RETRIES = 1
MAIL = {"batch_size": 10, "timeout_seconds": TIMEOUT, "max_retries": MAX_RETRIES}
Prop = Callable[[str, object], None]


@pytest.fixture
def repo(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> NoticeRepo:
    """30 customers imported, their notice not yet sent; batches of 10, 1 s timeout, 1 retry."""
    return sending_repo(tmp_path, tmp_path_factory.getbasetemp(), CUSTOMERS, **MAIL)


def _url(repo: NoticeRepo) -> str:
    return f"sqlite:///{repo.path / 'var' / 'notices.db'}"


def _record_security(prop: Prop, group: str, case: str, observed: str) -> None:
    prop("area", "Security")
    prop("group", group)
    prop("case", case)
    prop("observed", observed)


ENGLISH = {f"user{n:06d}@example.com" for n in range(5, CUSTOMERS + 1, 5)}  # the first batch


def _first_batch(rows: list[tuple[str, str, int, str | None]]) -> set[str]:
    """Who failed, when only the first batch failed: everyone else must have been sent."""
    assert {status for _, status, _, _ in rows} == {"sent", "failed"}
    return {email for email, status, _, _ in rows if status == "failed"}


def _verdict(result: Run) -> str:
    """The last line on stderr: a failed send's one-line verdict, after its log lines."""
    lines = result.err.strip().splitlines()
    assert "Traceback" not in result.err, result.err
    return lines[-1] if lines else "(nothing on stderr)"


def _closed_port() -> int:
    """A port of 127.0.0.1 where nothing listens: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- only a real acceptance counts as sent ----------------------------------------------------

NOT_ACCEPTED = {
    "302": "SendGrid answered 302: a redirect, not followed (the key goes to the configured "
    "host only)",
    "307": "SendGrid answered 307: a redirect, not followed (the key goes to the configured "
    "host only)",
    "200": "SendGrid answered 200, not 202: not SendGrid's acceptance (a proxy or another "
    "host answered)",
    "202-no-id": "SendGrid answered 202 without an X-Message-Id: not an acceptance",
}
CASES = {
    "302": "302 to another host (which would answer 200)",
    "307": "307 to another host (which would take the POST)",
    "200": "200 with a proxy's login page",
    "202-no-id": "202 without X-Message-Id",
}


@pytest.mark.parametrize("fault", list(NOT_ACCEPTED))
def test_only_a_real_acceptance_counts_as_sent(
    repo: NoticeRepo, standin: sendgrid_standin.StandIn, record_property: Prop, fault: str
) -> None:
    """When the first batch is answered with anything but a 202 with X-Message-Id, then that
    batch fails with one line naming the status, the other host gets nothing, and a rerun sends
    it."""
    elsewhere = sendgrid_standin.start(API_KEY)
    try:
        standin.redirect_to = f"{elsewhere.url}/v3/mail/send"
        standin.faults.append(fault)
        env = sendgrid_env(standin, repo)
        first = run_notices(*SEND, cwd=repo.path, env=env)
        rows = ledger_rows(_url(repo))
        failed = [(status, attempts, error) for _, status, attempts, error in rows if error]
        error = _verdict(first)
        record_fault(
            record_property,
            "acceptance",
            f"{CASES[fault]}: the batch fails, no redirect is followed",
            f"exit {first.code}; ledger: {failed[0][2]}; the other host got "
            f"{len(elsewhere.requests)} request(s); {error[:120]}",
        )
        assert first.code == 1 and error.startswith("error: 6 delivery(ies)")
        assert failed == [("failed", 1, NOT_ACCEPTED[fault])] * FIRST_BATCH
        assert _first_batch(rows) == ENGLISH
        assert elsewhere.requests == [] and elsewhere.authorizations == []
        assert [f for _, f in standin.requests] == [fault, "", "", ""]  # never retried
        again = run_notices(*SEND, cwd=repo.path, env=env)
        assert again.code == 0, again.err
        expected = 2 if fault == "202-no-id" else 1  # the stand-in took that one: no id, still
        counted = mailed(standin)
        assert {email: counted[email] for email in ENGLISH} == dict.fromkeys(ENGLISH, expected)
        assert set(counted) == {email for email, *_ in rows}
        assert {counted[email] for email, *_ in rows if email not in ENGLISH} == {1}
    finally:
        sendgrid_standin.stop(elsewhere)


# --- one deadline per request -----------------------------------------------------------------


def test_a_trickling_endpoint_cannot_hold_the_sender(
    repo: NoticeRepo, standin: sendgrid_standin.StandIn, record_property: Prop
) -> None:
    """When SendGrid answers one byte a second on every try of the first batch, then each try
    ends at the timeout, the batch fails, the others are sent, and the whole batch took less
    than its claim's lease."""
    standin.trickle_seconds = 1.0
    standin.faults.extend(["trickle"] * (MAX_RETRIES + 1))
    started = time.monotonic()
    result = run_notices(*SEND, cwd=repo.path, env=sendgrid_env(standin, repo))
    elapsed = time.monotonic() - started
    tries = [at for at, fault in standin.requests if fault == "trickle"]
    after = [at for at, fault in standin.requests if fault == ""]
    held = after[0] - tries[0]  # the first batch: its tries and the wait between them
    rows = ledger_rows(_url(repo))
    errors = {error for *_, error in rows if error}
    record_fault(
        record_property,
        "deadline",
        "trickling answer (1 byte/s) on every try of a batch, timeout 1 s, 1 retry",
        f"exit {result.code}; the batch held the sender {held:.1f} s (lease "
        f"{lease_seconds(TIMEOUT, MAX_RETRIES):g} s); {sorted(errors)}",
    )
    record_property(
        "figure",
        f"batch against an endpoint trickling 1 byte/s, timeout 1 s, 1 retry={held:.1f} s "
        f"(2 tries and a backoff; lease {lease_seconds(TIMEOUT, MAX_RETRIES):g} s)",
    )
    assert result.code == 1
    assert errors == {"SendGrid did not answer within 1 s; gave up after 1 retries"}
    assert _first_batch(rows) == ENGLISH
    # two tries of at most 1 s each and one backoff of at most 0.5 s, then the next batch
    assert held < 2 * TIMEOUT + 0.5 + 0.5 and elapsed < 30
    assert held + MAX_RETRIES * MAX_WAIT_SECONDS < lease_seconds(TIMEOUT, MAX_RETRIES)


# --- a request that never left ----------------------------------------------------------------


def test_a_refused_connection_spends_no_attempt(
    repo: NoticeRepo, standin: sendgrid_standin.StandIn, record_property: Prop
) -> None:
    """When every connection is refused before a byte is written, then the batches go back to
    planned with no attempt spent, the run fails, and a rerun mails everyone once."""
    env = {**sendgrid_env(standin, repo), "SENDGRID_API_HOST": f"http://127.0.0.1:{_closed_port()}"}
    first = run_notices(*SEND, cwd=repo.path, env=env)
    rows = ledger_rows(_url(repo))
    states = sorted({(status, attempts) for _, status, attempts, _ in rows})
    record_fault(
        record_property,
        "never left",
        "connection refused on every try (nothing written): batches planned again, unspent",
        f"exit {first.code}; ledger (status, attempts): {states}; {rows[0][3]}",
    )
    assert first.code == 1 and "Traceback" not in first.err
    assert states == [("planned", 0)]
    assert rows[0][3] == "connection failed: ConnectionRefusedError; gave up after 1 retries"
    again = run_notices(*SEND, cwd=repo.path, env=sendgrid_env(standin, repo))
    assert again.code == 0, again.err
    assert {(status, attempts) for _, status, attempts, _ in ledger_rows(_url(repo))} == {
        ("sent", 1)
    }
    assert set(mailed(standin).values()) == {1} and len(mailed(standin)) == CUSTOMERS


# --- the key never leaves the process ---------------------------------------------------------

BAD_KEYS = {
    "a trailing newline": API_KEY + "\n",
    "a space inside": API_KEY[:8] + " " + API_KEY[8:],
    "a non-ASCII character": API_KEY + "é",
    "a carriage return and a header": API_KEY + "\r\nX-Evil: 1",
}


@pytest.mark.parametrize("how", list(BAD_KEYS))
def test_a_malformed_key_is_refused_at_start(
    repo: NoticeRepo, standin: sendgrid_standin.StandIn, record_property: Prop, how: str
) -> None:
    """When SENDGRID_API_KEY holds whitespace, a line break or a non-ASCII character, then
    nothing is sent and one line names the variable, never its value, also with --debug."""
    env = {**sendgrid_env(standin, repo), "SENDGRID_API_KEY": BAD_KEYS[how]}
    plain = run_notices(*SEND, cwd=repo.path, env=env)
    debug = run_notices("--debug", *SEND, cwd=repo.path, env=env)
    line = error_line(plain)
    _record_security(
        record_property,
        "secrets",
        f"SENDGRID_API_KEY with {how}: refused at start (also with --debug)",
        f"exit {plain.code}, {debug.code}; {line}",
    )
    assert (plain.code, debug.code) == (1, 1)
    assert line == (
        "error: SENDGRID_API_KEY holds whitespace, a line break or a non-ASCII character "
        "(hint: set it to the key exactly as SendGrid shows it, with nothing around it)"
    )
    output = plain.out + plain.err + debug.out + debug.err
    assert API_KEY[8:20] not in output and standin.requests == []


def test_a_debug_traceback_never_shows_the_key(
    repo: NoticeRepo, standin: sendgrid_standin.StandIn, record_property: Prop
) -> None:
    """When an error's text quotes the key (here a path holding it) and --debug asks for the
    traceback, then the traceback shows *** in its place."""
    out = f"/dev/null/{API_KEY}/proof.csv"  # /dev/null is no folder: the error quotes the path
    env = sendgrid_env(standin, repo)
    result = run_notices(
        "--debug", "notify", "proof", VERSION, "--out", out, cwd=repo.path, env=env
    )
    _record_security(
        record_property,
        "secrets",
        "--debug traceback of an error whose text holds the key",
        f"exit {result.code}; traceback shown: {'Traceback' in result.err}; key in output: "
        f"{API_KEY in result.out + result.err}",
    )
    assert result.code == 1 and "Traceback (most recent call last)" in result.err
    assert "NotADirectoryError" in result.err and "'/dev/null/***'" in result.err
    assert API_KEY not in result.out + result.err
